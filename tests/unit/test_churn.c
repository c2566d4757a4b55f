/*
 * Pending churn, churn reasons and expansion drivers (collectors/churn.c,
 * docs/design.md): the worked examples, the edge rules, and the identities
 * on random subscription histories checked against a brute-force reading.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/emit.h"
#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_subscriptions.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};

/* Accounts a1..a4 on plan p naming billing keys b1..b4. */
static const char *const accounts_p[] = {
    "a1", "b1", "p", NULL, NULL, NULL, /* */
    "a2", "b2", "p", NULL, NULL, NULL, /* */
    "a3", "b3", "p", NULL, NULL, NULL, /* */
    "a4", "b4", "p", NULL, NULL, NULL, /* */
};

/* The subscriptions columns with only one of the optional ones. */
static const char *const cols_cancel[] = {
    "billing_key", "amount_minor", "currency",	 "interval_unit", "interval_count",
    "quantity",	   "status",	   "valid_from", "valid_to",	  "cancel_requested_at",
};
static const char *const cols_reason[] = {
    "billing_key", "amount_minor", "currency",	 "interval_unit", "interval_count",
    "quantity",	   "status",	   "valid_from", "valid_to",	  "churn_reason",
};

/* A monthly USD row with every column (fixture_subscription_all_cols). */
#define SUB(b, cents, qty, status, from, to, cancel, reason)                                       \
	b, cents, "USD", "month", "1", qty, status, from, to, cancel, reason

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

static void run_at(struct run *r, const char *as_of, const char *const *cols, size_t ncols,
		   const char *const *srows, size_t nsubs)
{
	if (!r->cfg)
		r->cfg = fixture_config(dims, 1);
	r->d = fixture_data(r->cfg, KIND_REVENUE, fixture_time(as_of));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, accounts_p, 4);
	fixture_load(r->d, DS_SUBSCRIPTIONS, cols, ncols, srows, nsubs);
	cs_data_link(r->d);
	r->m = mset_new();
	kpi_revenue(r->d, &r->cfg->collectors[KIND_REVENUE], r->m);
}

/* With every column, at 2024-04-01. */
static void run(struct run *r, const char *const *srows, size_t nsubs)
{
	run_at(r, "2024-04-01", fixture_subscription_all_cols, FIXTURE_NSUBSCRIPTION_ALL_COLS,
	       srows, nsubs);
}

