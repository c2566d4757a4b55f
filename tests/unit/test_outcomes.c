#include <criterion/criterion.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const ocols[] = {"account_key", "value"};
static const char *const arows[] = {
    "a1", NULL, "pro",	 NULL, NULL, NULL, /* */
    "a2", NULL, "pro",	 NULL, NULL, NULL, /* */
    "a3", NULL, "pro",	 NULL, NULL, NULL, /* */
    "a4", NULL, "basic", NULL, NULL, NULL,
};

static double get(const struct mset *m, const char *family, const char *plan, const char *window,
		  const char *outcome, const char *target, bool *found)
{
	return fixture_value(m, family,
			     (const char *const[]){"plan", plan, "window", window, "outcome",
						   outcome, target ? "target" : NULL, target, NULL},
			     found);
}

static double must(const struct mset *m, const char *family, const char *plan, const char *window,
		   const char *outcome, const char *target)
{
	bool found = false;
	double v = get(m, family, plan, window, outcome, target, &found);

	cr_assert(found, "no %s{%s,%s,%s}", family, plan, window, outcome);
	return v;
}

Test(kpis_outcomes, met_missed_at_least_and_at_most)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	size_t emails = fixture_add_outcome(cfg, "emails_sent", 100, OUTCOME_AT_LEAST);
	size_t hours = fixture_add_outcome(cfg, "handling_hours", 10, OUTCOME_AT_MOST);
	struct cs_data *d = fixture_data(cfg, KIND_OUTCOMES, fixture_time("2024-04-01"));
	static const char *const e30[] = {
	    "a1", "60",	     "a1", "40", /* summed: 100 meets exactly */
	    "a2", "99.9999",		 /* misses */
					 /* a3: no row, neither met nor missed */
	};
	static const char *const e90[] = {"a1", "400", "a2", "150", "a3", "0"};
	static const char *const h30[] = {
	    "a1", "10",	  /* at most: equal meets */
	    "a2", "10.5", /* misses */
	    "a3", "3",	  /* meets */
	};
	struct mset *m = mset_new();
	bool found;

	fixture_load(d, DS_ACCOUNTS, acols, 6, arows, 4);
	fixture_load_outcome(d, emails, 0, ocols, 2, e30, 3);
	fixture_load_outcome(d, emails, 1, ocols, 2, e90, 3);
	fixture_load_outcome(d, hours, 0, ocols, 2, h30, 3);
	fixture_load_outcome(d, hours, 1, ocols, 2, NULL, 0);
	cs_data_link(d);
	kpi_outcomes(d, &cfg->collectors[KIND_OUTCOMES], m);

	cr_assert_float_eq(must(m, "cs_outcome_value", "pro", "30d", "emails_sent", NULL), 199.9999,
			   1e-9);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "30d", "emails_sent", "met"), 1);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "30d", "emails_sent", "missed"), 1);
	cr_assert_float_eq(
	    must(m, "cs_outcome_attainment_ratio", "pro", "30d", "emails_sent", NULL), 0.5, 1e-12);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "90d", "emails_sent", "met"), 2);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "90d", "emails_sent", "missed"), 1);

	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "30d", "handling_hours", "met"), 2);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "30d", "handling_hours", "missed"), 1);
	cr_assert_float_eq(
	    must(m, "cs_outcome_attainment_ratio", "pro", "30d", "handling_hours", NULL), 2.0 / 3,
	    1e-12);

	/* no value anywhere: zero counts, zero sum, no ratio */
	cr_assert_eq(must(m, "cs_outcome_value", "pro", "90d", "handling_hours", NULL), 0);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "90d", "handling_hours", "met"), 0);
	get(m, "cs_outcome_attainment_ratio", "pro", "90d", "handling_hours", NULL, &found);
	cr_assert_not(found);
	cr_assert_eq(must(m, "cs_outcome_accounts", "basic", "30d", "emails_sent", "missed"), 0);
	get(m, "cs_outcome_attainment_ratio", "basic", "30d", "emails_sent", NULL, &found);
	cr_assert_not(found);

	mset_free(m);
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(kpis_outcomes, unknown_accounts_judged_per_key)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	size_t o = fixture_add_outcome(cfg, "invoices", 10, OUTCOME_AT_LEAST);
	struct cs_data *d = fixture_data(cfg, KIND_OUTCOMES, fixture_time("2024-04-01"));
	/* Two unknown keys: zz sums to 13 (met), yy stays at 5 (missed). */
	static const char *const rows[] = {"zz", "6", "yy", "5", "a4", "9", "zz", "7"};
	struct mset *m = mset_new();

	fixture_load(d, DS_ACCOUNTS, acols, 6, arows, 4);
	fixture_load_outcome(d, o, 0, ocols, 2, rows, 4);
	fixture_load_outcome(d, o, 1, ocols, 2, NULL, 0);
	cs_data_link(d);
	kpi_outcomes(d, &cfg->collectors[KIND_OUTCOMES], m);

	cr_assert_eq(must(m, "cs_outcome_value", "unknown", "30d", "invoices", NULL), 18);
	cr_assert_eq(must(m, "cs_outcome_accounts", "unknown", "30d", "invoices", "met"), 1);
	cr_assert_eq(must(m, "cs_outcome_accounts", "unknown", "30d", "invoices", "missed"), 1);
	cr_assert_eq(must(m, "cs_outcome_accounts", "basic", "30d", "invoices", "missed"), 1);
	cr_assert_eq(must(m, "cs_outcome_accounts", "pro", "30d", "invoices", "met"), 0);

	mset_free(m);
	cs_data_free(d);
	fixture_free_config(cfg);
}
