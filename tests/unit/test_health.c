#include <criterion/criterion.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key",    "plan", "seats",
				    "started_at",  "first_value_at", "name"};
static const char *const scols[] = {"account_key", "respondent_key", "type", "score",
				    "responded_at"};
static const char *const xcols[] = {"account_key", "user_key", "feature", "last_active_at"};
static const char *const tcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};

#define AS_OF	 "2024-04-01"
#define RECENT	 "2024-03-20 10:00:00+00"
#define LONG_AGO "2023-01-01"

/* $100/month since long ago, still running. */
#define STEADY(b) b, "10000", "USD", "month", "1", "1", "active", LONG_AGO, NULL

struct rows {
	const char *const *v;
	size_t n; /* cells, not rows */
};

struct health_input {
	struct rows accounts, subs, surveys, activity, tickets;
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_health(struct run *r, struct cs_config *cfg, const struct health_input *in)
{
	r->cfg = cfg;
	r->d = fixture_data(cfg, KIND_HEALTH, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, acols, 7, in->accounts.v, in->accounts.n / 7);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, in->subs.v,
		     in->subs.n / 9);
	fixture_load(r->d, DS_SURVEYS, scols, 5, in->surveys.v, in->surveys.n / 5);
	fixture_load(r->d, DS_ACTIVITY, xcols, 4, in->activity.v, in->activity.n / 4);
	fixture_load(r->d, DS_TICKETS, tcols, 4, in->tickets.v, in->tickets.n / 4);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_health(r->d, &r->cfg->collectors[KIND_HEALTH], r->m);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
}

static struct cs_config *config(void)
{
	return fixture_config(dims, 1);
}

static double band(const struct run *r, const char *plan, const char *b)
{
	bool found = false;
	double v = fixture_value(r->m, "cs_accounts_by_health",
				 (const char *const[]){"plan", plan, "band", b, NULL}, &found);

	cr_assert(found, "no cs_accounts_by_health{plan=%s,band=%s}", plan, b);
	return v;
}

static double at_risk(const struct run *r, const char *plan, const char *account, const char *name,
		      const char *b, bool *found)
{
	return fixture_value(r->m, "cs_at_risk_account_score",
			     (const char *const[]){"plan", plan, "account", account, "name", name,
						   "band", b, "renewal_at", "", NULL},
			     found);
}

static double hist(const struct run *r, const char *sample, const char *plan, const char *le)
{
	bool found = false;
	double v = fixture_value(
	    r->m, sample, (const char *const[]){"plan", plan, le ? "le" : NULL, le, NULL}, &found);

	cr_assert(found, "no %s{plan=%s,le=%s}", sample, plan, le ? le : "-");
	return v;
}

#define ROWS(a) ((struct rows){(a), sizeof(a) / sizeof((a)[0])})

Test(kpis_health, vector_77_5_green)
{
	static const char *const accounts[] = {"h1", "b1", "pro", "10", NULL, NULL, "Acme"};
	static const char *const subs[] = {STEADY("b1")};
	static const char *const surveys[] = {
	    "h1", "r1", "nps", "3",  "2024-02-01", /* older detractor */
	    "h1", "r2", "nps", "10", RECENT,	   /* latest: promoter */
	};
	static const char *const activity[] = {
	    "h1", "u1", "api", RECENT,	     "h1", "u1", "reports", RECENT, /* one user */
	    "h1", "u2", NULL,  RECENT,	     "h1", "u3", "api",	    RECENT, /* */
	    "h1", "u4", NULL,  RECENT,	     "h1", "u5", NULL,	    RECENT, /* 5 of 10 seats */
	    "h1", "u6", NULL,  "2024-02-15",				    /* outside 30d */
	};
	static const char *const tickets[] = {
	    "h1", "2024-03-10", NULL, "t", /* the one escalation */
	    "h1", "2024-03-11", NULL, "f", /* */
	    "h1", "2024-02-10", NULL, "t", /* outside 30d */
	};
	struct health_input in = {ROWS(accounts), ROWS(subs), ROWS(surveys), ROWS(activity),
				  ROWS(tickets)};
	struct run r;
	bool found;

	run_health(&r, config(), &in);
	cr_assert_float_eq(at_risk(&r, "pro", "h1", "Acme", "green", &found), 77.5, 1e-9);
	cr_assert(found);
	cr_assert_eq(band(&r, "pro", "green"), 1);
	cr_assert_eq(band(&r, "pro", "yellow"), 0);
	cr_assert_eq(band(&r, "pro", "unknown"), 0);
	cr_assert_eq(hist(&r, "cs_health_score_gcount", "pro", NULL), 1);
	cr_assert_float_eq(hist(&r, "cs_health_score_gsum", "pro", NULL), 77.5, 1e-9);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "70"), 0);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "80"), 1);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "+Inf"), 1);
	run_free(&r);
}