static void run_free(struct run *r)
{
	mset_free(r->m);
	cs_data_free(r->d);
	fixture_free_config(r->cfg);
	memset(r, 0, sizeof(*r));
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Sample of family for segment plan (labels: plan first, then pairs). */
static double seg_value(const struct run *r, const char *plan, const char *family,
			const char *const *pairs, bool *found)
{
	const char *all[20];
	size_t n = 0;

	all[n++] = "plan";
	all[n++] = plan;
	for (; *pairs && n < 18; pairs++)
		all[n++] = *pairs;
	all[n] = NULL;
	return fixture_value(r->m, family, all, found);
}

static double get(const struct run *r, const char *family, const char *const *pairs)
{
	bool found = false;
	double v = seg_value(r, "p", family, pairs, &found);

	cr_assert(found, "%s{%s=%s...} missing", family, pairs[0] ? pairs[0] : "",
		  pairs[0] ? pairs[1] : "");
	return v;
}

static bool has(const struct run *r, const char *family, const char *const *pairs)
{
	bool found = false;

	seg_value(r, "p", family, pairs, &found);
	return found;
}

static double reason_count(const struct run *r, const char *window, const char *reason)
{
	return get(r, "cs_customers_churned_by_reason", L("window", window, "reason", reason));
}

static double reason_mrr(const struct run *r, const char *window, const char *reason)
{
	return get(r, "cs_mrr_churn_by_reason",
		   L("currency", "USD", "window", window, "reason", reason));
}

static double driver(const struct run *r, const char *window, const char *type, const char *drv)
{
	return get(r, "cs_mrr_movement_by_driver",
		   L("currency", "USD", "window", window, "type", type, "driver", drv));
}

/* ------------------------------------------------------------ pending */

/* Day 0 is 2024-03-01: one $100/month row from day 0, open, with a
 * cancellation requested on day 10. */
static const char *const pending_row[] = {
    SUB("b1", "10000", "1", "active", "2024-03-01", NULL, "2024-03-11", NULL),
};

Test(churn_vectors, pending_at_day_5)
{
	struct run r = {0};

	run_at(&r, "2024-03-06", fixture_subscription_all_cols, FIXTURE_NSUBSCRIPTION_ALL_COLS,
	       pending_row, 1);
	cr_assert_float_eq(get(&r, "cs_committed_mrr", L("currency", "USD")), 100, 1e-9);
	cr_assert_float_eq(get(&r, "cs_mrr_pending_churn", L("currency", "USD")), 0, 0);
	cr_assert_eq(get(&r, "cs_customers_pending_churn", L(NULL)), 0);
	run_free(&r);
}

Test(churn_vectors, pending_at_day_20)
{
	struct run r = {0};

	run_at(&r, "2024-03-21", fixture_subscription_all_cols, FIXTURE_NSUBSCRIPTION_ALL_COLS,
	       pending_row, 1);
	cr_assert_float_eq(get(&r, "cs_committed_mrr", L("currency", "USD")), 0, 0);
	cr_assert_float_eq(get(&r, "cs_mrr_pending_churn", L("currency", "USD")), 100, 1e-9);
	cr_assert_eq(get(&r, "cs_customers_pending_churn", L(NULL)), 1);
	cr_assert_float_eq(get(&r, "cs_mrr", L("currency", "USD")), 100, 1e-9,
			   "still paying: pending churn is part of MRR");
	run_free(&r);
}

Test(churn_vectors, pending_two_rows_is_not_a_pending_customer)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "1", "active", "2024-03-01", NULL, "2024-03-11", NULL),
	    SUB("b1", "5000", "1", "active", "2024-03-01", NULL, NULL, NULL),
	};
	struct run r = {0};

	run_at(&r, "2024-03-21", fixture_subscription_all_cols, FIXTURE_NSUBSCRIPTION_ALL_COLS,
	       subs, 2);
	cr_assert_float_eq(get(&r, "cs_mrr_pending_churn", L("currency", "USD")), 100, 1e-9);
	cr_assert_float_eq(get(&r, "cs_committed_mrr", L("currency", "USD")), 50, 1e-9);
	cr_assert_eq(get(&r, "cs_customers_pending_churn", L(NULL)), 0);
	run_free(&r);
}

/* The request instant decides: at t it is pending, a second later not yet;
 * rows that do not count at t (ended, paused, $0) are never pending. */
Test(churn_edges, request_at_and_after_t)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "1", "active", "2024-01-01", NULL, "2024-04-01", NULL),
	    SUB("b2", "20000", "1", "past_due", "2024-01-01", NULL, "2024-04-01T00:00:01Z", NULL),
	    SUB("b3", "40000", "1", "paused", "2024-01-01", NULL, "2024-03-01", NULL),
	    SUB("b3", "80000", "1", "active", "2024-01-01", "2024-03-20", "2024-03-01", NULL),
	    SUB("b4", "0", "1", "active", "2024-01-01", NULL, "2024-03-01", NULL),
	};
	struct run r = {0};

	run(&r, subs, 5);
	cr_assert_float_eq(get(&r, "cs_mrr_pending_churn", L("currency", "USD")), 100, 1e-9);
	cr_assert_float_eq(get(&r, "cs_committed_mrr", L("currency", "USD")), 200, 1e-9);
	cr_assert_eq(get(&r, "cs_customers_pending_churn", L(NULL)), 1, "b1 only");
	run_free(&r);
}

Test(churn_edges, malformed_request_is_bad_time)
{
	static const char *const subs[] = {
	    SUB("b1", "10000", "1", "active", "2024-01-01", NULL, "next week", NULL),
	    SUB("b2", "10000", "1", "active", "2024-01-01", NULL, NULL, NULL),
	};
	struct run r = {0};

	run(&r, subs, 2);
	cr_assert_eq(fixture_rejects(r.d, "subscriptions", "bad_time"), 1);
	cr_assert_eq(r.d->mrr->rows, 1);
	cr_assert_float_eq(get(&r, "cs_mrr", L("currency", "USD")), 100, 1e-9);
	run_free(&r);
}

/* --------------------------------------------------------- reasons */

/* Churned in both windows: rows from 2024-01-01 to 2024-03-20, t = 2024-04-01. */
#define CHURNED(b, cents, reason)                                                                  \
	SUB(b, cents, "1", "active", "2024-01-01", "2024-03-20", NULL, reason)

