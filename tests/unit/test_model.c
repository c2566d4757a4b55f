#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collectors/emit.h"
#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_accounts.h"
#include "collectors/ds_activity.h"
#include "collectors/ds_outcomes.h"
#include "collectors/ds_subscriptions.h"
#include "collectors/ds_surveys.h"
#include "collectors/ds_tickets.h"
#include "collectors/ds_trials.h"

static const char *const dims2[] = {"plan", "region"};
static const char *const acols[] = {"account_key", "billing_key", "plan",	    "region",
				    "seats",	   "started_at",  "first_value_at", "name"};
#define NACOLS 8

/* ------------------------------------------------------------ time */

Test(model_time, parses_postgres_timestamptz_with_fraction)
{
	cs_time t;
	cr_assert_eq(cs_parse_time("2024-03-01 12:34:56.123456+00", &t), 0);
	cs_time day;
	cr_assert_eq(cs_parse_time("2024-03-01", &day), 0);
	cr_assert_eq(t - day, ((12 * 3600 + 34 * 60 + 56) * CS_SECOND) + 123456);
	/* 2024-03-01 is day 19783 after the epoch */
	cr_assert_eq(day, INT64_C(19783) * CS_DAY);
}

Test(model_time, parses_seconds_offsets_and_short_fractions)
{
	cs_time a, b, c, e;
	cr_assert_eq(cs_parse_time("2024-03-01 12:34:56+00", &a), 0);
	cr_assert_eq(cs_parse_time("2024-03-01 18:04:56+05:30", &b), 0);
	cr_assert_eq(a, b);
	cr_assert_eq(cs_parse_time("2024-03-01T12:34:56.25Z", &c), 0);
	cr_assert_eq(c - a, CS_SECOND / 4);
	cr_assert_eq(cs_parse_time("2024-03-01 07:34:56-05", &e), 0);
	cr_assert_eq(e, a);
}

Test(model_time, leap_days_and_epoch)
{
	cs_time t;
	cr_assert_eq(cs_parse_time("1970-01-01 00:00:00+00", &t), 0);
	cr_assert_eq(t, 0);
	cr_assert_eq(cs_parse_time("2024-02-29", &t), 0);
	cr_assert_eq(cs_parse_time("2023-02-29", &t), -1);
	cr_assert_eq(cs_parse_time("1969-12-31 23:59:59+00", &t), 0);
	cr_assert_eq(t, -CS_SECOND);
}

Test(model_time, rejects_malformed)
{
	static const char *const bad[] = {
	    "",
	    "garbage",
	    "2024-13-01",
	    "2024-00-10",
	    "2024-04-31",
	    "2024-03-01 25:00:00",
	    "2024-03-01 12:60:00",
	    "2024-3-1",
	    "2024-03-01x",
	    "2024-03-01 12:00:00+",
	    "24-03-01",
	    "2024-03-01 12",
	    "2024-03-01 12:00:00.",
	    "2024-03-01 12:00:00 BC",
	    "2022031-10-19", /* found by fuzz_rows: overflowed the microseconds */
	    "9999999-12-31 23:59:59",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cs_time t;
		cr_expect_eq(cs_parse_time(bad[i], &t), -1, "accepted \"%s\"", bad[i]);
	}
}

Test(model_time, years_as_far_as_microseconds_reach)
{
	/* Microseconds since 1970 in 64 bits reach year ~294247, a few years
	 * short of PostgreSQL's last (294276): beyond is bad_time, not wrapped. */
	cs_time a, b;
	cr_assert_eq(cs_parse_time("294000-12-31 23:59:59+00", &a), 0);
	cr_assert_eq(cs_parse_time("10000-01-01", &b), 0);
	cr_assert_gt(a, b);
	cr_assert_lt(a, CS_TIME_OPEN);
	cr_assert_eq(cs_parse_time("294276-12-31 23:59:59+00", &a), -1);
}

Test(model_time, infinity_is_open)
{
	cs_time t;
	cr_assert_eq(cs_parse_time("infinity", &t), 0);
	cr_assert_eq(t, CS_TIME_OPEN);
}

Test(model_time, format_round_trips)
{
	static const char *const in[] = {"2024-03-01 12:34:56.5+00", "1999-12-31 23:59:59+00",
					 "2024-02-29", "1960-06-15 01:02:03.000007+00"};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cs_time t, u;
		char buf[64];
		cr_assert_eq(cs_parse_time(in[i], &t), 0);
		cs_format_time(t, buf, sizeof(buf));
		cr_assert_eq(cs_parse_time(buf, &u), 0, "cannot parse back \"%s\"", buf);
		cr_assert_eq(t, u, "\"%s\" -> \"%s\"", in[i], buf);
	}
	char buf[64];
	cs_format_time(fixture_time("2024-03-01 12:00:00.25+00"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "2024-03-01T12:00:00.25Z");
}

/* ------------------------------------------------------- currencies */

