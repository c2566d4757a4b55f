#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const tcols[] = {"billing_key", "started_at", "ended_at", "converted"};
static const char *const accounts[] = {
    "a1", "b1", "pro",	 NULL, NULL, NULL, /* */
    "a2", "b2", "basic", NULL, NULL, NULL,
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_trials(struct run *r, const char *const *rows, size_t nrows)
{
	r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_TRIALS, fixture_time("2024-04-01"));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, accounts, 2);
	fixture_load(r->d, DS_TRIALS, tcols, 4, rows, nrows);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_trials(r->d, &r->cfg->collectors[KIND_TRIALS], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

static double ended(const struct run *r, const char *plan, const char *window, const char *result)
{
	bool found = false;
	double v = fixture_value(
	    r->m, "cs_trials_ended",
	    (const char *const[]){"plan", plan, "window", window, "result", result, NULL}, &found);
	cr_assert(found, "cs_trials_ended{plan=%s,window=%s,result=%s} missing", plan, window,
		  result);
	return v;
}

static double ratio(const struct run *r, const char *plan, const char *window, bool *found)
{
	return fixture_value(r->m, "cs_trial_conversion_ratio",
			     (const char *const[]){"plan", plan, "window", window, NULL}, found);
}

/* Worked example (docs/design.md): 26 trials converted, 14 canceled in window → 0.65. */
Test(trials_vectors, conversion_065)
{
	const char *rows[40 * 4];
	char keys[40][8];
	for (int i = 0; i < 40; i++) {
		/* one customer may run several trials */
		snprintf(keys[i], sizeof(keys[i]), "b1");
		const char *row[4] = {keys[i], "2024-02-20", "2024-03-15 08:00:00+00",
				      i < 26 ? "t" : "f"};
		memcpy(rows + i * 4, row, sizeof(row));
	}
	struct run r;
	run_trials(&r, rows, 40);
	cr_assert_float_eq(ended(&r, "pro", "30d", "converted"), 26, 0);
	cr_assert_float_eq(ended(&r, "pro", "30d", "canceled"), 14, 0);
	bool found = false;
	cr_assert_float_eq(ratio(&r, "pro", "30d", &found), 0.65, 1e-12);
	cr_assert(found);
	/* basic has no trial: counts are zero, the ratio is absent */
	cr_assert_float_eq(ended(&r, "basic", "30d", "converted"), 0, 0);
	ratio(&r, "basic", "30d", &found);
	cr_assert_not(found);
	run_free(&r);
}

Test(trials_window, half_open_bounds_running_and_older)
{
	static const char *const rows[] = {
	    "b1",     "2024-02-01", "2024-03-02",
	    "t", /* exactly t - 30d: in both */
	    "b1",     "2024-02-01", "2024-04-01",
	    "t", /* exactly t: in neither */
	    "b1",     "2024-02-01", NULL,
	    "t", /* running: in neither */
	    "b1",     "2023-12-01", "2024-01-15",
	    "f", /* 90d only */
	    "b1",     "2023-10-01", "2023-12-01",
	    "t", /* before both */
	    "b2",     "2024-03-01", "2024-03-30 23:59:59+00",
	    "f", /* basic, both */
	    "nobody", "2024-03-01", "2024-03-10",
	    "t", /* unknown customer */
	};
	struct run r;
	run_trials(&r, rows, 7);
	cr_assert_float_eq(ended(&r, "pro", "30d", "converted"), 1, 0);
	cr_assert_float_eq(ended(&r, "pro", "30d", "canceled"), 0, 0);
	cr_assert_float_eq(ended(&r, "pro", "90d", "converted"), 1, 0);
	cr_assert_float_eq(ended(&r, "pro", "90d", "canceled"), 1, 0);
	bool found;
	cr_assert_float_eq(ratio(&r, "pro", "90d", &found), 0.5, 1e-12);
	cr_assert_float_eq(ended(&r, "basic", "30d", "canceled"), 1, 0);
	cr_assert_float_eq(ratio(&r, "basic", "30d", &found), 0, 0);
	cr_assert(found);
	cr_assert_float_eq(ended(&r, "unknown", "30d", "converted"), 1, 0);
	cr_assert_float_eq(ratio(&r, "unknown", "90d", &found), 1, 0);
	cr_assert(found);
	run_free(&r);
}