static const char *const all_reasons[] = {
    "customer_service", "low_quality",	 "missing_features", "other",	"switched_service",
    "too_complex",	"too_expensive", "unused",	     "unknown",
};

/* Every label but want is 0 (count and amount) in both windows. */
static void only_reason(const struct run *r, const char *want, double count, double mrr)
{
	static const char *const windows[] = {"30d", "90d"};

	for (size_t w = 0; w < 2; w++) {
		for (size_t i = 0; i < sizeof(all_reasons) / sizeof(all_reasons[0]); i++) {
			bool is = !strcmp(all_reasons[i], want);

			cr_assert_eq(reason_count(r, windows[w], all_reasons[i]), is ? count : 0,
				     "%s %s", windows[w], all_reasons[i]);
			cr_assert_float_eq(reason_mrr(r, windows[w], all_reasons[i]), is ? mrr : 0,
					   1e-9, "%s %s", windows[w], all_reasons[i]);
		}
	}
}

Test(churn_vectors, reason_of_the_largest_row)
{
	static const char *const subs[] = {
	    CHURNED("b1", "8000", " Too_Expensive"),
	    CHURNED("b1", "2000", "unused"),
	};
	struct run r = {0};

	run(&r, subs, 2);
	only_reason(&r, "too_expensive", 1, 100);
	run_free(&r);
}

Test(churn_vectors, reason_not_a_code_is_other)
{
	static const char *const subs[] = {CHURNED("b1", "8000", "price")};
	struct run r = {0};

	run(&r, subs, 1);
	only_reason(&r, "other", 1, 80);
	run_free(&r);
}

Test(churn_vectors, reason_null_is_unknown)
{
	static const char *const subs[] = {CHURNED("b1", "8000", NULL)};
	struct run r = {0};

	run(&r, subs, 1);
	only_reason(&r, "unknown", 1, 80);
	run_free(&r);
}

/* Empty and blank are NULL; the text "unknown" is no code; "Other" is. */
Test(churn_edges, reason_blank_unknown_text_and_other_code)
{
	static const char *const subs[] = {
	    CHURNED("b1", "1000", ""),
	    CHURNED("b2", "2000", " \t "),
	    CHURNED("b3", "4000", "unknown"),
	    CHURNED("b4", "8000", "\tOther "),
	};
	struct run r = {0};

	run(&r, subs, 4);
	cr_assert_eq(reason_count(&r, "30d", "unknown"), 2);
	cr_assert_float_eq(reason_mrr(&r, "30d", "unknown"), 30, 1e-9);
	cr_assert_eq(reason_count(&r, "30d", "other"), 2);
	cr_assert_float_eq(reason_mrr(&r, "30d", "other"), 120, 1e-9);
	run_free(&r);
}

/* Equal MRR: the byte-wise smallest normalised reason, NULL and empty
 * first; "zzz" (other) sorts after "unused", "aaa" (other) before it. */
Test(churn_edges, reason_ties)
{
	static const char *const subs[] = {
	    CHURNED("b1", "5000", "unused"),
	    CHURNED("b1", "5000", "Too_Expensive"), /* wins: t < u */
	    CHURNED("b2", "5000", "unused"),
	    CHURNED("b2", "5000", NULL), /* wins: NULL first */
	    CHURNED("b3", "5000", "zzz"),
	    CHURNED("b3", "5000", "UNUSED"), /* wins: u < z */
	    CHURNED("b4", "5000", "unused"),
	    CHURNED("b4", "5000", "aaa"), /* wins: a < u, and is other */
	};
	struct run r = {0};

	run(&r, subs, 8);
	cr_assert_eq(reason_count(&r, "30d", "too_expensive"), 1);
	cr_assert_eq(reason_count(&r, "30d", "unknown"), 1);
	cr_assert_eq(reason_count(&r, "30d", "unused"), 1);
	cr_assert_eq(reason_count(&r, "30d", "other"), 1);
	cr_assert_float_eq(reason_mrr(&r, "30d", "unused"), 100, 1e-9);
	run_free(&r);
}

/* Only the rows counted just before the last drop decide: an earlier,
 * larger row with another reason does not; a row ending before t0 counts
 * in no window, one ending after it in both. */
