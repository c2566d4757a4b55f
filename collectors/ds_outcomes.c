/*
 * outcomes (any source, each named in config): an account's value of one
 * business outcome in one window; the query runs once per window. Columns:
 * account_key, value. Rejected (under the outcome's name): null_key,
 * null_value, bad_number, value_out_of_range. Values are kept per row and
 * window run; outcomes.c sums them per account.
 */
#include "dataset.h"

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
    {"account_key", false},
    {"value", false},
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
	GROW(*in->ov, *in->nov, *in->capov);
	struct cs_outcome_value *o = &(*in->ov)[(*in->nov)++];
	o->account = account_of(d, key, &o->seg);
	o->value = value;
	/* Outcome values of unknown accounts are still per account: keep the
	 * key so that compute can sum and judge each one separately. */
	o->key = o->account < 0 ? arena_strndup(&p->arena, key, strlen(key)) : NULL;
}

const struct ds_contract ds_outcomes = {
    .name = "outcomes",
    .cols = cols_outcomes,
    .ncols = sizeof(cols_outcomes) / sizeof(cols_outcomes[0]),
    .row = row_outcome,
};