Test(kpis_health, renormalises_over_defined_components)
{
	static const char *const accounts[] = {
	    "d1", "b1", "pro", NULL, NULL, NULL, NULL, /* support + billing */
	    "d2", "b2", "pro", NULL, NULL, NULL, NULL, /* support only (new customer) */
	};
	static const char *const subs[] = {
	    "b1", "10000", "USD", "month", "1", "1", "active", LONG_AGO,     "2024-03-01",
	    "b1", "5000",  "USD", "month", "1", "1", "active", "2024-03-01", NULL,
	    "b2", "10000", "USD", "month", "1", "1", "active", "2024-03-15", NULL,
	};
	struct health_input in = {ROWS(accounts), ROWS(subs), {NULL, 0}, {NULL, 0}, {NULL, 0}};
	struct run r;
	bool found;

	run_health(&r, config(), &in);
	/* (15 * 100 + 20 * 50) / (15 + 20) */
	cr_assert_float_eq(at_risk(&r, "pro", "d1", "", "yellow", &found), 2500.0 / 35, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(at_risk(&r, "pro", "d2", "", "green", &found), 100, 1e-9);
	cr_assert(found);
	run_free(&r);
}

Test(kpis_health, band_edges_exactly_50_and_75)
{
	static const char *const accounts[] = {
	    "e1", "b1", "pro", NULL, NULL, NULL, NULL, /* support 100, passive 50 -> 75 */
	    "e2", "b2", "pro", NULL, NULL, NULL, NULL, /* support 50 -> 50 */
	    "e3", "b3", "pro", NULL, NULL, NULL, NULL, /* support 0 -> 0 */
	};
	static const char *const subs[] = {STEADY("b1"), STEADY("b2"), STEADY("b3")};
	static const char *const surveys[] = {"e1", NULL, "nps", "8", RECENT};
	static const char *const tickets[] = {
	    "e2", "2024-03-10", NULL, "t", /* */
	    "e3", "2024-03-10", NULL, "t", /* */
	    "e3", "2024-03-12", NULL, "t",
	};
	struct health_input in = {
	    ROWS(accounts), ROWS(subs), ROWS(surveys), {NULL, 0}, ROWS(tickets)};
	struct cs_config *cfg = config();
	struct run r;
	bool found;

	/* only sentiment and support; green_from a hair above 75 is still equal */
	cfg->kinds->health.w_billing = 0;
	cfg->kinds->health.w_sentiment = 1;
	cfg->kinds->health.w_support = 1;
	cfg->kinds->health.green_from = 75 * (1 + 1e-12);
	run_health(&r, cfg, &in);
	cr_assert_float_eq(at_risk(&r, "pro", "e1", "", "green", &found), 75, 1e-9);
	cr_assert(found, "75 is green");
	cr_assert_float_eq(at_risk(&r, "pro", "e2", "", "yellow", &found), 50, 1e-9);
	cr_assert(found, "50 is yellow");
	cr_assert_float_eq(at_risk(&r, "pro", "e3", "", "red", &found), 0, 1e-9);
	cr_assert(found);
	cr_assert_eq(band(&r, "pro", "green"), 1);
	cr_assert_eq(band(&r, "pro", "yellow"), 1);
	cr_assert_eq(band(&r, "pro", "red"), 1);
	/* bucket edges are inclusive: 50 falls in le=50, 0 in le=10 */
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "10"), 1);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "40"), 1);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "50"), 2);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "70"), 2);
	cr_assert_eq(hist(&r, "cs_health_score_bucket", "pro", "80"), 3);
	run_free(&r);
}

