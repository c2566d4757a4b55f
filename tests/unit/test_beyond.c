/*
 * Beyond the seeds (docs/design.md, cohorts, renewals, payment risk): payment risk and retention
 * cohorts (revenue), renewals (health). Each worked example (docs/design.md) of these families is a
 * test of its own, then the edge rules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_accounts.h"
#include "collectors/ds_subscriptions.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};

#define SUB(b, cents, status, from, to) b, cents, "USD", "month", "1", "1", status, from, to

static const char *const accounts_p[] = {
    "a1", "b1", "p", NULL, NULL, NULL, /* */
    "a2", "b2", "p", NULL, NULL, NULL, /* */
    "a3", "b3", "p", NULL, NULL, NULL, /* */
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void revenue(struct run *r, const char *as_of, const char *const *subs, size_t nsubs)
{
	if (!r->cfg)
		r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_REVENUE, fixture_time(as_of));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, accounts_p, 3);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, subs, nsubs);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_revenue(r->d, &r->cfg->collectors[KIND_REVENUE], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

/* Value of a sample (label pairs, NULL-terminated); fails when absent. */
static double get(const struct run *r, const char *family, const char *const *pairs)
{
	bool found = false;
	double v = fixture_value(r->m, family, pairs, &found);
	cr_assert(found, "%s{%s=%s,...} missing", family, pairs[0] ? pairs[0] : "",
		  pairs[0] ? pairs[1] : "");
	return v;
}

/* One revenue window "20d" only. */
static struct cs_config *config_20d(void)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_collector *c = &cfg->collectors[KIND_REVENUE];

	c->nwindows = 1;
	c->windows[0].seconds = 20 * 86400;
	strcpy(c->windows[0].label, "20d");
	return cfg;
}

#define P_20D(...) ((const char *const[]){"plan", "p", __VA_ARGS__, NULL})

/* ---------------------------------------------------------------- payment risk */

/* Worked example (docs/design.md): active [0, 10d), past_due [10d, 20d), then nothing; window [5d,
 * 25d). */
Test(beyond_vectors, involuntary_churn_past_due_last)
{
	/* day 0 = 2026-03-01, t = day 25 */
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2026-03-01", "2026-03-11"),
	    SUB("b1", "10000", "past_due", "2026-03-11", "2026-03-21"),
	};
	struct run r = {.cfg = config_20d()};
	revenue(&r, "2026-03-26", subs, 2);
	cr_assert_float_eq(
	    get(&r, "cs_mrr_movement", P_20D("currency", "USD", "window", "20d", "type", "churn")),
	    100, 1e-9);
	cr_assert_float_eq(
	    get(&r, "cs_mrr_involuntary_churn", P_20D("currency", "USD", "window", "20d")), 100,
	    1e-9, "m0 is the active row's MRR");
	cr_assert_eq(get(&r, "cs_customers_involuntary_churned", P_20D("window", "20d")), 1);
	run_free(&r);
}

/* Worked example (docs/design.md): past_due [0, 10d), active [10d, 20d): churned, voluntary. */
Test(beyond_vectors, involuntary_churn_active_last_is_voluntary)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "past_due", "2026-03-01", "2026-03-11"),
	    SUB("b1", "10000", "active", "2026-03-11", "2026-03-21"),
	};
	struct run r = {.cfg = config_20d()};
	revenue(&r, "2026-03-26", subs, 2);
	cr_assert_float_eq(
	    get(&r, "cs_mrr_movement", P_20D("currency", "USD", "window", "20d", "type", "churn")),
	    100, 1e-9);
	cr_assert_eq(get(&r, "cs_mrr_involuntary_churn", P_20D("currency", "USD", "window", "20d")),
		     0);
	cr_assert_eq(get(&r, "cs_customers_involuntary_churned", P_20D("window", "20d")), 0);
	run_free(&r);
}

/* Two rows end at the last drop: involuntary only when both are past_due,
 * whatever their order; an earlier past_due end does not decide. */
