/*
 * ds_trials: what the trials dataset (ds_trials.c) leaves for compute: per
 * segment and plan window, the trials that ended in [t - W, t), converted
 * or not. Owned and filled by ds_trials.c (rows counted as they stream in,
 * never stored); trials.c reads it through trials_ended.
 *
 * Trials attribute to segments through their billing customer. Until the
 * link, the last segment slot holds the trials of customers no account
 * names; trials_link_unknown (ds_trials.c) moves them to the unknown
 * segment, after which nseg is the number of segments.
 */
#ifndef CS_DS_TRIALS_H
#define CS_DS_TRIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cs_trial_counts {
	size_t nwin;   /* plan.nwindows */
	size_t nseg;   /* segment slots; the segments once linked */
	uint64_t *n;   /* [(seg * nwin + w) * 2 + (converted ? 0 : 1)] */
	uint64_t rows; /* valid trial rows */
};

/* Trials of segment seg that ended in plan window w, converted or not. */
static inline uint64_t trials_ended(const struct cs_trial_counts *k, size_t seg, size_t w,
				    bool converted)
{
	if (!k->n || seg >= k->nseg)
		return 0;
	return k->n[(seg * k->nwin + w) * 2 + (converted ? 0 : 1)];
}

#endif
