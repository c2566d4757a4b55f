/*
 * payments (billing, optional): one row per invoice. Columns: billing_key,
 * amount_minor (minor units of currency), currency, issued_at, due_at (NULL:
 * issued_at), paid_at (NULL: unpaid), first_failed_at (NULL: never failed).
 * Rejected: null_key, null_value, bad_number, negative_amount,
 * unknown_currency, bad_time, bad_validity (due_at, paid_at or
 * first_failed_at before issued_at), amount_out_of_range.
 *
 * Counted as they stream in and never stored (struct cs_payments,
 * ds_payments.h): an invoice belongs to its billing customer's segment
 * (through the account that names it, as subscriptions; unknown without
 * one). Freshness: issued_at, paid_at, first_failed_at.
 */
#include "dataset.h"
#include "ds_payments.h"
#include "ds_accounts.h"

#include <stdlib.h>
#include <string.h>

enum {
	COL_P_BILLING,
	COL_P_AMOUNT,
	COL_P_CURRENCY,
	COL_P_ISSUED,
	COL_P_DUE,
	COL_P_PAID,
	COL_P_FAILED,
};

static const struct colspec cols_payments[] = {
    {"billing_key", false, CS_COL_TEXT},
    {"amount_minor", false, CS_COL_NUMBER},
    {"currency", false, CS_COL_TEXT},
    {"issued_at", false, CS_COL_TIMESTAMP},
    {"due_at", false, CS_COL_TIMESTAMP},
    {"paid_at", false, CS_COL_TIMESTAMP},
    {"first_failed_at", false, CS_COL_TIMESTAMP},
};

/* The bucket edges, from t: the one place they are computed. */
static void payments_init(struct cs_data *d)
{
	struct cs_payments *p = d->payments;

	for (int i = 0; i < PAY_BUCKETS - 1; i++)
		p->edge[i] = d->as_of - (int64_t)(30 * (i + 1)) * 86400 * CS_SECOND;
}

static void payments_alloc(struct cs_data *d)
{
	struct cs_payments *p = d->payments;

	if (p->open)
		return;
	p->nwin = d->plan.nwindows;
	p->nseg = d->seg.n + 1; /* the last slot holds unknown customers until linked */
	p->open = xcalloc(p->nseg * PAY_BUCKETS, sizeof(*p->open));
	p->window = xcalloc(p->nseg * p->nwin + 1, sizeof(*p->window));
}

static enum cs_pay_bucket bucket_of(const struct cs_payments *p, cs_time t, cs_time due)
{
	if (due >= t)
		return PAY_CURRENT;
	int b = PAY_1_30;
	while (b < PAY_OVER_90 && due < p->edge[b - 1])
		b++;
	return (enum cs_pay_bucket)b;
}

/* An optional instant of the row: NULL is CS_TIME_NONE; false (rejected)
 * when malformed or before issued_at. */
static bool after_issue(struct cs_stream *in, const char *s, cs_time issued, cs_time *t)
{
	if (opt_time(s, t)) {
		reject(in, "bad_time");
		return false;
	}
	if (*t != CS_TIME_NONE && *t < issued) {
		reject(in, "bad_validity");
		return false;
	}
	return true;
}

static void row_payment(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct cs_payments *p = d->payments;
	const char *bk = col(in, v, COL_P_BILLING);
	double amount, scale, rate;
	cs_time issued, due, paid, failed, t = d->as_of;

	if (!bk) {
		reject(in, "null_key");
		return;
	}
	if (!need_number(in, col(in, v, COL_P_AMOUNT), &amount))
		return;
	if (amount < 0) {
		reject(in, "negative_amount");
		return;
	}
	const char *cur = col(in, v, COL_P_CURRENCY);
	if (!need(in, cur))
		return;
	if (cs_money_lookup(d->cfg, cur, &in->money, &scale, &rate)) {
		reject(in, "unknown_currency");
		return;
	}
	if (!need_time(in, col(in, v, COL_P_ISSUED), &issued))
		return;
	if (!after_issue(in, col(in, v, COL_P_DUE), issued, &due) ||
	    !after_issue(in, col(in, v, COL_P_PAID), issued, &paid) ||
	    !after_issue(in, col(in, v, COL_P_FAILED), issued, &failed))
		return;
	if (due == CS_TIME_NONE)
		due = issued;
	amount = amount / scale * rate;
	if (!(amount <= CS_MAX_INVOICE)) {
		reject(in, "amount_out_of_range");
		return;
	}

	uint32_t c = customer_of(in, bk);
	uint32_t seg = d->customers[c].seg;
	seen(in, issued);
	seen(in, paid);
	seen(in, failed);
	if (seg == CS_SEG_UNKNOWN)
		seg = (uint32_t)(p->nseg - 1);
	p->rows++;

	/* open at t: issued by t and not paid by t (paid exactly at t is paid) */
	if (issued <= t && (paid == CS_TIME_NONE || paid > t)) {
		struct cs_receivables *r = &p->open[seg * PAY_BUCKETS + bucket_of(p, t, due)];

		r->invoices++;
		r->amount += amount;
	}
	for (size_t w = 0; w < p->nwin; w++) {
		struct cs_payment_window *pw = &p->window[seg * p->nwin + w];
		cs_time from = d->plan.from[w];

		if (failed != CS_TIME_NONE && failed >= from && failed < t) {
			pw->failed++;
			pw->failed_amount += amount;
			if (paid != CS_TIME_NONE && paid < t) {
				pw->recovered++;
				pw->recovered_amount += amount;
			}
		}
		if (issued >= from && issued < t) {
			pw->billed++;
			pw->billed_amount += amount;
		}
	}
}

/* Invoices of customers no account names were counted in the last slot;
 * that slot becomes the unknown segment unless an account combination is it. */
static void payments_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_payments *p = d->payments;
	size_t slot = p->nseg - 1;

	if (p->open && unknown != CS_SEG_UNKNOWN && unknown != slot) {
		for (size_t b = 0; b < PAY_BUCKETS; b++) {
			struct cs_receivables *to = &p->open[unknown * PAY_BUCKETS + b];
			struct cs_receivables *from = &p->open[slot * PAY_BUCKETS + b];

			to->invoices += from->invoices;
			to->amount += from->amount;
			*from = (struct cs_receivables){0};
		}
		for (size_t w = 0; w < p->nwin; w++) {
			struct cs_payment_window *to = &p->window[unknown * p->nwin + w];
			struct cs_payment_window *from = &p->window[slot * p->nwin + w];

			to->failed += from->failed;
			to->recovered += from->recovered;
			to->billed += from->billed;
			to->failed_amount += from->failed_amount;
			to->recovered_amount += from->recovered_amount;
			to->billed_amount += from->billed_amount;
			*from = (struct cs_payment_window){0};
		}
	}
	p->nseg = d->seg.n;
}

static void payments_release(struct cs_data *d)
{
	free(d->payments->open);
	free(d->payments->window);
}

static int payments_begin(struct cs_stream *in, int ncols, const char *const *names, char *err,
			  size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	payments_alloc(in->d);
	return 0;
}

const struct ds_contract ds_payments = {
    .name = "payments",
    .cols = cols_payments,
    .ncols = sizeof(cols_payments) / sizeof(cols_payments[0]),
    .open = payments_begin,
    .row = row_payment,
    .init = payments_init,
    .prepare = payments_alloc,
    .link_unknown = payments_link_unknown,
    .release = payments_release,
};