Test(model_currency, iso_exponents)
{
	cr_assert_eq(cs_currency_exponent("USD"), 2);
	cr_assert_eq(cs_currency_exponent("usd"), 2);
	cr_assert_eq(cs_currency_exponent("JPY"), 0);
	cr_assert_eq(cs_currency_exponent("KWD"), 3);
	cr_assert_eq(cs_currency_exponent("BHD"), 3);
	cr_assert_eq(cs_currency_exponent("CLF"), 4);
	cr_assert_eq(cs_currency_exponent("EUR"), 2);
	cr_assert_eq(cs_currency_exponent("XYZ"), -1);
	cr_assert_eq(cs_currency_exponent("US"), -1);
	cr_assert_eq(cs_currency_exponent("USDX"), -1);
}

Test(model_cmp, relative_tolerance)
{
	cr_assert_eq(cs_cmp(1.0, 1.0 + 1e-12), 0);
	cr_assert_eq(cs_cmp(1e6, 1e6 + 1e-4), 0);
	cr_assert_eq(cs_cmp(1.0, 1.0 + 1e-6), -1);
	cr_assert_eq(cs_cmp(2.0, 1.0), 1);
	cr_assert_eq(cs_cmp(0.0, 1e-300), -1);
	cr_assert_eq(cs_cmp(0.0, 0.0), 0);
	cr_assert_eq(cs_cmp(-1.0, -1.0 - 1e-12), 0);
}

/* ------------------------------------------------------ validation */

struct loaded {
	struct cs_config *cfg;
	struct cs_data *d;
};

static void load_accounts(struct loaded *l, enum cs_kind kind, const char *const *rows,
			  size_t nrows)
{
	l->cfg = fixture_config(dims2, 2);
	l->d = fixture_data(l->cfg, kind, fixture_time("2024-04-01"));
	fixture_load(l->d, DS_ACCOUNTS, acols, NACOLS, rows, nrows);
}

static void loaded_free(struct loaded *l)
{
	cs_data_free(l->d);
	fixture_free_config(l->cfg);
}

static const char *const base_accounts[] = {
    "a1", "b1", "pro",	 "eu", "10", "2024-01-01", "2024-01-05", "Acme",
    "a2", "b2", "basic", "us", "0",  NULL,	   NULL,	 NULL,
};

Test(model_rejects, accounts)
{
	static const char *const rows[] = {
	    "a1", "b1",	 "pro", "eu", "10",  "2024-01-01", "2024-01-05", "ok", NULL,
	    "b2", "pro", "eu",	"10", NULL,  NULL,	   NULL,	       /* null_key */
	    "a3", "b3",	 "pro", "eu", "ten", NULL,	   NULL,	 NULL, /* bad_number */
	    "a4", "b4",	 "pro", "eu", "-1",  NULL,	   NULL,	 NULL, /* negative_seats */
	    "a5", "b5",	 "pro", "eu", "1",   "2024-02-30", NULL,	 NULL, /* bad_time */
	    "a6", "b6",	 "pro", "eu", "1",   "2024-02-01", "2024-01-01", NULL, /* kept */
	    "a1", "b7",	 "pro", "eu", "1",   NULL,	   NULL,	 NULL, /* duplicate_account_key
										*/
	};
	struct loaded l;
	load_accounts(&l, KIND_HEALTH, rows, 7);
	cr_assert_eq(l.d->rows_read, 7);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "null_key"), 1);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "bad_number"), 1);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "negative_seats"), 1);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "bad_time"), 1);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "value_before_start"), 1);
	cr_assert_eq(fixture_rejects(l.d, "accounts", "duplicate_account_key"), 1);
	cr_assert_eq(l.d->naccounts, 2);
	cr_assert_str_eq(l.d->accounts[0].key, "a1");
	cr_assert_str_eq(l.d->accounts[0].name, "ok");
	cr_assert_eq(l.d->accounts[0].seats, 10);
	cr_assert_not(l.d->accounts[0].ttv_rejected);
	cr_assert_str_eq(l.d->accounts[1].key, "a6");
	cr_assert(l.d->accounts[1].ttv_rejected);
	cr_assert_null(l.d->accounts[1].name);
	loaded_free(&l);

	/* Display names are kept for health's at-risk list and revenue's
	 * movers only. */
	load_accounts(&l, KIND_REVENUE, rows, 7);
	cr_assert_str_eq(l.d->accounts[0].name, "ok", "revenue names its movers");
	loaded_free(&l);
	l.cfg = fixture_config(dims2, 2);
	l.cfg->kinds->movers.top = 0;
	l.d = fixture_data(l.cfg, KIND_REVENUE, fixture_time("2024-04-01"));
	fixture_load(l.d, DS_ACCOUNTS, acols, NACOLS, rows, 7);
	cr_assert_str_eq(l.d->accounts[0].key, "a1");
	cr_assert_null(l.d->accounts[0].name, "no movers, no names");
	loaded_free(&l);
	load_accounts(&l, KIND_TRIALS, rows, 7);
	cr_assert_null(l.d->accounts[0].name);
	loaded_free(&l);
}

