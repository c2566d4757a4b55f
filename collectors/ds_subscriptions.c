/*
 * subscriptions (billing): one row per period of constant price. Columns:
 * billing_key, amount_minor (per interval, after recurring discounts, before
 * tax), currency, interval_unit, interval_count, quantity, status, valid_from,
 * valid_to (NULL: open); optional: cancel_requested_at (NULL: no cancellation
 * requested) and churn_reason (text, NULL: none recorded). Without one of the
 * optional columns its families are not written.
 *
 * Rows are summed per billing customer as they stream in and never stored
 * (struct cs_mrr): a row counts toward MRR at instant x when valid_from <= x
 * < valid_to and its status is active or past_due; its monthly amount in the
 * reporting currency is normalised by money.c. Rejected: null_key,
 * null_value, bad_number, negative_amount, unknown_currency,
 * unknown_interval, bad_interval_count, negative_quantity, unknown_status,
 * bad_time (valid_from, valid_to or cancel_requested_at malformed),
 * bad_validity (valid_to <= valid_from), amount_out_of_range.
 *
 * When revenue is due the fold also keeps payment risk (past_due MRR at t,
 * each customer's last drop per window), the quantities at t and the window
 * starts, pending churn and churn reasons when their columns are there and,
 * with cohorts on, MRR at the cohort age instants. What the fold holds, and
 * how compute reads it: ds_subscriptions.h.
 */
#include "dataset.h"
#include "ds_subscriptions.h"
#include "emit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_S_BILLING,
	COL_S_AMOUNT,
	COL_S_CURRENCY,
	COL_S_UNIT,
	COL_S_COUNT,
	COL_S_QUANTITY,
	COL_S_STATUS,
	COL_S_FROM,
	COL_S_TO,
	COL_S_CANCEL,
	COL_S_REASON,
};

static const struct colspec cols_subscriptions[] = {
    {"billing_key", false, CS_COL_TEXT},
    {"amount_minor", false, CS_COL_NUMBER},
    {"currency", false, CS_COL_TEXT},
    {"interval_unit", false, CS_COL_TEXT},
    {"interval_count", false, CS_COL_INTEGER},
    {"quantity", false, CS_COL_NUMBER},
    {"status", false, CS_COL_TEXT},
    {"valid_from", false, CS_COL_TIMESTAMP},
    {"valid_to", false, CS_COL_TIMESTAMP},
    {"cancel_requested_at", true, CS_COL_TIMESTAMP},
    {"churn_reason", true, CS_COL_TEXT},
};

