/* Freshness per dataset, and the bounds that keep labels and sums sane. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_accounts.h"

static const char *const dims2[] = {"plan", "region"};
static const char *const acols[] = {"account_key", "billing_key", "plan",	    "region",
				    "seats",	   "started_at",  "first_value_at", "name"};
#define NACOLS 8

Test(freshness, newest_valid_row_per_dataset)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));
	static const char *const arows[] = {
	    "a1", "b1", "pro", "eu",  "5",   "2026-01-10", NULL,
	    NULL, "a2", "b2",  "pro", "eu",  "5",	   "2026-03-05 12:00:00+00",
	    NULL, NULL, "a3",  "b3",  "pro", "eu",	   "5",
	    NULL, NULL, NULL,
	};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 3);
	static const char *const srows[] = {
	    "b1",
	    "1000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-02-01",
	    NULL,
	    "b2",
	    "1000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "canceled",
	    "2026-04-01",
	    NULL,
	    /* rejected: its later valid_from is no evidence of a live feed */
	    "b2",
	    "-1",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-05-20",
	    NULL,
	};
	fixture_load(d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 3);
	cr_assert(d->read[DS_ACCOUNTS]);
	cr_assert(d->read[DS_SUBSCRIPTIONS]);
	cr_assert_not(d->read[DS_TICKETS]);
	cr_assert_eq(d->newest[DS_ACCOUNTS], fixture_time("2026-03-05 12:00:00+00"));
	cr_assert_eq(d->newest[DS_SUBSCRIPTIONS], fixture_time("2026-04-01"));
	cr_assert_eq(d->newest[DS_TICKETS], CS_TIME_NONE);
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(freshness, tickets_count_opened_and_resolved)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_SUPPORT, fixture_time("2026-06-01"));
	static const char *const arows[] = {"a1", "b1", "pro", "eu", "5", NULL, NULL, NULL};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 1);
	cr_assert_eq(d->newest[DS_ACCOUNTS], CS_TIME_NONE);
	static const char *const kcols[] = {"account_key", "opened_at", "resolved_at", "escalated"};
	static const char *const krows[] = {
	    "a1", "2026-05-01", "2026-05-28", "f", "a1", "2026-05-10", NULL, "t",
	};
	fixture_load(d, DS_TICKETS, kcols, 4, krows, 2);
	cr_assert_eq(d->newest[DS_TICKETS], fixture_time("2026-05-28"));
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* The newest instant at or before t (docs/datasets.md, "Freshness"): an
 * account that starts after t and an invoice paid after t do not make their
 * feeds look fresh, and a past t sees only what had happened by then. */
