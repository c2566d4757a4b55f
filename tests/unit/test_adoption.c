#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const xcols[] = {"account_key", "user_key", "feature", "last_active_at"};

#define AS_OF  "2024-04-01"
#define RECENT "2024-03-20 10:00:00+00" /* in 30d and 90d */
#define OLDER  "2024-02-01 10:00:00+00" /* in 90d only */

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_adoption(struct run *r, const char *const *arows, size_t na,
			 const char *const *xrows, size_t nx)
{
	r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_ADOPTION, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, arows, na);
	fixture_load(r->d, DS_ACTIVITY, xcols, 4, xrows, nx);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_adoption(r->d, &r->cfg->collectors[KIND_ADOPTION], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

/* Value of family{plan, window[, feature]}; window NULL for cs_seats. */
static double get(const struct run *r, const char *family, const char *plan, const char *window,
		  const char *feature, bool *found)
{
	const char *pairs[7] = {"plan", plan, NULL, NULL, NULL, NULL, NULL};
	size_t n = 2;

	if (window) {
		pairs[n++] = "window";
		pairs[n++] = window;
	}
	if (feature) {
		pairs[n++] = "feature";
		pairs[n++] = feature;
	}
	return fixture_value(r->m, family, pairs, found);
}

static double must(const struct run *r, const char *family, const char *plan, const char *window,
		   const char *feature)
{
	bool found = false;
	double v = get(r, family, plan, window, feature, &found);

	cr_assert(found, "no %s{plan=%s,window=%s,feature=%s}", family, plan, window ? window : "-",
		  feature ? feature : "-");
	return v;
}

static const char *const accounts[] = {
    "a1", NULL, "pro",	 "10", NULL, NULL, /* */
    "a2", NULL, "pro",	 "5",  NULL, NULL, /* */
    "a4", NULL, "pro",	 "0",  NULL, NULL, /* seatless, same segment */
    "a3", NULL, "basic", NULL, NULL, NULL,
};

Test(kpis_adoption, active_users_and_unlisted_feature)
{
	static const char *const rows[] = {
	    "a1", "u1", "api",	   RECENT, /* u1 uses two features: one user */
	    "a1", "u1", "reports", OLDER,  /* */
	    "a1", "u2", NULL,	   RECENT, /* any feature */
	    "a1", "u3", "billing", RECENT, /* unlisted feature: active, no feature */
	    "a2", "u1", "api",	   OLDER,  /* same key, other account: other user */
	    "a3", "u9", "reports", RECENT,
	};
	struct run r;
	bool found;

	run_adoption(&r, accounts, 4, rows, 6);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "30d", NULL), 3);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "90d", NULL), 4);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "30d", "api"), 1);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "30d", "reports"), 0);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "90d", "api"), 2);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "90d", "reports"), 1);
	cr_assert_float_eq(must(&r, "cs_feature_adoption_ratio", "pro", "30d", "api"), 1.0 / 3,
			   1e-12);
	cr_assert_float_eq(must(&r, "cs_feature_adoption_ratio", "pro", "90d", "api"), 0.5, 1e-12);
	/* an unlisted feature never becomes a label value */
	get(&r, "cs_feature_active_users", "pro", "30d", "billing", &found);
	cr_assert_not(found);
	cr_assert_eq(must(&r, "cs_feature_active_users", "basic", "30d", "reports"), 1);
	run_free(&r);
}

Test(kpis_adoption, utilisation_excludes_seatless_accounts)
{
	static const char *const rows[] = {
	    "a1", "u1", "api", RECENT, /* */
	    "a1", "u2", "api", RECENT, /* */
	    "a2", "u1", "api", RECENT, /* */
	    "a4", "u1", "api", RECENT, /* seatless: active, not a seat used */
	    "a4", "u2", "api", RECENT, /* */
	    "a3", "u1", "api", RECENT,
	};
	struct run r;
	bool found;

	run_adoption(&r, accounts, 4, rows, 6);
	cr_assert_eq(must(&r, "cs_seats", "pro", NULL, NULL), 15);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "30d", NULL), 5);
	cr_assert_eq(must(&r, "cs_seats_used", "pro", "30d", NULL), 3);
	cr_assert_float_eq(must(&r, "cs_license_utilization_ratio", "pro", "30d", NULL), 0.2,
			   1e-12);
	/* basic has no seats: zero seats, no ratio */
	cr_assert_eq(must(&r, "cs_seats", "basic", NULL, NULL), 0);
	cr_assert_eq(must(&r, "cs_seats_used", "basic", "30d", NULL), 0);
	get(&r, "cs_license_utilization_ratio", "basic", "30d", NULL, &found);
	cr_assert_not(found);
	run_free(&r);
}

