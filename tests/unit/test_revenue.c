#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/emit.h"
#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_subscriptions.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
#define AS_OF "2024-04-01"

struct rev {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

/* Every account is a<billing key> with billing key b<n> on plan "p". */
static void rev_run(struct rev *r, const char *const *arows, size_t naccounts,
		    const char *const *srows, size_t nsubs)
{
	if (!r->cfg)
		r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_REVENUE, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, arows, naccounts);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, nsubs);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_revenue(r->d, &r->cfg->collectors[KIND_REVENUE], r->m);
}

static void rev_free(struct rev *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

/* Value of family for plan (+ window, + currency/type when given); fails when absent. */
static double val(const struct rev *r, const char *family, const char *plan, const char *window,
		  const char *type, bool currency)
{
	const char *pairs[12];
	size_t n = 0;
	pairs[n++] = "plan";
	pairs[n++] = plan;
	if (currency) {
		pairs[n++] = "currency";
		pairs[n++] = "USD";
	}
	if (window) {
		pairs[n++] = "window";
		pairs[n++] = window;
	}
	if (type) {
		pairs[n++] = "type";
		pairs[n++] = type;
	}
	pairs[n] = NULL;
	bool found = false;
	double v = fixture_value(r->m, family, pairs, &found);
	cr_assert(found, "%s{plan=%s,window=%s,type=%s} missing", family, plan,
		  window ? window : "-", type ? type : "-");
	return v;
}

static bool has(const struct rev *r, const char *family, const char *plan, const char *window,
		bool currency)
{
	const char *pairs[] = {"plan",
			       plan,
			       currency ? "currency" : "window",
			       currency ? "USD" : window,
			       currency && window ? "window" : NULL,
			       window,
			       NULL};
	bool found = false;
	fixture_value(r->m, family, pairs, &found);
	return found;
}

static double mv(const struct rev *r, const char *plan, const char *window, const char *type)
{
	return val(r, "cs_mrr_movement", plan, window, type, true);
}

/* Accounts a1..aN on plan p naming billing keys b1..bN. */
static const char *const accounts_p[] = {
    "a1", "b1", "p", NULL, NULL, NULL, /* */
    "a2", "b2", "p", NULL, NULL, NULL, /* */
    "a3", "b3", "p", NULL, NULL, NULL, /* */
    "a4", "b4", "p", NULL, NULL, NULL, /* */
    "a5", "b5", "p", NULL, NULL, NULL, /* */
    "a6", "b6", "p", NULL, NULL, NULL, /* */
};

#define USD_MONTH(b, cents, from, to) b, cents, "USD", "month", "1", "1", "active", from, to

/* docs/design.md, worked example 1: t0 = 2024-03-02 for the 30d window. */
static const char *const vector1[] = {
    USD_MONTH("b1", "200000", "2024-01-01", "2024-03-15"),  /* churn 2,000 */
    USD_MONTH("b2", "500000", "2024-01-01", "2024-03-15"),  /* */
    USD_MONTH("b2", "400000", "2024-03-15", NULL),	    /* contraction 1,000 */
    USD_MONTH("b3", "1000000", "2024-01-01", "2024-03-15"), /* */
    USD_MONTH("b3", "1200000", "2024-03-15", NULL),	    /* expansion 2,000 */
    USD_MONTH("b4", "8300000", "2024-01-01", NULL),	    /* steady 83,000 */
    USD_MONTH("b5", "50000", "2023-06-01", "2023-12-01"),   /* */
    USD_MONTH("b5", "200000", "2024-03-20", NULL),	    /* reactivation 2,000 */
    USD_MONTH("b6", "300000", "2024-03-10", NULL),	    /* new 3,000 */
};

Test(revenue_vectors, vector1_ratios_and_quick_ratio)
{
	struct rev r = {0};
	rev_run(&r, accounts_p, 6, vector1, 9);
	cr_assert_float_eq(val(&r, "cs_mrr_window_start", "p", "30d", NULL, true), 100000, 1e-6);
	cr_assert_float_eq(mv(&r, "p", "30d", "churn"), 2000, 1e-6);
	cr_assert_float_eq(mv(&r, "p", "30d", "contraction"), 1000, 1e-6);
	cr_assert_float_eq(mv(&r, "p", "30d", "expansion"), 2000, 1e-6);
	cr_assert_float_eq(mv(&r, "p", "30d", "reactivation"), 2000, 1e-6);
	cr_assert_float_eq(mv(&r, "p", "30d", "new"), 3000, 1e-6);
	cr_assert_float_eq(val(&r, "cs_net_mrr_churn_ratio", "p", "30d", NULL, false), -0.01,
			   1e-12);
	cr_assert_float_eq(val(&r, "cs_gross_mrr_churn_ratio", "p", "30d", NULL, false), 0.03,
			   1e-12);
	cr_assert_float_eq(val(&r, "cs_net_revenue_retention_ratio", "p", "30d", NULL, false), 0.99,
			   1e-12);
	cr_assert_float_eq(val(&r, "cs_gross_revenue_retention_ratio", "p", "30d", NULL, false),
			   0.97, 1e-12);
	cr_assert_float_eq(val(&r, "cs_quick_ratio", "p", "30d", NULL, false), 7000.0 / 3000,
			   1e-12);
	cr_assert_float_eq(val(&r, "cs_mrr", "p", NULL, NULL, true), 104000, 1e-6);
	/* customer counts */
	cr_assert_float_eq(val(&r, "cs_customers", "p", NULL, NULL, false), 5, 0);
	cr_assert_float_eq(val(&r, "cs_customers_window_start", "p", "30d", NULL, false), 4, 0);
	static const char *const types[] = {"new", "reactivated", "churned", "expanded",
					    "contracted"};
	for (size_t i = 0; i < 5; i++)
		cr_assert_float_eq(val(&r, "cs_customer_movements", "p", "30d", types[i], false), 1,
				   0, "%s", types[i]);
	/* logo churn 1/4, retention (5 - 1 - 1) / 4, upsell 1/4 */
	cr_assert_float_eq(val(&r, "cs_customer_churn_ratio", "p", "30d", NULL, false), 0.25, 0);
	cr_assert_float_eq(val(&r, "cs_customer_retention_ratio", "p", "30d", NULL, false), 0.75,
			   0);
	cr_assert_float_eq(val(&r, "cs_upsell_ratio", "p", "30d", NULL, false), 0.25, 0);
	rev_free(&r);
}

/* docs/design.md, worked example 2: start 100, churn 10, contraction 10, expansion 10. */
Test(revenue_vectors, vector2_net_and_gross_churn)
{
	static const char *const subs[] = {
	    USD_MONTH("b1", "1000", "2024-01-01", "2024-03-15"), /* churn 10 */
	    USD_MONTH("b2", "3000", "2024-01-01", "2024-03-15"), /* */
	    USD_MONTH("b2", "2000", "2024-03-15", NULL),	 /* contraction 10 */
	    USD_MONTH("b3", "3000", "2024-01-01", "2024-03-15"), /* */
	    USD_MONTH("b3", "4000", "2024-03-15", NULL),	 /* expansion 10 */
	    USD_MONTH("b4", "3000", "2024-01-01", NULL),	 /* steady 30 */
	};
	struct rev r = {0};
	rev_run(&r, accounts_p, 4, subs, 6);
	cr_assert_float_eq(val(&r, "cs_mrr_window_start", "p", "30d", NULL, true), 100, 1e-9);
	cr_assert_float_eq(val(&r, "cs_net_mrr_churn_ratio", "p", "30d", NULL, false), 0.10, 1e-12);
	cr_assert_float_eq(val(&r, "cs_gross_mrr_churn_ratio", "p", "30d", NULL, false), 0.20,
			   1e-12);
	/* nothing was won: quick ratio 0, still defined since something was lost */
	cr_assert_float_eq(val(&r, "cs_quick_ratio", "p", "30d", NULL, false), 10.0 / 20, 1e-12);
	rev_free(&r);
}

/* Worked example (docs/design.md): MRR 50 on [day 0, day 30), 0 on [30, 75), 50 from day 75; t =
 * day 90. */
Test(revenue_vectors, reactivation_example)
{
	/* day 0 = 2024-01-02, t = day 90 = 2024-04-01, t0(30d) = day 60 */
	static const char *const subs[] = {
	    USD_MONTH("b1", "5000", "2024-01-02", "2024-02-01"),
	    "b1",
	    "5000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "paused",
	    "2024-02-01",
	    "2024-03-17",
	    USD_MONTH("b1", "5000", "2024-03-17", NULL),
	};
	struct rev r = {0};
	rev_run(&r, accounts_p, 1, subs, 3);
	cr_assert_float_eq(val(&r, "cs_mrr_window_start", "p", "30d", NULL, true), 0, 0);
	cr_assert_float_eq(mv(&r, "p", "30d", "reactivation"), 50, 1e-9);
	cr_assert_float_eq(mv(&r, "p", "30d", "new"), 0, 0);
	cr_assert_float_eq(mv(&r, "p", "30d", "expansion"), 0, 0);
	cr_assert_float_eq(val(&r, "cs_customer_movements", "p", "30d", "reactivated", false), 1,
			   0);
	cr_assert_float_eq(val(&r, "cs_customer_movements", "p", "30d", "new", false), 0, 0);
	/* over 90d, t0 = day 0: 50 → 50, no movement at all */
	static const char *const types[] = {"new", "reactivation", "expansion", "contraction",
					    "churn"};
	for (size_t i = 0; i < 5; i++)
		cr_assert_float_eq(mv(&r, "p", "90d", types[i]), 0, 0, "%s", types[i]);
	/* MRR(t0) = 0: every MRR ratio is undefined and omitted */
	cr_assert_not(has(&r, "cs_net_mrr_churn_ratio", "p", "30d", false));
	cr_assert_not(has(&r, "cs_quick_ratio", "p", "30d", false));
	cr_assert(has(&r, "cs_net_mrr_churn_ratio", "p", "90d", false));
	rev_free(&r);
}

Test(revenue_vectors, first_paying_after_a_trial_is_new)
{
	static const char *const subs[] = {
	    "b1",	  "5000",
	    "USD",	  "month",
	    "1",	  "1",
	    "trialing",	  "2023-01-01",
	    "2024-03-10", USD_MONTH("b1", "5000", "2024-03-10", NULL),
	};
	struct rev r = {0};
	rev_run(&r, accounts_p, 1, subs, 2);
	cr_assert_float_eq(mv(&r, "p", "30d", "new"), 50, 1e-9);
	cr_assert_float_eq(mv(&r, "p", "30d", "reactivation"), 0, 0);
	rev_free(&r);
}

static const char *const accounts_abc[] = {
    "a1", "b1", "a", NULL, NULL, NULL, /* */
    "a2", "b2", "b", NULL, NULL, NULL, /* */
    "a3", "b3", "c", NULL, NULL, NULL, /* */
    "a4", "b4", "d", NULL, NULL, NULL, /* */
    "a5", "b5", "e", NULL, NULL, NULL, /* */
};

/* Worked example (docs/design.md): 100 × $100/month + 50 × $600/year → 12,500; $90/quarter → 30;
 * $2,000/year → 166.67. */
Test(revenue_vectors, normalisation)
{
	static const char *const subs[] = {
	    "b1", "10000",  "USD", "month",   "1", "100", "active",   "2024-01-01", NULL,
	    "b1", "60000",  "USD", "year",    "1", "50",  "active",   "2024-01-01", NULL,
	    "b2", "9000",   "USD", "quarter", "1", "1",	  "active",   "2024-01-01", NULL,
	    "b3", "200000", "USD", "year",    "1", "1",	  "past_due", "2024-01-01", NULL,
	    "b4", "1200",   "USD", "week",    "2", "1",	  "active",   "2024-01-01", NULL,
	    "b5", "100",    "USD", "day",     "1", "1",	  "active",   "2024-01-01", NULL,
	};
	struct rev r = {0};
	rev_run(&r, accounts_abc, 5, subs, 6);
	cr_assert_float_eq(val(&r, "cs_mrr", "a", NULL, NULL, true), 12500, 1e-9);
	cr_assert_eq(val(&r, "cs_mrr", "b", NULL, NULL, true), 30.0); /* exactly */
	cr_assert_float_eq(val(&r, "cs_mrr", "c", NULL, NULL, true), 2000.0 / 12, 1e-9);
	cr_assert_float_eq(round(val(&r, "cs_mrr", "c", NULL, NULL, true) * 100) / 100, 166.67,
			   1e-9);
	/* $12 every 2 weeks: 6 × 52 / 12 = 26; $1 a day: 365 / 12 */
	cr_assert_float_eq(val(&r, "cs_mrr", "d", NULL, NULL, true), 26, 1e-9);
	cr_assert_float_eq(val(&r, "cs_mrr", "e", NULL, NULL, true), 365.0 / 12, 1e-9);
	rev_free(&r);
}

Test(revenue_currency, conversion_and_exponents)
{
	static const char *const subs[] = {
	    "b1", "10000",   "eur", "month", "1", "1", "active", "2024-01-01", NULL, /* 100 EUR */
	    "b2", "1000",    "JPY", "month", "1", "1", "active", "2024-01-01", NULL, /* ¥1000 */
	    "b3", "1000",    "KWD", "month", "1", "1", "active", "2024-01-01", NULL, /* 1 KWD */
	    "b4", "1000",    "GBP", "month", "1", "1", "active", "2024-01-01", NULL, /* no rate */
	    "b5", "1999.00", "usd", "month", "1", "1", "active", "2024-01-01", NULL,
	};
	static const char *const codes[] = {"EUR", "JPY", "KWD"};
	static const double rates[] = {1.1, 0.0067, 3.25};
	struct rev r = {0};
	r.cfg = fixture_config(dims, 1);
	fixture_set_rates(r.cfg, codes, rates, 3);
	rev_run(&r, accounts_abc, 5, subs, 5);
	cr_assert_float_eq(val(&r, "cs_mrr", "a", NULL, NULL, true), 110, 1e-9);
	cr_assert_float_eq(val(&r, "cs_mrr", "b", NULL, NULL, true), 6.7, 1e-9);
	cr_assert_float_eq(val(&r, "cs_mrr", "c", NULL, NULL, true), 3.25, 1e-9);
	cr_assert_float_eq(val(&r, "cs_mrr", "d", NULL, NULL, true), 0, 0);
	cr_assert_float_eq(val(&r, "cs_mrr", "e", NULL, NULL, true), 19.99, 1e-9);
	cr_assert_eq(fixture_rejects(r.d, "subscriptions", "unknown_currency"), 1);
	rev_free(&r);
}

Test(revenue_currency, reporting_currency_other_than_usd)
{
	static const char *const subs[] = {
	    "b1", "10000", "EUR", "month", "1", "1", "active", "2024-01-01", NULL,
	    "b2", "1100",  "USD", "month", "1", "1", "active", "2024-01-01", NULL,
	};
	static const char *const codes[] = {"USD"};
	static const double rates[] = {0.5};
	struct cs_config *cfg = fixture_config(dims, 1);
	memcpy(cfg->currency, "EUR", 4);
	fixture_set_rates(cfg, codes, rates, 1);
	struct rev r = {.cfg = cfg};
	rev_run(&r, accounts_abc, 2, subs, 2);
	bool found;
	double v = fixture_value(
	    r.m, "cs_mrr", (const char *const[]){"plan", "a", "currency", "EUR", NULL}, &found);
	cr_assert(found);
	cr_assert_float_eq(v, 100, 1e-9);
	v = fixture_value(r.m, "cs_mrr",
			  (const char *const[]){"plan", "b", "currency", "EUR", NULL}, &found);
	cr_assert(found);
	cr_assert_float_eq(v, 5.5, 1e-9);
	rev_free(&r);
}

/* Worked example (docs/design.md): ARPA of customers with MRR 1, 1, 3, 5, 5 → 3. */
Test(revenue_vectors, arpa)
{
	static const char *const subs[] = {
	    USD_MONTH("b1", "100", "2024-01-01", NULL), USD_MONTH("b2", "100", "2024-01-01", NULL),
	    USD_MONTH("b3", "300", "2024-01-01", NULL), USD_MONTH("b4", "500", "2024-01-01", NULL),
	    USD_MONTH("b5", "500", "2024-01-01", NULL),
	};
	struct rev r = {0};
	rev_run(&r, accounts_p, 5, subs, 5);
	cr_assert_float_eq(val(&r, "cs_arpa", "p", NULL, NULL, true), 3, 1e-12);
	/* nobody churned: CLV undefined */
	cr_assert_not(has(&r, "cs_customer_lifetime_value", "p", "30d", true));
	rev_free(&r);
}

/* Worked example (docs/design.md): ARPA 100, logo churn 5 % over 30d, margin 1.0 → CLV 2,000. */
Test(revenue_vectors, customer_lifetime_value)
{
	const char *arows[20 * 6];
	const char *subs[20 * FIXTURE_NSUBSCRIPTION_COLS];
	char keys[20][2][8];
	for (int i = 0; i < 20; i++) {
		snprintf(keys[i][0], 8, "a%02d", i);
		snprintf(keys[i][1], 8, "b%02d", i);
		const char *a[6] = {keys[i][0], keys[i][1], "p", NULL, NULL, NULL};
		memcpy(arows + i * 6, a, sizeof(a));
		/* one of the 20 customers leaves inside both windows */
		const char *s[FIXTURE_NSUBSCRIPTION_COLS] = {
		    USD_MONTH(keys[i][1], i == 0 ? "70000" : "10000", "2023-01-01",
			      i == 0 ? "2024-03-20" : NULL)};
		memcpy(subs + i * FIXTURE_NSUBSCRIPTION_COLS, s, sizeof(s));
	}
	struct rev r = {0};
	rev_run(&r, arows, 20, subs, 20);
	cr_assert_float_eq(val(&r, "cs_arpa", "p", NULL, NULL, true), 100, 1e-9);
	cr_assert_float_eq(val(&r, "cs_customer_churn_ratio", "p", "30d", NULL, false), 0.05,
			   1e-12);
	cr_assert_float_eq(val(&r, "cs_customer_lifetime_value", "p", "30d", NULL, true), 2000,
			   1e-6);
	/* the same churn over 90d is a third of it per month */
	cr_assert_float_eq(val(&r, "cs_customer_lifetime_value", "p", "90d", NULL, true), 6000,
			   1e-6);
	rev_free(&r);

	r = (struct rev){0};
	r.cfg = fixture_config(dims, 1);
	r.cfg->gross_margin = 0.8;
	rev_run(&r, arows, 20, subs, 20);
	cr_assert_float_eq(val(&r, "cs_customer_lifetime_value", "p", "30d", NULL, true), 1600,
			   1e-6);
	rev_free(&r);
}

Test(revenue_series, statuses_zero_fill_and_unknown)
{
	static const char *const subs[] = {
	    "b1",     "1000", "USD", "month", "1", "1", "trialing", "2024-01-01", NULL,
	    "b1",     "1000", "USD", "month", "1", "1", "paused",   "2024-01-01", NULL,
	    "b1",     "1000", "USD", "month", "1", "1", "canceled", "2024-01-01", NULL,
	    "b2",     "1000", "USD", "month", "1", "1", "past_due", "2024-01-01", NULL,
	    "orphan", "4000", "USD", "month", "1", "1", "active",   "2024-01-01", NULL,
	};
	struct rev r = {0};
	rev_run(&r, accounts_abc, 3, subs, 5);
	cr_assert_float_eq(val(&r, "cs_mrr", "a", NULL, NULL, true), 0, 0);
	cr_assert_float_eq(val(&r, "cs_mrr", "b", NULL, NULL, true), 10, 1e-12);
	cr_assert_float_eq(val(&r, "cs_mrr", "unknown", NULL, NULL, true), 40, 1e-12);
	/* plan c has no customer: counts and amounts are there, ratios are not */
	cr_assert_float_eq(val(&r, "cs_mrr", "c", NULL, NULL, true), 0, 0);
	cr_assert_float_eq(val(&r, "cs_customers", "c", NULL, NULL, false), 0, 0);
	cr_assert_float_eq(mv(&r, "c", "90d", "churn"), 0, 0);
	cr_assert_float_eq(val(&r, "cs_customer_movements", "c", "90d", "new", false), 0, 0);
	cr_assert_not(has(&r, "cs_arpa", "c", NULL, true));
	cr_assert_not(has(&r, "cs_gross_mrr_churn_ratio", "c", "30d", false));
	cr_assert_not(has(&r, "cs_customer_churn_ratio", "c", "30d", false));
	/* 4 segments × (16 families) — every count family once per segment/window/type */
	size_t expected_counts = 4 * (1 + 2 + 2 * 5 + 1 + 2 + 2 * 5);
	cr_assert_geq(mset_series(r.m), expected_counts);
	rev_free(&r);
}

/* ------------------------------------------------------ property test */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: reproducible from the seed printed on failure */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int64_t rnd(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

struct prow {
	int customer;
	double monthly;
	bool counting;
	int64_t from, to; /* days relative to t; to = INT64_MAX: open */
};

static double brute_mrr(const struct prow *rows, size_t n, int c, int64_t x)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].customer == c && rows[i].counting && rows[i].from <= x &&
		    x < rows[i].to)
			m += rows[i].monthly;
	return m;
}