Test(model_rejects, subscriptions)
{
	static const char *const rows[] = {
	    "b1", "1999.00",  "USD",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* ok */
	    NULL, "1999",     "USD",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* null_key */
	    "b1", "19x",      "USD",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* bad_number */
	    "b1", NULL,	      "USD",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* null_value */
	    "b1", "-5",	      "USD",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* negative_amount */
	    "b1", "5",	      "GBP",	    "month",	  "1",
	    "1",  "active",   "2024-01-01", NULL, /* unknown_currency */
	    "b1", "5",	      "USD",	    "fortnight",  "1",
	    "1",  "active",   "2024-01-01", NULL, /* interval */
	    "b1", "5",	      "USD",	    "month",	  "0",
	    "1",  "active",   "2024-01-01", NULL, /* bad_interval_count */
	    "b1", "5",	      "USD",	    "month",	  "1.5",
	    "1",  "active",   "2024-01-01", NULL, /* ditto */
	    "b1", "5",	      "USD",	    "month",	  "1",
	    "-2", "active",   "2024-01-01", NULL, /* negative_quantity */
	    "b1", "5",	      "USD",	    "month",	  "1",
	    "1",  "deleted",  "2024-01-01", NULL, /* unknown_status */
	    "b1", "5",	      "USD",	    "month",	  "1",
	    "1",  "active",   "yesterday",  NULL, /* bad_time */
	    "b1", "5",	      "USD",	    "month",	  "1",
	    "1",  "active",   "2024-02-01", "2024-02-01", /* validity */
	    "b1", "5",	      "USD",	    "month",	  "1",
	    "1",  "active",   "2024-02-01", "2024-01-01", /* validity */
	    "b2", "5",	      "eur",	    "YEAR",	  "2",
	    "3",  "past_due", "2024-02-01", NULL, /* ok */
	};
	struct loaded l;
	load_accounts(&l, KIND_REVENUE, base_accounts, 2);
	fixture_load(l.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     rows, 15);
	const char *ds = "subscriptions";
	cr_assert_eq(fixture_rejects(l.d, ds, "null_key"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "bad_number"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "null_value"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "negative_amount"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "unknown_currency"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "unknown_interval"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "bad_interval_count"), 2);
	cr_assert_eq(fixture_rejects(l.d, ds, "negative_quantity"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "unknown_status"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "bad_time"), 1);
	cr_assert_eq(fixture_rejects(l.d, ds, "bad_validity"), 2);
	cs_data_link(l.d);
	/* Instants: the 30d and 90d window starts, t, t - 90d (health billing),
	 * then the 12 cohort month starts (revenue, cohorts on by default). */
	const struct cs_mrr *m = l.d->mrr;
	cr_assert_eq(m->rows, 2);
	cr_assert_eq(l.d->ncustomers, 2);
	cr_assert_eq(m->ninstants, 4 + 12);
	cr_assert_eq(m->cohorts, 12);
	cr_assert_eq(m->at[mrr_cohort_month(m, 11)], fixture_time("2024-04-01"),
		     "t's month starts at t");
	cr_assert_eq(m->at[mrr_window_start(1)], fixture_time("2024-01-02"), "t - 90d");
	cr_assert_float_eq(mrr_at(m, 0, MRR_T), 19.99, 1e-9);
	cr_assert_float_eq(mrr_at(m, 0, mrr_window_start(1)), 19.99, 1e-9,
			   "open-ended since 2024-01-01");
	cr_assert_eq(mrr_first_positive(m, 0), fixture_time("2024-01-01"));
	/* 5 cents × 3 / (12 × 2) in EUR, at 1.1 USD; past_due counts */
	cr_assert_float_eq(mrr_at(m, 1, MRR_T), 0.05 * 3 / 24 * 1.1, 1e-12);
	cr_assert_eq(mrr_at(m, 1, mrr_window_start(1)), 0, "it starts after t - 90d");
	cr_assert_eq(mrr_first_positive(m, 1), fixture_time("2024-02-01"));
	loaded_free(&l);
}