Test(freshness, rows_after_t_are_not_fresh)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	fixture_payments_on(cfg);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));
	static const char *const arows[] = {
	    "a1",
	    "b1",
	    "pro",
	    "eu",
	    "5",
	    "2026-05-10",
	    NULL,
	    NULL,
	    /* starts in eight days */
	    "a2",
	    "b2",
	    "pro",
	    "eu",
	    "5",
	    "2026-06-09",
	    NULL,
	    NULL,
	};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 2);
	static const char *const srows[] = {
	    "b1",
	    "1000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-05-15",
	    NULL,
	    /* a price change scheduled for next month */
	    "b1",
	    "2000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-07-01",
	    NULL,
	};
	fixture_load(d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 2);
	static const char *const prows[] = {
	    /* failed 05-20, paid after t: the failure is the newest by t */
	    "b1",
	    "1000",
	    "USD",
	    "2026-05-01",
	    NULL,
	    "2026-06-03",
	    "2026-05-20",
	    /* paid exactly at t: at or before t counts */
	    "b2",
	    "1000",
	    "USD",
	    "2026-05-02",
	    NULL,
	    "2026-06-01",
	    NULL,
	    /* issued after t */
	    "b1",
	    "1000",
	    "USD",
	    "2026-06-05",
	    NULL,
	    NULL,
	    NULL,
	};
	fixture_load(d, DS_PAYMENTS, fixture_payment_cols, FIXTURE_NPAYMENT_COLS, prows, 3);
	cr_expect_eq(d->newest[DS_ACCOUNTS], fixture_time("2026-05-10"));
	cr_expect_eq(d->newest[DS_SUBSCRIPTIONS], fixture_time("2026-05-15"));
	cr_expect_eq(d->newest[DS_PAYMENTS], fixture_time("2026-06-01"));
	cr_expect_eq(d->ds_rows[DS_PAYMENTS], 3, "rows after t are read, only not fresh");
	cs_data_free(d);

	/* a backfill step at a past t: the freshness it had then */
	d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-05-12"));
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 2);
	fixture_load(d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 2);
	fixture_load(d, DS_PAYMENTS, fixture_payment_cols, FIXTURE_NPAYMENT_COLS, prows, 3);
	cr_expect_eq(d->newest[DS_ACCOUNTS], fixture_time("2026-05-10"));
	cr_expect_eq(d->newest[DS_SUBSCRIPTIONS], CS_TIME_NONE, "no period had started by then");
	cr_expect_eq(d->newest[DS_PAYMENTS], fixture_time("2026-05-02"));
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(freshness, payments_issued_paid_and_failed)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	fixture_payments_on(cfg);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));
	static const char *const arows[] = {"a1", "b1", "pro", "eu", "5", NULL, NULL, NULL};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 1);
	static const char *const prows[] = {
	    "b1",
	    "1000",
	    "USD",
	    "2026-05-01",
	    NULL,
	    "2026-05-03",
	    NULL,
	    "b1",
	    "1000",
	    "USD",
	    "2026-05-02",
	    NULL,
	    NULL,
	    "2026-05-04",
	    /* rejected (paid before issued): no evidence of a live feed */
	    "b1",
	    "1000",
	    "USD",
	    "2026-05-30",
	    NULL,
	    "2026-05-05",
	    NULL,
	};
	fixture_load(d, DS_PAYMENTS, fixture_payment_cols, FIXTURE_NPAYMENT_COLS, prows, 3);
	cr_expect_eq(d->newest[DS_PAYMENTS], fixture_time("2026-05-04"), "first_failed_at");
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(bounds, monthly_amount_beyond_bound_is_rejected)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));
	static const char *const arows[] = {"a1", "b1", "pro", "eu", "5", NULL, NULL, NULL};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 1);
	static const char *const srows[] = {
	    "b1",
	    "1e308",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-01-01",
	    NULL,
	    "b1",
	    "1e200",
	    "USD",
	    "month",
	    "1",
	    "1e200",
	    "active",
	    "2026-01-01",
	    NULL,
	    /* just under the bound: a trillion a month is still money */
	    "b1",
	    "99999999999999",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-01-01",
	    NULL,
	    "b1",
	    "1000",
	    "USD",
	    "month",
	    "1",
	    "1",
	    "active",
	    "2026-01-01",
	    NULL,
	};
	fixture_load(d, DS_SUBSCRIPTIONS, fixture_subscription_cols, FIXTURE_NSUBSCRIPTION_COLS,
		     srows, 4);
	cr_assert_eq(fixture_rejects(d, "subscriptions", "amount_out_of_range"), 2);
	cs_data_link(d);
	struct mset *m = mset_new();
	kpi_revenue(d, &cfg->collectors[KIND_REVENUE], m);
	bool found;
	double mrr = fixture_value(
	    m, "cs_mrr",
	    (const char *const[]){"plan", "pro", "region", "eu", "currency", "USD", NULL}, &found);
	cr_assert(found);
	cr_assert(isfinite(mrr));
	cr_assert_float_eq(mrr, 999999999999.99 + 10, 1e-3);
	mset_free(m);
	cs_data_free(d);
	fixture_free_config(cfg);
}

Test(bounds, outcome_value_beyond_bound_is_rejected)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	fixture_add_outcome(cfg, "emails_sent", 10, OUTCOME_AT_LEAST);
	struct cs_data *d = fixture_data(cfg, KIND_OUTCOMES, fixture_time("2026-06-01"));
	static const char *const arows[] = {"a1", "b1", "pro", "eu", "5", NULL, NULL, NULL};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 1);
	static const char *const ocols[] = {"account_key", "value"};
	static const char *const orows[] = {"a1", "1e308", "a1", "-1e16", "a1", "12"};
	fixture_load_outcome(d, 0, 0, ocols, 2, orows, 3);
	cr_assert_eq(fixture_rejects(d, "emails_sent", "value_out_of_range"), 2);
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* Walks s as UTF-8; false on a truncated or malformed sequence. */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return false;
	}
	return true;
}

