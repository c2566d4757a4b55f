/*
 * trials (billing): one row per trial. Columns: billing_key, started_at,
 * ended_at (NULL: running), converted. Counted as they stream in per
 * segment and window (struct cs_trial_counts, ds_trials.h), never stored.
 * Rejected: null_key, null_value, bad_time, bad_bool.
 */
#include "dataset.h"
#include "ds_trials.h"
#include "ds_accounts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_T_BILLING,
	COL_T_STARTED,
	COL_T_ENDED,
	COL_T_CONVERTED,
};

static const struct colspec cols_trials[] = {
    {"billing_key", false, CS_COL_TEXT},
    {"started_at", false, CS_COL_TIMESTAMP},
    {"ended_at", false, CS_COL_TIMESTAMP},
    {"converted", false, CS_COL_BOOLEAN},
};

static void row_trial(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *bk = col(in, v, COL_T_BILLING);
	cs_time started, ended;
	bool converted;

	if (!bk) {
		reject(in, "null_key");
		return;
	}
	if (!need_time(in, col(in, v, COL_T_STARTED), &started))
		return;
	if (opt_time(col(in, v, COL_T_ENDED), &ended)) {
		reject(in, "bad_time");
		return;
	}
	if (!need_bool(in, col(in, v, COL_T_CONVERTED), &converted))
		return;
	uint32_t c = customer_of(in, bk);
	seen(in, started);
	seen(in, ended);

	struct cs_trial_counts *k = d->trials;
	uint32_t seg = d->customers[c].seg;
	if (seg == CS_SEG_UNKNOWN)
		seg = (uint32_t)(k->nseg - 1);
	k->rows++;
	/* a running trial, or one that ends at or after t, is not counted */
	if (ended == CS_TIME_NONE || ended >= d->as_of)
		return;
	for (size_t w = 0; w < k->nwin; w++)
		if (ended >= d->plan.from[w])
			k->n[(seg * k->nwin + w) * 2 + (converted ? 0 : 1)]++;
}

static void trials_alloc(struct cs_data *d)
{
	struct cs_trial_counts *k = d->trials;

	if (k->n)
		return;
	k->nwin = d->plan.nwindows;
	k->nseg = d->seg.n + 1; /* the last slot holds unknown customers until linked */
	k->n = xcalloc(k->nseg * k->nwin * 2 + 1, sizeof(*k->n));
}

/* Trials of customers no account names were counted in the last slot; that
 * slot becomes the unknown segment unless an account combination is it. */
static void trials_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_trial_counts *k = d->trials;
	size_t slot = k->nseg - 1, per = k->nwin * 2;

	if (k->n && unknown != CS_SEG_UNKNOWN && unknown != slot) {
		for (size_t i = 0; i < per; i++) {
			k->n[unknown * per + i] += k->n[slot * per + i];
			k->n[slot * per + i] = 0;
		}
	}
	k->nseg = d->seg.n;
}

static void trials_release(struct cs_data *d)
{
	free(d->trials->n);
}

static int trials_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
		       size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	trials_alloc(in->d);
	return 0;
}

const struct ds_contract ds_trials = {
    .name = "trials",
    .cols = cols_trials,
    .ncols = sizeof(cols_trials) / sizeof(cols_trials[0]),
    .open = trials_open,
    .row = row_trial,
    .prepare = trials_alloc,
    .link_unknown = trials_link_unknown,
    .release = trials_release,
};