Test(model_rejects, trials_surveys_activity_tickets)
{
	static const char *const tcols[] = {"billing_key", "started_at", "ended_at", "converted"};
	static const char *const trows[] = {
	    "b1", "2024-01-01", "2024-01-15", "t",     /* ok */
	    NULL, "2024-01-01", NULL,	      "f",     /* null_key */
	    "b1", NULL,		NULL,	      "f",     /* null_value */
	    "b1", "2024-01-01", "soon",	      "f",     /* bad_time */
	    "b1", "2024-01-01", NULL,	      "maybe", /* bad_bool */
	    "b1", "2024-01-01", NULL,	      NULL,    /* null_value */
	    "b9", "2024-01-01", NULL,	      "false", /* ok */
	};
	static const char *const vcols[] = {"account_key", "respondent_key", "type", "score",
					    "responded_at"};
	static const char *const vrows[] = {
	    "a1", "u1", "nps",	"9",	 "2024-03-01", /* ok */
	    "a1", NULL, "nps",	"11",	 "2024-03-01", /* score_out_of_range */
	    "a1", NULL, "csat", "0",	 "2024-03-01", /* score_out_of_range */
	    "a1", NULL, "ces",	"7.5",	 "2024-03-01", /* score_out_of_range */
	    "a1", NULL, "star", "3",	 "2024-03-01", /* unknown_type */
	    "a1", NULL, "nps",	NULL,	 "2024-03-01", /* null_value */
	    "a1", NULL, "nps",	"3",	 NULL,	       /* null_value */
	    "a1", NULL, "nps",	"three", "2024-03-01", /* bad_number */
	    NULL, NULL, "nps",	"3",	 "2024-03-01", /* null_key */
	    "zz", NULL, "CES",	"1",	 "2024-03-01", /* ok, unknown account */
	};
	static const char *const ycols[] = {"account_key", "user_key", "feature", "last_active_at"};
	static const char *const yrows[] = {
	    "a1", "u1", "api",	 "2024-03-01", /* ok, feature 0 */
	    "a1", "u2", "other", "2024-03-01", /* ok, unlisted feature */
	    "a1", NULL, NULL,	 "2024-03-01", /* null_value */
	    "a1", "u3", NULL,	 NULL,	       /* null_value */
	    NULL, "u3", NULL,	 "2024-03-01", /* null_key */
	};
	static const char *const kcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};
	static const char *const krows[] = {
	    "a1", "2024-03-01", "2024-03-02", "true", /* ok */
	    "a1", "2024-03-02", "2024-03-01", "f",    /* bad_resolution */
	    "a1", NULL,		NULL,	      "f",    /* null_value */
	    "a1", "2024-03-01", NULL,	      "nope", /* bad_bool */
	    NULL, "2024-03-01", NULL,	      "f",    /* null_key */
	};
	struct loaded l;
	load_accounts(&l, KIND_HEALTH, base_accounts, 2);
	fixture_load(l.d, DS_TRIALS, tcols, 4, trows, 7);
	fixture_load(l.d, DS_SURVEYS, vcols, 5, vrows, 10);
	fixture_load(l.d, DS_ACTIVITY, ycols, 4, yrows, 5);
	fixture_load(l.d, DS_TICKETS, kcols, 4, krows, 5);
	cs_data_link(l.d);

	cr_assert_eq(fixture_rejects(l.d, "trials", "null_key"), 1);
	cr_assert_eq(fixture_rejects(l.d, "trials", "null_value"), 2);
	cr_assert_eq(fixture_rejects(l.d, "trials", "bad_time"), 1);
	cr_assert_eq(fixture_rejects(l.d, "trials", "bad_bool"), 1);
	/* the two valid trials are counted, not kept */
	cr_assert_eq(l.d->trials->rows, 2);

	cr_assert_eq(fixture_rejects(l.d, "surveys", "score_out_of_range"), 3);
	cr_assert_eq(fixture_rejects(l.d, "surveys", "unknown_type"), 1);
	cr_assert_eq(fixture_rejects(l.d, "surveys", "null_value"), 2);
	cr_assert_eq(fixture_rejects(l.d, "surveys", "bad_number"), 1);
	cr_assert_eq(fixture_rejects(l.d, "surveys", "null_key"), 1);
	/* health keeps a1's latest NPS answer (in its 90d), not the rows */
	cr_assert_eq(l.d->surveys->rows, 0);
	cr_assert_null(l.d->surveys->anon);
	double nps = -1;
	cr_assert(latest_nps(l.d->nps, 0, &nps));
	cr_assert_eq(l.d->nps->at[0], fixture_time("2024-03-01"));
	cr_assert_eq(nps, 9);
	cr_assert_not(latest_nps(l.d->nps, 1, &nps));
	/* the surveys collector folds the valid rows: a1's respondent u1 keeps
	 * its latest answer, the anonymous CES answer of an unknown account is
	 * tallied in the unknown segment */
	struct loaded sv;
	load_accounts(&sv, KIND_SURVEYS, base_accounts, 2);
	fixture_load(sv.d, DS_SURVEYS, vcols, 5, vrows, 10);
	cs_data_link(sv.d);
	cr_assert_eq(fixture_rejects(sv.d, "surveys", "score_out_of_range"), 3);
	const struct cs_survey_sums *sk = sv.d->surveys;
	cr_assert_eq(sk->rows, 2);
	cr_assert_eq(sk->nlatest, 1);
	cr_assert_eq(sk->latest[0].type, SURVEY_NPS);
	cr_assert_eq(sk->latest[0].seg, sv.d->accounts[0].seg);
	uint64_t ces = 0;
	for (size_t s = 0; s < sk->nseg; s++) {
		for (size_t w = 0; w < sk->nwin; w++) {
			const struct cs_score_tally *t = survey_tally(sk, s, w, SURVEY_CES);

			for (size_t j = 0; j < t->n; j++)
				ces += t->v[j].n;
		}
	}
	cr_assert_eq(ces, 1, "one CES answer, 31 days before t: in 90d, not in 30d");
	cr_assert_eq(sv.d->seg.n, 3, "two account segments and unknown");
	const struct cs_score_tally *unk = survey_tally(sk, 2, 1, SURVEY_CES);
	cr_assert_eq(unk->n, 1, "the unknown account's answer is in the unknown segment, 90d");
	cr_assert_null(sv.d->nps->at);
	loaded_free(&sv);

	cr_assert_eq(fixture_rejects(l.d, "activity", "null_value"), 2);
	cr_assert_eq(fixture_rejects(l.d, "activity", "null_key"), 1);
	/* Windows 30d, 90d and health's 30d; the rows are 31 days before t. */
	const struct cs_activity_counts *y = l.d->activity;
	size_t seg = l.d->accounts[0].seg, nf = l.cfg->nfeatures;
	cr_assert_eq(y->nwin, 3);
	cr_assert_eq(activity_usage_window(y), 2);
	cr_assert_eq(y->nfeat, nf);
	cr_assert_eq(y->users, 2);
	cr_assert_eq(activity_account_users(y, 0, 0), 0);
	cr_assert_eq(activity_account_users(y, 0, 1), 2);
	cr_assert_eq(activity_account_users(y, 0, 2), 0, "health's 30d");
	cr_assert_eq(activity_account_users(y, 1, 1), 0);
	cr_assert_eq(activity_seg_users(y, seg, 1), 2);
	cr_assert_eq(activity_feature_users(y, seg, 1, 0), 1, "u1 on api");
	cr_assert_eq(activity_feature_users(y, seg, 1, 1), 0, "u2's feature is unlisted");

	cr_assert_eq(fixture_rejects(l.d, "tickets", "bad_resolution"), 1);
	cr_assert_eq(fixture_rejects(l.d, "tickets", "null_value"), 1);
	cr_assert_eq(fixture_rejects(l.d, "tickets", "bad_bool"), 1);
	cr_assert_eq(fixture_rejects(l.d, "tickets", "null_key"), 1);
	/* The valid ticket, opened 2024-03-01 and resolved a day later, is in
	 * the 90d window only; it was escalated, but before health's 30d. */
	const struct cs_tickets *k = l.d->tickets;
	cr_assert_eq(k->rows, 1);
	cr_assert_eq(k->nwin, 2);
	cr_assert_eq(ticket_counts(k, seg, 0)->opened, 0);
	cr_assert_eq(ticket_counts(k, seg, 1)->opened, 1);
	cr_assert_eq(ticket_counts(k, seg, 1)->escalated, 1);
	cr_assert_eq(ticket_counts(k, seg, 1)->resolved, 1);
	cr_assert_float_eq(ticket_counts(k, seg, 1)->resolution_seconds, 86400, 1e-9);
	cr_assert_eq(ticket_escalations(k, 0), 0);
	loaded_free(&l);
}

