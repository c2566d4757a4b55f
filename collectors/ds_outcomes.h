/*
 * ds_outcomes: what the outcome queries (ds_outcomes.c) leave for compute:
 * per configured outcome and plan window (one query run each), the values
 * of its rows, kept row by row because outcomes.c sums them per account
 * before judging them against the target. Owned and filled by
 * ds_outcomes.c; outcomes.c reads it through outcome_values.
 *
 * A row of an account no CRM account has keeps its account key (still one
 * account per key) and, until the link, the segment CS_SEG_UNKNOWN;
 * outcomes_link_unknown (ds_outcomes.c) gives it the unknown segment.
 */
#ifndef CS_DS_OUTCOMES_H
#define CS_DS_OUTCOMES_H

#include <stddef.h>
#include <stdint.h>

/* An outcome value beyond ±this is rejected as value_out_of_range: every
 * sum stays finite. */
#define CS_MAX_OUTCOME_VALUE 1e15

struct cs_outcome_value {
	int32_t account; /* CS_NO_ACCOUNT: no CRM account has the key */
	uint32_t seg;
	double value;
	const char *key; /* the account key when account is CS_NO_ACCOUNT, else NULL */
};

struct cs_outcome_runs {
	size_t nwin;		     /* plan.nwindows */
	size_t nruns;		     /* outcomes x plan windows */
	struct cs_outcome_value **v; /* [o * nwin + w]: the rows of one run */
	size_t *n, *cap;	     /* [o * nwin + w] */
};

/* The rows of outcome o in plan window w (*n of them). */
static inline const struct cs_outcome_value *outcome_values(const struct cs_outcome_runs *r,
							    size_t o, size_t w, size_t *n)
{
	size_t run = o * r->nwin + w;

	if (run >= r->nruns) {
		*n = 0;
		return NULL;
	}
	*n = r->n[run];
	return r->v[run];
}

#endif
