/*
 * outcomes (any source, each named in config): an account's value of one
 * business outcome in one window; the query runs once per window. Columns:
 * account_key, value. Rejected (under the outcome's name): null_key,
 * null_value, bad_number, value_out_of_range. Values are kept per row and
 * window run (struct cs_outcome_runs, ds_outcomes.h); outcomes.c sums them
 * per account.
 */
#include "dataset.h"
#include "ds_outcomes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_O_ACCOUNT,
	COL_O_VALUE,
};

static const struct colspec cols_outcomes[] = {
    {"account_key", false, CS_COL_TEXT},
    {"value", false, CS_COL_NUMBER},
};

static void row_outcome(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	const char *key = col(in, v, COL_O_ACCOUNT);
	double value;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need_number(in, col(in, v, COL_O_VALUE), &value))
		return;
	if (!(fabs(value) <= CS_MAX_OUTCOME_VALUE)) {
		reject(in, "value_out_of_range");
		return;
	}
	struct cs_outcome_runs *r = d->outcomes;
	GROW(r->v[in->run], r->n[in->run], r->cap[in->run]);
	struct cs_outcome_value *o = &r->v[in->run][r->n[in->run]++];
	o->account = account_of(d, key, &o->seg);
	o->value = value;
	/* Outcome values of unknown accounts are still per account: keep the
	 * key so that compute can sum and judge each one separately. */
	o->key = o->account < 0 ? arena_strndup(&p->arena, key, strlen(key)) : NULL;
}

/* One run per configured outcome and plan window (read.c checks that a
 * stream names one). */
static void outcomes_init(struct cs_data *d)
{
	struct cs_outcome_runs *r = d->outcomes;

	r->nwin = d->plan.nwindows;
	r->nruns = d->cfg->noutcomes * r->nwin;
	if (!r->nruns)
		return;
	r->v = xcalloc(r->nruns, sizeof(*r->v));
	r->n = xcalloc(r->nruns, sizeof(*r->n));
	r->cap = xcalloc(r->nruns, sizeof(*r->cap));
}

/* Rows of unknown accounts carry CS_SEG_UNKNOWN until the link. */
static void outcomes_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_outcome_runs *r = d->outcomes;

	if (unknown == CS_SEG_UNKNOWN)
		return;
	for (size_t run = 0; run < r->nruns; run++)
		for (size_t i = 0; i < r->n[run]; i++)
			if (r->v[run][i].seg == CS_SEG_UNKNOWN)
				r->v[run][i].seg = unknown;
}

static void outcomes_release(struct cs_data *d)
{
	struct cs_outcome_runs *r = d->outcomes;

	for (size_t run = 0; run < r->nruns; run++)
		free(r->v[run]);
	free(r->v);
	free(r->n);
	free(r->cap);
}

const struct ds_contract ds_outcomes = {
    .name = "outcomes",
    .cols = cols_outcomes,
    .ncols = sizeof(cols_outcomes) / sizeof(cols_outcomes[0]),
    .row = row_outcome,
    .init = outcomes_init,
    .link_unknown = outcomes_link_unknown,
    .release = outcomes_release,
};
