#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const scols[] = {"account_key", "respondent_key", "type", "score",
				    "responded_at"};

#define AS_OF  "2024-04-01"
#define RECENT "2024-03-20 10:00:00+00" /* in 30d and 90d */
#define OLDER  "2024-02-01 10:00:00+00" /* in 90d only */

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_surveys(struct run *r, const char *const *rows, size_t nrows)
{
	static const char *const arows[] = {
	    "a1", "b1", "pro",	 "10", NULL, NULL, /* */
	    "a2", "b2", "pro",	 "5",  NULL, NULL, /* */
	    "a3", "b3", "basic", NULL, NULL, NULL,
	};

	r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_SURVEYS, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, arows, 3);
	fixture_load(r->d, DS_SURVEYS, scols, 5, rows, nrows);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_surveys(r->d, &r->cfg->collectors[KIND_SURVEYS], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

static double value(const struct run *r, const char *family, const char *plan, const char *window,
		    bool *found)
{
	return fixture_value(r->m, family,
			     (const char *const[]){"plan", plan, "window", window, NULL}, found);
}

static double responses(const struct run *r, const char *plan, const char *window,
			const char *survey, const char *category)
{
	bool found = false;
	double v = fixture_value(r->m, "cs_survey_responses",
				 (const char *const[]){"plan", plan, "window", window, "survey",
						       survey, "category", category, NULL},
				 &found);

	cr_assert(found, "no cs_survey_responses for %s/%s/%s/%s", plan, window, survey, category);
	return v;
}

/* Builds anonymous responses of account a1 from (score, count) pairs. */
static size_t anonymous(const char **rows, const char *type, const char *const *scores,
			const int *counts, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < counts[i]; c++) {
			const char *row[] = {"a1", NULL, type, scores[i], RECENT};

			memcpy(&rows[k * 5], row, sizeof(row));
			k++;
		}
	return k;
}

Test(kpis_surveys, nps_vector_plus_20)
{
	static const char *rows[20 * 5];
	const char *const scores[] = {"9", "10", "7", "8", "0", "6"};
	const int counts[] = {4, 5, 3, 3, 2, 3};
	size_t n = anonymous(rows, "nps", scores, counts, 6);
	struct run r;
	bool found;

	run_surveys(&r, rows, n);
	cr_assert_float_eq(value(&r, "cs_nps_score", "pro", "30d", &found), 20.0, 1e-9);
	cr_assert(found);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "promoter"), 9);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "passive"), 6);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "detractor"), 5);
	cr_assert_float_eq(value(&r, "cs_nps_score", "pro", "90d", &found), 20.0, 1e-9);
	run_free(&r);
}

Test(kpis_surveys, nps_no_responses_no_sample)
{
	static const char *rows[20 * 5];
	const char *const scores[] = {"10"};
	const int counts[] = {3};
	size_t n = anonymous(rows, "nps", scores, counts, 1);
	struct run r;
	bool found = true;

	run_surveys(&r, rows, n);
	/* basic has no responses: counts exist and are zero, the score is absent */
	value(&r, "cs_nps_score", "basic", "30d", &found);
	cr_assert_not(found, "nps score without responses must be omitted");
	cr_assert_eq(responses(&r, "basic", "30d", "nps", "promoter"), 0);
	cr_assert_eq(responses(&r, "basic", "30d", "nps", "detractor"), 0);
	value(&r, "cs_csat_ratio", "pro", "30d", &found);
	cr_assert_not(found);
	value(&r, "cs_ces_score", "pro", "30d", &found);
	cr_assert_not(found);
	cr_assert_eq(value(&r, "cs_ces_points", "pro", "30d", &found), 0);
	cr_assert(found, "cs_ces_points is an amount and is always emitted");
	cr_assert_float_eq(value(&r, "cs_nps_score", "pro", "30d", &found), 100.0, 1e-9);
	run_free(&r);
}

Test(kpis_surveys, csat_vector_0_60)
{
	static const char *rows[50 * 5];
	const char *const scores[] = {"5", "4", "3", "2", "1"};
	const int counts[] = {10, 20, 10, 5, 5};
	size_t n = anonymous(rows, "csat", scores, counts, 5);
	struct run r;
	bool found;

	run_surveys(&r, rows, n);
	cr_assert_float_eq(value(&r, "cs_csat_ratio", "pro", "30d", &found), 0.60, 1e-12);
	cr_assert(found);
	cr_assert_eq(responses(&r, "pro", "30d", "csat", "satisfied"), 30);
	cr_assert_eq(responses(&r, "pro", "30d", "csat", "unsatisfied"), 20);
	run_free(&r);
}

