/*
 * config: loading and validation of the libconfig file.
 *
 * config_load() either returns a struct cs_config whose settings are all
 * checked or fails with a message of the form "FILE:LINE: message" (LINE is
 * the line of the offending setting, or of its parent group when the setting
 * is missing). Config knows sources, segments, datasets, windows and
 * collectors, not what a collector computes: a collector's kind is kept as
 * written, and the kinds' own groups (and what each kind needs) are checked
 * by the kind table above it, through cs_settings_load (collectors/kinds.h),
 * which every command uses. Nothing connects anywhere, so --config.check is
 * cs_settings_load alone.
 *
 * Ownership: everything reachable from a struct cs_config belongs to it and
 * is released by config_free(). The struct is immutable once loaded; a reload
 * builds a new one and swaps pointers.
 *
 * Durations in the file are strings such as "90s", "5m", "2h", "30d", "1w"
 * (one integer and one unit); they are stored here in seconds.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MAX_WINDOWS	  16
#define CS_MAX_DIMENSIONS 16
#define CS_MAX_FEATURES	  64
#define CS_MAX_PARAMS	  8

/* A libpq source. The password is never stored inline in the file. */
struct cs_source {
	char *name;
	char *conninfo;	     /* key=value conninfo built from the settings, no password */
	char *password_file; /* may be NULL */
	char *password_env;  /* name of an environment variable, may be NULL */
	int line;
};

/* Parameters a query may reference, bound as $1, $2, ... in listed order. */
enum cs_param {
	PARAM_AS_OF,	    /* evaluation instant t */
	PARAM_SINCE,	    /* t minus the longest window any KPI of the collector needs */
	PARAM_WINDOW_START, /* outcomes only: t - W for the run's window */
	PARAM_WINDOW_END,   /* outcomes only: t */
};

struct cs_query {
	size_t source; /* index into cs_config.sources */
	char *sql;     /* as configured; see cs_dataset_query for what is sent */
	size_t nparams;
	enum cs_param params[CS_MAX_PARAMS];
	int line;
};

enum cs_dataset {
	DS_ACCOUNTS,
	DS_SUBSCRIPTIONS,
	DS_TRIALS,
	DS_SURVEYS,
	DS_ACTIVITY,
	DS_TICKETS,
	DS_PAYMENTS, /* optional: a kind that reads it reads it only when configured */
	DS_COUNT,
};

/*
 * Incremental reads of a dataset by the daemon (datasets.<name>.incremental):
 * each evaluation reads only from lookback before the previous one, merged
 * into what the daemon remembers; a full read every full_every.
 */
struct cs_incremental {
	bool enabled;	    /* default: activity, when its query binds since */
	int64_t lookback;   /* seconds, default 2h */
	int64_t full_every; /* seconds, default 1d */
};

struct cs_window {
	int64_t seconds;
	char label[16]; /* as written in the file, e.g. "30d" */
};

enum cs_direction { OUTCOME_AT_LEAST, OUTCOME_AT_MOST };

struct cs_outcome {
	char *name;
	struct cs_query query;
	double target;
	enum cs_direction direction;
	int line;
};

struct cs_rate {
	char code[4]; /* upper case ISO 4217 */
	double rate;  /* 1 unit of code = rate units of the reporting currency */
};

/* The kind is kept as written, with its line: the kind table
 * (collectors/kinds.h) checks it and gives it a meaning. */
struct cs_collector {
	char *name;
	char *kind;
	int kind_line;
	int64_t interval; /* seconds, default 300 */
	int64_t timeout;  /* seconds, per query, default 30 */
	size_t nwindows;  /* defaults to the global windows */
	struct cs_window windows[CS_MAX_WINDOWS];
	int line;
};

struct cs_web {
	size_t nlisten;
	char **listen; /* "host:port"; flags override */
	char *telemetry_path;
	char *config_file; /* web config (TLS, basic auth), may be NULL */
	bool enable_reload_endpoint;
	int64_t stale_after; /* seconds; default 3 × the longest interval */
	/* Rejections the status page marks as expected, "dataset/reason" (a
	 * demo's planted rows, a known upstream defect); at most 64. */
	size_t nexpected;
	char **expected_rejections;
};

struct cs_config {
	char *path;
	/* The settings as libconfig reads them (includes expanded, comments
	 * dropped): equal for two loads of the same configuration. */
	char *canonical;

	size_t nsources;
	struct cs_source *sources;

	size_t ndims;
	char *dims[CS_MAX_DIMENSIONS]; /* segment dimension = accounts column name */
	size_t max_segments;	       /* default 500 */

	char currency[4]; /* reporting currency, upper case, default USD */
	size_t nrates;
	struct cs_rate *rates;
	double gross_margin; /* default 1.0 */

	size_t nwindows; /* default 30d, 90d */
	struct cs_window windows[CS_MAX_WINDOWS];

	size_t nfeatures;
	char *features[CS_MAX_FEATURES];