Test(kpis_health, at_risk_order_ties_and_limit)
{
	static const char *const accounts[] = {
	    "k_d", "b4", "pro",	  NULL, NULL, NULL, "Delta", /* 100 */
	    "k_b", "b2", "basic", NULL, NULL, NULL, "Beta",  /* 0 */
	    "k_c", "b3", "pro",	  NULL, NULL, NULL, "Gamma", /* 50 */
	    "k_a", "b1", "pro",	  NULL, NULL, NULL, NULL,    /* 0, same as k_b */
	};
	static const char *const subs[] = {STEADY("b1"), STEADY("b2"), STEADY("b3"), STEADY("b4")};
	static const char *const tickets[] = {
	    "k_a", "2024-03-10", NULL, "t", "k_a", "2024-03-11", NULL, "t", /* */
	    "k_b", "2024-03-10", NULL, "t", "k_b", "2024-03-11", NULL, "t", /* */
	    "k_c", "2024-03-10", NULL, "t",
	};
	struct health_input in = {ROWS(accounts), ROWS(subs), {NULL, 0}, {NULL, 0}, ROWS(tickets)};
	struct cs_config *cfg = config();
	struct run r;
	bool found;

	cfg->kinds->health.at_risk = 2;
	cfg->kinds->health.w_billing = 0; /* support alone decides: 0, 50 or 100 */
	run_health(&r, cfg, &in);
	cr_assert_eq(at_risk(&r, "pro", "k_a", "", "red", &found), 0);
	cr_assert(found, "k_a is listed");
	cr_assert_eq(at_risk(&r, "basic", "k_b", "Beta", "red", &found), 0);
	cr_assert(found, "k_b is listed across segments");
	at_risk(&r, "pro", "k_c", "Gamma", "yellow", &found);
	cr_assert_not(found, "only the 2 lowest are listed");
	run_free(&r);

	/* with one slot, the tie goes to the lower key */
	cfg = config();
	cfg->kinds->health.at_risk = 1;
	cfg->kinds->health.w_billing = 0;
	run_health(&r, cfg, &in);
	at_risk(&r, "pro", "k_a", "", "red", &found);
	cr_assert(found);
	at_risk(&r, "basic", "k_b", "Beta", "red", &found);
	cr_assert_not(found);
	run_free(&r);

	cfg = config();
	cfg->kinds->health.at_risk = 0;
	cfg->kinds->health.w_billing = 0;
	run_health(&r, cfg, &in);
	at_risk(&r, "pro", "k_a", "", "red", &found);
	cr_assert_not(found, "0 turns the list off");
	cr_assert_eq(band(&r, "pro", "red"), 1);
	run_free(&r);
}

Test(kpis_health, unknown_band_and_unscored_accounts)
{
	static const char *const accounts[] = {
	    "u1", "b1", "pro", NULL, NULL, NULL, NULL, /* scored, nothing defined */
	    "u2", "b2", "pro", "5",  NULL, NULL, NULL, /* canceled: MRR 0, not scored */
	    "u3", NULL, "pro", "5",  NULL, NULL, NULL, /* no billing customer */
	};
	static const char *const subs[] = {
	    "b1", "10000", "USD", "month", "1", "1", "active",	 "2024-03-15", NULL,
	    "b2", "10000", "USD", "month", "1", "1", "canceled", LONG_AGO,     NULL,
	};
	struct health_input in = {ROWS(accounts), ROWS(subs), {NULL, 0}, {NULL, 0}, {NULL, 0}};
	struct cs_config *cfg = config();
	struct run r;
	bool found;

	cfg->kinds->health.w_support = 0;
	run_health(&r, cfg, &in);
	cr_assert_eq(band(&r, "pro", "unknown"), 1);
	cr_assert_eq(band(&r, "pro", "green") + band(&r, "pro", "yellow") + band(&r, "pro", "red"),
		     0);
	cr_assert_eq(hist(&r, "cs_health_score_gcount", "pro", NULL), 0);
	at_risk(&r, "pro", "u1", "", "unknown", &found);
	cr_assert_not(found, "accounts without a score are not listed");
	run_free(&r);
}