Test(beyond_edges, involuntary_needs_every_row_ending_at_the_drop)
{
	static const char *const subs[] = {
	    /* b1: active and past_due both end at day 20 -> voluntary */
	    SUB("b1", "5000", "past_due", "2026-03-01", "2026-03-21"),
	    SUB("b1", "5000", "active", "2026-03-01", "2026-03-21"),
	    /* b2: two past_due rows end at day 20, in reverse order -> involuntary */
	    SUB("b2", "5000", "past_due", "2026-03-05", "2026-03-21"),
	    SUB("b2", "5000", "past_due", "2026-03-01", "2026-03-21"),
	    /* b3: past_due ends first, active ends last -> voluntary; rows out of order */
	    SUB("b3", "5000", "active", "2026-03-01", "2026-03-24"),
	    SUB("b3", "5000", "past_due", "2026-03-01", "2026-03-15"),
	};
	struct run r = {.cfg = config_20d()};
	revenue(&r, "2026-03-26", subs, 6);
	cr_assert_eq(get(&r, "cs_customer_movements", P_20D("window", "20d", "type", "churned")),
		     3);
	cr_assert_eq(get(&r, "cs_customers_involuntary_churned", P_20D("window", "20d")), 1);
	cr_assert_float_eq(
	    get(&r, "cs_mrr_involuntary_churn", P_20D("currency", "USD", "window", "20d")), 100,
	    1e-9, "b2's m0: both rows cover day 5");
	run_free(&r);
}

/* A drop at exactly t counts (d in (t0, t1]); a row starting after t and a
 * customer still paying at t do not make anyone involuntary. */
Test(beyond_edges, drop_at_t_and_past_due_mrr)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "past_due", "2026-03-01", "2026-03-26"), /* drops at t */
	    SUB("b2", "4000", "past_due", "2026-03-01", NULL),		/* past due now */
	    SUB("b2", "6000", "active", "2026-03-01", NULL),		/* */
	    SUB("b3", "3000", "active", "2026-03-01", "2026-03-20"),	/* voluntary */
	    SUB("b3", "3000", "past_due", "2026-04-01", NULL),		/* after t */
	};
	struct run r = {.cfg = config_20d()};
	revenue(&r, "2026-03-26", subs, 5);
	cr_assert_eq(get(&r, "cs_customers_involuntary_churned", P_20D("window", "20d")), 1);
	cr_assert_float_eq(
	    get(&r, "cs_mrr_involuntary_churn", P_20D("currency", "USD", "window", "20d")), 100,
	    1e-9);
	cr_assert_float_eq(get(&r, "cs_mrr_past_due", P_20D("currency", "USD")), 40, 1e-9);
	cr_assert_float_eq(get(&r, "cs_mrr", P_20D("currency", "USD")), 100, 1e-9);
	run_free(&r);
}

/* Zeros for every segment, unknown included. */
Test(beyond_edges, payment_risk_zeros_for_every_segment)
{
	static const char *const subs[] = {
	    SUB("zz", "10000", "active", "2026-01-01", NULL), /* no account: unknown */
	};
	struct run r = {0};
	revenue(&r, "2026-03-26", subs, 1);
	static const char *const segs[] = {"p", "unknown"};
	for (size_t i = 0; i < 2; i++) {
		const char *const pd[] = {"plan", segs[i], "currency", "USD", NULL};
		const char *const cnt[] = {"plan", segs[i], "window", "30d", NULL};
		cr_assert_eq(get(&r, "cs_mrr_past_due", pd), 0);
		cr_assert_eq(get(&r, "cs_customers_involuntary_churned", cnt), 0);
	}
	run_free(&r);
}

/* ---------------------------------------------------------------- cohorts */

static double cohort(const struct run *r, const char *family, const char *plan, const char *month,
		     const char *age, bool *found)
{
	const char *pairs[12];
	size_t n = 0;
	if (plan) {
		pairs[n++] = "plan";
		pairs[n++] = plan;
	}
	pairs[n++] = "cohort";
	pairs[n++] = month;
	if (age) {
		pairs[n++] = "age_months";
		pairs[n++] = age;
	}
	if (!strcmp(family, "cs_cohort_mrr")) {
		pairs[n++] = "currency";
		pairs[n++] = "USD";
	}
	pairs[n] = NULL;
	return fixture_value(r->m, family, pairs, found);
}