Test(model_rejects, outcomes_by_outcome_name)
{
	static const char *const ocols[] = {"value", "account_key", "extra"};
	static const char *const orows[] = {
	    "5",   "a1", "x", /* ok */
	    NULL,  "a1", "x", /* null_value */
	    "1e3", "a2", "x", /* ok */
	    "n/a", "a2", "x", /* bad_number */
	    "3",   NULL, "x", /* null_key */
	};
	struct loaded l;
	l.cfg = fixture_config(dims2, 2);
	fixture_add_outcome(l.cfg, "emails_sent", 100, OUTCOME_AT_LEAST);
	l.d = fixture_data(l.cfg, KIND_OUTCOMES, fixture_time("2024-04-01"));
	fixture_load(l.d, DS_ACCOUNTS, acols, NACOLS, base_accounts, 2);
	fixture_load_outcome(l.d, 0, 1, ocols, 3, orows, 5);
	fixture_load_outcome(l.d, 0, 0, ocols, 3, orows, 5);
	cs_data_link(l.d);
	cr_assert_eq(fixture_rejects(l.d, "emails_sent", "null_value"), 2);
	cr_assert_eq(fixture_rejects(l.d, "emails_sent", "bad_number"), 2);
	cr_assert_eq(fixture_rejects(l.d, "emails_sent", "null_key"), 2);
	size_t n;
	const struct cs_outcome_value *v = outcome_values(l.d->outcomes, 0, 1, &n);
	cr_assert_eq(n, 2);
	cr_assert_float_eq(v[1].value, 1000.0, 1e-12);
	cr_assert_eq(v[1].account, 1);
	loaded_free(&l);
}

