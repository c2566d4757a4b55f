/*
 * trials (billing): one row per trial. Columns: billing_key, started_at,
 * ended_at (NULL: running), converted. Kept per row (one per trial, few):
 * trials.c counts those that ended in each window. Rejected: null_key,
 * null_value, bad_time, bad_bool.
 */
#include "dataset.h"

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
    {"billing_key", false},
    {"started_at", false},
    {"ended_at", false},
    {"converted", false},
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
	GROW(d->trials, d->ntrials, d->priv->cap_trials);
	struct cs_trial *t = &d->trials[d->ntrials++];
	t->customer = c;
	t->started_at = started;
	t->ended_at = ended;
	t->converted = converted;
}

const struct ds_contract ds_trials = {
    .name = "trials",
    .cols = cols_trials,
    .ncols = sizeof(cols_trials) / sizeof(cols_trials[0]),
    .row = row_trial,
};