/* Worked example (docs/design.md): t = 2026-04-15, K = 3; 100 on [2026-01-10, 2026-02-20) and from
 * 2026-03-10. */
Test(beyond_vectors, cohorts_retained_at_ages_0_and_2)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2026-01-10", "2026-02-20"),
	    SUB("b1", "10000", "active", "2026-03-10", NULL),
	};
	struct run r = {.cfg = fixture_config(dims, 1)};
	r.cfg->kinds->cohorts.months = 3;
	revenue(&r, "2026-04-15", subs, 2);
	bool f;
	cr_assert_eq(cohort(&r, "cs_cohort_customers", "p", "2026-01", NULL, &f), 1);
	cr_assert(f);
	cr_assert_eq(cohort(&r, "cs_cohort_retained_customers", "p", "2026-01", "0", &f), 1);
	cr_assert_eq(cohort(&r, "cs_cohort_retained_customers", "p", "2026-01", "1", &f), 0);
	cr_assert(f, "age 1 exists, with 0 retained");
	cr_assert_eq(cohort(&r, "cs_cohort_retained_customers", "p", "2026-01", "2", &f), 1);
	cr_assert_float_eq(cohort(&r, "cs_cohort_mrr", "p", "2026-01", "2", &f), 100, 1e-9);
	cr_assert_float_eq(cohort(&r, "cs_cohort_logo_retention_ratio", "p", "2026-01", "1", &f), 0,
			   0);
	cr_assert_float_eq(cohort(&r, "cs_cohort_revenue_retention_ratio", "p", "2026-01", "2", &f),
			   1, 1e-12);
	/* reactivated, still in its first cohort */
	cr_assert_eq(cohort(&r, "cs_cohort_customers", "p", "2026-03", NULL, &f), 0);
	run_free(&r);
}

/* Worked example (docs/design.md): cohort 2026-01 has ages 0-2, 2026-02 ages 0-1, 2026-03 age 0
 * only. */
Test(beyond_vectors, cohorts_ages_that_exist)
{
	struct run r = {.cfg = fixture_config(dims, 1)};
	r.cfg->kinds->cohorts.months = 3;
	revenue(&r, "2026-04-15", NULL, 0);
	static const char *const months[] = {"2026-01", "2026-02", "2026-03"};
	static const char *const ages[] = {"0", "1", "2", "3"};
	for (size_t i = 0; i < 3; i++) {
		bool f;
		cohort(&r, "cs_cohort_customers", "p", months[i], NULL, &f);
		cr_assert(f, "cohort %s is emitted", months[i]);
		for (size_t a = 0; a < 4; a++) {
			cohort(&r, "cs_cohort_retained_customers", "p", months[i], ages[a], &f);
			cr_assert_eq(f, a + i < 3, "cohort %s age %s", months[i], ages[a]);
			cohort(&r, "cs_cohort_mrr", "p", months[i], ages[a], &f);
			cr_assert_eq(f, a + i < 3, "cohort %s age %s mrr", months[i], ages[a]);
			/* empty cohorts: the ratios are undefined */
			cohort(&r, "cs_cohort_logo_retention_ratio", "p", months[i], ages[a], &f);
			cr_assert(!f);
		}
	}
	bool f;
	cohort(&r, "cs_cohort_customers", "p", "2026-04", NULL, &f);
	cr_assert(!f, "t's month is not complete");
	cohort(&r, "cs_cohort_customers", "p", "2025-12", NULL, &f);
	cr_assert(!f, "only K cohorts");
	run_free(&r);
}

