/*
 * kinds: the collector kinds, one explicit table (collector_kinds) and the
 * only home of a kind's facts: its name, the datasets it needs, the family
 * tables it emits (emit.h: name, type, HELP, labels, unit), the settings
 * groups it owns and their validation, its compute and, for health, what it
 * remembers between evaluations.
 *
 * Config keeps a collector's kind as the string written in the file;
 * cs_settings_load loads the file (config_load) and then checks it against
 * this table: every collector's kind, the datasets and outcomes it needs,
 * each kind's settings groups, and that no segment or cohort dimension is a
 * label name the exposition already carries (cs_label_reserved, derived from
 * the family tables and the exporter's own labels, so it cannot drift).
 * Every place that loads a configuration (start, reload, --config.check,
 * backfill, tests) goes through it.
 */
#ifndef CS_KINDS_H
#define CS_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "settings.h"

struct cs_data;
struct cs_family;
struct cs_band_memory;
struct cs_plan;
struct mset;

enum cs_kind {
	KIND_REVENUE,
	KIND_TRIALS,
	KIND_SURVEYS,
	KIND_ADOPTION,
	KIND_SUPPORT,
	KIND_OUTCOMES,
	KIND_HEALTH,
	KIND_COUNT,
};

struct collector_kind {
	enum cs_kind kind;
	const char *name;
	unsigned datasets; /* bit per enum cs_dataset */
	/* Datasets it reads when they are configured; without one nothing
	 * fails: the families built on it are absent (revenue's payments) or
	 * a component is undefined (health's usage without activity). */
	unsigned optional_datasets;
	/* Reads the outcome queries (one run per outcome and window of its
	 * collector); a configuration needs at least one outcome. */
	bool outcomes;
	/* The family tables it emits, NULL-terminated (each table ends with
	 * CS_FAMILIES_END). */
	const struct cs_family *const *families;
	/* The top-level settings groups it owns, NULL-terminated. */
	const char *const *groups;
	/* Reads its groups into k (which holds the defaults); false after
	 * config_fail. NULL: no settings. */
	bool (*settings)(struct config_reader *r, struct cs_kind_settings *k);
	void (*compute)(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
	/* Seconds before t its own settings read, beyond its collector's
	 * windows (health's model windows); NULL: none. */
	int64_t (*lookback)(const struct cs_kind_settings *k);
	/* What its compute needs the datasets' folds to keep (struct cs_plan's
	 * needs: names, latest NPS, payment risk, cohort months, ...), set on
	 * the plan of an evaluation it is due in (plan.c); NULL: nothing. */
	void (*plan)(const struct cs_kind_settings *k, struct cs_plan *p);
	/*
	 * Memory between evaluations (health's band transitions, kpi.h): from
	 * prev (NULL: none) writes its families to out and returns the memory
	 * the next evaluation gets; forget frees one. NULL: no memory.
	 */
	struct cs_band_memory *(*remember)(const struct cs_data *d, const struct cs_collector *c,
					   const struct cs_band_memory *prev, struct mset *out);
	void (*forget)(struct cs_band_memory *m);
	const char *about; /* one sentence for the metric reference */
};

/* Indexed by enum cs_kind. */
extern const struct collector_kind collector_kinds[KIND_COUNT];

/* The kind of that name, NULL when there is none. */
const struct collector_kind *cs_kind_named(const char *name);
/* The datasets a collector of kind k reads under cfg: its own, and those
 * of its optional datasets that cfg configures. */
unsigned cs_kind_datasets(const struct collector_kind *k, const struct cs_config *cfg);
/* The kind of a collector of a checked configuration. */
enum cs_kind cs_kind_of(const struct cs_collector *c);
static inline const struct collector_kind *cs_collector_kind(const struct cs_collector *c)
{
	return &collector_kinds[cs_kind_of(c)];
}

/* Loads and checks a configuration (see the top of this file). NULL and
 * "FILE:LINE: message" in err on failure. */
struct cs_config *cs_settings_load(const char *path, char *err, size_t errlen);

/* The kinds' settings with their defaults for cfg (cohorts over every
 * segment dimension), hung on cfg (for configurations built in code). */
struct cs_kind_settings *cs_kind_settings_attach(struct cs_config *cfg);

/*
 * Label names the exposition can carry besides the segment dimensions:
 * every family's own labels (from the kinds' tables and the self-metrics'
 * table, collectors/self.h) and cs_prometheus_labels (histogram buckets,
 * what Prometheus attaches on scrape).
 * cs_label_names writes up to max distinct names to out and returns how
 * many there are.
 */
#define CS_MAX_LABEL_NAMES 256 /* more than the tables hold (a unit test checks) */
bool cs_label_reserved(const char *name);
size_t cs_label_names(const char **out, size_t max);
extern const char *const cs_prometheus_labels[];

#endif
