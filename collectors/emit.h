/*
 * emit: a KPI family's descriptor and the writing of its samples.
 *
 * Each family file declares its families as a const table of struct
 * cs_family: the family's name, type, HELP, unit and its own label names
 * have that one home. The kind table (kinds.h) points at those tables, so
 * the metric reference, the reserved label names and the tests derive from
 * them. A sample carries one label per configured segment dimension first
 * (or per cohort dimension, for the cohort families), then the family's own
 * labels in table order.
 */
#ifndef CS_EMIT_H
#define CS_EMIT_H

#include "lib/expo.h"
#include "model.h"

#define CS_FAMILY_LABELS 6

/* What a family's samples carry before its own labels. */
enum cs_family_prefix {
	PREFIX_SEGMENT, /* every segment dimension, in configured order */
	PREFIX_COHORT,	/* the cohort dimensions (cohorts.dimensions) */
};

struct cs_family {
	const char *name; /* a counter's with its _total suffix */
	enum metric_type type;
	const char *labels[CS_FAMILY_LABELS + 1]; /* own labels, NULL-terminated */
	const char *unit;			  /* NULL, or a suffix of name */
	enum cs_family_prefix prefix;
	/*
	 * For a family computed from its file's per-cell accumulator (a ratio
	 * table): its formula, given that file's cell; NaN when the sample is
	 * absent (its denominator is 0). NULL otherwise.
	 */
	double (*formula)(const void *cell);
	const char *help;
};

/* Families of a table, which ends with an entry whose name is NULL. */
#define CS_FAMILIES_END                                                                            \
	{                                                                                          \
		0                                                                                  \
	}

/* One family of one metric set, ready to take samples. */
struct cs_emitter {
	struct family *f;
	const struct cs_family *def;
	const struct cs_data *d;
};

/* The family def in out (created on first use). */
struct cs_emitter family_of(struct mset *out, const struct cs_data *d, const struct cs_family *def);

/*
 * Adds one sample for segment seg: the segment's dimension labels, then one
 * value per label of the family's table entry, in that order, then NULL.
 * Example, for a family with labels {"window", "result"}:
 *   emit(&ended, seg, 12, "30d", "converted", NULL);
 * A count that differs from the table is a programming error: it aborts.
 */
void emit(const struct cs_emitter *e, uint32_t seg, double value, ...);

/* The same for a gauge histogram (see family_add_histogram). */
void emit_histogram(const struct cs_emitter *e, uint32_t seg, size_t nbuckets, const double *bounds,
		    const uint64_t *cumulative, double gsum, ...);

/*
 * The general form: nprefix (name, value) pairs first (a cohort group's
 * dimensions, a memory's segment), then the family's own label values
 * (values[i] for def->labels[i]).
 */
void emit_labels(const struct cs_emitter *e, size_t nprefix, const char *const *names,
		 const char *const *prefix, const char *const *values, double value);

/* Number of own labels of a family. */
size_t family_nlabels(const struct cs_family *def);

/* Relative comparison of money and scores: |a - b| <= 1e-9 · max(|a|, |b|). */
int cs_cmp(double a, double b); /* -1, 0, 1 */

#endif