/* An age instant equal to t exists; months = 0 turns the families off. */
Test(beyond_edges, cohorts_age_instant_at_t_and_off)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2026-03-31", NULL),
	};
	struct run r = {.cfg = fixture_config(dims, 1)};
	r.cfg->kinds->cohorts.months = 1;
	revenue(&r, "2026-04-01", subs, 1);
	bool f;
	cr_assert_eq(cohort(&r, "cs_cohort_retained_customers", "p", "2026-03", "0", &f), 1);
	cr_assert(f);
	run_free(&r);

	struct run off = {.cfg = fixture_config(dims, 1)};
	off.cfg->kinds->cohorts.months = 0;
	revenue(&off, "2026-04-01", subs, 1);
	cohort(&off, "cs_cohort_customers", "p", "2026-03", NULL, &f);
	cr_assert(!f);
	cr_assert_eq(off.d->mrr->ninstants, off.d->plan.nwindows + 2, "no cohort instants");
	run_free(&off);
}

/* cohorts.dimensions = []: one table over all accounts, unknown included;
 * a dimension left out is summed over. */
Test(beyond_edges, cohorts_without_dimensions)
{
	static const char *const dims2[] = {"plan", "region"};
	static const char *const acols2[] = {"account_key",   "billing_key", "plan",
					     "region",	      "seats",	     "started_at",
					     "first_value_at"};
	static const char *const accounts[] = {
	    "a1", "b1", "pro",	 "eu", NULL, NULL, NULL, /* */
	    "a2", "b2", "basic", "us", NULL, NULL, NULL, /* */
	};
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2026-02-03", NULL),
	    SUB("b2", "20000", "active", "2026-02-10", NULL),
	    SUB("zz", "30000", "active", "2026-02-11", "2026-03-15"), /* unknown */
	};
	for (int variant = 0; variant < 2; variant++) {
		struct run r = {.cfg = fixture_config(dims2, 2)};
		r.cfg->kinds->cohorts.months = 3;
		r.cfg->kinds->cohorts.ndims = (size_t)variant; /* [] or ["plan"] */
		r.d = fixture_data(r.cfg, KIND_REVENUE, fixture_time("2026-04-15"));
		fixture_load(r.d, DS_ACCOUNTS, acols2, 7, accounts, 2);
		fixture_load(r.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, subs, 3);
		cs_data_link(r.d);
		r.m = mset_new();
		kpi_revenue(r.d, &r.cfg->collectors[KIND_REVENUE], r.m);
		bool f;
		if (variant == 0) {
			cr_assert_eq(cohort(&r, "cs_cohort_customers", NULL, "2026-02", NULL, &f),
				     3);
			cr_assert_eq(
			    cohort(&r, "cs_cohort_retained_customers", NULL, "2026-02", "1", &f),
			    2);
			cr_assert_float_eq(cohort(&r, "cs_cohort_revenue_retention_ratio", NULL,
						  "2026-02", "1", &f),
					   0.5, 1e-12);
		} else {
			cr_assert_eq(cohort(&r, "cs_cohort_customers", "pro", "2026-02", NULL, &f),
				     1);
			cr_assert_eq(
			    cohort(&r, "cs_cohort_customers", "unknown", "2026-02", NULL, &f), 1);
			cr_assert_float_eq(cohort(&r, "cs_cohort_logo_retention_ratio", "unknown",
						  "2026-02", "1", &f),
					   0, 0);
		}
		run_free(&r);
	}
}

/* ---------------------------------------------------------------- renewals */

static const char *const hacols[] = {"account_key", "billing_key",    "plan", "seats",
				     "started_at",  "first_value_at", "name", "renewal_at"};
static const char *const survey_cols[] = {"account_key", "respondent_key", "type", "score",
					  "responded_at"};
static const char *const activity_cols[] = {"account_key", "user_key", "feature", "last_active_at"};
static const char *const ticket_cols[] = {"account_key", "opened_at", "resolved_at", "escalated"};

