/*
 * movers (collectors/movers.c): the customers behind revenue's movements,
 * from fixture rows: the amounts are those cs_mrr_movement sums, the list is
 * bounded, ordered by amount then account key, overall or per segment, and
 * names its customers as the at-risk list does.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key",    "plan", "seats",
				    "started_at",  "first_value_at", "name"};

#define AS_OF			      "2024-04-01"
#define USD_MONTH(b, cents, from, to) b, cents, "USD", "month", "1", "1", "active", from, to

static const char *const accounts[] = {
    "a1", "b1", "ent",	   NULL, NULL, NULL, "Big <Corp>", /* */
    "a2", "b2", "ent",	   NULL, NULL, NULL, "Mid Corp",   /* */
    "a3", "b3", "starter", NULL, NULL, NULL, "Shop",	   /* */
    "a4", "b4", "starter", NULL, NULL, NULL, NULL,	   /* */
    "a5", "b5", "ent",	   NULL, NULL, NULL, "Steady",	   /* */
    "a6", "b6", "ent",	   NULL, NULL, NULL, "Back again", /* */
};

/* 30d window: t0 = 2024-03-02; 90d: t0 = 2024-01-02. */
static const char *const subs[] = {
    USD_MONTH("b1", "300000", "2023-06-01", "2024-03-15"), /* churn 3,000 */
    USD_MONTH("b2", "100000", "2023-06-01", "2024-03-20"), /* churn 1,000 */
    USD_MONTH("b3", "50000", "2023-06-01", "2024-03-10"),  /* */
    USD_MONTH("b3", "20000", "2024-03-10", NULL),	   /* contraction 300 */
    USD_MONTH("b4", "70000", "2024-03-05", NULL),	   /* new 700 */
    USD_MONTH("b5", "900000", "2023-01-01", NULL),	   /* steady: no movement */
    USD_MONTH("b6", "10000", "2023-01-01", "2023-06-01"),  /* */
    USD_MONTH("b6", "40000", "2024-03-20", NULL),	   /* reactivation 400 */
    USD_MONTH("b9", "60000", "2024-03-25", NULL),	   /* new 600, no account */
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run(struct run *r, int top, bool per_segment)
{
	r->cfg = fixture_config(dims, 1);
	r->cfg->kinds->movers.top = top;
	r->cfg->kinds->movers.per_segment = per_segment;
	r->d = fixture_data(r->cfg, KIND_REVENUE, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, acols, 7, accounts,
		     sizeof(accounts) / sizeof(*accounts) / 7);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     subs, sizeof(subs) / sizeof(*subs) / FIXTURE_NSUBSCRIPTION_COLS);
	cs_data_link(r->d);
	r->m = mset_new();
	collector_kinds[KIND_REVENUE].compute(r->d, &r->cfg->collectors[KIND_REVENUE], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

static double mover(const struct run *r, const char *plan, const char *window, const char *type,
		    const char *account, const char *name, const char *billing, bool *found)
{
	return fixture_value(r->m, "cs_mrr_mover",
			     (const char *const[]){"plan", plan, "currency", "USD", "window",
						   window, "type", type, "account", account, "name",
						   name, "billing_key", billing, NULL},
			     found);
}

static double movement(const struct run *r, const char *plan, const char *window, const char *type)
{
	bool found;
	double v = fixture_value(r->m, "cs_mrr_movement",
				 (const char *const[]){"plan", plan, "currency", "USD", "window",
						       window, "type", type, NULL},
				 &found);

	cr_assert(found, "no cs_mrr_movement{plan=%s,window=%s,type=%s}", plan, window, type);
	return v;
}

Test(movers, name_each_customer_with_the_amount_revenue_sums)
{
	struct run r;
	bool found;

	run(&r, 10, false);
	cr_assert_float_eq(mover(&r, "ent", "30d", "churn", "a1", "Big <Corp>", "b1", &found), 3000,
			   1e-9);
	cr_assert(found);
	cr_assert_float_eq(mover(&r, "ent", "30d", "churn", "a2", "Mid Corp", "b2", &found), 1000,
			   1e-9);
	cr_assert(found);
	cr_assert_float_eq(movement(&r, "ent", "30d", "churn"), 4000, 1e-9);
	cr_assert_float_eq(mover(&r, "starter", "30d", "contraction", "a3", "Shop", "b3", &found),
			   300, 1e-9);
	cr_assert_float_eq(movement(&r, "starter", "30d", "contraction"), 300, 1e-9);
	cr_assert_float_eq(mover(&r, "starter", "30d", "new", "a4", "", "b4", &found), 700, 1e-9);
	cr_assert(found, "an account without a name is listed with an empty one");
	cr_assert_float_eq(
	    mover(&r, "ent", "30d", "reactivation", "a6", "Back again", "b6", &found), 400, 1e-9);
	cr_assert(found);
	/* a billing customer no account names: in "unknown", named by its billing key */
	cr_assert_float_eq(mover(&r, "unknown", "30d", "new", "", "", "b9", &found), 600, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(movement(&r, "unknown", "30d", "new"), 600, 1e-9);
	/* no movement, no line */
	for (int t = 0; t < 5; t++) {
		static const char *const types[] = {"new", "reactivation", "expansion",
						    "contraction", "churn"};
		mover(&r, "ent", "30d", types[t], "a5", "Steady", "b5", &found);
		cr_assert_not(found, "a steady customer is no mover (%s)", types[t]);
	}
	/* 90d: b6 had MRR before 2024-01-02 too: still a reactivation */
	mover(&r, "ent", "90d", "reactivation", "a6", "Back again", "b6", &found);
	cr_assert(found);
	run_free(&r);
}

Test(movers, top_n_by_amount_overall_or_per_segment)
{
	struct run r;
	bool found;

	/* one per window and type overall: the larger new customer (a4, 700 > b9's 600) */
	run(&r, 1, false);
	mover(&r, "ent", "30d", "churn", "a1", "Big <Corp>", "b1", &found);
	cr_assert(found, "the largest churn");
	mover(&r, "ent", "30d", "churn", "a2", "Mid Corp", "b2", &found);
	cr_assert_not(found, "only one per window and type");
	mover(&r, "starter", "30d", "new", "a4", "", "b4", &found);
	cr_assert(found);
	mover(&r, "unknown", "30d", "new", "", "", "b9", &found);
	cr_assert_not(found);
	run_free(&r);

	/* one per segment: the unknown segment's new customer is listed too */
	run(&r, 1, true);
	mover(&r, "starter", "30d", "new", "a4", "", "b4", &found);
	cr_assert(found);
	mover(&r, "unknown", "30d", "new", "", "", "b9", &found);
	cr_assert(found);
	mover(&r, "ent", "30d", "churn", "a2", "Mid Corp", "b2", &found);
	cr_assert_not(found);
	run_free(&r);

	/* 0 turns the list off: no sample, and revenue's families are intact */
	run(&r, 0, false);
	mover(&r, "ent", "30d", "churn", "a1", "Big <Corp>", "b1", &found);
	cr_assert_not(found);
	cr_assert_float_eq(movement(&r, "ent", "30d", "churn"), 4000, 1e-9);
	run_free(&r);
}

Test(movers, equal_amounts_fall_to_the_account_key)
{
	static const char *const acc[] = {
	    "z_late", "b1", "p", NULL, NULL, NULL, "Z", /* */
	    "a_soon", "b2", "p", NULL, NULL, NULL, "A", /* */
	};
	static const char *const rows[] = {
	    USD_MONTH("b1", "10000", "2024-03-10", NULL),
	    USD_MONTH("b2", "10000", "2024-03-12", NULL),
	};
	struct run r;
	bool found;

	r.cfg = fixture_config(dims, 1);
	r.cfg->kinds->movers.top = 1;
	r.d = fixture_data(r.cfg, KIND_REVENUE, fixture_time(AS_OF));
	fixture_load(r.d, DS_ACCOUNTS, acols, 7, acc, 2);
	fixture_load(r.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     rows, 2);
	cs_data_link(r.d);
	r.m = mset_new();
	kpi_movers(r.d, &r.cfg->collectors[KIND_REVENUE], r.m);
	mover(&r, "p", "30d", "new", "a_soon", "A", "b2", &found);
	cr_assert(found, "the lower account key wins a tie");
	mover(&r, "p", "30d", "new", "z_late", "Z", "b1", &found);
	cr_assert_not(found);
	run_free(&r);
}