Test(bounds, long_segment_values_and_names_are_cut_visibly)
{
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_HEALTH, fixture_time("2026-06-01"));
	/* 1,000 bytes of two-byte characters, and 1,000 ASCII bytes */
	char plan[1001], name[1001];
	for (size_t i = 0; i < 1000; i += 2)
		memcpy(plan + i, "\xc3\xa9", 2);
	plan[1000] = '\0';
	memset(name, 'n', 1000);
	name[1000] = '\0';
	const char *arows[] = {"a1", "b1", plan,    "eu", "5", NULL, NULL, name,
			       "a2", "b2", "short", "eu", "5", NULL, NULL, "Bolt"};
	fixture_load(d, DS_ACCOUNTS, acols, NACOLS, arows, 2);
	cs_data_link(d);
	bool cut_seen = false;
	for (size_t i = 0; i < d->seg.n; i++) {
		const char *v = d->seg.values[i * 2];
		cr_assert_leq(strlen(v), CS_MAX_LABEL_BYTES, "segment value of %zu bytes",
			      strlen(v));
		cr_assert(valid_utf8(v), "cut inside a character");
		if (strlen(v) > 200) {
			cr_assert_str_eq(v + strlen(v) - 3, "\xe2\x80\xa6");
			cut_seen = true;
		}
	}
	cr_assert(cut_seen);
	cr_assert_leq(strlen(d->accounts[0].name), CS_MAX_LABEL_BYTES);
	cr_assert_str_eq(d->accounts[1].name, "Bolt");
	cs_data_free(d);
	fixture_free_config(cfg);
}

/* loaded_at (docs/datasets.md, "Freshness"): when the query returns it, the
 * newest load time at or before t is the freshness, whatever the business
 * instants say; a rejected row's load counts, a NULL one does not, a
 * malformed one rejects its row. */
Test(freshness, loaded_at_defines_freshness)
{
	static const char *const lcols[] = {"account_key",    "billing_key", "plan",
					    "region",	      "seats",	     "started_at",
					    "first_value_at", "name",	     "loaded_at"};
	static const char *const rows[] = {
	    /* signed long ago, loaded yesterday */
	    "a1",
	    "b1",
	    "pro",
	    "eu",
	    "5",
	    "2025-01-10",
	    NULL,
	    NULL,
	    "2026-05-31 02:00:00+00",
	    /* signed last week, no load stamp: its started_at does not count */
	    "a2",
	    "b2",
	    "pro",
	    "eu",
	    "5",
	    "2026-05-25",
	    NULL,
	    NULL,
	    NULL,
	    /* loaded after t: not seen yet */
	    "a3",
	    "b3",
	    "pro",
	    "eu",
	    "5",
	    "2025-01-10",
	    NULL,
	    NULL,
	    "2026-06-02",
	    /* rejected (no key), but delivered by the load of 05-31 03:00 */
	    NULL,
	    "b4",
	    "pro",
	    "eu",
	    "5",
	    "2025-01-10",
	    NULL,
	    NULL,
	    "2026-05-31 03:00:00+00",
	    /* a stamp that is no time: the row is rejected */
	    "a5",
	    "b5",
	    "pro",
	    "eu",
	    "5",
	    "2025-01-10",
	    NULL,
	    NULL,
	    "soon",
	};
	struct cs_config *cfg = fixture_config(dims2, 2);
	struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));

	fixture_load(d, DS_ACCOUNTS, lcols, 9, rows, 5);
	cr_expect_eq(d->newest[DS_ACCOUNTS], fixture_time("2026-05-31 03:00:00+00"));
	cr_expect_eq(fixture_rejects(d, "accounts", "bad_time"), 1);
	cr_expect_eq(fixture_rejects(d, "accounts", "null_key"), 1);
	cs_data_free(d);

	/* without loaded_at: the newest started_at at or before t */
	d = fixture_data(cfg, KIND_REVENUE, fixture_time("2026-06-01"));
	fixture_load(d, DS_ACCOUNTS, lcols, 8,
		     (const char *const[]){"a2", "b2", "pro", "eu", "5", "2026-05-25", NULL, NULL},
		     1);
	cr_expect_eq(d->newest[DS_ACCOUNTS], fixture_time("2026-05-25"));
	cs_data_free(d);
	fixture_free_config(cfg);
}