Test(churn_edges, reason_at_the_last_drop)
{
	static const char *const subs[] = {
	    SUB("b1", "90000", "1", "active", "2023-10-01", "2024-03-10", NULL, "too_complex"),
	    SUB("b1", "1000", "1", "active", "2024-03-10", "2024-03-25", NULL, "unused"),
	};
	struct run r = {0};

	run(&r, subs, 2);
	/* 30d: t0 = 2024-03-02, m0 = 900; 90d: t0 = 2024-01-02, m0 = 900 */
	cr_assert_eq(reason_count(&r, "30d", "unused"), 1);
	cr_assert_float_eq(reason_mrr(&r, "30d", "unused"), 900, 1e-9);
	cr_assert_eq(reason_count(&r, "90d", "unused"), 1);
	cr_assert_eq(reason_count(&r, "30d", "too_complex"), 0);
	run_free(&r);
}

/* An involuntary churn (only past_due rows ended) keeps its reason. */
Test(churn_edges, involuntary_keeps_its_reason)
{
	static const char *const subs[] = {
	    SUB("b1", "5000", "1", "active", "2024-01-01", "2024-03-10", NULL, NULL),
	    SUB("b1", "5000", "1", "past_due", "2024-03-10", "2024-03-20", NULL, "too_expensive"),
	};
	struct run r = {0};

	run(&r, subs, 2);
	cr_assert_eq(get(&r, "cs_customers_involuntary_churned", L("window", "30d")), 1);
	only_reason(&r, "too_expensive", 1, 50);
	run_free(&r);
}

/* churn_reasons of one's own: every code, then other and unknown. */
Test(churn_edges, configured_codes)
{
	static const char *const subs[] = {
	    CHURNED("b1", "1000", "Bugs"),
	    CHURNED("b2", "2000", "too_expensive"),
	    CHURNED("b3", "4000", NULL),
	};
	struct run r = {0};

	r.cfg = fixture_config(dims, 1);
	struct cs_churn_reasons *cr = &r.cfg->kinds->churn_reasons;
	cr->n = 2;
	strcpy(cr->codes[0], "price_too_high");
	strcpy(cr->codes[1], "bugs");
	run(&r, subs, 3);
	cr_assert_eq(reason_count(&r, "30d", "bugs"), 1);
	cr_assert_eq(reason_count(&r, "30d", "price_too_high"), 0);
	cr_assert_eq(reason_count(&r, "30d", "other"), 1, "too_expensive is no code here");
	cr_assert_eq(reason_count(&r, "30d", "unknown"), 1);
	cr_assert_not(has(&r, "cs_customers_churned_by_reason",
			  L("window", "30d", "reason", "too_expensive")));
	run_free(&r);
}

/* -------------------------------------------------------- columns */

Test(churn_edges, families_follow_the_optional_columns)
{
	static const char *const base[] = {
	    "b1", "8000", "USD", "month", "1", "1", "active", "2024-01-01", "2024-03-20",
	};
	static const char *const one[] = {
	    "b1", "8000", "USD", "month", "1", "1", "active", "2024-01-01", "2024-03-20", NULL,
	};
	struct run r = {0};

	run_at(&r, "2024-04-01", fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS, base, 1);
	cr_assert_not(has(&r, "cs_mrr_pending_churn", L("currency", "USD")));
	cr_assert_not(has(&r, "cs_committed_mrr", L("currency", "USD")));
	cr_assert_not(has(&r, "cs_customers_pending_churn", L(NULL)));
	cr_assert_not(
	    has(&r, "cs_customers_churned_by_reason", L("window", "30d", "reason", "unknown")));
	cr_assert_not(has(&r, "cs_mrr_churn_by_reason",
			  L("currency", "USD", "window", "30d", "reason", "unknown")));
	cr_assert(
	    has(&r, "cs_mrr_movement_by_driver",
		L("currency", "USD", "window", "30d", "type", "expansion", "driver", "seats")),
	    "drivers are always on");
	run_free(&r);

	run_at(&r, "2024-04-01", cols_cancel, 10, one, 1);
	cr_assert(has(&r, "cs_mrr_pending_churn", L("currency", "USD")));
	cr_assert_not(
	    has(&r, "cs_customers_churned_by_reason", L("window", "30d", "reason", "unknown")));
	run_free(&r);

	run_at(&r, "2024-04-01", cols_reason, 10, one, 1);
	cr_assert_not(has(&r, "cs_mrr_pending_churn", L("currency", "USD")));
	cr_assert_eq(reason_count(&r, "30d", "unknown"), 1);
	run_free(&r);
}