Test(kpis_adoption, no_activity_omits_adoption_ratio)
{
	struct run r;
	bool found;

	run_adoption(&r, accounts, 4, NULL, 0);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "30d", NULL), 0);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "30d", "api"), 0);
	get(&r, "cs_feature_adoption_ratio", "pro", "30d", "api", &found);
	cr_assert_not(found);
	cr_assert_float_eq(must(&r, "cs_license_utilization_ratio", "pro", "30d", NULL), 0, 1e-12);
	run_free(&r);
}

Test(kpis_adoption, unknown_account_activity)
{
	static const char *const rows[] = {
	    "zz", "u1", "api", RECENT,			 /* */
	    "zz", "u1", NULL,  RECENT,			 /* the same user, another feature row */
	    "a1", "u1", "api", "2024-04-01 00:00:00+00", /* at t: outside the window */
	};
	struct run r;

	run_adoption(&r, accounts, 4, rows, 3);
	cr_assert_eq(must(&r, "cs_active_users", "unknown", "30d", NULL), 1);
	cr_assert_eq(must(&r, "cs_feature_active_users", "unknown", "30d", "api"), 1);
	cr_assert_eq(must(&r, "cs_seats", "unknown", NULL, NULL), 0);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "30d", NULL), 0);
	run_free(&r);
}

Test(kpis_adoption, unknown_accounts_keep_their_users_apart)
{
	/* The same user key under two unknown account keys is two users, as
	 * under two known accounts. */
	static const char *const rows[] = {
	    "zz", "u1", "api", RECENT, /* */
	    "zy", "u1", "api", RECENT, /* */
	    "zy", "u1", NULL,  OLDER,  /* the same user as the row above */
	};
	struct run r;

	run_adoption(&r, accounts, 4, rows, 3);
	cr_assert_eq(must(&r, "cs_active_users", "unknown", "30d", NULL), 2);
	cr_assert_eq(must(&r, "cs_active_users", "unknown", "90d", NULL), 2);
	cr_assert_eq(must(&r, "cs_feature_active_users", "unknown", "30d", "api"), 2);
	run_free(&r);
}

Test(kpis_adoption, unknown_accounts_join_an_all_null_combination)
{
	/* a5 has no plan, so "unknown" is an account combination of its own;
	 * users of unknown account keys land in the same segment. */
	static const char *const with_null[] = {
	    "a1", NULL, "pro", "10", NULL, NULL, /* */
	    "a5", NULL, NULL,  "4",  NULL, NULL, /* */
	};
	static const char *const rows[] = {
	    "a5", "u1", "api", RECENT, /* */
	    "zz", "u1", "api", RECENT, /* */
	    "zz", "u2", NULL,  OLDER,  /* */
	};
	struct run r;

	run_adoption(&r, with_null, 2, rows, 3);
	cr_assert_eq(must(&r, "cs_active_users", "unknown", "30d", NULL), 2);
	cr_assert_eq(must(&r, "cs_active_users", "unknown", "90d", NULL), 3);
	cr_assert_eq(must(&r, "cs_feature_active_users", "unknown", "30d", "api"), 2);
	cr_assert_eq(must(&r, "cs_seats_used", "unknown", "90d", NULL), 1, "only a5 has seats");
	cr_assert_eq(must(&r, "cs_seats", "unknown", NULL, NULL), 4);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "90d", NULL), 0);
	run_free(&r);
}

Test(kpis_adoption, rows_out_of_order_fail_the_dataset)
{
	/* The exporter asks PostgreSQL for (account_key, user_key) order; a
	 * stream that breaks it would count a user twice, so it is refused. */
	static const char *const rows[][4] = {
	    {"a1", "u2", "api", RECENT}, {"a1", "u2", NULL, RECENT}, {"a2", "u1", NULL, RECENT},
	    {"a1", "u1", NULL, RECENT},	 {"a0", "u9", NULL, RECENT},
	};
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, fixture_time(AS_OF));
	char err[256] = "";

	fixture_load(d, DS_ACCOUNTS, acols, 6, accounts, 4);
	struct cs_stream *in = cs_data_begin(d, DS_ACTIVITY, 0, 0, 4, xcols, err, sizeof(err));
	cr_assert_not_null(in, "%s", err);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cs_data_row(in, rows[i]);
	cr_assert_eq(cs_data_end(in, err, sizeof(err)), -1);
	cr_assert(strstr(err, "row 4 is out of order"), "%s", err);
	cs_data_free(d);
	fixture_free_config(cfg);
}