static int cmp_code(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The reason labels and ranks (ds_subscriptions.h) of the configured codes. */
static void reasons_init(struct cs_mrr *m, const struct cs_churn_reasons *r)
{
	size_t n = r->n, other = SIZE_MAX;

	m->ncodes = n;
	for (size_t i = 0; i < n; i++) {
		m->labels[i] = r->codes[i];
		m->sorted[i] = r->codes[i];
		if (!strcmp(r->codes[i], "other"))
			other = i;
	}
	if (other == SIZE_MAX)
		m->labels[other = n++] = "other";
	m->labels[n] = "unknown";
	m->nlabels = n + 1;
	qsort(m->sorted, m->ncodes, sizeof(m->sorted[0]), cmp_code);
	m->rank_label[0] = (unsigned char)n;
	for (size_t i = 0; i <= m->ncodes; i++)
		m->rank_label[2 * i + 1] = (unsigned char)other;
	for (size_t i = 0; i < m->ncodes; i++)
		for (size_t j = 0; j < m->ncodes; j++)
			if (m->sorted[i] == r->codes[j])
				m->rank_label[2 * i + 2] = (unsigned char)j;
}

/* The normalised text s[0..n) (ASCII letters lower-cased) against a code,
 * byte-wise like strcmp. */
static int norm_cmp(const char *s, size_t n, const char *code)
{
	size_t i = 0;

	for (; i < n && code[i]; i++) {
		unsigned char a = (unsigned char)s[i], b = (unsigned char)code[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return a < b ? -1 : 1;
	}
	if (i < n)
		return 1;
	return code[i] ? -1 : 0;
}

/* The rank of a churn_reason value (ds_subscriptions.h): NULL and empty 0,
 * a code 2i + 2, other texts the odd rank of the gap between codes. */
static unsigned char reason_rank(const struct cs_mrr *m, const char *s)
{
	size_t n, lo = 0, hi = m->ncodes;

	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	while (lo < hi) { /* lo: how many codes sort before the text */
		size_t mid = lo + (hi - lo) / 2;

		if (norm_cmp(s, n, m->sorted[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->ncodes && norm_cmp(s, n, m->sorted[lo]) == 0)
		return (unsigned char)(2 * lo + 2);
	return (unsigned char)(2 * lo + 1);
}

/* The instants MRR is summed at, laid out as ds_subscriptions.h names them
 * (window starts from the plan). */
static void mrr_init(struct cs_data *d)
{
	struct cs_mrr *m = d->mrr;
	const struct cs_plan *plan = &d->plan;
	size_t nw = plan->nwindows;

	m->nwin = nw;
	/* room for every cohort month config allows */
	m->at = xmalloc((MRR_WINDOW_STARTS + nw + CS_MAX_COHORT_MONTHS) * sizeof(*m->at));
	m->at[MRR_T] = plan->as_of;
	m->at[MRR_BILLING_START] = plan->billing_from;
	for (size_t w = 0; w < nw; w++)
		m->at[mrr_window_start(w)] = plan->from[w];
	m->ninstants = MRR_WINDOW_STARTS + nw;
	if (plan->payment_risk) {
		m->risk = true;
		/* cohort ages: the starts of the K months up to t's, oldest first */
		size_t k = plan->cohort_months;
		for (size_t j = 0; j < k; j++)
			m->at[mrr_cohort_month(m, j)] =
			    cs_month_start(plan->as_of, (int)j + 1 - (int)k);
		m->cohorts = k;
		m->ninstants += k;
		reasons_init(m, plan->churn_reasons);
		for (size_t w = 1; w < nw; w++)
			if (plan->windows[w] > plan->windows[m->wl])
				m->wl = w;
	}
}

static void mrr_release(struct cs_data *d)
{
	struct cs_mrr *m = d->mrr;

	free(m->at);
	free(m->mrr);
	free(m->first_positive);
	free(m->past_due);
	free(m->last_drop);
	free(m->drop_past_due);
	free(m->quantity);
	free(m->pending);
	free(m->committed);
	free(m->reason_mrr);
	free(m->reason);
}

/* Makes room for n customers in the MRR sums, growing like GROW. */
static void mrr_reserve(struct cs_data *d, size_t n)
{
	struct cs_mrr *m = d->mrr;
	size_t cap = m->cap ? m->cap : 256;

	if (n <= m->cap)
		return;
	while (cap < n)
		cap *= 2;
	m->mrr = xrealloc(m->mrr, cap * m->ninstants * sizeof(*m->mrr));
	m->first_positive = xrealloc(m->first_positive, cap * sizeof(*m->first_positive));
	memset(m->mrr + m->cap * m->ninstants, 0, (cap - m->cap) * m->ninstants * sizeof(*m->mrr));
	for (size_t c = m->cap; c < cap; c++)
		m->first_positive[c] = CS_TIME_OPEN;
	if (m->risk) {
		size_t nw = m->nwin;

		m->past_due = xrealloc(m->past_due, cap * sizeof(*m->past_due));
		m->last_drop = xrealloc(m->last_drop, (cap * nw + 1) * sizeof(*m->last_drop));
		m->drop_past_due =
		    xrealloc(m->drop_past_due, (cap * nw + 1) * sizeof(*m->drop_past_due));
		m->quantity = xrealloc(m->quantity, cap * (nw + 1) * sizeof(*m->quantity));
		for (size_t c = m->cap; c < cap; c++) {
			m->past_due[c] = 0;
			for (size_t w = 0; w < nw; w++) {
				m->last_drop[c * nw + w] = CS_TIME_NONE;
				m->drop_past_due[c * nw + w] = false;
			}
			for (size_t k = 0; k <= nw; k++)
				m->quantity[c * (nw + 1) + k] = 0;
		}
	}
	if (m->has_cancel) {
		m->pending = xrealloc(m->pending, cap * sizeof(*m->pending));
		m->committed = xrealloc(m->committed, cap * sizeof(*m->committed));
		for (size_t c = m->cap; c < cap; c++) {
			m->pending[c] = 0;
			m->committed[c] = false;
		}
	}
	if (m->has_reason) {
		m->reason_mrr = xrealloc(m->reason_mrr, cap * sizeof(*m->reason_mrr));
		m->reason = xrealloc(m->reason, cap * sizeof(*m->reason));
		for (size_t c = m->cap; c < cap; c++) {
			m->reason_mrr[c] = 0;
			m->reason[c] = 0;
		}
	}
	m->cap = cap;
}

/* What revenue reads of a counted row beyond its MRR. */
struct counted {
	enum cs_status status;
	double monthly, quantity;
	cs_time from, to;
	cs_time cancel;	    /* CS_TIME_NONE: none requested */
	const char *reason; /* NULL: none (or no column) */
};

/* Payment risk, pending churn, churn reasons and drivers (struct cs_mrr):
 * past_due and cancelling MRR at t, quantities at t and the window starts,
 * and per plan window the customer's last drop in (t - W, t], whether only
 * past_due rows ended there and, for the longest window, the reason that
 * stands. Called for counting rows with a positive monthly amount. */
static void fold_risk(struct cs_data *d, uint32_t c, const struct counted *r)
{
	struct cs_mrr *m = d->mrr;
	size_t nw = m->nwin;
	cs_time t = d->as_of, from = r->from, to = r->to;
	bool past_due = r->status == SUB_PAST_DUE;
	double *q = &m->quantity[(size_t)c * (nw + 1)];

	if (from <= t && t < to) {
		q[0] += r->quantity;
		if (past_due)
			m->past_due[c] += r->monthly;
		if (m->has_cancel && r->cancel != CS_TIME_NONE && r->cancel <= t)
			m->pending[c] += r->monthly;
		else if (m->has_cancel)
			m->committed[c] = true;
	}
	for (size_t w = 0; w < nw; w++)
		if (from <= d->plan.from[w] && d->plan.from[w] < to)
			q[1 + w] += r->quantity;
	if (to > t)
		return;
	if (m->has_reason && nw && to > d->plan.from[m->wl]) {
		cs_time last = m->last_drop[(size_t)c * nw + m->wl];
		unsigned char rank = reason_rank(m, r->reason);
		int cmp = to > last ? 1 : to < last ? -1 : cs_cmp(r->monthly, m->reason_mrr[c]);

		if (cmp > 0 || (cmp == 0 && rank < m->reason[c])) {
			m->reason_mrr[c] = r->monthly;
			m->reason[c] = rank;
		}
	}
	for (size_t w = 0; w < nw; w++) {
		cs_time *last = &m->last_drop[(size_t)c * nw + w];
		bool *pd = &m->drop_past_due[(size_t)c * nw + w];

		if (to <= d->plan.from[w] || to < *last)
			continue;
		*pd = to == *last ? *pd && past_due : past_due;
		*last = to;
	}
}

static void row_subscription(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *bk = col(in, v, COL_S_BILLING);
	double amount, quantity, count, scale, rate, num, den;
	enum cs_status status;
	cs_time from, to, cancel;

	if (!bk) {
		reject(in, "null_key");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_AMOUNT), &amount))
		return;
	if (amount < 0) {
		reject(in, "negative_amount");
		return;
	}
	const char *cur = col(in, v, COL_S_CURRENCY);
	if (!need(in, cur))
		return;
	if (cs_money_lookup(d->cfg, cur, &in->money, &scale, &rate)) {
		reject(in, "unknown_currency");
		return;
	}
	const char *unit = col(in, v, COL_S_UNIT);
	if (!need(in, unit))
		return;
	if (cs_money_monthly(unit, &num, &den)) {
		reject(in, "unknown_interval");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_COUNT), &count))
		return;
	if (count <= 0 || count != floor(count)) {
		reject(in, "bad_interval_count");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_QUANTITY), &quantity))
		return;
	if (quantity < 0) {
		reject(in, "negative_quantity");
		return;
	}
	const char *st = col(in, v, COL_S_STATUS);
	if (!need(in, st))
		return;
	if (!strcasecmp(st, "active"))
		status = SUB_ACTIVE;
	else if (!strcasecmp(st, "past_due"))
		status = SUB_PAST_DUE;
	else if (!strcasecmp(st, "trialing"))
		status = SUB_TRIALING;
	else if (!strcasecmp(st, "paused"))
		status = SUB_PAUSED;
	else if (!strcasecmp(st, "canceled") || !strcasecmp(st, "cancelled"))
		status = SUB_CANCELED;
	else {
		reject(in, "unknown_status");
		return;
	}
	if (!need_time(in, col(in, v, COL_S_FROM), &from))
		return;
	const char *to_s = col(in, v, COL_S_TO);
	if (!to_s) {
		to = CS_TIME_OPEN;
	} else if (cs_parse_time(to_s, &to)) {
		reject(in, "bad_time");
		return;
	}
	if (opt_time(col(in, v, COL_S_CANCEL), &cancel)) {
		reject(in, "bad_time");
		return;
	}
	if (to <= from) {
		reject(in, "bad_validity");
		return;
	}

	/* dividing late keeps round prices exact: $90/quarter is 30, not 30.000000000000004 */
	double monthly = amount * quantity / scale * num / (den * count) * rate;
	if (!(monthly <= CS_MAX_MONTHLY)) {
		reject(in, "amount_out_of_range");
		return;
	}
	uint32_t c = customer_of(in, bk);
	struct cs_mrr *m = d->mrr;

	seen(in, from);
	m->rows++;
	if ((status != SUB_ACTIVE && status != SUB_PAST_DUE) || !(monthly > 0))
		return;
	mrr_reserve(d, (size_t)c + 1);
	if (from < m->first_positive[c])
		m->first_positive[c] = from;
	for (size_t k = 0; k < m->ninstants; k++)
		if (from <= m->at[k] && m->at[k] < to)
			m->mrr[c * m->ninstants + k] += monthly;
	if (m->risk) {
		struct counted r = {status,
				    monthly,
				    quantity,
				    from,
				    to,
				    cancel,
				    m->has_reason ? col(in, v, COL_S_REASON) : NULL};

		fold_risk(d, c, &r);
	}
}

/* The optional columns turn their sums on (revenue's only). */
static int subscriptions_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			      size_t errlen)
{
	struct cs_mrr *m = in->d->mrr;

	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	m->has_cancel = m->risk && in->col[COL_S_CANCEL] >= 0;
	m->has_reason = m->risk && in->col[COL_S_REASON] >= 0;
	return 0;
}

/* Every billing customer has its sums once linked, with or without rows. */
static void mrr_prepare(struct cs_data *d)
{
	mrr_reserve(d, d->ncustomers);
}

const struct ds_contract ds_subscriptions = {
    .name = "subscriptions",
    .cols = cols_subscriptions,
    .ncols = sizeof(cols_subscriptions) / sizeof(cols_subscriptions[0]),
    .open = subscriptions_open,
    .row = row_subscription,
    .init = mrr_init,
    .prepare = mrr_prepare,
    .release = mrr_release,
};
