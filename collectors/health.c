/*
 * health: a 0-100 score per paying account from usage, sentiment, support
 * and billing, its distribution and bands per segment, and the bounded list
 * of the accounts most at risk with their MRR (docs/metrics.md, health).
 *
 * The health model uses its own windows (cfg->kinds->health), not the collector's.
 * Scored accounts are CRM accounts whose billing customer has MRR > 0 at t.
 * The score is the weighted mean of the defined components; when the weights
 * of the defined components sum to 0 (all defined ones weighted 0, or none
 * defined) the account has no score and falls in band "unknown".
 *
 * Sentiment takes the latest NPS response of the account over all
 * respondents; two at the same instant resolve to the higher score, so the
 * result does not depend on row order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_accounts.h"
#include "ds_activity.h"
#include "ds_subscriptions.h"
#include "ds_surveys.h"
#include "ds_tickets.h"
#include "emit.h"
#include "kpi.h"
#include "lib/topn.h"

enum band {
	BAND_GREEN = CS_BAND_GREEN,
	BAND_YELLOW = CS_BAND_YELLOW,
	BAND_RED = CS_BAND_RED,
	BAND_UNKNOWN = CS_BAND_UNKNOWN,
	BAND_COUNT = CS_BAND_UNSCORED, /* the bands a scored account can be in */
};

static const char *const band_names[BAND_COUNT] = {"green", "yellow", "red", "unknown"};

/* Per account; kept small, there is one per CRM account. */
struct account_health {
	double score; /* NAN: no score */
	enum band band;
	bool scored;
};

/* ------------------------------------------------------------------ */
/* Scoring                                                             */

static enum band band_of(const struct cs_health *cfg, double score)
{
	if (isnan(score))
		return BAND_UNKNOWN;
	if (cs_cmp(score, cfg->red_below) < 0)
		return BAND_RED;
	if (cs_cmp(score, cfg->green_from) >= 0)
		return BAND_GREEN;
	return BAND_YELLOW;
}

/* Red first: the order of the bands on an at-risk list ranked by MRR. */
static int band_rank(unsigned char band)
{
	return band == BAND_RED ? 0 : band == BAND_YELLOW ? 1 : band == BAND_GREEN ? 2 : 3;
}

static void score_account(const struct cs_data *d, const struct cs_account *acc, double m0,
			  double m1, struct account_health *a)
{
	const struct cs_health *cfg = &d->cfg->kinds->health;
	size_t i = (size_t)(acc - d->accounts);
	double num = 0, den = 0;
	/* components, NAN when undefined */
	double usage = NAN, sentiment = NAN, support, billing = NAN;

	/* Usage needs seats and an activity dataset: without one it is
	 * undefined, not 0 (a CRM-only shop is not unhealthy for it). */
	if (acc->seats > 0 && (d->plan.datasets & (1u << DS_ACTIVITY))) {
		/* distinct users in the usage window (ds_activity.h) */
		const struct cs_activity_counts *act = d->activity;
		uint32_t users = activity_account_users(act, i, activity_usage_window(act));
		double util = (double)users / (double)acc->seats;

		usage = cfg->usage_target > 0 ? fmin(1.0, util / cfg->usage_target) * 100.0 : 100.0;
	}
	/* the latest NPS answer in the sentiment window (ds_surveys.h) */
	double nps;
	if (latest_nps(d->nps, i, &nps)) {
		if (cs_cmp(nps, 9) >= 0)
			sentiment = 100;
		else if (cs_cmp(nps, 6) <= 0)
			sentiment = 0;
		else
			sentiment = 50;
	}
	/* escalated tickets opened in the support window (ds_tickets.h) */
	uint32_t escalations = ticket_escalations(d->tickets, i);
	support = escalations == 0 ? 100 : escalations == 1 ? 50 : 0;
	if (m0 > 0)
		billing = cs_cmp(m1, m0) >= 0 ? 100 : 100 * m1 / m0;

	if (!isnan(usage)) {
		num += cfg->w_usage * usage;
		den += cfg->w_usage;
	}
	if (!isnan(sentiment)) {
		num += cfg->w_sentiment * sentiment;
		den += cfg->w_sentiment;
	}
	num += cfg->w_support * support;
	den += cfg->w_support;
	if (!isnan(billing)) {
		num += cfg->w_billing * billing;
		den += cfg->w_billing;
	}
	a->score = den > 0 ? num / den : NAN;
	a->band = band_of(cfg, a->score);
}

/* ------------------------------------------------------------------ */
/* At-risk list                                                        */

