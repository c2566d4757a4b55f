/*
 * accounts (CRM): one row per customer account. Columns: account_key,
 * billing_key, one per segment dimension (NULL: "unknown" in that dimension),
 * seats (NULL or 0: none), started_at, first_value_at (NULL: not reached),
 * name (optional; kept only when health is evaluated, for the at-risk list,
 *   or revenue with movers on, for the movers),
 * renewal_at (optional: the contract's next renewal; NULL or no such column:
 * none; health's renewal families and the at-risk list).
 *
 * Rejected: NULL key (null_key), seats not a whole number (bad_number) or
 * negative (negative_seats), malformed times (bad_time), a key seen before
 * (duplicate_account_key). Accounts end before any other dataset folds: the
 * join (join.c, called by read.c when the stream ends) then decides duplicate billing keys and
 * builds the segments.
 */
#include "dataset.h"
#include "ds_accounts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_A_KEY,
	COL_A_BILLING,
	COL_A_SEATS,
	COL_A_STARTED,
	COL_A_VALUE,
	COL_A_NAME,
	COL_A_RENEWAL,
};

static const struct colspec cols_accounts[] = {
    {"account_key", false, CS_COL_TEXT},
    {"billing_key", false, CS_COL_TEXT},
    {"seats", false, CS_COL_INTEGER},
    {"started_at", false, CS_COL_TIMESTAMP},
    {"first_value_at", false, CS_COL_TIMESTAMP},
    {"name", true, CS_COL_TEXT},
    {"renewal_at", true, CS_COL_TIMESTAMP},
};

static void row_account(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	const char *key = col(in, v, COL_A_KEY);
	const char *seats_s = col(in, v, COL_A_SEATS);
	double seats = 0;
	cs_time started, value, renewal;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (seats_s) {
		if (parse_number(seats_s, &seats) || seats != floor(seats) || seats > 9e15) {
			reject(in, "bad_number");
			return;
		}
		if (seats < 0) {
			reject(in, "negative_seats");
			return;
		}
	}
	if (opt_time(col(in, v, COL_A_STARTED), &started) ||
	    opt_time(col(in, v, COL_A_VALUE), &value) ||
	    opt_time(col(in, v, COL_A_RENEWAL), &renewal)) {
		reject(in, "bad_time");
		return;
	}
	bool added;
	struct strent *e = strtab_put(&p->accounts, &p->arena, key, &added);
	if (!added) {
		reject(in, "duplicate_account_key");
		return;
	}

	size_t i = d->naccounts;
	if (i == p->cap_accounts) {
		/* the raw billing keys and dimension values grow with the accounts */
		p->cap_accounts = p->cap_accounts ? 2 * p->cap_accounts : 256;
		d->accounts = xrealloc(d->accounts, p->cap_accounts * sizeof(*d->accounts));
		p->acc_billing =
		    xrealloc(p->acc_billing, p->cap_accounts * sizeof(*p->acc_billing));
		if (d->cfg->ndims)
			p->acc_dims = xrealloc(p->acc_dims, p->cap_accounts * d->cfg->ndims *
								sizeof(*p->acc_dims));
	}
	e->val = (int32_t)i;
	struct cs_account *a = &d->accounts[i];
	a->key = e->key;
	/* Only the health at-risk list and revenue's movers show names:
	 * elsewhere they would be a copy per account for nothing. */
	const char *name = col(in, v, COL_A_NAME);
	bool keep_name = d->plan.keep_names;
	char cut[CS_MAX_LABEL_BYTES + 1];
	if (name && keep_name)
		name = label_cut(name, cut);
	a->name = name && keep_name ? arena_strndup(&p->arena, name, strlen(name)) : NULL;
	a->seats = (int64_t)seats;
	a->started_at = started;
	a->first_value_at = value;
	a->renewal_at = renewal;
	a->ttv_rejected = false;
	a->seg = 0;
	a->customer = -1;
	const char *bk = col(in, v, COL_A_BILLING);
	p->acc_billing[i] = bk ? arena_strndup(&p->arena, bk, strlen(bk)) : NULL;
	for (size_t k = 0; k < d->cfg->ndims; k++) {
		const char *dv = v[in->dimcol[k]];
		struct strent *de = strtab_put(&p->dimvals[k], &p->arena,
					       dv ? label_cut(dv, cut) : "unknown", &added);
		p->acc_dims[i * d->cfg->ndims + k] = de->key;
	}
	d->naccounts++;
	seen(in, started);
}

/* Every segment dimension is a column of its own. */
static int accounts_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			 size_t errlen)
{
	const struct cs_config *cfg = in->d->cfg;

	for (size_t k = 0; k < cfg->ndims; k++) {
		in->dimcol[k] = -1;
		for (int i = 0; i < ncols; i++) {
			if (names[i] && !strcmp(names[i], cfg->dims[k])) {
				in->dimcol[k] = i;
				break;
			}
		}
		if (in->dimcol[k] < 0) {
			snprintf(err, errlen,
				 "dataset \"accounts\": missing column \"%s\" for segment "
				 "dimension \"%s\"",
				 cfg->dims[k], cfg->dims[k]);
			return -1;
		}
	}
	return 0;
}

const struct ds_contract ds_accounts = {
    .name = "accounts",
    .cols = cols_accounts,
    .ncols = sizeof(cols_accounts) / sizeof(cols_accounts[0]),
    .open = accounts_open,
    .row = row_account,
};
