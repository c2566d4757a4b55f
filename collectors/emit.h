/*
 * emit: writing KPI samples with segment labels. Every KPI family carries one
 * label per configured dimension first, then its own labels.
 */
#ifndef CS_EMIT_H
#define CS_EMIT_H

#include "lib/expo.h"
#include "model.h"

/*
 * Adds one sample to f for segment seg: the segment's dimension labels, then
 * the (name, value) pairs given as varargs, terminated by NULL. Example:
 *   emit(f, d, seg, 12.5, "window", "30d", "currency", "USD", NULL);
 */
void emit(struct family *f, const struct cs_data *d, uint32_t seg, double value, ...);

/* The same for a gauge histogram (see family_add_histogram). */
void emit_histogram(struct family *f, const struct cs_data *d, uint32_t seg, size_t nbuckets,
		    const double *bounds, const uint64_t *cumulative, double gsum, ...);

/* Relative comparison of money and scores: |a - b| <= 1e-9 · max(|a|, |b|). */
int cs_cmp(double a, double b); /* -1, 0, 1 */

#endif
