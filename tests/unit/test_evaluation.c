/*
 * One evaluation, one model: collectors evaluated together, each with its own
 * windows, compute exactly what each computes alone (docs/design.md, KPI definitions), and the
 * plan reads each dataset once with the union of the windows.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/buf.h"
#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const arows[] = {
    "a1", "b1", "pro",	 "5", "2024-03-20", NULL, /* */
    "a2", "b2", "basic", "3", "2023-01-01", "2023-02-01",
};
static const char *const srows[] = {
    "b1",
    "10000",
    "USD",
    "month",
    "1",
    "1",
    "active",
    "2023-01-01",
    NULL,
    "b2",
    "5000",
    "USD",
    "month",
    "1",
    "2",
    "active",
    "2024-03-25",
    NULL,
    /* a billing customer no account names: segment unknown */
    "b3",
    "9000",
    "USD",
    "month",
    "1",
    "1",
    "active",
    "2024-01-01",
    "2024-03-15",
};
static const char *const tcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};
static const char *const trows[] = {
    "a1", "2024-03-28", NULL,	      "t", /* */
    "a2", "2024-03-05", "2024-03-06", "f", /* */
    "zz", "2024-03-30", NULL,	      "f",
};
static const char *const ycols[] = {"account_key", "user_key", "feature", "last_active_at"};
static const char *const yrows[] = {
    "a1", "u1", "api",	   "2024-03-30", /* */
    "a2", "u2", NULL,	   "2023-06-01", /* */
    "zz", "u9", "reports", "2024-03-31",
};

static struct cs_config *config(void)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_collector *sup = &cfg->collectors[KIND_SUPPORT];
	struct cs_collector *ado = &cfg->collectors[KIND_ADOPTION];

	sup->nwindows = 2;
	sup->windows[0] = (struct cs_window){7 * 86400, "7d"};
	sup->windows[1] = (struct cs_window){30 * 86400, "30d"};
	ado->nwindows = 1;
	ado->windows[0] = (struct cs_window){365 * 86400, "365d"};
	return cfg;
}

/* Loads what the plan of kinds needs and returns the linked model. */
static struct cs_data *evaluate(const struct cs_config *cfg, const enum cs_kind *kinds, size_t n)
{
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	for (size_t i = 0; i < n; i++)
		cs_plan_add(&plan, &cfg->collectors[kinds[i]]);
	struct cs_data *d = cs_data_new(&plan);
	fixture_load(d, DS_ACCOUNTS, acols, 6, arows, 2);
	if (plan.datasets & (1u << DS_SUBSCRIPTIONS))
		fixture_load(d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, srows, 3);
	if (plan.datasets & (1u << DS_TICKETS))
		fixture_load(d, DS_TICKETS, tcols, 4, trows, 3);
	if (plan.datasets & (1u << DS_ACTIVITY))
		fixture_load(d, DS_ACTIVITY, ycols, 4, yrows, 3);
	cs_data_link(d);
	return d;
}

static char *render(const struct cs_data *d, const struct cs_collector *c)
{
	struct mset *m = mset_new();
	struct buf b = BUF_INIT;

	cs_collector_kind(c)->compute(d, c, m);
	const struct mset *sets[1] = {m};
	expo_render(sets, 1, EXPO_TEXT, &b);
	mset_free(m);
	return buf_detach(&b, NULL);
}

