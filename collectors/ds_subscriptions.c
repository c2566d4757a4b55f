/*
 * subscriptions (billing): one row per period of constant price. Columns:
 * billing_key, amount_minor (per interval, after recurring discounts, before
 * tax), currency, interval_unit, interval_count, quantity, status, valid_from,
 * valid_to (NULL: open).
 *
 * Rows are summed per billing customer as they stream in and never stored
 * (struct cs_mrr): a row counts toward MRR at instant x when valid_from <= x
 * < valid_to and its status is active or past_due; its monthly amount in the
 * reporting currency is normalised by money.c. Rejected: null_key,
 * null_value, bad_number, negative_amount, unknown_currency,
 * unknown_interval, bad_interval_count, negative_quantity, unknown_status,
 * bad_time, bad_validity (valid_to <= valid_from), amount_out_of_range.
 *
 * When revenue is due the fold also keeps payment risk (past_due MRR at t,
 * each customer's last drop per window) and, with cohorts on, MRR at the
 * cohort age instants. What the fold holds, and how compute reads it:
 * ds_subscriptions.h.
 */
#include "dataset.h"
#include "ds_subscriptions.h"

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
};

/* The instants MRR is summed at, laid out as ds_subscriptions.h names them
 * (window starts from the plan). */
static void mrr_init(struct cs_data *d)
{
	struct cs_mrr *m = &d->mrr;
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
	if (cs_plan_has(plan, KIND_REVENUE)) {
		m->risk = true;
		/* cohort ages: the starts of the K months up to t's, oldest first */
		size_t k =
		    d->cfg->kinds->cohorts.months > 0 ? (size_t)d->cfg->kinds->cohorts.months : 0;
		for (size_t j = 0; j < k; j++)
			m->at[mrr_cohort_month(m, j)] =
			    cs_month_start(plan->as_of, (int)j + 1 - (int)k);
		m->cohorts = k;
		m->ninstants += k;
	}
}

static void mrr_release(struct cs_data *d)
{
	struct cs_mrr *m = &d->mrr;

	free(m->at);
	free(m->mrr);
	free(m->first_positive);
	free(m->past_due);
	free(m->last_drop);
	free(m->drop_past_due);
}

/* Makes room for n customers in the MRR sums, growing like GROW. */
static void mrr_reserve(struct cs_data *d, size_t n)
{
	struct cs_mrr *m = &d->mrr;
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
		for (size_t c = m->cap; c < cap; c++) {
			m->past_due[c] = 0;
			for (size_t w = 0; w < nw; w++) {
				m->last_drop[c * nw + w] = CS_TIME_NONE;
				m->drop_past_due[c * nw + w] = false;
			}
		}
	}
	m->cap = cap;
}

/* Payment risk (struct cs_mrr): past_due MRR at t, and per plan window the
 * customer's last drop in (t - W, t] and whether only past_due rows ended
 * there. Called for counting rows with a positive monthly amount. */
static void fold_risk(struct cs_data *d, uint32_t c, enum cs_status status, double monthly,
		      cs_time from, cs_time to)
{
	struct cs_mrr *m = &d->mrr;
	size_t nw = m->nwin;
	cs_time t = d->as_of;
	bool past_due = status == SUB_PAST_DUE;

	if (past_due && from <= t && t < to)
		m->past_due[c] += monthly;
	if (to > t)
		return;
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
	cs_time from, to;

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
	struct cs_mrr *m = &d->mrr;

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
	if (m->risk)
		fold_risk(d, c, status, monthly, from, to);
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
    .row = row_subscription,
    .init = mrr_init,
    .prepare = mrr_prepare,
    .release = mrr_release,
};