/* Health (and revenue, when both) at as_of over accounts with renewal dates. */
static void health(struct run *r, const char *as_of, bool with_revenue, const char *const *accounts,
		   size_t naccounts, const char *const *subs, size_t nsubs)
{
	struct cs_plan plan;

	if (!r->cfg)
		r->cfg = fixture_config(dims, 1);
	cs_plan_init(&plan, r->cfg, fixture_time(as_of));
	if (with_revenue)
		cs_plan_add(&plan, &r->cfg->collectors[KIND_REVENUE]);
	cs_plan_add(&plan, &r->cfg->collectors[KIND_HEALTH]);
	r->d = cs_data_new(&plan);
	fixture_load(r->d, DS_ACCOUNTS, hacols, 8, accounts, naccounts);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, subs, nsubs);
	fixture_load(r->d, DS_SURVEYS, survey_cols, 5, NULL, 0);
	fixture_load(r->d, DS_ACTIVITY, activity_cols, 4, NULL, 0);
	fixture_load(r->d, DS_TICKETS, ticket_cols, 4, NULL, 0);
	cs_data_link(r->d);
	r->m = mset_new();
	if (with_revenue)
		kpi_revenue(r->d, &r->cfg->collectors[KIND_REVENUE], r->m);
	kpi_health(r->d, &r->cfg->collectors[KIND_HEALTH], r->m);
}

static double renewal(const struct run *r, const char *family, const char *horizon,
		      const char *band)
{
	const char *const money[] = {"plan", "p",	 "horizon", horizon, "band",
				     band,   "currency", "USD",	    NULL};
	const char *const count[] = {"plan", "p", "horizon", horizon, "band", band, NULL};
	return get(r, family, strcmp(family, "cs_renewal_mrr") ? count : money);
}

/* Worked example (docs/design.md): renewal_at = t counts in every horizon; t + 30d is not within
 * 30d but within 60d; before t counts nowhere. */
Test(beyond_vectors, renewal_horizons)
{
	static const char *const accounts[] = {
	    "a1", "b1", "p", NULL, NULL, NULL, NULL, "2026-04-15",	       /* = t */
	    "a2", "b2", "p", NULL, NULL, NULL, NULL, "2026-05-15",	       /* t + 30d */
	    "a3", "b3", "p", NULL, NULL, NULL, NULL, "2026-04-14 23:59:59+00", /* < t */
	};
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2025-01-01", NULL),
	    SUB("b2", "20000", "active", "2025-01-01", NULL),
	    SUB("b3", "40000", "active", "2025-01-01", NULL),
	};
	struct run r = {0};
	health(&r, "2026-04-15", false, accounts, 3, subs, 3);
	/* support 100 (no tickets), billing 100 (steady): green */
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "30d", "green"), 1);
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "60d", "green"), 2);
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "90d", "green"), 2);
	cr_assert_float_eq(renewal(&r, "cs_renewal_mrr", "30d", "green"), 100, 1e-9);
	cr_assert_float_eq(renewal(&r, "cs_renewal_mrr", "60d", "green"), 300, 1e-9);
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "30d", "red"), 0, "zeros emitted");
	run_free(&r);
}

/* Unscored accounts (no MRR at t) renew in band unknown; accounts without
 * a date count nowhere; the at-risk list shows the date, "" without one. */
Test(beyond_edges, renewal_unknown_band_and_at_risk_label)
{
	static const char *const accounts[] = {
	    "a1", "b1", "p", NULL, NULL, NULL, "One", "2026-04-20 22:00:00+00",
	    "a2", "b2", "p", NULL, NULL, NULL, "Two", "2026-04-16",
	    "a3", "b3", "p", NULL, NULL, NULL, NULL,  NULL,
	};
	static const char *const subs[] = {
	    SUB("b1", "10000", "active", "2025-01-01", NULL),
	    SUB("b3", "10000", "active", "2025-01-01", NULL),
	};
	struct run r = {0};
	health(&r, "2026-04-15", true, accounts, 3, subs, 2);
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "30d", "unknown"), 1, "a2: not scored");
	cr_assert_eq(renewal(&r, "cs_renewal_mrr", "30d", "unknown"), 0);
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "90d", "green"), 1, "a1; a3 has no date");
	bool f;
	fixture_value(r.m, "cs_at_risk_account_score",
		      (const char *const[]){"plan", "p", "account", "a1", "name", "One", "band",
					    "green", "renewal_at", "2026-04-20", NULL},
		      &f);
	cr_assert(f, "renewal date in UTC");
	fixture_value(r.m, "cs_at_risk_account_score",
		      (const char *const[]){"plan", "p", "account", "a3", "name", "", "band",
					    "green", "renewal_at", "", NULL},
		      &f);
	cr_assert(f, "no renewal date: empty label");
	/* revenue in the same evaluation adds cohort instants: health still reads t */
	cr_assert_float_eq(renewal(&r, "cs_renewal_mrr", "30d", "green"), 100, 1e-9);
	run_free(&r);
}