struct risk {
	double score;
	double mrr; /* the billing customer's MRR at t */
	uint32_t account;
	unsigned char band;
};

/*
 * The list's order (health.at_risk_rank): "score", lower score first; "mrr"
 * (by_mrr), red before yellow before green, then higher MRR first, then
 * lower score. Equal values (cs_cmp) fall to the next key, and at last to
 * the account key's byte order, so the list does not depend on row order.
 */
static int risk_before(const struct cs_data *d, bool by_mrr, const struct risk *a,
		       const struct risk *b)
{
	int c;

	if (by_mrr) {
		if (a->band != b->band)
			return band_rank(a->band) < band_rank(b->band);
		c = cs_cmp(b->mrr, a->mrr);
		if (c)
			return c < 0;
	}
	c = cs_cmp(a->score, b->score);
	if (c)
		return c < 0;
	return strcmp(d->accounts[a->account].key, d->accounts[b->account].key) < 0;
}

/* risk_before for topn_offer (lib/topn.h). */
struct risk_order {
	const struct cs_data *d;
	bool by_mrr;
};

static bool risk_first(const void *a, const void *b, const void *ctx)
{
	const struct risk_order *o = ctx;
	return risk_before(o->d, o->by_mrr, a, b);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

enum { F_SCORE, F_BY_BAND, F_AT_RISK, F_AT_RISK_MRR, F_RENEWAL_ACCOUNTS, F_RENEWAL_MRR, F_COUNT };

const struct cs_family health_families[] = {
    [F_SCORE] = {.name = "cs_health_score",
		 .type = METRIC_GAUGEHISTOGRAM,
		 .help = "Health scores (0-100, weighted mean of usage, sentiment, support and "
			 "billing) of accounts with MRR > 0; recomputed from the database each "
			 "collector interval"},
    [F_BY_BAND] = {.name = "cs_accounts_by_health",
		   .type = METRIC_GAUGE,
		   .labels = {"band"},
		   .help = "Accounts with MRR > 0 by health band (unknown: no component defined); "
			   "recomputed from the database each collector interval"},
    [F_AT_RISK] = {.name = "cs_at_risk_account_score",
		   .type = METRIC_GAUGE,
		   .labels = {"account", "name", "band", "renewal_at"},
		   .help = "Health score of the accounts most at risk (bounded list, "
			   "health.at_risk accounts overall or per segment; ranked by lowest "
			   "score, or by band then highest MRR; ties by account key; renewal_at: "
			   "the account's renewal date, empty when none); recomputed from the "
			   "database each collector interval"},
    [F_AT_RISK_MRR] = {.name = "cs_at_risk_account_mrr",
		       .type = METRIC_GAUGE,
		       .labels = {"account", "name", "currency"},
		       .help = "MRR at t of the billing customer of each account on the at-risk "
			       "list (the accounts of cs_at_risk_account_score, same account and "
			       "name labels), in the reporting currency; recomputed from the "
			       "database each collector interval"},
    [F_RENEWAL_ACCOUNTS] = {.name = "cs_renewal_accounts",
			    .type = METRIC_GAUGE,
			    .labels = {"horizon", "band"},
			    .help =
				"Accounts up for renewal within the horizon (t <= renewal_at < t "
				"+ horizon) by health band at t (unknown: not scored); "
				"recomputed from the database each collector interval"},
    [F_RENEWAL_MRR] = {.name = "cs_renewal_mrr",
		       .type = METRIC_GAUGE,
		       .labels = {"horizon", "band", "currency"},
		       .help =
			   "MRR at t of the billing customers of accounts up for renewal within "
			   "the horizon, by health band, in the reporting currency; recomputed "
			   "from the database each collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

/* ------------------------------------------------------------------ */
/* Settings                                                             */

/* renewals = { horizons = ["30d", ...]; } (health's renewal families). */
static bool load_renewals(struct config_reader *L, const struct config_setting_t *root,
			  struct cs_renewals *r)
{
	static const char *const keys[] = {"horizons", NULL};
	const struct config_setting_t *g = config_get_group(L, root, "renewals", false, keys),
				      *list;

	if (!g)
		return !L->failed;
	list = config_get_strings(L, g, "horizons", false, CS_MAX_HORIZONS);
	if (L->failed)
		return false;
	return !list || config_windows(L, list, "horizons", r->horizons, &r->nhorizons);
}

static bool load_component(struct config_reader *L, const struct config_setting_t *g,
			   const char *name, double *weight, int64_t *window, double *target)
{
	static const char *const keys[] = {"weight", "window", NULL};
	static const char *const usage_keys[] = {"weight", "window", "target", NULL};
	const struct config_setting_t *c, *s;

	c = config_get_group(L, g, name, false, target ? usage_keys : keys);
	if (!c)
		return !L->failed;
	s = config_get_number(L, c, "weight", false, weight);
	if (s && *weight < 0)
		return config_fail(L, s, "'weight' must not be negative");
	config_get_duration(L, c, "window", false, window);
	if (target) {
		s = config_get_number(L, c, "target", false, target);
		if (s && !(*target > 0 && *target <= 1))
			return config_fail(L, s, "'target' must be greater than 0 and at most 1");
	}
	return !L->failed;
}

/* at_risk_rank = "score" | "mrr" */
static bool load_rank(struct config_reader *L, const struct config_setting_t *g,
		      struct cs_health *h)
{
	const char *rank = NULL;
	const struct config_setting_t *s = config_get_string(L, g, "at_risk_rank", false, &rank);

	if (!s)
		return !L->failed;
	if (!strcmp(rank, "score") || !strcmp(rank, "mrr")) {
		h->at_risk_by_mrr = !strcmp(rank, "mrr");
		return true;
	}
	return config_fail(L, s, "'at_risk_rank' must be \"score\" or \"mrr\", not \"%s\"", rank);
}

/* health = { ... } and renewals = { horizons = [...]; }: the health kind's
 * settings (docs/configuration.md). */
bool health_settings(struct config_reader *L, struct cs_kind_settings *k)
{
	static const char *const keys[] = {
	    "usage",	    "sentiment",	   "support", "billing", "bands", "at_risk",
	    "at_risk_rank", "at_risk_per_segment", NULL,
	};
	static const char *const band_keys[] = {"red_below", "green_from", NULL};
	const struct config_setting_t *root = config_root(L->cfg);
	struct cs_health *h = &k->health;
	const struct config_setting_t *g = config_get_group(L, root, "health", false, keys), *b, *s;
	long long at_risk = h->at_risk;

	if (!g)
		return !L->failed && load_renewals(L, root, &k->renewals);
	if (!load_component(L, g, "usage", &h->w_usage, &h->usage_window, &h->usage_target) ||
	    !load_component(L, g, "sentiment", &h->w_sentiment, &h->sentiment_window, NULL) ||
	    !load_component(L, g, "support", &h->w_support, &h->support_window, NULL) ||
	    !load_component(L, g, "billing", &h->w_billing, &h->billing_window, NULL))
		return false;
	if (!(h->w_usage + h->w_sentiment + h->w_support + h->w_billing > 0))
		return config_fail(L, g, "health weights must not all be 0");
	b = config_get_group(L, g, "bands", false, band_keys);
	if (b) {
		s = config_get_number(L, b, "red_below", false, &h->red_below);
		if (s && !(h->red_below >= 0 && h->red_below <= 100))
			return config_fail(L, s, "'red_below' must be between 0 and 100");
		s = config_get_number(L, b, "green_from", false, &h->green_from);
		if (s && !(h->green_from >= 0 && h->green_from <= 100))
			return config_fail(L, s, "'green_from' must be between 0 and 100");
		if (!L->failed && h->red_below > h->green_from)
			return config_fail(L, b,
					   "'red_below' (%g) must not be above 'green_from' (%g)",
					   h->red_below, h->green_from);
	}
	if (L->failed)
		return false;
	config_get_int(L, g, "at_risk", false, 0, 100, &at_risk);
	h->at_risk = (int)at_risk;
	if (!L->failed && !load_rank(L, g, h))
		return false;
	config_get_bool(L, g, "at_risk_per_segment", false, &h->at_risk_per_segment);
	return !L->failed && load_renewals(L, root, &k->renewals);
}

int64_t health_lookback(const struct cs_kind_settings *k)
{
	const struct cs_health *h = &k->health;
	int64_t hw[] = {h->usage_window, h->sentiment_window, h->support_window, h->billing_window};
	int64_t longest = 0;

	for (size_t i = 0; i < sizeof(hw) / sizeof(hw[0]); i++)
		if (hw[i] > longest)
			longest = hw[i];
	return longest;
}

#define HEALTH_BUCKETS 11

/* The billing customer's MRR at t of account i (0 without one). */
static double account_mrr(const struct cs_data *d, size_t i)
{
	int32_t c = d->accounts[i].customer;

	return c >= 0 && (size_t)c < d->ncustomers ? mrr_at(d->mrr, (size_t)c, MRR_T) : 0;
}

/*
 * The at-risk list (docs/configuration.md, health): health.at_risk accounts
 * overall, or per segment with at_risk_per_segment (then one list per
 * segment, lists[seg * n ...]), in the order risk_before gives. Written
 * twice: the score with the band and renewal date, and the MRR; both carry
 * the same account and name labels.
 */
static void emit_at_risk(const struct cs_data *d, struct mset *out, const struct account_health *h)
{
	const struct cs_health *cfg = &d->cfg->kinds->health;
	size_t n = (size_t)(cfg->at_risk > 0 ? cfg->at_risk : 0), nseg = d->seg.n;
	size_t nlists = cfg->at_risk_per_segment ? nseg : 1;
	struct risk *lists;
	size_t *len;
	struct cs_emitter fs = family_of(out, d, &health_families[F_AT_RISK]);
	struct cs_emitter fm = family_of(out, d, &health_families[F_AT_RISK_MRR]);
	const struct risk_order order = {d, cfg->at_risk_by_mrr};

	if (!n || !nlists)
		return;
	lists = xcalloc(nlists * n + 1, sizeof(*lists));
	len = xcalloc(nlists + 1, sizeof(*len));
	for (size_t i = 0; i < d->naccounts; i++) {
		const struct account_health *a = &h[i];
		uint32_t seg = d->accounts[i].seg;
		size_t l = cfg->at_risk_per_segment ? seg : 0;

		if (!a->scored || seg >= nseg || a->band == BAND_UNKNOWN)
			continue;
		struct risk r = {a->score, account_mrr(d, i), (uint32_t)i, (unsigned char)a->band};
		topn_offer(&lists[l * n], &len[l], n, sizeof(r), &r, risk_first, &order);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t l = 0; l < nlists; l++) {
			for (size_t k = 0; k < len[l]; k++) {
				const struct risk *r = &lists[l * n + k];
				const struct cs_account *acc = &d->accounts[r->account];
				const char *name = acc->name ? acc->name : "";
				char renewal[40] = "";

				if (pass == 1) {
					emit(&fm, acc->seg, r->mrr, acc->key, name,
					     d->cfg->currency, NULL);
					continue;
				}
				/* infinity and -infinity are no date */
				if (acc->renewal_at > CS_TIME_NONE + 1 &&
				    acc->renewal_at != CS_TIME_OPEN) {
					cs_format_time(acc->renewal_at, renewal, sizeof(renewal));
					renewal[10] = '\0'; /* "YYYY-MM-DD", UTC */
				}
				emit(&fs, acc->seg, r->score, acc->key, name, band_names[r->band],
				     renewal, NULL);
			}
		}
	}
	free(len);
	free(lists);
}

static void emit_health(const struct cs_data *d, struct mset *out, const struct account_health *h)
{
	size_t nseg = d->seg.n;
	uint64_t *buckets = xcalloc((nseg + 1) * HEALTH_BUCKETS, sizeof(*buckets));
	uint64_t *bands = xcalloc((nseg + 1) * BAND_COUNT, sizeof(*bands));
	double *sums = xcalloc(nseg + 1, sizeof(*sums));
	double bounds[HEALTH_BUCKETS];
	struct cs_emitter hist = family_of(out, d, &health_families[F_SCORE]);
	struct cs_emitter by_band = family_of(out, d, &health_families[F_BY_BAND]);

	for (size_t b = 0; b + 1 < HEALTH_BUCKETS; b++)
		bounds[b] = 10.0 * (double)(b + 1);
	bounds[HEALTH_BUCKETS - 1] = INFINITY;

	for (size_t i = 0; i < d->naccounts; i++) {
		const struct account_health *a = &h[i];
		uint32_t seg = d->accounts[i].seg;
		size_t b = 0;

		if (!a->scored || seg >= nseg)
			continue;
		bands[seg * BAND_COUNT + a->band]++;
		if (a->band == BAND_UNKNOWN)
			continue;
		while (b + 1 < HEALTH_BUCKETS && cs_cmp(a->score, bounds[b]) > 0)
			b++;
		buckets[seg * HEALTH_BUCKETS + b]++;
		sums[seg] += a->score;
	}

	for (uint32_t seg = 0; seg < nseg; seg++) {
		uint64_t cum[HEALTH_BUCKETS];
		uint64_t run = 0;

		for (size_t b = 0; b < HEALTH_BUCKETS; b++)
			cum[b] = run += buckets[seg * HEALTH_BUCKETS + b];
		emit_histogram(&hist, seg, HEALTH_BUCKETS, bounds, cum, sums[seg], NULL);
		for (size_t b = 0; b < BAND_COUNT; b++)
			emit(&by_band, seg, (double)bands[seg * BAND_COUNT + b], band_names[b],
			     NULL);
	}
	emit_at_risk(d, out, h);
	free(sums);
	free(bands);
	free(buckets);
}

/* ------------------------------------------------------------------ */
/* Renewals (docs/metrics.md, health)                                   */

/*
 * An account is up for renewal within horizon H when t <= renewal_at < t + H;
 * it is counted under its health band at t (unknown when not scored or
 * without a defined component), with its billing customer's MRR at t. Every
 * CRM account with a date counts, scored or not.
 */
static void emit_renewals(const struct cs_data *d, struct mset *out, const struct account_health *h)
{
	const struct cs_renewals *r = &d->cfg->kinds->renewals;
	size_t nseg = d->seg.n, nh = r->nhorizons;
	size_t cells = nseg * nh * BAND_COUNT;
	uint64_t *accounts = xcalloc(cells + 1, sizeof(*accounts));
	double *mrr = xcalloc(cells + 1, sizeof(*mrr));
	cs_time t = d->as_of;

	for (size_t i = 0; i < d->naccounts; i++) {
		const struct cs_account *acc = &d->accounts[i];
		enum band band = h[i].scored ? h[i].band : BAND_UNKNOWN;
		double m = 0;

		if (acc->renewal_at == CS_TIME_NONE || acc->renewal_at < t || acc->seg >= nseg)
			continue;
		if (acc->customer >= 0 && (size_t)acc->customer < d->ncustomers)
			m = mrr_at(d->mrr, (size_t)acc->customer, MRR_T);
		for (size_t k = 0; k < nh; k++) {
			size_t cell = ((size_t)acc->seg * nh + k) * BAND_COUNT + band;

			if (acc->renewal_at - t >= r->horizons[k].seconds * CS_SECOND)
				continue;
			accounts[cell]++;
			mrr[cell] += m;
		}
	}

	struct cs_emitter fa = family_of(out, d, &health_families[F_RENEWAL_ACCOUNTS]);
	struct cs_emitter fm = family_of(out, d, &health_families[F_RENEWAL_MRR]);
	for (uint32_t seg = 0; seg < nseg; seg++)
		for (size_t k = 0; k < nh; k++)
			for (size_t b = 0; b < BAND_COUNT; b++)
				emit(&fa, seg,
				     (double)accounts[((size_t)seg * nh + k) * BAND_COUNT + b],
				     r->horizons[k].label, band_names[b], NULL);
	for (uint32_t seg = 0; seg < nseg; seg++)
		for (size_t k = 0; k < nh; k++)
			for (size_t b = 0; b < BAND_COUNT; b++)
				emit(&fm, seg, mrr[((size_t)seg * nh + k) * BAND_COUNT + b],
				     r->horizons[k].label, band_names[b], d->cfg->currency, NULL);
	free(mrr);
	free(accounts);
}

/* Every account's score and band (h[i].scored false: not scored). */
static struct account_health *score_all(const struct cs_data *d)
{
	size_t ncust = d->ncustomers;
	const struct cs_mrr *mrr = d->mrr; /* ds_subscriptions.h */
	struct account_health *h = xcalloc(d->naccounts + 1, sizeof(*h));

	for (size_t i = 0; i < d->naccounts; i++) {
		int32_t c = d->accounts[i].customer;

		h[i].scored = c >= 0 && (size_t)c < ncust && mrr_at(mrr, (size_t)c, MRR_T) > 0;
	}
	for (size_t i = 0; i < d->naccounts; i++) {
		int32_t c = d->accounts[i].customer;

		if (h[i].scored)
			score_account(d, &d->accounts[i], mrr_at(mrr, (size_t)c, MRR_BILLING_START),
				      mrr_at(mrr, (size_t)c, MRR_T), &h[i]);
	}
	return h;
}

void health_bands(const struct cs_data *d, unsigned char *band)
{
	struct account_health *h = score_all(d);

	for (size_t i = 0; i < d->naccounts; i++)
		band[i] = h[i].scored ? (unsigned char)h[i].band : CS_BAND_UNSCORED;
	free(h);
}

void kpi_health(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	(void)col; /* the health model's windows are its own (cfg->kinds->health) */
	struct account_health *h = score_all(d);

	emit_health(d, out, h);
	emit_renewals(d, out, h);
	free(h);
}
