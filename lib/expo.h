/*
 * expo: an in-memory set of metric families and its rendering into the
 * Prometheus text format 0.0.4 and OpenMetrics 1.0.0.
 *
 * A collector fills one struct mset per run; the snapshot renders the union
 * of all sets. An mset owns copies of every string given to it, so callers may
 * pass stack buffers. Families keep their samples in insertion order; the
 * renderer orders families by name, so output is stable as long as each
 * collector adds samples in a deterministic order.
 *
 * Family names are the names users see in the text format: a counter is
 * named with its _total suffix (cs_collector_runs_total), and the OpenMetrics
 * renderer strips it for the metadata lines. A gauge histogram is named
 * without suffix (cs_health_score); in OpenMetrics it is written as
 * "gaugehistogram" with _bucket/_gcount/_gsum samples, in text 0.0.4 as
 * Prometheus' client_python writes one: TYPE histogram with the same samples.
 */
#ifndef CS_EXPO_H
#define CS_EXPO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

enum metric_type {
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_GAUGEHISTOGRAM,
	METRIC_UNTYPED,
};

enum expo_format {
	EXPO_TEXT,	  /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

struct mset;
struct family;

struct mset *mset_new(void);
void mset_free(struct mset *set);

/*
 * Returns the family of that name, creating it on first use. help is the
 * HELP text (unescaped; the renderer escapes it). unit may be NULL; when set
 * it is written as "# UNIT" in OpenMetrics only and must be a suffix of name.
 * Asking again for an existing name returns the same family (type and help of
 * the first call win).
 */
struct family *mset_family(struct mset *set, const char *name, enum metric_type type,
			   const char *help, const char *unit);

/*
 * Adds one sample. names and values are parallel arrays of nlabels label
 * names and (unescaped, UTF-8) values. For a gauge histogram use
 * family_add_histogram instead.
 */
void family_add(struct family *f, size_t nlabels, const char *const *names,
		const char *const *values, double value);

/*
 * Adds one gauge histogram: nbuckets upper bounds (ascending, the last one
 * must be +Inf i.e. INFINITY) and their cumulative counts; gsum is the sum of
 * the observed values and gcount the number of observations (equal to the
 * +Inf bucket).
 */
void family_add_histogram(struct family *f, size_t nlabels, const char *const *names,
			  const char *const *values, size_t nbuckets, const double *bounds,
			  const uint64_t *cumulative, double gsum);

/*
 * Finds the sample of family whose labels are exactly the given pairs (any
 * order) and stores its value; for a gauge histogram family, looks up the
 * sample "NAME_gcount" / "NAME_gsum" / "NAME_bucket" (with an "le" pair) by
 * that full sample name. Returns 0 when found, -1 otherwise. Meant for tests
 * and tools, not for hot paths.
 */
int mset_lookup(const struct mset *set, const char *family, size_t npairs, const char *const *names,
		const char *const *values, double *value);

/*
 * Calls fn for every sample of the family of that name (none when set has no
 * such family), in insertion order: its nlabels label names and values (the
 * values as the exposition writes them, escaped by expo_escape_label) and
 * its value (a gauge histogram's: its sum). For readers of a finished set
 * such as the status page.
 */
void mset_each_sample(const struct mset *set, const char *family,
		      void (*fn)(void *ctx, size_t nlabels, const char *const *names,
				 const char *const *values, double value),
		      void *ctx);

/* Calls fn with the name of every family of set, in creation order. */
void mset_each_family(const struct mset *set, void (*fn)(void *ctx, const char *name), void *ctx);

/* Number of samples (a histogram counts as one) across all families. */
size_t mset_series(const struct mset *set);

/*
 * Renders the union of sets (NULL entries skipped) into out (appended).
 * Families of the same name in several sets are merged in set order.
 * OpenMetrics output ends with "# EOF\n".
 */
void expo_render(const struct mset *const *sets, size_t nsets, enum expo_format fmt,
		 struct buf *out);

/*
 * expo_render without OpenMetrics' closing "# EOF", for an exposition
 * assembled from parts rendered apart (the last part by expo_render). Each
 * family must then be in one part only, so that its lines stay together and
 * its metadata appears once; the parts need not be in name order.
 */
void expo_render_part(const struct mset *const *sets, size_t nsets, enum expo_format fmt,
		      struct buf *out);

/*
 * Escaping and number formatting, exposed for tests and for the landing page.
 * expo_escape_label escapes backslash, double quote and newline, writes other
 * control characters as Control Pictures and invalid UTF-8 losslessly (one to
 * one: distinct values never render the same; see expo.c); HELP text escapes
 * backslash and newline only and replaces invalid UTF-8 by U+FFFD. expo_format_double writes the
 * shortest string that parses back to the same double ("+Inf", "-Inf", "NaN" for the specials) into
 * dst (at least 32 bytes) and returns its length.
 */
void expo_escape_label(struct buf *out, const char *s);
void expo_escape_help(struct buf *out, const char *s);
size_t expo_format_double(char *dst, double v);

/*
 * expo_history: the metric sets of successive instants merged into one
 * OpenMetrics exposition with timestamps, as
 * `promtool tsdb create-blocks-from openmetrics` wants it (a backfill): each
 * family's metadata once, from the first instant that has the family;
 * families by name; every series' points together, in time order (a gauge
 * histogram point is all its _bucket, _gcount and _gsum lines). Each
 * instant's lines are those expo_render writes in OpenMetrics. Everything is
 * kept until written: roughly 16 bytes a sample line and instant.
 */
struct expo_history;

struct expo_history *expo_history_new(void);
void expo_history_free(struct expo_history *h);

/* Adds name="value" (value escaped here) to every sample of the instants
 * added after it, after the sample's own labels. name must be a valid label
 * name. */
void expo_history_add_label(struct expo_history *h, const char *name, const char *value);

/* Adds the union of sets (as expo_render takes it) at unix time ts_usec
 * (microseconds); instants must come in increasing time order. Returns 0, or
 * -1 when a sample already has a label of expo_history_add_label
 * (expo_history_conflict says which, and of which family); the instant is
 * then partly added. */
int expo_history_add(struct expo_history *h, const struct mset *const *sets, size_t nsets,
		     int64_t ts_usec);

/* After expo_history_add returned -1: the clash, as a sentence fragment. */
const char *expo_history_conflict(const struct expo_history *h);

/* Appends the merged exposition to out, "# EOF" last. */
void expo_history_finish(struct expo_history *h, struct buf *out);

/* Writes what expo_history_finish appends, releasing each series' points once
 * written (h is then only fit for expo_history_free), and flushes. Returns 0,
 * or -1 with errno set when a write failed. */
int expo_history_write(struct expo_history *h, FILE *out);

#endif