Test(kpis_health, unknown_segment_attribution)
{
	static const char *const accounts[] = {
	    "n1", "b1", NULL,  NULL, NULL, NULL, "Nameless plan", /* plan NULL -> unknown */
	    "n2", "b2", "pro", NULL, NULL, NULL, NULL,
	};
	static const char *const subs[] = {STEADY("b1"), STEADY("b2"), STEADY("orphan")};
	static const char *const tickets[] = {"zz", "2024-03-10", NULL, "t"};
	struct health_input in = {ROWS(accounts), ROWS(subs), {NULL, 0}, {NULL, 0}, ROWS(tickets)};
	struct run r;
	bool found;

	run_health(&r, config(), &in);
	/* n1 scores in "unknown"; the orphan billing customer is no CRM account */
	cr_assert_eq(band(&r, "unknown", "green"), 1);
	cr_assert_eq(band(&r, "pro", "green"), 1);
	cr_assert_eq(hist(&r, "cs_health_score_gcount", "unknown", NULL), 1);
	cr_assert_float_eq(at_risk(&r, "unknown", "n1", "Nameless plan", "green", &found), 100,
			   1e-9);
	cr_assert(found);
	run_free(&r);
}

Test(kpis_health, sentiment_is_the_latest_nps_answer_in_its_window)
{
	/* No seats (usage undefined) and no tickets: score = (25 × sentiment +
	 * 15 × 100 + 20 × 100) / 60, or 100 without a sentiment. */
	static const char *const accounts[] = {
	    "h1", "b1", "pro", NULL, NULL, NULL, "A", /* */
	    "h2", "b2", "pro", NULL, NULL, NULL, "B", /* */
	    "h3", "b3", "pro", NULL, NULL, NULL, "C",
	};
	static const char *const subs[] = {STEADY("b1"), STEADY("b2"), STEADY("b3")};
	static const char *const surveys[] = {
	    "h1", "r1", "nps",	"5",  RECENT,		     /* a tie at one instant: */
	    "h1", "r2", "nps",	"9",  RECENT,		     /* the higher score wins */
	    "h2", "r1", "nps",	"10", "2024-02-01",	     /* older promoter */
	    "h2", "r2", "nps",	"3",  RECENT,		     /* latest: detractor */
	    "h2", "r3", "csat", "5",  "2024-03-25",	     /* not NPS */
	    "h2", "r4", "nps",	"10", "2024-04-01 00:00:00", /* at t: outside */
	    "h3", "r1", "nps",	"0",  "2023-12-01",	     /* before the 90d window */
	};
	struct health_input in = {ROWS(accounts), ROWS(subs), ROWS(surveys), {NULL, 0}, {NULL, 0}};
	struct run r;
	bool found;

	run_health(&r, config(), &in);
	cr_assert_float_eq(at_risk(&r, "pro", "h1", "A", "green", &found), 100, 1e-9);
	cr_assert(found, "h1");
	cr_assert_float_eq(at_risk(&r, "pro", "h2", "B", "yellow", &found), 3500.0 / 60, 1e-9);
	cr_assert(found, "h2");
	cr_assert_float_eq(at_risk(&r, "pro", "h3", "C", "green", &found), 100, 1e-9);
	cr_assert(found, "h3");
	run_free(&r);
}

/* $amount/month (in cents) since long ago, still running. */
#define PAYING(b, cents) b, cents, "USD", "month", "1", "1", "active", LONG_AGO, NULL

static double at_risk_mrr(const struct run *r, const char *plan, const char *account,
			  const char *name, bool *found)
{
	return fixture_value(r->m, "cs_at_risk_account_mrr",
			     (const char *const[]){"plan", plan, "account", account, "name", name,
						   "currency", "USD", NULL},
			     found);
}

/*
 * Two red Enterprise accounts at $2,000 and $900, a red Starter at $50
 * scoring lower than both, a yellow Starter at $5,000, a green at $9,000:
 * by score the Starter leads; by MRR red comes first, richest first, and a
 * yellow account only after every red one.
 */