	bool has_dataset[DS_COUNT];
	struct cs_query datasets[DS_COUNT];
	/* Seconds: the newest row of a dataset older than this is stale
	 * (cs_dataset_max_age_seconds, read by the DatasetStale alert); 0:
	 * none. Default 7d for activity, none for the others. */
	int64_t max_age[DS_COUNT];
	/* How the daemon reads a dataset between evaluations
	 * (docs/configuration.md, "Incremental reads"): only activity may. */
	struct cs_incremental incremental[DS_COUNT];

	size_t noutcomes;
	struct cs_outcome *outcomes;

	size_t ncollectors;
	struct cs_collector *collectors;

	struct cs_web web;

	/* The loaded tree (libconfig's config_t), kept for the settings that
	 * the layers above read themselves (config_root). */
	void *tree;
	/* The collector kinds' own settings, parsed and owned by collectors/
	 * (collectors/kinds.h); config_free calls kinds_free on them. */
	struct cs_kind_settings *kinds;
	void (*kinds_free)(struct cs_kind_settings *kinds);
};

/*
 * Returns NULL and writes "FILE:LINE: message" into err on failure. groups:
 * further top-level settings (NULL-terminated, may be NULL) that the caller
 * reads itself from config_root; any other unknown name is an error. The
 * exporter loads through cs_settings_load (collectors/kinds.h), which adds
 * the kinds' groups and checks the kinds.
 */
struct cs_config *config_load(const char *path, const char *const *groups, char *err,
			      size_t errlen);
void config_free(struct cs_config *cfg);
/* true when a and b were loaded from the same settings (config_load only):
 * a reload to an unchanged configuration need not restart anything. */
bool config_same(const struct cs_config *a, const struct cs_config *b);

const char *config_dataset_name(enum cs_dataset ds);

/*
 * Reading settings of the loaded tree from the layers above config, with
 * the same messages: every getter returns the setting (NULL when absent or
 * on error; r->failed tells which) and reports "FILE:LINE: message" through
 * config_fail, which keeps only the first error.
 */
struct config_setting_t; /* libconfig's */
struct config_reader {
	const char *path;
	char *dir; /* directory of path for relative file names, NULL when path has none */
	char *err;
	size_t errlen;
	bool failed;
	struct cs_config *cfg;
};

void config_reader_init(struct config_reader *r, struct cs_config *cfg, char *err, size_t errlen);
/* The root group of cfg's file (NULL for a struct not made by config_load). */
const struct config_setting_t *config_root(const struct cs_config *cfg);
bool config_fail(struct config_reader *r, const struct config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* allowed: the keys the group may hold (NULL-terminated), NULL: any. */
const struct config_setting_t *config_get_group(struct config_reader *r,
						const struct config_setting_t *g, const char *name,
						bool required, const char *const *allowed);
const struct config_setting_t *config_get_string(struct config_reader *r,
						 const struct config_setting_t *g, const char *name,
						 bool required, const char **out);
const struct config_setting_t *config_get_int(struct config_reader *r,
					      const struct config_setting_t *g, const char *name,
					      bool required, long long lo, long long hi,
					      long long *out);
const struct config_setting_t *config_get_number(struct config_reader *r,
						 const struct config_setting_t *g, const char *name,
						 bool required, double *out);
const struct config_setting_t *config_get_bool(struct config_reader *r,
					       const struct config_setting_t *g, const char *name,
					       bool required, bool *out);
const struct config_setting_t *config_get_duration(struct config_reader *r,
						   const struct config_setting_t *g,
						   const char *name, bool required, int64_t *out);
const struct config_setting_t *config_get_group_list(struct config_reader *r,
						     const struct config_setting_t *g,
						     const char *name, bool required);
/* An array or list of at most max strings. */
const struct config_setting_t *config_get_strings(struct config_reader *r,
						  const struct config_setting_t *g,
						  const char *name, bool required, size_t max);
/* Fills w from a list of duration strings (labels as written): at least one,
 * none repeated. */
bool config_windows(struct config_reader *r, const struct config_setting_t *list, const char *name,
		    struct cs_window *w, size_t *nw);
/* Elements of a list or group: count, i-th element, a string element's text
 * (NULL when not a string), member by name. */
int config_count(const struct config_setting_t *s);
const struct config_setting_t *config_elem(const struct config_setting_t *s, int i);
const char *config_string_of(const struct config_setting_t *s);
const struct config_setting_t *config_member(const struct config_setting_t *g, const char *name);

/* Parses "30d" etc. into seconds; returns -1 when malformed or not > 0. */
int64_t config_parse_duration(const char *s);

/*
 * Reads the password of a source (file, then environment, else NULL meaning
 * "let libpq use ~/.pgpass"). The caller frees the result. On a read error
 * returns NULL and sets *failed, with a message that never contains the
 * password itself.
 */
char *config_source_password(const struct cs_source *src, bool *failed, char *err, size_t errlen);

/*
 * Formats a libconfig parse error as "FILE:LINE: message" into out. For a
 * failed @include, libconfig says only "cannot open include file": the
 * name is taken from the directive on that line and added, with where it
 * was looked for (dir, the include directory, may be NULL).
 */
void config_format_parse_error(const char *file, int line, const char *text, const char *dir,
			       char *out, size_t outlen);

#endif