Test(evaluation, plan_reads_the_union_of_windows_and_each_dataset_once)
{
	struct cs_config *cfg = config();
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	cs_plan_add(&plan, &cfg->collectors[KIND_REVENUE]);
	cs_plan_add(&plan, &cfg->collectors[KIND_SUPPORT]);
	cs_plan_add(&plan, &cfg->collectors[KIND_ADOPTION]);
	cs_plan_add(&plan, &cfg->collectors[KIND_SUPPORT]); /* a second time: ignored */
	cr_expect_eq(plan.nwindows, 4, "30d, 90d, 7d, 365d: got %zu", plan.nwindows);
	/* cohorts need no `since`: subscriptions are read back to the first period */
	cr_expect_eq(plan.history, 365 * 86400);
	cr_expect_eq(plan.datasets, (1u << DS_ACCOUNTS) | (1u << DS_SUBSCRIPTIONS) |
					(1u << DS_TICKETS) | (1u << DS_ACTIVITY));
	cr_expect_eq(cs_plan_window(&plan, 7 * 86400), 2);
	/* the folds keep what the due kinds need: revenue's, not health's or surveys' */
	cr_expect(plan.payment_risk);
	cr_expect_eq(plan.cohort_months, (size_t)cfg->kinds->cohorts.months);
	cr_expect_eq(plan.churn_reasons, &cfg->kinds->churn_reasons);
	cr_expect(!plan.latest_nps && !plan.survey_sums);
	/* names are kept for the movers (on by default), and only for them */
	cr_expect_eq(plan.keep_names, cfg->kinds->movers.top > 0);
	cr_expect(!plan.outcomes);
	fixture_free_config(cfg);
}

/* The plan names no kind: each due kind's row says what the folds keep. */
Test(evaluation, plan_needs_come_from_the_due_kinds)
{
	struct cs_config *cfg = config();
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	cs_plan_add(&plan, &cfg->collectors[KIND_HEALTH]);
	cr_expect(plan.keep_names && plan.latest_nps);
	cr_expect(!plan.payment_risk && !plan.survey_sums && !plan.outcomes);
	cr_expect_eq(plan.cohort_months, 0);
	cr_expect_null(plan.churn_reasons);
	cs_plan_add(&plan, &cfg->collectors[KIND_SURVEYS]);
	cs_plan_add(&plan, &cfg->collectors[KIND_OUTCOMES]);
	cr_expect(plan.survey_sums && plan.outcomes);
	cr_expect(!plan.payment_risk);

	cfg->kinds->cohorts.months = 0;
	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	cs_plan_add(&plan, &cfg->collectors[KIND_REVENUE]);
	cr_expect(plan.payment_risk);
	cr_expect_eq(plan.cohort_months, 0, "cohorts off");
	fixture_free_config(cfg);
}

/* Window bounds are computed once, in the plan: every window's start, the
 * health model's own windows' starts and the earliest instant read. */
Test(evaluation, plan_holds_every_window_start)
{
	struct cs_config *cfg = config();
	struct cs_plan plan;

	cfg->kinds->health.usage_window = 14 * 86400;
	cfg->kinds->health.sentiment_window = 60 * 86400;
	cfg->kinds->health.support_window = 7 * 86400;
	cfg->kinds->health.billing_window = 400 * 86400;
	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	cr_expect_eq(plan.since, fixture_time("2024-04-01"), "nothing due: no history");
	cs_plan_add(&plan, &cfg->collectors[KIND_REVENUE]);
	cs_plan_add(&plan, &cfg->collectors[KIND_SUPPORT]);
	cr_assert_eq(plan.nwindows, 3, "30d, 90d, 7d: got %zu", plan.nwindows);
	cr_expect_eq(plan.from[0], fixture_time("2024-03-02"));
	cr_expect_eq(plan.from[1], fixture_time("2024-01-02"));
	cr_expect_eq(plan.from[2], fixture_time("2024-03-25"));
	cr_expect_eq(plan.since, fixture_time("2024-01-02"), "the longest window, 90d");
	cr_expect_eq(plan.usage_from, fixture_time("2024-03-18"));
	cr_expect_eq(plan.sentiment_from, fixture_time("2024-02-01"));
	cr_expect_eq(plan.support_from, fixture_time("2024-03-25"));
	cr_expect_eq(plan.billing_from, fixture_time("2023-02-26"));
	cs_plan_add(&plan, &cfg->collectors[KIND_HEALTH]);
	cr_expect_eq(plan.since, fixture_time("2023-02-26"), "health's billing window is longest");
	fixture_free_config(cfg);
}