/* A configured dataset with no rows writes zeros. */
Test(churn_edges, no_rows_zeros)
{
	struct run r = {0};

	run(&r, NULL, 0);
	cr_assert_eq(get(&r, "cs_mrr_pending_churn", L("currency", "USD")), 0);
	cr_assert_eq(get(&r, "cs_committed_mrr", L("currency", "USD")), 0);
	cr_assert_eq(reason_count(&r, "90d", "unknown"), 0);
	cr_assert_eq(driver(&r, "90d", "contraction", "price"), 0);
	run_free(&r);
}

/* --------------------------------------------------------- drivers */

/* Quantity q at $cents a seat until 2024-03-15, then q2 at cents2. */
#define CHANGE(b, q, cents, q2, cents2)                                                            \
	SUB(b, cents, q, "active", "2024-01-01", "2024-03-15", NULL, NULL),                        \
	    SUB(b, cents2, q2, "active", "2024-03-15", NULL, NULL, NULL)

Test(churn_vectors, drivers)
{
	static const char *const seats[] = {CHANGE("b1", "5", "1000", "8", "1000")};
	static const char *const price[] = {CHANGE("b1", "5", "1000", "5", "1200")};
	static const char *const both[] = {CHANGE("b1", "5", "1000", "4", "1500")};
	static const struct {
		const char *const *rows;
		const char *driver;
		double amount;
	} v[] = {{seats, "seats", 30}, {price, "price", 10}, {both, "price", 10}};

	for (size_t i = 0; i < 3; i++) {
		struct run r = {0};

		run(&r, v[i].rows, 2);
		for (size_t k = 0; k < 2; k++) {
			const char *d = k ? "price" : "seats";
			double want = strcmp(d, v[i].driver) ? 0 : v[i].amount;

			cr_assert_float_eq(driver(&r, "30d", "expansion", d), want, 1e-9,
					   "vector %zu %s", i, d);
			cr_assert_eq(driver(&r, "30d", "contraction", d), 0);
		}
		cr_assert_float_eq(get(&r, "cs_mrr_movement",
				       L("currency", "USD", "window", "30d", "type", "expansion")),
				   v[i].amount, 1e-9);
		run_free(&r);
	}
}

/* Contraction: seats when the quantity fell; the quantity is summed over
 * the customer's counted rows (a second row adds seats). */
Test(churn_edges, contraction_drivers_and_summed_quantity)
{
	static const char *const subs[] = {
	    CHANGE("b1", "8", "1000", "5", "1000"), /* contraction 30, seats */
	    CHANGE("b2", "5", "1200", "5", "1000"), /* contraction 10, price */
	    SUB("b3", "1000", "5", "active", "2024-01-01", NULL, NULL, NULL),
	    SUB("b3", "500", "2", "active", "2024-03-15", NULL, NULL,
		NULL), /* expansion 10, seats */
	};
	struct run r = {0};

	run(&r, subs, 6);
	cr_assert_float_eq(driver(&r, "30d", "contraction", "seats"), 30, 1e-9);
	cr_assert_float_eq(driver(&r, "30d", "contraction", "price"), 10, 1e-9);
	cr_assert_float_eq(driver(&r, "30d", "expansion", "seats"), 10, 1e-9);
	cr_assert_eq(driver(&r, "30d", "expansion", "price"), 0);
	run_free(&r);
}

/* ---------------------------------------------- random histories */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int64_t rnd(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

#define NONE INT64_MIN

struct prow {
	int customer;
	double monthly, qty;
	bool counting;
	int64_t from, to; /* days relative to t; to = INT64_MAX: open */
	int64_t cancel;	  /* NONE: no request */
	const char *reason;
};

/* The rows that make MRR at day x. */
static bool counted(const struct prow *p, int c, int64_t x)
{
	return p->customer == c && p->counting && p->monthly > 0 && p->from <= x && x < p->to;
}

static double brute_sum(const struct prow *rows, size_t n, int c, int64_t x, bool qty)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (counted(&rows[i], c, x))
			m += qty ? rows[i].qty : rows[i].monthly;
	return m;
}

/* The normalised reason, written independently of the exporter's. */
static void normalise(const char *s, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (!s)
		return;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && n + 1 < len; s++)
		out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
}