/* MRR is piecewise constant with steps at row bounds: test every bound before t0. */
static bool brute_ever_before(const struct prow *rows, size_t n, int c, int64_t t0)
{
	for (size_t i = 0; i < n; i++) {
		int64_t pts[2] = {rows[i].from, rows[i].to};
		for (int k = 0; k < 2; k++)
			if (pts[k] < t0 && brute_mrr(rows, n, c, pts[k]) > 0)
				return true;
	}
	return false;
}

static bool close_rel(double a, double b, double scale)
{
	return fabs(a - b) <= 1e-9 * fmax(1.0, scale);
}

Test(revenue_property, identity_and_classes_on_random_histories)
{
	static const char *const plans[] = {"x", "y", "z"};
	static const char *const windows[] = {"30d", "90d"};
	static const int64_t wdays[] = {30, 90};
	static const char *const statuses[] = {"active", "past_due", "trialing", "paused",
					       "canceled"};
	static const char *const mtypes[] = {"new", "reactivation", "expansion", "contraction",
					     "churn"};
	cs_time t = fixture_time(AS_OF);

	for (uint64_t seed = 1; seed <= 250; seed++) {
		rng_state = seed * UINT64_C(0x9E3779B97F4A7C15);
		int ncust = (int)rnd(1, 10);
		char keys[10][2][16];
		const char *arows[10 * 6];
		size_t nacc = 0;
		int plan_of[10];
		for (int c = 0; c < ncust; c++) {
			snprintf(keys[c][0], 16, "acct%d", c);
			snprintf(keys[c][1], 16, "bill%d", c);
			plan_of[c] = (int)rnd(0, 3); /* 3: no account, lands in unknown */
			if (plan_of[c] == 3)
				continue;
			const char *a[6] = {keys[c][0], keys[c][1], plans[plan_of[c]],
					    NULL,	NULL,	    NULL};
			memcpy(arows + nacc * 6, a, sizeof(a));
			nacc++;
		}

		struct prow prows[200];
		char text[200][4][32];
		const char *srows[200 * FIXTURE_NSUBSCRIPTION_COLS];
		size_t n = 0;
		for (int c = 0; c < ncust; c++) {
			int64_t day = rnd(-300, 10);
			int nrow = (int)rnd(0, 8);
			for (int k = 0; k < nrow && n < 200; k++) {
				int64_t len = rnd(1, 80);
				bool last = k == nrow - 1 && rnd(0, 1);
				int64_t gap = rnd(0, 3) == 0 ? rnd(1, 40) : 0;
				day += gap;
				struct prow *p = &prows[n];
				p->customer = c;
				p->from = day;
				p->to = last ? INT64_MAX : day + len;
				int st = (int)rnd(0, 4);
				p->counting = st <= 1;
				int64_t cents = rnd(0, 6) == 0 ? 0 : rnd(1, 500000);
				int64_t qty = rnd(0, 5) == 0 ? 0 : rnd(1, 20);
				p->monthly = (double)cents * (double)qty / 100.0;
				snprintf(text[n][0], 32, "%lld", (long long)cents);
				snprintf(text[n][1], 32, "%lld", (long long)qty);
				cs_format_time(t + p->from * CS_DAY, text[n][2], 32);
				cs_format_time(last ? 0 : t + p->to * CS_DAY, text[n][3], 32);
				const char *row[FIXTURE_NSUBSCRIPTION_COLS] = {
				    keys[c][1],	  text[n][0], "USD",
				    "month",	  "1",	      text[n][1],
				    statuses[st], text[n][2], last ? NULL : text[n][3]};
				memcpy(srows + n * FIXTURE_NSUBSCRIPTION_COLS, row, sizeof(row));
				n++;
				/* sometimes overlap the next row instead of abutting it */
				day += rnd(0, 4) == 0 ? len / 2 : len;
			}
		}

		struct rev r = {0};
		rev_run(&r, arows, nacc, srows, n);
		cr_assert_eq(r.d->mrr->rows, n, "seed %llu: rows rejected",
			     (unsigned long long)seed);

		for (uint32_t s = 0; s < r.d->seg.n; s++) {
			const char *plan = r.d->seg.values[s];
			double m1 = val(&r, "cs_mrr", plan, NULL, NULL, true);
			double want1 = 0;
			for (int c = 0; c < ncust; c++) {
				const char *cp = plan_of[c] == 3 ? "unknown" : plans[plan_of[c]];
				if (!strcmp(cp, plan))
					want1 += brute_mrr(prows, n, c, 0);
			}
			cr_assert(close_rel(m1, want1, want1), "seed %llu plan %s: mrr %g want %g",
				  (unsigned long long)seed, plan, m1, want1);
			for (size_t w = 0; w < 2; w++) {
				double m0 =
				    val(&r, "cs_mrr_window_start", plan, windows[w], NULL, true);
				double a[5];
				for (int k = 0; k < 5; k++) {
					a[k] = mv(&r, plan, windows[w], mtypes[k]);
					cr_assert_geq(a[k], 0);
				}
				double rhs = m0 + a[0] + a[1] + a[2] - a[3] - a[4];
				double scale =
				    fmax(fabs(m1), fabs(m0)) + a[0] + a[1] + a[2] + a[3] + a[4];
				cr_assert(close_rel(m1, rhs, scale),
					  "seed %llu plan %s window %s: MRR(t1) %.17g != %.17g",
					  (unsigned long long)seed, plan, windows[w], m1, rhs);

				/* classes against a brute-force reading of the histories */
				double want[5] = {0};
				for (int c = 0; c < ncust; c++) {
					const char *cp =
					    plan_of[c] == 3 ? "unknown" : plans[plan_of[c]];
					if (strcmp(cp, plan))
						continue;
					double b0 = brute_mrr(prows, n, c, -wdays[w]);
					double b1 = brute_mrr(prows, n, c, 0);
					if (b0 == 0 && b1 > 0) {
						bool ever =
						    brute_ever_before(prows, n, c, -wdays[w]);
						want[ever ? 1 : 0] += b1;
					} else if (b0 > 0 && b1 == 0) {
						want[4] += b0;
					} else if (b0 > 0 && cs_cmp(b1, b0) > 0) {
						want[2] += b1 - b0;
					} else if (b0 > 0 && cs_cmp(b1, b0) < 0) {
						want[3] += b0 - b1;
					}
				}
				for (int k = 0; k < 5; k++)
					cr_assert(close_rel(a[k], want[k], want[k]),
						  "seed %llu plan %s window %s %s: %g want %g",
						  (unsigned long long)seed, plan, windows[w],
						  mtypes[k], a[k], want[k]);
			}
		}
		rev_free(&r);
	}
}
