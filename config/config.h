/*
 * config: loading and validation of the libconfig file.
 *
 * config_load() either returns a complete, validated struct cs_config or
 * fails with a message of the form "FILE:LINE: message" (LINE is the line of
 * the offending setting, or of its parent group when the setting is missing).
 * Nothing here connects anywhere, so --config.check is config_load() alone.
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

#define CS_MAX_WINDOWS	     16
#define CS_MAX_DIMENSIONS    16
#define CS_MAX_FEATURES	     64
#define CS_MAX_PARAMS	     8
#define CS_MAX_COHORT_MONTHS 36
#define CS_MAX_HORIZONS	     8

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
	DS_COUNT,
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

struct cs_health {
	int64_t usage_window, sentiment_window, support_window, billing_window; /* seconds */
	double w_usage, w_sentiment, w_support, w_billing;			/* weights */
	double usage_target; /* utilisation that scores 100, default 0.8 */
	double red_below;    /* default 50 */
	double green_from;   /* default 75 */
	int at_risk;	     /* 0..100, default 10 */
};

/* Retention cohorts (revenue): the months complete before t's month. */
struct cs_cohorts {
	int months;			/* 0..CS_MAX_COHORT_MONTHS, default 12, 0: off */
	size_t ndims;			/* dimensions the cohort families carry */
	size_t dims[CS_MAX_DIMENSIONS]; /* indexes into cs_config.dims, in config order */
};

/* Renewal horizons (health): default 30d, 60d, 90d. */
struct cs_renewals {
	size_t nhorizons; /* 1..CS_MAX_HORIZONS */
	struct cs_window horizons[CS_MAX_HORIZONS];
};

enum cs_kind {
	KIND_REVENUE,  /* accounts + subscriptions */
	KIND_TRIALS,   /* accounts + trials */
	KIND_SURVEYS,  /* accounts + surveys */
	KIND_ADOPTION, /* accounts + activity (utilisation, features, time to value) */
	KIND_SUPPORT,  /* accounts + tickets */
	KIND_OUTCOMES, /* accounts + every outcome query */
	KIND_HEALTH,   /* accounts + subscriptions + surveys + activity + tickets */
	KIND_COUNT,
};

struct cs_collector {
	char *name;
	enum cs_kind kind;
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
	 * (cs_dataset_max_age_seconds, read by the DatasetStale alert);
	 * default 7d. */
	int64_t max_age[DS_COUNT];

	size_t noutcomes;
	struct cs_outcome *outcomes;

	struct cs_health health;
	struct cs_cohorts cohorts;
	struct cs_renewals renewals;

	size_t ncollectors;
	struct cs_collector *collectors;

	struct cs_web web;
};

/* Returns NULL and writes "FILE:LINE: message" into err on failure. */
struct cs_config *config_load(const char *path, char *err, size_t errlen);
void config_free(struct cs_config *cfg);
/* true when a and b were loaded from the same settings (config_load only):
 * a reload to an unchanged configuration need not restart anything. */
bool config_same(const struct cs_config *a, const struct cs_config *b);

/* The datasets a kind needs (bit i set for enum cs_dataset i). */
unsigned config_kind_datasets(enum cs_kind kind);
const char *config_kind_name(enum cs_kind kind);
const char *config_dataset_name(enum cs_dataset ds);

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