static const char *const stripe[] = {
    "customer_service", "low_quality", "missing_features", "other",
    "switched_service", "too_complex", "too_expensive",	   "unused",
};

/* The reason label of churned customer c: its rows ending at the last drop. */
static const char *brute_reason(const struct prow *rows, size_t n, int c)
{
	int64_t d = NONE;
	const struct prow *best = NULL;
	char bt[64] = "", t[64];

	for (size_t i = 0; i < n; i++)
		if (rows[i].customer == c && rows[i].counting && rows[i].monthly > 0 &&
		    rows[i].to <= 0 && rows[i].to > d)
			d = rows[i].to;
	for (size_t i = 0; i < n; i++) {
		const struct prow *p = &rows[i];

		if (!counted(p, c, d - 1) || p->to != d)
			continue;
		normalise(p->reason, t, sizeof(t));
		int cmp = best ? cs_cmp(p->monthly, best->monthly) : 1;
		if (cmp > 0 || (cmp == 0 && strcmp(t, bt) < 0)) {
			best = p;
			strcpy(bt, t);
		}
	}
	cr_assert_not_null(best, "customer %d churned without a row ending", c);
	if (!bt[0])
		return "unknown";
	for (size_t i = 0; i < 8; i++)
		if (!strcmp(bt, stripe[i]))
			return stripe[i];
	return "other";
}

static bool close_rel(double a, double b, double scale)
{
	return fabs(a - b) <= 1e-9 * fmax(1.0, scale);
}