static const char *const rank_accounts[] = {
    "e_big",   "b1", "enterprise", NULL, NULL, NULL, "Big Corp",   /* red 0, $2,000 */
    "e_mid",   "b2", "enterprise", NULL, NULL, NULL, "Mid Corp",   /* red 0, $900 */
    "s_small", "b3", "starter",	   NULL, NULL, NULL, "Small shop", /* red 0, $50 */
    "s_rich",  "b4", "starter",	   NULL, NULL, NULL, "Rich shop",  /* yellow 50, $5,000 */
    "g_happy", "b5", "enterprise", NULL, NULL, NULL, "Happy",	   /* green 100, $9,000 */
};
static const char *const rank_subs[] = {
    PAYING("b1", "200000"), PAYING("b2", "90000"),  PAYING("b3", "5000"),
    PAYING("b4", "500000"), PAYING("b5", "900000"),
};
static const char *const rank_tickets[] = {
    "e_big",   "2024-03-10", NULL, "t", "e_big",   "2024-03-11", NULL, "t", /* */
    "e_mid",   "2024-03-10", NULL, "t", "e_mid",   "2024-03-11", NULL, "t", /* */
    "s_small", "2024-03-10", NULL, "t", "s_small", "2024-03-11", NULL, "t", /* */
    "s_rich",  "2024-03-10", NULL, "t",
};

static void run_rank(struct run *r, int n, bool by_mrr, bool per_segment)
{
	struct health_input in = {
	    ROWS(rank_accounts), ROWS(rank_subs), {NULL, 0}, {NULL, 0}, ROWS(rank_tickets)};
	struct cs_config *cfg = config();

	cfg->kinds->health.at_risk = n;
	cfg->kinds->health.at_risk_by_mrr = by_mrr;
	cfg->kinds->health.at_risk_per_segment = per_segment;
	cfg->kinds->health.w_billing = 0; /* support alone decides: 0, 50 or 100 */
	run_health(r, cfg, &in);
}

static bool listed(const struct run *r, const char *plan, const char *account, const char *name)
{
	bool found;

	at_risk_mrr(r, plan, account, name, &found);
	return found;
}

Test(kpis_health, at_risk_carries_mrr_with_the_same_accounts)
{
	struct run r;
	bool found;

	run_rank(&r, 10, false, false);
	cr_assert_float_eq(at_risk_mrr(&r, "enterprise", "e_big", "Big Corp", &found), 2000, 1e-9);
	cr_assert(found);
	cr_assert_float_eq(at_risk_mrr(&r, "starter", "s_small", "Small shop", &found), 50, 1e-9);
	cr_assert_float_eq(at_risk_mrr(&r, "enterprise", "g_happy", "Happy", &found), 9000, 1e-9);
	cr_assert(found);
	cr_assert_eq(mset_series(r.m) > 0, true);
	run_free(&r);
}

Test(kpis_health, at_risk_by_score_or_by_mrr_at_risk)
{
	struct run r;

	/* by score: three reds tie at 0, broken by key: e_big, e_mid */
	run_rank(&r, 2, false, false);
	cr_assert(listed(&r, "enterprise", "e_big", "Big Corp"));
	cr_assert(listed(&r, "enterprise", "e_mid", "Mid Corp"));
	cr_assert_not(listed(&r, "starter", "s_rich", "Rich shop"));
	run_free(&r);

	/* by score with 3: the third red, not the $5,000 yellow */
	run_rank(&r, 3, false, false);
	cr_assert(listed(&r, "starter", "s_small", "Small shop"));
	cr_assert_not(listed(&r, "starter", "s_rich", "Rich shop"));
	run_free(&r);

	/* by MRR with 1: the richest red, not the richer yellow or green */
	run_rank(&r, 1, true, false);
	cr_assert(listed(&r, "enterprise", "e_big", "Big Corp"));
	cr_assert_not(listed(&r, "starter", "s_rich", "Rich shop"));
	cr_assert_not(listed(&r, "enterprise", "g_happy", "Happy"));
	run_free(&r);

	/* by MRR with 4: every red ($2,000, $900, $50), then the yellow */
	run_rank(&r, 4, true, false);
	cr_assert(listed(&r, "starter", "s_small", "Small shop"));
	cr_assert(listed(&r, "starter", "s_rich", "Rich shop"));
	cr_assert_not(listed(&r, "enterprise", "g_happy", "Happy"));
	run_free(&r);

	/* by MRR with 2: the two Enterprise reds beat the Starter red */
	run_rank(&r, 2, true, false);
	cr_assert(listed(&r, "enterprise", "e_mid", "Mid Corp"));
	cr_assert_not(listed(&r, "starter", "s_small", "Small shop"));
	run_free(&r);
}

