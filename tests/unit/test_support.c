#include <criterion/criterion.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const tcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};
static const char *const arows[] = {
    "a1", NULL, "pro",	 NULL, NULL, NULL, /* */
    "a2", NULL, "basic", NULL, NULL, NULL,
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_support(struct run *r, const char *const *rows, size_t nrows)
{
	r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_SUPPORT, fixture_time("2024-04-01"));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, arows, 2);
	fixture_load(r->d, DS_TICKETS, tcols, 4, rows, nrows);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_support(r->d, &r->cfg->collectors[KIND_SUPPORT], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

static double tickets(const struct run *r, const char *plan, const char *window, const char *state)
{
	bool found = false;
	double v = fixture_value(
	    r->m, "cs_tickets",
	    (const char *const[]){"plan", plan, "window", window, "state", state, NULL}, &found);

	cr_assert(found, "no cs_tickets{%s,%s,%s}", plan, window, state);
	return v;
}

static double get(const struct run *r, const char *family, const char *plan, const char *window,
		  bool *found)
{
	return fixture_value(r->m, family,
			     (const char *const[]){"plan", plan, "window", window, NULL}, found);
}

Test(kpis_support, escalation_and_resolution)
{
	static const char *const rows[] = {
	    /* opened in 30d, resolved after 2h */
	    "a1",
	    "2024-03-10 10:00:00+00",
	    "2024-03-10 12:00:00+00",
	    "t",
	    /* opened in 30d, open, not escalated */
	    "a1",
	    "2024-03-20 00:00:00+00",
	    NULL,
	    "false",
	    /* opened in 30d, resolved after 1 day, escalated */
	    "a1",
	    "2024-03-25 00:00:00+00",
	    "2024-03-26 00:00:00+00",
	    "true",
	    /* opened before 30d, resolved inside 30d after 10 days */
	    "a1",
	    "2024-02-25 00:00:00+00",
	    "2024-03-06 00:00:00+00",
	    "f",
	    /* opened in 30d, escalated, resolved at t: not resolved in the window */
	    "a1",
	    "2024-03-31 00:00:00+00",
	    "2024-04-01 00:00:00+00",
	    "t",
	};
	struct run r;
	bool found;
	double sum = 7200.0 + 86400.0 + 864000.0;

	run_support(&r, rows, 5);
	cr_assert_eq(tickets(&r, "pro", "30d", "opened"), 4);
	cr_assert_eq(tickets(&r, "pro", "30d", "escalated"), 3);
	cr_assert_eq(tickets(&r, "pro", "30d", "resolved"), 3);
	cr_assert_float_eq(get(&r, "cs_ticket_escalation_ratio", "pro", "30d", &found), 0.75,
			   1e-12);
	cr_assert(found);
	cr_assert_float_eq(get(&r, "cs_ticket_resolution_time_seconds", "pro", "30d", &found), sum,
			   1e-6);
	cr_assert_float_eq(get(&r, "cs_ticket_resolution_seconds", "pro", "30d", &found), sum / 3,
			   1e-6);
	cr_assert(found);
	cr_assert_eq(tickets(&r, "pro", "90d", "opened"), 5);
	run_free(&r);
}

Test(kpis_support, no_tickets_zero_counts_no_ratios)
{
	static const char *const rows[] = {
	    "a1",
	    "2024-03-10 10:00:00+00",
	    NULL,
	    "f",
	};
	struct run r;
	bool found;

	run_support(&r, rows, 1);
	cr_assert_eq(tickets(&r, "basic", "30d", "opened"), 0);
	cr_assert_eq(tickets(&r, "basic", "30d", "resolved"), 0);
	get(&r, "cs_ticket_escalation_ratio", "basic", "30d", &found);
	cr_assert_not(found);
	get(&r, "cs_ticket_resolution_seconds", "basic", "30d", &found);
	cr_assert_not(found);
	cr_assert_eq(get(&r, "cs_ticket_resolution_time_seconds", "basic", "30d", &found), 0);
	cr_assert(found);
	/* opened but unresolved: a ratio of 0, still no resolution mean */
	cr_assert_float_eq(get(&r, "cs_ticket_escalation_ratio", "pro", "30d", &found), 0, 1e-12);
	cr_assert(found);
	get(&r, "cs_ticket_resolution_seconds", "pro", "30d", &found);
	cr_assert_not(found);
	run_free(&r);
}

Test(kpis_support, unknown_account_and_bad_resolution)
{
	static const char *const rows[] = {
	    "zz", "2024-03-10 10:00:00+00", NULL,
	    "t", /* */
	    "a2", "2024-03-10 10:00:00+00", "2024-03-09 10:00:00+00",
	    "f",
	};
	struct run r;

	run_support(&r, rows, 2);
	cr_assert_eq(tickets(&r, "unknown", "30d", "escalated"), 1);
	cr_assert_eq(fixture_rejects(r.d, "tickets", "bad_resolution"), 1);
	cr_assert_eq(tickets(&r, "basic", "30d", "opened"), 0);
	run_free(&r);
}

Test(kpis_support, unknown_keys_join_an_all_null_combination)
{
	/* a3 has no plan, so "unknown" is an account combination; a ticket of
	 * an unknown account key lands in the same segment. */
	static const char *const accounts[] = {
	    "a1", NULL, "pro", NULL, NULL, NULL, /* */
	    "a3", NULL, NULL,  NULL, NULL, NULL,
	};
	static const char *const rows[] = {
	    "a3", "2024-03-10 10:00:00+00", "2024-03-11 10:00:00+00",
	    "t", /* */
	    "zz", "2024-03-20 10:00:00+00", "2024-03-20 12:00:00+00",
	    "f", /* */
	    "a1", "2024-01-20 10:00:00+00", NULL,
	    "f", /* 90d only */
	};
	struct run r;

	r.cfg = fixture_config(dims, 1);
	r.d = fixture_data(r.cfg, KIND_SUPPORT, fixture_time("2024-04-01"));
	fixture_load(r.d, DS_ACCOUNTS, acols, 6, accounts, 2);
	fixture_load(r.d, DS_TICKETS, tcols, 4, rows, 3);
	cs_data_link(r.d);
	r.m = mset_new();
	kpi_support(r.d, &r.cfg->collectors[KIND_SUPPORT], r.m);
	cr_assert_eq(r.d->seg.n, 2);
	cr_assert_eq(tickets(&r, "unknown", "30d", "opened"), 2);
	cr_assert_eq(tickets(&r, "unknown", "30d", "escalated"), 1);
	cr_assert_eq(tickets(&r, "unknown", "30d", "resolved"), 2);
	cr_assert_float_eq(get(&r, "cs_ticket_resolution_time_seconds", "unknown", "30d", NULL),
			   86400 + 7200, 1e-9);
	cr_assert_eq(tickets(&r, "pro", "30d", "opened"), 0);
	cr_assert_eq(tickets(&r, "pro", "90d", "opened"), 1);
	run_free(&r);
}