static double ttv(const struct run *r, const char *sample, const char *window, const char *le)
{
	bool found = false;
	const char *pairs[] = {"plan", "pro", "window", window, le ? "le" : NULL, le, NULL};
	double v = fixture_value(r->m, sample, pairs, &found);

	cr_assert(found, "no %s{window=%s,le=%s}", sample, window, le ? le : "-");
	return v;
}

Test(kpis_adoption, time_to_value_buckets_pending_rejected)
{
	static const char *const arows[] = {
	    "t1", NULL, "pro", NULL, "2024-03-10", "2024-03-10 12:00:00+00", /* 0.5d */
	    "t2", NULL, "pro", NULL, "2024-03-10", "2024-03-11",	     /* exactly 1d */
	    "t3", NULL, "pro", NULL, "2024-03-05", "2024-03-15",	     /* 10d */
	    "t4", NULL, "pro", NULL, "2024-03-20", NULL,		     /* pending */
	    "t5", NULL, "pro", NULL, "2024-03-20", "2024-04-01",	     /* at t: pending */
	    "t6", NULL, "pro", NULL, "2024-03-20", "2024-03-19",	     /* rejected */
	    "t7", NULL, "pro", NULL, "2024-01-15", "2024-03-01",	     /* 46d, 90d only */
	    "t8", NULL, "pro", NULL, NULL,	   "2024-03-01",	     /* never started */
	};
	struct run r;

	run_adoption(&r, arows, 8, NULL, 0);
	cr_assert_eq(fixture_rejects(r.d, "accounts", "value_before_start"), 1);

	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_gcount", "30d", NULL), 3);
	cr_assert_float_eq(ttv(&r, "cs_time_to_value_seconds_gsum", "30d", NULL),
			   43200.0 + 86400.0 + 864000.0, 1e-6);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "30d", "86400"), 2);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "30d", "604800"), 2);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "30d", "1209600"), 3);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "30d", "+Inf"), 3);
	cr_assert_eq(ttv(&r, "cs_time_to_value_pending_accounts", "30d", NULL), 2);

	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_gcount", "90d", NULL), 4);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "90d", "2592000"), 3);
	cr_assert_eq(ttv(&r, "cs_time_to_value_seconds_bucket", "90d", "5184000"), 4);
	cr_assert_eq(ttv(&r, "cs_time_to_value_pending_accounts", "90d", NULL), 2);
	run_free(&r);
}

Test(kpis_adoption, many_users_repeated_feature_rows)
{
	enum { USERS = 3000 };
	static char keys[USERS][16];
	static const char *rows[USERS * 3 * 4];
	size_t n = 0;
	struct run r;

	for (int u = 0; u < USERS; u++) {
		/* even users: api recently; odd users: api only long ago. The
		 * repeated (user, api) row must not hide the latest one. */
		const char *api_first = u % 2 ? OLDER : RECENT;
		const char *const user_rows[3][4] = {
		    {"a1", keys[u], "api", OLDER},
		    {"a1", keys[u], "api", api_first},
		    {"a1", keys[u], NULL, RECENT},
		};

		snprintf(keys[u], sizeof(keys[u]), "u%d", u);
		for (int k = 0; k < 3; k++, n++)
			memcpy(&rows[n * 4], user_rows[k], sizeof(user_rows[k]));
	}
	run_adoption(&r, accounts, 4, rows, n);
	cr_assert_eq(must(&r, "cs_active_users", "pro", "30d", NULL), USERS);
	cr_assert_eq(must(&r, "cs_seats_used", "pro", "30d", NULL), USERS);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "30d", "api"), USERS / 2);
	cr_assert_eq(must(&r, "cs_feature_active_users", "pro", "90d", "api"), USERS);
	cr_assert_float_eq(must(&r, "cs_license_utilization_ratio", "pro", "30d", NULL),
			   USERS / 15.0, 1e-9);
	run_free(&r);
}