/* A malformed renewal_at rejects the account as bad_time; without the
 * column nobody renews. */
Test(beyond_edges, renewal_bad_time_and_absent_column)
{
	static const char *const accounts[] = {
	    "a1", "b1", "p", NULL, NULL, NULL, NULL, "soon",
	    "a2", "b2", "p", NULL, NULL, NULL, NULL, "infinity",
	};
	static const char *const subs[] = {SUB("b2", "10000", "active", "2025-01-01", NULL)};
	struct run r = {0};
	health(&r, "2026-04-15", false, accounts, 2, subs, 1);
	cr_assert_eq(fixture_rejects(r.d, "accounts", "bad_time"), 1);
	cr_assert_eq(r.d->naccounts, 1);
	bool f;
	fixture_value(r.m, "cs_at_risk_account_score",
		      (const char *const[]){"plan", "p", "account", "a2", "name", "", "band",
					    "green", "renewal_at", "", NULL},
		      &f);
	cr_assert(f, "infinity is no date");
	cr_assert_eq(renewal(&r, "cs_renewal_accounts", "90d", "green"), 0);
	run_free(&r);

	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_data *d = fixture_data(cfg, KIND_HEALTH, fixture_time("2026-04-15"));
	static const char *const plain[] = {"a1", "b1", "p", NULL, NULL, NULL, NULL};
	fixture_load(d, DS_ACCOUNTS, hacols, 7, plain, 1);
	cr_assert_eq(d->accounts[0].renewal_at, CS_TIME_NONE);
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* ---------------------------------------------------------------- health movement */

static double moved(const struct mset *m, const char *plan, const char *from, const char *to,
		    bool *found)
{
	return fixture_value(m, "cs_health_band_transitions_total",
			     (const char *const[]){"plan", plan, "from", from, "to", to, NULL},
			     found);
}

/* With no previous evaluation (start, --once) every pair of every segment is 0. */
Test(beyond_edges, transitions_first_evaluation_counts_nothing)
{
	static const char *const accounts[] = {
	    "a1", "b1", "p", NULL, NULL, NULL, NULL, NULL, /* */
	    "a2", "b2", "q", NULL, NULL, NULL, NULL, NULL, /* */
	};
	static const char *const subs[] = {SUB("b1", "10000", "active", "2025-01-01", NULL)};
	static const char *const bands[] = {"green", "yellow", "red", "unknown", "unscored"};
	struct run r = {0};
	health(&r, "2026-04-15", false, accounts, 2, subs, 1);
	struct cs_band_memory *mem =
	    kpi_health_movement(r.d, &r.cfg->collectors[KIND_HEALTH], NULL, r.m);
	cr_assert_eq(cs_band_memory_accounts(mem), 1, "a1 is scored, a2 is not");
	size_t pairs = 0;
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < 5; i++) {
			for (size_t j = 0; j < 5; j++) {
				bool f;
				double v = moved(r.m, p ? "q" : "p", bands[i], bands[j], &f);
				cr_assert_eq(f, i != j, "%s -> %s", bands[i], bands[j]);
				cr_assert_eq(v, 0);
				pairs += f;
			}
		}
	}
	cr_assert_eq(pairs, 40);
	cs_band_memory_free(mem);
	run_free(&r);
}