Test(model_rejects, missing_column_fails_begin)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2024-04-01"));
	char err[256] = "";
	static const char *const cols[] = {"account_key", "billing_key", "plan",
					   "seats",	  "started_at",	 "first_value_at"};
	cr_assert_null(cs_data_begin(d, DS_ACCOUNTS, 0, 0, 6, cols, err, sizeof(err)));
	cr_assert(strstr(err, "\"region\"") != NULL, "message: %s", err);
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* Every missing column in one message, not the first one only: a mapping
 * is fixed in one round. */
Test(model_rejects, missing_columns_all_named)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2024-04-01"));
	char err[512] = "";
	static const char *const old_acols[] = {"account_key", "customer_key", "plan",
						"seats",       "started_at",   "first_value_at"};
	cr_assert_null(cs_data_begin(d, DS_ACCOUNTS, 0, 0, 6, old_acols, err, sizeof(err)));
	cr_assert_str_eq(err, "dataset \"accounts\": missing columns \"billing_key\", "
			      "\"region\" (segment dimension); cs_exporter --config.check "
			      "--connect lists those of every dataset");
	static const char *const old_scols[] = {"customer_key",	 "amount",	   "currency",
						"interval_unit", "interval_count", "quantity",
						"status",	 "valid_from",	   "valid_to"};
	cr_assert_eq(cs_data_check_columns(cfg, DS_SUBSCRIPTIONS, "subscriptions", 9, old_scols,
					   err, sizeof(err)),
		     2);
	cr_assert_str_eq(err, "dataset \"subscriptions\": missing columns \"billing_key\", "
			      "\"amount_minor\"");
	static const char *const ocols[] = {"account_key", "value", "extra"};
	cr_assert_eq(
	    cs_data_check_columns(cfg, CS_DS_OUTCOME, "emails", 3, ocols, err, sizeof(err)), 0);
	/* The optional name column is never missing. */
	static const char *const full[] = {"account_key", "billing_key",    "plan",	 "region",
					   "seats",	  "first_value_at", "started_at"};
	cr_assert_eq(cs_data_check_columns(cfg, DS_ACCOUNTS, "accounts", 7, full, err, sizeof(err)),
		     0);
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* ------------------------------------------------------------ joins */

static const char *seg_value(const struct cs_data *d, uint32_t seg, size_t dim)
{
	cr_assert_lt(seg, d->seg.n);
	return d->seg.values[seg * d->seg.ndims + dim];
}

Test(model_join, duplicate_billing_key_lowest_account_wins)
{
	static const char *const arows[] = {
	    "acct-b", "shared", "pro",	 "eu", "1", NULL, NULL, NULL,
	    "acct-a", "shared", "basic", "us", "1", NULL, NULL, NULL,
	    "acct-c", "own",	"pro",	 "eu", "1", NULL, NULL, NULL,
	};
	static const char *const srows[] = {
	    "shared", "1000", "USD", "month", "1", "1", "active", "2024-01-01", NULL,
	};
	static const char *const kcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};
	static const char *const krows[] = {
	    "acct-b", "2024-03-01", NULL, "f", "acct-a", "2024-03-01", NULL, "f",
	};
	struct loaded l;
	load_accounts(&l, KIND_HEALTH, arows, 3);
	fixture_load(l.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 1);
	fixture_load(l.d, DS_TICKETS, kcols, 4, krows, 2);
	cs_data_link(l.d);

	cr_assert_eq(fixture_rejects(l.d, "accounts", "duplicate_billing_key"), 1);
	cr_assert_eq(l.d->naccounts, 2);
	cr_assert_str_eq(l.d->accounts[0].key, "acct-a");
	cr_assert_str_eq(l.d->accounts[1].key, "acct-c");
	/* the billing customer belongs to acct-a and its segment */
	cr_assert_eq(l.d->ncustomers, 1);
	cr_assert_eq(l.d->customers[0].account, 0);
	cr_assert_eq(l.d->accounts[0].customer, 0);
	cr_assert_str_eq(seg_value(l.d, l.d->customers[0].seg, 0), "basic");
	/* the loser's ticket falls in unknown, the winner's in its segment */
	/* the loser forms no segment: basic/us, pro/eu, unknown/unknown */
	cr_assert_eq(l.d->seg.n, 3);
	cr_assert_str_eq(seg_value(l.d, 2, 0), "unknown");
	cr_assert_str_eq(seg_value(l.d, 2, 1), "unknown");
	const struct cs_tickets *k = l.d->tickets; /* windows 30d and 90d */
	cr_assert_eq(ticket_counts(k, 0, 1)->opened, 1, "acct-a's ticket in basic/us");
	cr_assert_eq(ticket_counts(k, 1, 1)->opened, 0, "acct-b's ticket not in pro/eu");
	cr_assert_eq(ticket_counts(k, 2, 1)->opened, 1, "acct-b's ticket in unknown");
	cr_assert_eq(l.d->seg.accounts[0] + l.d->seg.accounts[1] + l.d->seg.accounts[2], 2);
	loaded_free(&l);
}