Test(evaluation, collectors_evaluated_together_compute_what_each_computes_alone)
{
	static const enum cs_kind all[] = {KIND_REVENUE, KIND_SUPPORT, KIND_ADOPTION};
	struct cs_config *cfg = config();
	struct cs_data *shared = evaluate(cfg, all, 3);

	for (size_t i = 0; i < 3; i++) {
		const struct cs_collector *c = &cfg->collectors[all[i]];
		struct cs_data *alone = evaluate(cfg, &all[i], 1);
		char *a = render(alone, c), *b = render(shared, c);

		cr_expect_str_eq(b, a, "%s differs when evaluated with the others", c->name);
		cr_expect_eq(shared->seg.n, alone->seg.n);
		free(a);
		free(b);
		cs_data_free(alone);
	}
	/* each family keeps its own collector's windows */
	char *sup = render(shared, &cfg->collectors[KIND_SUPPORT]);
	char *rev = render(shared, &cfg->collectors[KIND_REVENUE]);
	cr_expect(strstr(sup, "window=\"7d\"") && !strstr(sup, "window=\"90d\""));
	cr_expect(strstr(rev, "window=\"90d\"") && !strstr(rev, "window=\"7d\""));
	cr_expect(strstr(rev, "plan=\"unknown\""), "the unknown segment of the shared universe");
	free(sup);
	free(rev);
	cs_data_free(shared);
	fixture_free_config(cfg);
}

Test(evaluation, a_bad_row_is_counted_once_however_many_collectors_read_it)
{
	static const enum cs_kind all[] = {KIND_REVENUE, KIND_SUPPORT, KIND_ADOPTION};
	static const char *const bad[] = {
	    "a1", "b1", "pro", "5", "2024-03-20", NULL, /* */
	    NULL, "b9", "pro", "1", "2024-03-20", NULL,
	};
	struct cs_config *cfg = config();
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, fixture_time("2024-04-01"));
	for (size_t i = 0; i < 3; i++)
		cs_plan_add(&plan, &cfg->collectors[all[i]]);
	struct cs_data *d = cs_data_new(&plan);
	fixture_load(d, DS_ACCOUNTS, acols, 6, bad, 2);
	cs_data_link(d);
	cr_expect_eq(fixture_rejects(d, "accounts", "null_key"), 1);
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(evaluation, unknown_accounts_and_an_all_unknown_combination_share_one_segment)
{
	/* a3 has no plan: its combination is the unknown segment, which the
	 * streamed answers of an unknown account key join at the link */
	static const char *const acc[] = {
	    "a1", "b1", "pro", "5", "2024-03-20", NULL, /* */
	    "a3", "b3", NULL,  "1", "2024-03-20", NULL,
	};
	static const char *const vcols[] = {"account_key", "respondent_key", "type", "score",
					    "responded_at"};
	static const char *const vrows[] = {
	    "a3", NULL, "csat", "5", "2024-03-30", /* */
	    "zz", NULL, "csat", "2", "2024-03-30", /* */
	    "zz", "r1", "csat", "1", "2024-03-29", /* */
	    "zz", "r1", "csat", "4", "2024-03-31", /* the latest of r1 */
	    "a1", NULL, "csat", "4", "2024-03-30",
	};
	struct cs_config *cfg = config();
	struct cs_data *d = fixture_data(cfg, KIND_SURVEYS, fixture_time("2024-04-01"));
	struct mset *m = mset_new();
	bool found = false;

	fixture_load(d, DS_ACCOUNTS, acols, 6, acc, 2);
	fixture_load(d, DS_SURVEYS, vcols, 5, vrows, 5);
	cs_data_link(d);
	kpi_surveys(d, &cfg->collectors[KIND_SURVEYS], m);
	cr_expect_eq(d->seg.n, 2, "pro and unknown");
	cr_expect_eq(
	    fixture_value(m, "cs_survey_responses",
			  (const char *const[]){"plan", "unknown", "window", "30d", "survey",
						"csat", "category", "satisfied", NULL},
			  &found),
	    2);
	cr_expect(found);
	cr_expect_eq(
	    fixture_value(m, "cs_survey_responses",
			  (const char *const[]){"plan", "unknown", "window", "30d", "survey",
						"csat", "category", "unsatisfied", NULL},
			  &found),
	    1);
	mset_free(m);
	cs_data_free(d);
	fixture_free_config(cfg);
}