/*
 * Two evaluations a month apart. a1 goes green -> red and moves from plan p
 * to q (counted in q); a2 stops paying but is still an account (green ->
 * unscored, its current plan p); a3 is gone (green -> unscored, its
 * previous plan z); a4 starts paying (unscored -> green).
 */
Test(beyond_edges, transitions_between_two_evaluations)
{
	static const char *const before[] = {
	    "a1", "b1", "p", NULL, NULL, NULL, NULL, NULL, /* */
	    "a2", "b2", "p", NULL, NULL, NULL, NULL, NULL, /* */
	    "a3", "b3", "z", NULL, NULL, NULL, NULL, NULL, /* */
	    "a4", "b4", "p", NULL, NULL, NULL, NULL, NULL, /* */
	};
	static const char *const after[] = {
	    "a1", "b1", "q", NULL, NULL, NULL, NULL, NULL, /* */
	    "a2", "b2", "p", NULL, NULL, NULL, NULL, NULL, /* */
	    "a4", "b4", "p", NULL, NULL, NULL, NULL, NULL, /* */
	};
	static const char *const subs[] = {
	    SUB("b1", "100000", "active", "2025-01-01", "2026-04-20"),
	    SUB("b1", "10000", "active", "2026-04-20", NULL), /* billing 10: red */
	    SUB("b2", "100000", "active", "2025-01-01", "2026-05-01"),
	    SUB("b3", "100000", "active", "2025-01-01", NULL),
	    SUB("b4", "100000", "active", "2026-04-20", NULL),
	};
	struct run r1 = {0}, r2 = {0};
	health(&r1, "2026-04-15", false, before, 4, subs, 5);
	struct cs_band_memory *m1 =
	    kpi_health_movement(r1.d, &r1.cfg->collectors[KIND_HEALTH], NULL, r1.m);
	cr_assert_eq(cs_band_memory_accounts(m1), 3);
	health(&r2, "2026-05-15", false, after, 3, subs, 5);
	struct cs_band_memory *m2 =
	    kpi_health_movement(r2.d, &r2.cfg->collectors[KIND_HEALTH], m1, r2.m);
	cr_assert_eq(cs_band_memory_accounts(m2), 2, "a1 and a4");
	bool f;
	cr_assert_eq(moved(r2.m, "q", "green", "red", &f), 1);
	cr_assert_eq(moved(r2.m, "p", "green", "red", &f), 0);
	cr_assert_eq(moved(r2.m, "p", "green", "unscored", &f), 1);
	cr_assert_eq(moved(r2.m, "z", "green", "unscored", &f), 1);
	cr_assert(f, "a segment that is gone keeps its series");
	cr_assert_eq(moved(r2.m, "p", "unscored", "green", &f), 1);
	cr_assert_eq(moved(r2.m, "q", "red", "green", &f), 0);
	cr_assert(f, "every pair of every segment, from 0");

	/* a third evaluation with nothing changed keeps the counts (a counter) */
	struct mset *m3 = mset_new();
	struct cs_band_memory *k3 =
	    kpi_health_movement(r2.d, &r2.cfg->collectors[KIND_HEALTH], m2, m3);
	cr_assert_eq(moved(m3, "q", "green", "red", &f), 1);
	cr_assert_eq(moved(m3, "z", "green", "unscored", &f), 1);
	mset_free(m3);
	cs_band_memory_free(k3);

	/* another health collector name (a reload renamed it): counting restarts */
	struct mset *m4 = mset_new();
	struct cs_collector renamed = r2.cfg->collectors[KIND_HEALTH];
	char name2[] = "health2";
	renamed.name = name2;
	struct cs_band_memory *k4 = kpi_health_movement(r1.d, &renamed, m2, m4);
	cr_assert_eq(moved(m4, "p", "green", "unscored", &f), 0);
	moved(m4, "q", "green", "red", &f);
	cr_assert(!f, "q is not a segment of this evaluation and nothing was kept");
	mset_free(m4);
	cs_band_memory_free(k4);

	cs_band_memory_free(m2);
	cs_band_memory_free(m1);
	run_free(&r2);
	run_free(&r1);
}