Test(model_join, null_dimension_is_unknown_in_that_dimension_only)
{
	static const char *const arows[] = {
	    "a1", "b1", NULL,  "eu", "1", NULL, NULL, NULL,
	    "a2", "b2", "pro", "eu", "1", NULL, NULL, NULL,
	};
	struct loaded l;
	load_accounts(&l, KIND_REVENUE, arows, 2);
	cs_data_link(l.d);
	cr_assert_eq(l.d->seg.n, 2);
	/* sorted by values: pro/eu before unknown/eu */
	cr_assert_str_eq(seg_value(l.d, 0, 0), "pro");
	cr_assert_str_eq(seg_value(l.d, 1, 0), "unknown");
	cr_assert_str_eq(seg_value(l.d, 1, 1), "eu");
	cr_assert_eq(l.d->accounts[0].seg, 1);
	cr_assert_eq(l.d->accounts[1].seg, 0);
	loaded_free(&l);
}

Test(model_join, unknown_segment_only_when_a_fact_falls_there)
{
	static const char *const srows_known[] = {
	    "b1", "1000", "USD", "month", "1", "1", "active", "2024-01-01", NULL,
	};
	static const char *const srows_orphan[] = {
	    "b1",     "1000", "USD", "month", "1", "1", "active",   "2024-01-01", NULL,
	    "nobody", "1000", "USD", "month", "1", "1", "canceled", "2024-01-01", NULL,
	};
	struct loaded l;
	load_accounts(&l, KIND_REVENUE, base_accounts, 2);
	fixture_load(l.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows_known, 1);
	cs_data_link(l.d);
	cr_assert_eq(l.d->seg.n, 2);
	for (uint32_t s = 0; s < l.d->seg.n; s++)
		cr_assert_str_neq(seg_value(l.d, s, 0), "unknown");
	loaded_free(&l);

	load_accounts(&l, KIND_REVENUE, base_accounts, 2);
	fixture_load(l.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows_orphan, 2);
	cs_data_link(l.d);
	cr_assert_eq(l.d->seg.n, 3);
	cr_assert_eq(l.d->customers[1].account, CS_NO_ACCOUNT);
	uint32_t u = l.d->customers[1].seg;
	cr_assert_str_eq(seg_value(l.d, u, 0), "unknown");
	cr_assert_str_eq(seg_value(l.d, u, 1), "unknown");
	cr_assert_eq(l.d->seg.accounts[u], 0);
	loaded_free(&l);
}

Test(model_join, all_null_dimensions_share_the_unknown_segment)
{
	static const char *const arows[] = {
	    "a1", "b1", NULL,  NULL, "1", NULL, NULL, NULL,
	    "a2", "b2", "pro", "eu", "1", NULL, NULL, NULL,
	};
	static const char *const srows[] = {
	    "b1",     "1000", "USD", "month", "1", "1", "active", "2024-01-01", NULL,
	    "orphan", "1000", "USD", "month", "1", "1", "active", "2024-01-01", NULL,
	};
	struct loaded l;
	load_accounts(&l, KIND_REVENUE, arows, 2);
	fixture_load(l.d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 2);
	cs_data_link(l.d);
	cr_assert_eq(l.d->seg.n, 2);
	cr_assert_eq(l.d->customers[0].seg, l.d->customers[1].seg);
	cr_assert_eq(l.d->seg.accounts[l.d->customers[0].seg], 1);
	loaded_free(&l);
}

/* Accounts per plan: p5 5, p3b 3, p3a 3 (a tie), p1a 1, p1b 1. */
static void fold_accounts(struct loaded *l, size_t cap, bool with_unknown)
{
	static const int counts[] = {5, 3, 3, 1, 1};
	static const char *const tiep[] = {"p5", "p3b", "p3a", "p1a", "p1b"};
	char keys[32][16];
	const char *rows[32 * NACOLS];
	size_t n = 0;
	for (size_t p = 0; p < 5; p++) {
		for (int i = 0; i < counts[p]; i++, n++) {
			snprintf(keys[n], sizeof(keys[n]), "a%02zu", n);
			const char *r[NACOLS] = {keys[n], NULL, tiep[p], "eu",
						 "1",	  NULL, NULL,	 NULL};
			memcpy(rows + n * NACOLS, r, sizeof(r));
		}
	}
	if (with_unknown) {
		const char *r[NACOLS] = {"zz", NULL, NULL, NULL, "1", NULL, NULL, NULL};
		memcpy(rows + n * NACOLS, r, sizeof(r));
		n++;
	}
	l->cfg = fixture_config(dims2, 2);
	l->cfg->max_segments = cap;
	l->d = fixture_data(l->cfg, KIND_REVENUE, fixture_time("2024-04-01"));
	fixture_load(l->d, DS_ACCOUNTS, acols, NACOLS, rows, n);
	cs_data_link(l->d);
}