Test(kpis_surveys, ces_vector_4_08)
{
	static const char *rows[1000 * 5];
	const char *const scores[] = {"1", "2", "3", "4", "5", "6", "7"};
	const int counts[] = {80, 210, 140, 110, 160, 180, 120};
	size_t n = anonymous(rows, "ces", scores, counts, 7);
	struct run r;
	bool found;

	run_surveys(&r, rows, n);
	cr_assert_float_eq(value(&r, "cs_ces_score", "pro", "30d", &found), 4.08, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(value(&r, "cs_ces_points", "pro", "30d", &found), 4080.0, 1e-9);
	cr_assert_eq(responses(&r, "pro", "30d", "ces", "all"), 1000);
	run_free(&r);
}

Test(kpis_surveys, latest_response_per_respondent)
{
	static const char *const rows[] = {
	    /* r1 of a1: detractor in 90d only, then promoter in 30d */
	    "a1",
	    "r1",
	    "nps",
	    "3",
	    OLDER, /* */
	    "a1",
	    "r1",
	    "nps",
	    "10",
	    RECENT, /* */
	    /* r1 again, at t: outside every window, must not hide the above */
	    "a1",
	    "r1",
	    "nps",
	    "0",
	    AS_OF " 00:00:00+00", /* */
	    /* same respondent key in another account is another respondent */
	    "a2",
	    "r1",
	    "nps",
	    "2",
	    RECENT, /* */
	    /* the same respondent's csat is a separate (type) series */
	    "a1",
	    "r1",
	    "csat",
	    "5",
	    OLDER, /* */
	    /* tie on responded_at: the higher score wins */
	    "a1",
	    "r2",
	    "nps",
	    "8",
	    RECENT, /* */
	    "a1",
	    "r2",
	    "nps",
	    "6",
	    RECENT,
	};
	struct run r;

	run_surveys(&r, rows, 7);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "promoter"), 1);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "passive"), 1);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "detractor"), 1);
	/* in 90d r1's latest is still the promoter: the older detractor is gone */
	cr_assert_eq(responses(&r, "pro", "90d", "nps", "promoter"), 1);
	cr_assert_eq(responses(&r, "pro", "90d", "nps", "detractor"), 1);
	cr_assert_eq(responses(&r, "pro", "30d", "csat", "satisfied"), 0);
	cr_assert_eq(responses(&r, "pro", "90d", "csat", "satisfied"), 1);
	run_free(&r);
}

Test(kpis_surveys, window_is_half_open)
{
	static const char *const rows[] = {
	    "a1", NULL, "nps", "10", "2024-03-02 00:00:00+00", /* exactly t - 30d: in */
	    "a1", NULL, "nps", "0",  "2024-03-01 23:59:59+00", /* just before: out */
	    "a1", NULL, "nps", "0",  "2024-04-01 00:00:00+00", /* exactly t: out */
	};
	struct run r;

	run_surveys(&r, rows, 3);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "promoter"), 1);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "detractor"), 0);
	cr_assert_eq(responses(&r, "pro", "90d", "nps", "detractor"), 1);
	run_free(&r);
}

Test(kpis_surveys, unknown_account_goes_to_unknown_segment)
{
	static const char *const rows[] = {
	    "zz", "x",	"nps", "10", RECENT, /* */
	    "yy", "x",	"nps", "9",  OLDER,  /* same respondent key, unknown account too */
	    "a3", NULL, "nps", "0",  RECENT,
	};
	struct run r;
	bool found;

	run_surveys(&r, rows, 3);
	cr_assert_eq(responses(&r, "unknown", "30d", "nps", "promoter"), 1);
	/* unknown accounts share one pseudo-account: "x" counts once in 90d */
	cr_assert_eq(responses(&r, "unknown", "90d", "nps", "promoter"), 1);
	cr_assert_eq(responses(&r, "basic", "30d", "nps", "detractor"), 1);
	cr_assert_float_eq(value(&r, "cs_nps_score", "basic", "30d", &found), -100.0, 1e-9);
	cr_assert_eq(responses(&r, "pro", "30d", "nps", "promoter"), 0);
	run_free(&r);
}