Test(churn_property, identities_on_random_histories)
{
	static const char *const plans[] = {"x", "y"};
	static const char *const windows[] = {"30d", "90d"};
	static const int64_t wdays[] = {30, 90};
	static const char *const statuses[] = {"active", "past_due", "paused", "canceled"};
	static const char *const reasons[] = {
	    NULL,	"",	 " Too_Expensive", "unused", "price", "zzz",
	    "UNUSED\t", "other", "unknown",	   "aaa",    "\t",    "low_quality",
	};
	static const char *const prices[] = {"1000", "2000", "5000", "0"};
	const size_t nlabels = 9;
	static const char *const labels[] = {
	    "customer_service", "low_quality",	 "missing_features", "other",	"switched_service",
	    "too_complex",	"too_expensive", "unused",	     "unknown",
	};
	cs_time t = fixture_time("2024-04-01");
	uint64_t churned_total = 0, driven_total = 0, pending_total = 0;

	for (uint64_t seed = 1; seed <= 300; seed++) {
		rng_state = seed * UINT64_C(0x9E3779B97F4A7C15);
		int ncust = (int)rnd(1, 8);
		char keys[8][2][16];
		const char *arows[8 * 6];
		size_t nacc = 0;
		int plan_of[8];

		for (int c = 0; c < ncust; c++) {
			snprintf(keys[c][0], 16, "acct%d", c);
			snprintf(keys[c][1], 16, "bill%d", c);
			plan_of[c] = (int)rnd(0, 2); /* 2: no account, lands in unknown */
			if (plan_of[c] == 2)
				continue;
			const char *a[6] = {keys[c][0], keys[c][1], plans[plan_of[c]],
					    NULL,	NULL,	    NULL};
			memcpy(arows + nacc * 6, a, sizeof(a));
			nacc++;
		}

		struct prow prows[120];
		char text[120][5][32];
		const char *srows[120 * FIXTURE_NSUBSCRIPTION_ALL_COLS];
		size_t n = 0;
		for (int c = 0; c < ncust; c++) {
			int64_t day = rnd(-200, 5);
			int nrow = (int)rnd(0, 6);
			for (int k = 0; k < nrow && n < 120; k++) {
				int64_t len = rnd(1, 60);
				bool last = k == nrow - 1 && rnd(0, 1);
				struct prow *p = &prows[n];
				int st = (int)rnd(0, 5);
				int pr = (int)rnd(0, 3);
				int64_t qty = rnd(0, 6);

				day += rnd(0, 3) == 0 ? rnd(1, 30) : 0;
				p->customer = c;
				p->from = day;
				p->to = last ? INT64_MAX : day + len;
				st = st > 3 ? 0 : st; /* mostly active */
				p->counting = st <= 1;
				p->qty = (double)qty;
				p->monthly = (double)atoi(prices[pr]) * (double)qty / 100.0;
				p->cancel = rnd(0, 2) ? NONE : rnd(-40, 5);
				p->reason = reasons[rnd(0, 11)];
				snprintf(text[n][0], 32, "%s", prices[pr]);
				snprintf(text[n][1], 32, "%lld", (long long)qty);
				cs_format_time(t + p->from * CS_DAY, text[n][2], 32);
				cs_format_time(last ? 0 : t + p->to * CS_DAY, text[n][3], 32);
				if (p->cancel != NONE)
					cs_format_time(t + p->cancel * CS_DAY, text[n][4], 32);
				const char *row[FIXTURE_NSUBSCRIPTION_ALL_COLS] = {
				    keys[c][1],
				    text[n][0],
				    "USD",
				    "month",
				    "1",
				    text[n][1],
				    statuses[st],
				    text[n][2],
				    last ? NULL : text[n][3],
				    p->cancel == NONE ? NULL : text[n][4],
				    p->reason};
				memcpy(srows + n * FIXTURE_NSUBSCRIPTION_ALL_COLS, row,
				       sizeof(row));
				n++;
				/* sometimes a twin over the same period (an add-on):
				 * same or another price, another reason: ties */
				if (n < 120 && rnd(0, 2) == 0) {
					const char *const *src =
					    srows + (n - 1) * FIXTURE_NSUBSCRIPTION_ALL_COLS;
					const char **dst =
					    srows + n * FIXTURE_NSUBSCRIPTION_ALL_COLS;

					prows[n] = *p;
					memcpy(dst, src, sizeof(row));
					if (rnd(0, 1)) {
						pr = (int)rnd(0, 3);
						prows[n].monthly =
						    (double)atoi(prices[pr]) * (double)qty / 100.0;
						dst[1] = prices[pr];
					}
					prows[n].reason = reasons[rnd(0, 11)];
					dst[10] = prows[n].reason;
					n++;
				}
				day += rnd(0, 3) == 0 ? len / 2 : len;
			}
		}

		struct run r = {0};
		r.cfg = fixture_config(dims, 1);
		r.d = fixture_data(r.cfg, KIND_REVENUE, t);
		fixture_load(r.d, DS_ACCOUNTS, acols, 6, arows, nacc);
		fixture_load(r.d, DS_SUBSCRIPTIONS, fixture_subscription_all_cols,
			     FIXTURE_NSUBSCRIPTION_ALL_COLS, srows, n);
		cs_data_link(r.d);
		r.m = mset_new();
		kpi_revenue(r.d, &r.cfg->collectors[KIND_REVENUE], r.m);
		cr_assert_eq(r.d->mrr->rows, n, "seed %llu: rows rejected",
			     (unsigned long long)seed);

		for (uint32_t s = 0; s < r.d->seg.n; s++) {
			const char *plan = r.d->seg.values[s];
			bool f;
#define SEG(family, ...) seg_value(&r, plan, family, L(__VA_ARGS__), &f)
			double mrr = SEG("cs_mrr", "currency", "USD");
			cr_assert(f);
			double pending = SEG("cs_mrr_pending_churn", "currency", "USD");
			cr_assert(f);
			double committed = SEG("cs_committed_mrr", "currency", "USD");
			cr_assert(f);
			double npending = SEG("cs_customers_pending_churn", NULL);
			cr_assert(f);

			/* cs_committed_mrr + cs_mrr_pending_churn = cs_mrr */
			cr_assert(close_rel(committed + pending, mrr, mrr),
				  "seed %llu plan %s: %g + %g != %g", (unsigned long long)seed,
				  plan, committed, pending, mrr);
			cr_assert_geq(committed, 0);

			double want_pending = 0, want_np = 0;
			double want_reason[2][10] = {{0}}, want_rmrr[2][10] = {{0}};
			double want_drv[2][2][2] = {{{0}}};
			for (int c = 0; c < ncust; c++) {
				const char *cp = plan_of[c] == 2 ? "unknown" : plans[plan_of[c]];
				if (strcmp(cp, plan))
					continue;
				bool any = false, all = true;
				for (size_t i = 0; i < n; i++) {
					if (!counted(&prows[i], c, 0))
						continue;
					any = true;
					if (prows[i].cancel != NONE && prows[i].cancel <= 0)
						want_pending += prows[i].monthly;
					else
						all = false;
				}
				want_np += any && all;
				double m1 = brute_sum(prows, n, c, 0, false);
				double q1 = brute_sum(prows, n, c, 0, true);
				for (size_t w = 0; w < 2; w++) {
					double m0 = brute_sum(prows, n, c, -wdays[w], false);
					double q0 = brute_sum(prows, n, c, -wdays[w], true);
					if (m0 > 0 && m1 == 0) {
						const char *why = brute_reason(prows, n, c);
						size_t k = 0;
						while (strcmp(labels[k], why))
							k++;
						want_reason[w][k]++;
						want_rmrr[w][k] += m0;
					} else if (m0 > 0 && m1 > 0 && cs_cmp(m1, m0) != 0) {
						bool exp = cs_cmp(m1, m0) > 0;
						bool seats = exp ? q1 > q0 : q1 < q0;
						want_drv[w][exp ? 0 : 1][seats ? 0 : 1] +=
						    exp ? m1 - m0 : m0 - m1;
					}
				}
			}
			cr_assert(close_rel(pending, want_pending, want_pending),
				  "seed %llu plan %s: pending %g want %g", (unsigned long long)seed,
				  plan, pending, want_pending);
			cr_assert_eq(npending, want_np, "seed %llu plan %s: pending customers",
				     (unsigned long long)seed, plan);
			pending_total += (uint64_t)want_np;

			for (size_t w = 0; w < 2; w++) {
				double churned = SEG("cs_customer_movements", "window", windows[w],
						     "type", "churned");
				cr_assert(f);
				double churn = SEG("cs_mrr_movement", "currency", "USD", "window",
						   windows[w], "type", "churn");
				cr_assert(f);
				double count_sum = 0, mrr_sum = 0;
				for (size_t k = 0; k < nlabels; k++) {
					double cnt = SEG("cs_customers_churned_by_reason", "window",
							 windows[w], "reason", labels[k]);
					cr_assert(f, "%s missing", labels[k]);
					double amt =
					    SEG("cs_mrr_churn_by_reason", "currency", "USD",
						"window", windows[w], "reason", labels[k]);
					cr_assert(f, "%s missing", labels[k]);
					cr_assert_eq(cnt, want_reason[w][k],
						     "seed %llu plan %s %s %s: %g want %g",
						     (unsigned long long)seed, plan, windows[w],
						     labels[k], cnt, want_reason[w][k]);
					cr_assert(close_rel(amt, want_rmrr[w][k], want_rmrr[w][k]),
						  "seed %llu plan %s %s %s: %g want %g",
						  (unsigned long long)seed, plan, windows[w],
						  labels[k], amt, want_rmrr[w][k]);
					count_sum += cnt;
					mrr_sum += amt;
				}
				/* Σ over reasons = the churn movement, count and amount */
				cr_assert_eq(count_sum, churned, "seed %llu plan %s %s",
					     (unsigned long long)seed, plan, windows[w]);
				cr_assert(close_rel(mrr_sum, churn, churn), "seed %llu plan %s %s",
					  (unsigned long long)seed, plan, windows[w]);
				churned_total += (uint64_t)churned;

				for (size_t ty = 0; ty < 2; ty++) {
					const char *type = ty ? "contraction" : "expansion";
					double movement = SEG("cs_mrr_movement", "currency", "USD",
							      "window", windows[w], "type", type);
					cr_assert(f);
					double sum = 0;
					for (size_t dr = 0; dr < 2; dr++) {
						double v =
						    SEG("cs_mrr_movement_by_driver", "currency",
							"USD", "window", windows[w], "type", type,
							"driver", dr ? "price" : "seats");
						cr_assert(f);
						cr_assert(close_rel(v, want_drv[w][ty][dr],
								    want_drv[w][ty][dr]),
							  "seed %llu plan %s %s %s driver %zu: %g "
							  "want %g",
							  (unsigned long long)seed, plan,
							  windows[w], type, dr, v,
							  want_drv[w][ty][dr]);
						sum += v;
						driven_total += v > 0;
					}
					/* Σ over drivers = the movement */
					cr_assert(close_rel(sum, movement, movement),
						  "seed %llu plan %s %s %s: %g != %g",
						  (unsigned long long)seed, plan, windows[w], type,
						  sum, movement);
				}
			}
#undef SEG
		}
		run_free(&r);
	}
	/* the histories exercise every rule, not only zeros */
	cr_assert_gt(churned_total, 50);
	cr_assert_gt(driven_total, 50);
	cr_assert_gt(pending_total, 20);
}