Test(model_fold, keeps_largest_and_folds_rest_into_other)
{
	struct loaded l;
	fold_accounts(&l, 3, false);
	/* keep 2: p5 (5 accounts) and p3a (3, wins the tie with p3b by name) */
	cr_assert_eq(l.d->seg.folded, 3);
	cr_assert_eq(l.d->seg.n, 3);
	cr_assert_str_eq(seg_value(l.d, 0, 0), "p3a");
	cr_assert_eq(l.d->seg.accounts[0], 3);
	cr_assert_str_eq(seg_value(l.d, 1, 0), "p5");
	cr_assert_eq(l.d->seg.accounts[1], 5);
	cr_assert_str_eq(seg_value(l.d, 2, 0), "other");
	cr_assert_str_eq(seg_value(l.d, 2, 1), "other");
	cr_assert_eq(l.d->seg.accounts[2], 5);
	for (size_t i = 0; i < l.d->naccounts; i++) {
		const char *plan = seg_value(l.d, l.d->accounts[i].seg, 0);
		cr_assert(strcmp(plan, "p3b") && strcmp(plan, "p1a") && strcmp(plan, "p1b"));
	}
	loaded_free(&l);
}

Test(model_fold, no_fold_at_or_below_cap)
{
	struct loaded l;
	fold_accounts(&l, 5, false);
	cr_assert_eq(l.d->seg.folded, 0);
	cr_assert_eq(l.d->seg.n, 5);
	/* byte order of values */
	cr_assert_str_eq(seg_value(l.d, 0, 0), "p1a");
	cr_assert_str_eq(seg_value(l.d, 4, 0), "p5");
	loaded_free(&l);
}

Test(model_fold, unknown_is_never_folded_nor_counted)
{
	struct loaded l;
	fold_accounts(&l, 5, true);
	/* five combinations plus the all-NULL account: still within the cap of 5 */
	cr_assert_eq(l.d->seg.folded, 0);
	cr_assert_eq(l.d->seg.n, 6);
	loaded_free(&l);

	fold_accounts(&l, 2, true);
	cr_assert_eq(l.d->seg.folded, 4);
	cr_assert_eq(l.d->seg.n, 3); /* p5, unknown, other */
	bool saw_unknown = false;
	for (uint32_t s = 0; s < l.d->seg.n; s++)
		if (!strcmp(seg_value(l.d, s, 0), "unknown")) {
			saw_unknown = true;
			cr_assert_eq(l.d->seg.accounts[s], 1);
		}
	cr_assert(saw_unknown);
	loaded_free(&l);
}

Test(model_emit, segment_labels_then_pairs)
{
	struct loaded l;
	load_accounts(&l, KIND_REVENUE, base_accounts, 2);
	cs_data_link(l.d);
	struct mset *m = mset_new();
	static const struct cs_family def = {
	    .name = "cs_test_value", .type = METRIC_GAUGE, .labels = {"window"}, .help = "test"};
	struct cs_emitter f = family_of(m, l.d, &def);
	emit(&f, 1, 42.5, "30d", NULL);
	bool found = false;
	double v = fixture_value(
	    m, "cs_test_value",
	    (const char *const[]){"plan", "pro", "region", "eu", "window", "30d", NULL}, &found);
	cr_assert(found);
	cr_assert_float_eq(v, 42.5, 1e-12);
	fixture_value(m, "cs_test_value",
		      (const char *const[]){"plan", "basic", "region", "us", "window", "30d", NULL},
		      &found);
	cr_assert_not(found);
	mset_free(m);
	loaded_free(&l);
}

Test(model_kinds, table_in_enum_order)
{
	for (size_t k = 0; k < KIND_COUNT; k++) {
		cr_assert_eq(collector_kinds[k].kind, (enum cs_kind)k);
		cr_assert_not_null(collector_kinds[k].compute);
		cr_assert_not_null(collector_kinds[k].name);
	}
	/* revenue's compute writes revenue.c's and payments.c's families
	 * (tests/unit/test_payments.c) */
	/* revenue computes two files' families: revenue.c's and movers.c's */
	bool movers = false;
	for (const struct cs_family *const *t = collector_kinds[KIND_REVENUE].families; *t; t++)
		movers = movers || *t == mover_families;
	cr_assert(movers, "the revenue kind emits the movers");
	cr_assert_eq(collector_kinds[KIND_TRIALS].compute, kpi_trials);
	cr_assert_eq(collector_kinds[KIND_HEALTH].compute, kpi_health);
}

Test(model_query, activity_is_sent_sorted_by_its_keys_and_the_others_as_written)
{
	char *a = cs_dataset_query(DS_ACTIVITY, "SELECT 1 -- comment;\n ;");
	char *t = cs_dataset_query(DS_TICKETS, "SELECT 2");

	cr_expect_str_eq(a, "SELECT * FROM (\nSELECT 1 -- comment\n) AS cs_activity ORDER BY "
			    "account_key::text COLLATE \"C\", user_key::text COLLATE \"C\"");
	cr_expect_str_eq(t, "SELECT 2");
	free(a);
	free(t);
}
