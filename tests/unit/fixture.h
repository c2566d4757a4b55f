/*
 * fixture: building configs and datasets in memory for unit tests, so KPI
 * compute can be tested from text rows exactly as libpq would deliver them,
 * without a database.
 *
 * Typical use:
 *
 *   static const char *const dims[] = {"plan", "region"};
 *   struct cs_config *cfg = fixture_config(dims, 2);
 *   struct cs_data *d = fixture_data(cfg, KIND_REVENUE, fixture_time("2024-04-01"));
 *   static const char *const acols[] = {"account_key", "billing_key", "plan", "region",
 *                                       "seats", "started_at", "first_value_at"};
 *   static const char *const arows[] = {"a1", "b1", "pro", "eu", "10", NULL, NULL};
 *   fixture_load(d, DS_ACCOUNTS, acols, 7, arows, 1);
 *   ... more datasets ...
 *   cs_data_link(d);
 *   struct mset *m = mset_new();
 *   kpi_revenue(d, &cfg->collectors[KIND_REVENUE], m);
 *   double v = fixture_value(m, "cs_mrr", (const char *const[]){"plan", "pro", "region",
 *                            "eu", "currency", "USD", NULL}, &found);
 *   mset_free(m); cs_data_free(d); fixture_free_config(cfg);
 */
#ifndef CS_TEST_FIXTURE_H
#define CS_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "collectors/plan.h"
#include "config/config.h"
#include "lib/expo.h"

/*
 * A config built in memory with the defaults of config.h: the given segment
 * dimensions, max_segments 500, reporting currency USD with one rate (EUR =
 * 1.1 USD), gross margin 1.0, windows "30d" and "90d", features "api" and
 * "reports", default health model (windows 30d/90d/30d/90d, weights
 * 40/25/15/20, usage target 0.8, bands 50/75, at_risk 10), cohorts of 12
 * months over every dimension, renewal horizons 30d/60d/90d, no outcomes and
 * one collector per kind (collectors[kind], named after the kind, with the
 * global windows). Tests may change any field afterwards; strings and arrays
 * are heap-allocated and released by fixture_free_config.
 */
struct cs_config *fixture_config(const char *const *dims, size_t ndims);

/* Adds an outcome (name, target, direction) to cfg; returns its index. */
size_t fixture_add_outcome(struct cs_config *cfg, const char *name, double target,
			   enum cs_direction direction);

/* Replaces cfg->rates with the given codes and rates (parallel arrays). */
void fixture_set_rates(struct cs_config *cfg, const char *const *codes, const double *rates,
		       size_t n);

void fixture_free_config(struct cs_config *cfg);

/* cs_data_new for a plan of one collector, that of kind in a fixture config
 * (tests/unit/test_evaluation.c builds plans of several). */
struct cs_data *fixture_data(const struct cs_config *cfg, enum cs_kind kind, cs_time as_of);

/* Parses a time like cs_parse_time; aborts the test when malformed. */
cs_time fixture_time(const char *s);

/* The subscriptions dataset's columns in contract order (docs/datasets.md),
 * for tests whose rows follow it. */
#define FIXTURE_NSUBSCRIPTION_COLS 9
extern const char *const fixture_subscription_cols[FIXTURE_NSUBSCRIPTION_COLS];
/* The same followed by the optional cancel_requested_at and churn_reason. */
#define FIXTURE_NSUBSCRIPTION_ALL_COLS 11
extern const char *const fixture_subscription_all_cols[FIXTURE_NSUBSCRIPTION_ALL_COLS];

/* The payments dataset's columns in contract order (billing_key,
 * amount_minor, currency, issued_at, due_at, paid_at, first_failed_at). The
 * dataset is optional: a fixture config has none until a test sets
 * cfg->has_dataset[DS_PAYMENTS] (fixture_payments_on) before fixture_data. */
#define FIXTURE_NPAYMENT_COLS 7
extern const char *const fixture_payment_cols[FIXTURE_NPAYMENT_COLS];
void fixture_payments_on(struct cs_config *cfg);

/*
 * Feeds nrows rows of ncols text values (row-major, NULL = SQL NULL) through
 * cs_data_begin / cs_data_row / cs_data_end (one stream). Activity rows are fed in the
 * order the exporter's ORDER BY gets from PostgreSQL (account_key, user_key,
 * byte order), whatever their order in the table. Fails the test when
 * cs_data_begin or cs_data_end fails.
 */
void fixture_load(struct cs_data *d, int dataset, const char *const *cols, size_t ncols,
		  const char *const *rows, size_t nrows);

/* The same for one run of outcome o in window w (an index into the plan's
 * windows: for a one-collector plan, the collector's). */
void fixture_load_outcome(struct cs_data *d, size_t outcome, size_t window, const char *const *cols,
			  size_t ncols, const char *const *rows, size_t nrows);

/*
 * Value of the sample of family whose labels are exactly pairs (name, value,
 * name, value, ..., NULL). *found tells whether it exists; returns 0 when
 * not found.
 */
double fixture_value(const struct mset *m, const char *family, const char *const *pairs,
		     bool *found);

/* Rejection count of (dataset, reason) in d, 0 when never counted. */
uint64_t fixture_rejects(const struct cs_data *d, const char *dataset, const char *reason);

#endif
