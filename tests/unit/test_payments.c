/*
 * The payments dataset and its families (docs/design.md, "Payments"): the
 * worked examples of receivables, recovery and DSO, the bucket edges, the
 * rejection of each malformed invoice, and that without the dataset the
 * revenue kind writes none of the families. Every run goes through the
 * revenue kind's compute of the kind table, as an evaluation does.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_payments.h"

#define T "2026-06-01" /* t; t - 30d = 05-02, t - 60d = 04-02, t - 90d = 03-03 */

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const arows[] = {
    "a1", "b1", "pro",	 NULL, NULL, NULL, /* */
    "a2", "b2", "basic", NULL, NULL, NULL,
};

struct run {
	struct cs_config *cfg;
	struct cs_data *d;
	struct mset *m;
};

/* Accounts a1 (b1, pro) and a2 (b2, basic), no subscription, the given
 * invoices when payments is configured (on), and revenue's compute at T. */
static void run_payments(struct run *r, bool on, const char *const *rows, size_t nrows)
{
	r->cfg = fixture_config(dims, 1);
	if (on)
		fixture_payments_on(r->cfg);
	r->d = fixture_data(r->cfg, KIND_REVENUE, fixture_time(T));
	fixture_load(r->d, DS_ACCOUNTS, acols, 6, arows, 2);
	fixture_load(r->d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     NULL, 0);
	if (on)
		fixture_load(r->d, DS_PAYMENTS, fixture_payment_cols, FIXTURE_NPAYMENT_COLS, rows,
			     nrows);
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

/* Receivables of plan at t in bucket: the amount (USD), and the count in *n. */
static double receivables(const struct run *r, const char *plan, const char *bucket, double *n)
{
	bool found = false, found_n = false;
	double v = fixture_value(
	    r->m, "cs_receivables_amount",
	    (const char *const[]){"plan", plan, "bucket", bucket, "currency", "USD", NULL}, &found);
	double c =
	    fixture_value(r->m, "cs_receivables_invoices",
			  (const char *const[]){"plan", plan, "bucket", bucket, NULL}, &found_n);

	cr_assert(found && found_n, "no receivables{%s,%s}", plan, bucket);
	if (n)
		*n = c;
	return v;
}

static double open_invoices(const struct run *r, const char *plan, const char *bucket)
{
	double n;

	receivables(r, plan, bucket, &n);
	return n;
}

/* A family with a window label (and a currency label when cur is set). */
static double windowed(const struct run *r, const char *family, const char *plan,
		       const char *window, bool cur, bool *found)
{
	return fixture_value(
	    r->m, family,
	    cur ? (const char *const[]){"plan", plan, "window", window, "currency", "USD", NULL}
		: (const char *const[]){"plan", plan, "window", window, NULL},
	    found);
}

static double must(const struct run *r, const char *family, const char *plan, const char *window,
		   bool cur)
{
	bool found = false;
	double v = windowed(r, family, plan, window, cur, &found);

	cr_assert(found, "no %s{%s,%s}", family, plan, window);
	return v;
}

static bool absent(const struct run *r, const char *family, const char *plan, const char *window)
{
	bool found = true;

	windowed(r, family, plan, window, false, &found);
	return !found;
}

Test(payments, receivables_by_age_of_due_date)
{
	/* unpaid invoices issued long before t, due t - 35d, exactly t - 30d and
	 * exactly t; one paid exactly at t (due t - 100d) is not open */
	static const char *const rows[] = {
	    "b1",
	    "1000",
	    "USD",
	    "2026-01-01",
	    "2026-04-27",
	    NULL,
	    NULL,
	    "b1",
	    "2000",
	    "USD",
	    "2026-01-01",
	    "2026-05-02",
	    NULL,
	    NULL,
	    "b1",
	    "3000",
	    "USD",
	    "2026-01-01",
	    T,
	    NULL,
	    NULL,
	    "b1",
	    "4000",
	    "USD",
	    "2026-01-01",
	    "2026-02-21",
	    T,
	    NULL,
	};
	struct run r;
	double n;

	run_payments(&r, true, rows, 4);
	cr_expect_float_eq(receivables(&r, "pro", "31_60", &n), 10, 1e-9);
	cr_expect_eq(n, 1);
	cr_expect_float_eq(receivables(&r, "pro", "1_30", &n), 20, 1e-9);
	cr_expect_eq(n, 1);
	cr_expect_float_eq(receivables(&r, "pro", "current", &n), 30, 1e-9);
	cr_expect_eq(n, 1);
	cr_expect_float_eq(receivables(&r, "pro", "over_90", &n), 0, 1e-9, "paid at t: not open");
	cr_expect_eq(n, 0);
	cr_expect_eq(open_invoices(&r, "pro", "61_90"), 0);
	/* every bucket of every segment is written, zeros included */
	cr_expect_eq(open_invoices(&r, "basic", "current"), 0);
	cr_expect_eq(r.d->ds_rows[DS_PAYMENTS], 4);
	run_free(&r);
}

Test(payments, bucket_edges_at_60_and_90_days)
{
	static const char *const rows[] = {
	    "b1", "100", "USD", "2026-01-01", "2026-04-02 00:00:00+00", NULL, NULL, /* 31_60 */
	    "b1", "100", "USD", "2026-01-01", "2026-04-01 23:59:59+00", NULL, NULL, /* 61_90 */
	    "b1", "100", "USD", "2026-01-01", "2026-03-03 00:00:00+00", NULL, NULL, /* 61_90 */
	    "b1", "100", "USD", "2026-01-01", "2026-03-02 23:59:59+00", NULL, NULL, /* over_90 */
	    "b1", "100", "USD", "2026-01-01", "2026-05-31 23:59:59+00", NULL, NULL, /* 1_30 */
	};
	struct run r;

	run_payments(&r, true, rows, 5);
	cr_expect_eq(open_invoices(&r, "pro", "current"), 0);
	cr_expect_eq(open_invoices(&r, "pro", "1_30"), 1, "due a second before t");
	cr_expect_eq(open_invoices(&r, "pro", "31_60"), 1, "due exactly t - 60d");
	cr_expect_eq(open_invoices(&r, "pro", "61_90"), 2, "just before t - 60d, exactly t - 90d");
	cr_expect_eq(open_invoices(&r, "pro", "over_90"), 1, "just before t - 90d");
	run_free(&r);
}

Test(payments, due_at_null_is_issued_at)
{
	/* issued t - 40d, no due date: due then, 31-60 days overdue; one
	 * issued after t is not open yet (nor billed) */
	static const char *const rows[] = {
	    "b1", "500", "USD", "2026-04-22", NULL, NULL, NULL,
	    "b1", "700", "USD", "2026-06-02", NULL, NULL, NULL,
	};
	struct run r;
	double n;

	run_payments(&r, true, rows, 2);
	cr_expect_float_eq(receivables(&r, "pro", "31_60", &n), 5, 1e-9);
	cr_expect_eq(n, 1);
	cr_expect_eq(open_invoices(&r, "pro", "current"), 0, "issued after t");
	cr_expect_float_eq(must(&r, "cs_billed_amount", "pro", "90d", true), 5, 1e-9);
	run_free(&r);
}

Test(payments, failed_then_paid_before_t_is_recovered)
{
	/* failed t - 10d, paid t - 2d */
	static const char *const rows[] = {
	    "b1", "2500", "USD", "2026-05-20", "2026-05-21", "2026-05-30", "2026-05-22",
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_eq(must(&r, "cs_payments_failed", "pro", "30d", false), 1);
	cr_expect_eq(must(&r, "cs_payments_recovered", "pro", "30d", false), 1);
	cr_expect_float_eq(must(&r, "cs_payment_recovery_ratio", "pro", "30d", false), 1, 1e-12);
	cr_expect_float_eq(must(&r, "cs_payments_failed_amount", "pro", "30d", true), 25, 1e-9);
	cr_expect_float_eq(must(&r, "cs_payments_recovered_amount", "pro", "30d", true), 25, 1e-9);
	/* no failure for basic: its ratio is absent, its counts 0 */
	cr_expect_eq(must(&r, "cs_payments_failed", "basic", "30d", false), 0);
	cr_expect(absent(&r, "cs_payment_recovery_ratio", "basic", "30d"));
	run_free(&r);
}

Test(payments, paid_exactly_at_t_is_not_recovered_and_not_open)
{
	/* failed t - 10d, paid exactly at t */
	static const char *const rows[] = {
	    "b1", "2500", "USD", "2026-05-20", "2026-05-21", T, "2026-05-22",
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_eq(must(&r, "cs_payments_failed", "pro", "30d", false), 1);
	cr_expect_eq(must(&r, "cs_payments_recovered", "pro", "30d", false), 0);
	cr_expect_float_eq(must(&r, "cs_payment_recovery_ratio", "pro", "30d", false), 0, 1e-12);
	cr_expect_float_eq(must(&r, "cs_payments_recovered_amount", "pro", "30d", true), 0, 1e-12);
	static const char *const buckets[] = {"current", "1_30", "31_60", "61_90", "over_90"};
	for (size_t b = 0; b < 5; b++)
		cr_expect_eq(open_invoices(&r, "pro", buckets[b]), 0, "%s", buckets[b]);
	run_free(&r);
}

Test(payments, failure_before_the_window_is_not_counted)
{
	/* failed t - 40d and recovered: in 90d, not in 30d */
	static const char *const rows[] = {
	    "b1", "100", "USD", "2026-04-20", NULL, "2026-04-25", "2026-04-22",
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_eq(must(&r, "cs_payments_failed", "pro", "30d", false), 0);
	cr_expect(absent(&r, "cs_payment_recovery_ratio", "pro", "30d"));
	cr_expect_eq(must(&r, "cs_payments_failed", "pro", "90d", false), 1);
	cr_expect_eq(must(&r, "cs_payments_recovered", "pro", "90d", false), 1);
	run_free(&r);
}

Test(payments, days_sales_outstanding)
{
	/* billed in 30d: 1,000.00 (paid) + 500.00 (open, current) = 1,500.00;
	 * receivables 500.00: DSO = 500 / 1500 x 30 = 10 days. In 90d one more
	 * invoice of 1,500.00 (paid) was billed: 500 / 3000 x 90 = 15 days. */
	static const char *const rows[] = {
	    "b1", "100000", "USD", "2026-05-12", NULL,	       "2026-05-27", NULL,
	    "b1", "50000",  "USD", "2026-05-22", "2026-06-21", NULL,	     NULL,
	    "b1", "150000", "USD", "2026-03-20", NULL,	       "2026-03-25", NULL,
	};
	struct run r;

	run_payments(&r, true, rows, 3);
	cr_expect_float_eq(receivables(&r, "pro", "current", NULL), 500, 1e-9);
	cr_expect_float_eq(must(&r, "cs_billed_amount", "pro", "30d", true), 1500, 1e-9);
	cr_expect_float_eq(must(&r, "cs_days_sales_outstanding", "pro", "30d", false), 10, 1e-9);
	cr_expect_float_eq(must(&r, "cs_billed_amount", "pro", "90d", true), 3000, 1e-9);
	cr_expect_float_eq(must(&r, "cs_days_sales_outstanding", "pro", "90d", false), 15, 1e-9);
	run_free(&r);
}

Test(payments, dso_absent_when_nothing_is_billed)
{
	/* open since long before the windows: receivables, nothing billed */
	static const char *const rows[] = {
	    "b1", "100000", "USD", "2026-01-10", NULL, NULL, NULL,
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_float_eq(receivables(&r, "pro", "over_90", NULL), 1000, 1e-9);
	for (size_t w = 0; w < 2; w++) {
		const char *win = w ? "90d" : "30d";

		cr_expect_eq(must(&r, "cs_billed_amount", "pro", win, true), 0);
		cr_expect(absent(&r, "cs_days_sales_outstanding", "pro", win), "%s", win);
	}
	run_free(&r);
}

Test(payments, amounts_converted_like_mrr)
{
	/* 10.00 EUR at 1.1; JPY has no minor unit and no rate here */
	static const char *const rows[] = {
	    "b1", "1000", "eur", "2026-05-20", NULL, NULL, NULL,
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_float_eq(receivables(&r, "pro", "1_30", NULL), 11, 1e-9);
	cr_expect_float_eq(must(&r, "cs_billed_amount", "pro", "30d", true), 11, 1e-9);
	run_free(&r);
}

Test(payments, invoices_of_customers_without_an_account_are_unknown)
{
	static const char *const rows[] = {
	    "b9", "100", "USD", "2026-05-20", NULL, NULL, NULL,
	};
	struct run r;

	run_payments(&r, true, rows, 1);
	cr_expect_eq(open_invoices(&r, "unknown", "1_30"), 1);
	cr_expect_eq(open_invoices(&r, "pro", "1_30"), 0);
	cr_expect_float_eq(must(&r, "cs_billed_amount", "unknown", "30d", true), 1, 1e-9);
	run_free(&r);
}

Test(payments, malformed_invoices_are_rejected)
{
	static const char *const rows[] = {
	    /* valid: the only one counted */
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    /* paid, failed or due before issued */
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    "2026-05-19",
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    "2026-05-19 23:59:59+00",
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    "2026-05-01",
	    NULL,
	    NULL,
	    /* negative, unknown currencies (no rate; not a code) */
	    "b1",
	    "-1",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "JPY",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "dollars",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    /* NULLs and malformed values */
	    NULL,
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    NULL,
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    NULL,
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "ten",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    "yesterday",
	    NULL,
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    "soon",
	    NULL,
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    "2026-13-01",
	    NULL,
	    "b1",
	    "100",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    "never",
	    /* beyond 10^12 in the reporting currency */
	    "b1",
	    "1e20",
	    "USD",
	    "2026-05-20",
	    NULL,
	    NULL,
	    NULL,
	};
	struct run r;

	run_payments(&r, true, rows, 17);
	cr_expect_eq(fixture_rejects(r.d, "payments", "bad_validity"), 3);
	cr_expect_eq(fixture_rejects(r.d, "payments", "negative_amount"), 1);
	cr_expect_eq(fixture_rejects(r.d, "payments", "unknown_currency"), 2);
	cr_expect_eq(fixture_rejects(r.d, "payments", "null_key"), 1);
	cr_expect_eq(fixture_rejects(r.d, "payments", "null_value"), 3);
	cr_expect_eq(fixture_rejects(r.d, "payments", "bad_number"), 1);
	cr_expect_eq(fixture_rejects(r.d, "payments", "bad_time"), 4);
	cr_expect_eq(fixture_rejects(r.d, "payments", "amount_out_of_range"), 1);
	cr_expect_eq(r.d->ds_rows[DS_PAYMENTS], 17, "rows read, rejected ones included");
	cr_expect_eq(r.d->payments->rows, 1);
	cr_expect_eq(open_invoices(&r, "pro", "1_30"), 1);
	cr_expect_float_eq(must(&r, "cs_billed_amount", "pro", "30d", true), 1, 1e-9);
	run_free(&r);
}

/* The payment families of the kind table's revenue row, by name. */
static bool is_payment_family(const char *name)
{
	for (const struct cs_family *f = payment_families; f->name; f++)
		if (!strcmp(f->name, name))
			return true;
	return false;
}

struct seen_families {
	size_t payments, others;
};

static void count_family(void *ctx, const char *name)
{
	struct seen_families *s = ctx;

	if (is_payment_family(name))
		s->payments++;
	else
		s->others++;
}

Test(payments, without_the_dataset_no_payment_family)
{
	struct run r;
	struct seen_families s = {0};

	run_payments(&r, false, NULL, 0);
	cr_expect_not(r.d->plan.datasets & (1u << DS_PAYMENTS), "payments is not read");
	mset_each_family(r.m, count_family, &s);
	cr_expect_eq(s.payments, 0, "payment families without the payments dataset");
	cr_expect_gt(s.others, 0, "revenue's own families are written");
	run_free(&r);
}

Test(payments, configured_without_rows_gives_zeros)
{
	struct run r;
	struct seen_families s = {0};
	size_t n = 0;

	run_payments(&r, true, NULL, 0);
	cr_expect(r.d->plan.datasets & (1u << DS_PAYMENTS));
	mset_each_family(r.m, count_family, &s);
	for (const struct cs_family *f = payment_families; f->name; f++)
		n++;
	cr_expect_eq(s.payments, n, "every payment family is there");
	cr_expect_eq(open_invoices(&r, "pro", "current"), 0);
	cr_expect_eq(must(&r, "cs_payments_failed", "basic", "90d", false), 0);
	cr_expect_eq(must(&r, "cs_billed_amount", "pro", "30d", true), 0);
	cr_expect(absent(&r, "cs_days_sales_outstanding", "pro", "30d"));
	run_free(&r);
}