Test(kpis_health, at_risk_per_segment_lists_n_per_segment)
{
	struct run r;
	bool found;

	run_rank(&r, 1, true, true);
	cr_assert(listed(&r, "enterprise", "e_big", "Big Corp"));
	cr_assert(listed(&r, "starter", "s_small", "Small shop"), "the Starter red is first there");
	cr_assert_not(listed(&r, "enterprise", "e_mid", "Mid Corp"));
	cr_assert_not(listed(&r, "starter", "s_rich", "Rich shop"));
	/* the score family lists the same accounts */
	at_risk(&r, "starter", "s_small", "Small shop", "red", &found);
	cr_assert(found);
	at_risk(&r, "enterprise", "e_mid", "Mid Corp", "red", &found);
	cr_assert_not(found);
	run_free(&r);

	/* by score, per segment: the lowest of each */
	run_rank(&r, 1, false, true);
	cr_assert(listed(&r, "enterprise", "e_big", "Big Corp"));
	cr_assert(listed(&r, "starter", "s_small", "Small shop"));
	run_free(&r);
}

/*
 * A CRM-only shop (docs/design.md, health): no activity dataset configured,
 * so usage is undefined and the other weights renormalise; with activity
 * configured but silent, the same account scores usage 0. Renewals by band
 * and the at-risk list work without activity.
 */
static const char *const rcols[] = {"account_key", "billing_key",    "plan",	  "seats",
				    "started_at",  "first_value_at", "renewal_at"};

static void run_crm_only(struct run *r, bool activity)
{
	/* 10 seats, a promoter, no ticket, billing steady: sentiment, support
	 * and billing 100; renewing in 20 days */
	static const char *const accounts[] = {"c1", "b1", "pro", "10", NULL, NULL, "2024-04-21"};
	static const char *const subs[] = {STEADY("b1")};
	static const char *const surveys[] = {"c1", "r1", "nps", "10", RECENT};
	struct cs_config *cfg = config();

	cfg->has_dataset[DS_ACTIVITY] = activity;
	r->cfg = cfg;
	r->d = fixture_data(cfg, KIND_HEALTH, fixture_time(AS_OF));
	fixture_load(r->d, DS_ACCOUNTS, rcols, 7, accounts, 1);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, 9, subs, 1);
	fixture_load(r->d, DS_SURVEYS, scols, 5, surveys, 1);
	if (activity)
		fixture_load(r->d, DS_ACTIVITY, xcols, 4, NULL, 0);
	fixture_load(r->d, DS_TICKETS, tcols, 4, NULL, 0);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_health(r->d, &r->cfg->collectors[KIND_HEALTH], r->m);
}

static double crm_score(const struct run *r, const char *b, bool *found)
{
	return fixture_value(r->m, "cs_at_risk_account_score",
			     (const char *const[]){"plan", "pro", "account", "c1", "name", "",
						   "band", b, "renewal_at", "2024-04-21", NULL},
			     found);
}

Test(kpis_health, crm_only_usage_undefined)
{
	struct run r;
	bool found = false;
	struct cs_config *with = config();

	cr_assert_eq(cs_kind_datasets(&collector_kinds[KIND_HEALTH], with) & (1u << DS_ACTIVITY),
		     1u << DS_ACTIVITY, "activity is read when configured");
	fixture_free_config(with);
	run_crm_only(&r, false);
	cr_assert_eq(r.d->plan.datasets & (1u << DS_ACTIVITY), 0, "activity read though absent");
	/* (25 + 15 + 20) * 100 / (25 + 15 + 20): usage left out */
	cr_assert_float_eq(crm_score(&r, "green", &found), 100, 1e-9);
	cr_assert(found);
	cr_assert_eq(band(&r, "pro", "green"), 1);
	double v = fixture_value(
	    r.m, "cs_renewal_accounts",
	    (const char *const[]){"plan", "pro", "horizon", "30d", "band", "green", NULL}, &found);
	cr_assert(found, "no renewals by band without activity");
	cr_assert_eq(v, 1);
	run_free(&r);

	/* activity configured, no user active: usage 0 of weight 40 */
	run_crm_only(&r, true);
	cr_assert_float_eq(crm_score(&r, "yellow", &found), 60, 1e-9);
	cr_assert(found);
	run_free(&r);
}
