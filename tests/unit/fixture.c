#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

const char *const fixture_subscription_cols[FIXTURE_NSUBSCRIPTION_COLS] = {
    "billing_key", "amount_minor", "currency",	 "interval_unit", "interval_count",
    "quantity",	   "status",	   "valid_from", "valid_to",
};

const char *const fixture_subscription_all_cols[FIXTURE_NSUBSCRIPTION_ALL_COLS] = {
    "billing_key", "amount_minor", "currency", "interval_unit",	      "interval_count", "quantity",
    "status",	   "valid_from",   "valid_to", "cancel_requested_at", "churn_reason",
};

const char *const fixture_payment_cols[FIXTURE_NPAYMENT_COLS] = {
    "billing_key", "amount_minor", "currency", "issued_at", "due_at", "paid_at", "first_failed_at",
};

void fixture_payments_on(struct cs_config *cfg)
{
	cfg->has_dataset[DS_PAYMENTS] = true;
}

struct cs_config *fixture_config(const char *const *dims, size_t ndims)
{
	struct cs_config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->path = xstrdup("fixture.conf");
	cr_assert(ndims <= CS_MAX_DIMENSIONS, "too many fixture dimensions");
	cfg->ndims = ndims;
	for (size_t i = 0; i < ndims; i++)
		cfg->dims[i] = xstrdup(dims[i]);
	cfg->max_segments = 500;
	memcpy(cfg->currency, "USD", 4);
	cfg->nrates = 1;
	cfg->rates = xcalloc(1, sizeof(*cfg->rates));
	memcpy(cfg->rates[0].code, "EUR", 4);
	cfg->rates[0].rate = 1.1;
	cfg->gross_margin = 1.0;

	cfg->nwindows = 2;
	cfg->windows[0].seconds = 30 * 86400;
	strcpy(cfg->windows[0].label, "30d");
	cfg->windows[1].seconds = 90 * 86400;
	strcpy(cfg->windows[1].label, "90d");

	cfg->nfeatures = 2;
	cfg->features[0] = xstrdup("api");
	cfg->features[1] = xstrdup("reports");

	/* every dataset configured but payments (fixture_payments_on): a
	 * kind's optional datasets are read when configured (kinds.h) */
	for (int d = 0; d < DS_COUNT; d++)
		cfg->has_dataset[d] = d != DS_PAYMENTS;

	/* the kinds' settings with their defaults (collectors/kinds.c) */
	cs_kind_settings_attach(cfg);

	cfg->ncollectors = KIND_COUNT;
	cfg->collectors = xcalloc(KIND_COUNT, sizeof(*cfg->collectors));
	for (size_t k = 0; k < KIND_COUNT; k++) {
		struct cs_collector *c = &cfg->collectors[k];
		c->name = xstrdup(collector_kinds[k].name);
		c->kind = xstrdup(collector_kinds[k].name);
		c->interval = 300;
		c->timeout = 30;
		c->nwindows = cfg->nwindows;
		memcpy(c->windows, cfg->windows, sizeof(c->windows));
	}
	cfg->web.telemetry_path = xstrdup("/metrics");
	cfg->web.stale_after = 900;
	return cfg;
}

size_t fixture_add_outcome(struct cs_config *cfg, const char *name, double target,
			   enum cs_direction direction)
{
	cfg->outcomes = xrealloc(cfg->outcomes, (cfg->noutcomes + 1) * sizeof(*cfg->outcomes));
	struct cs_outcome *o = &cfg->outcomes[cfg->noutcomes];
	memset(o, 0, sizeof(*o));
	o->name = xstrdup(name);
	o->query.sql = xstrdup("select 1");
	o->target = target;
	o->direction = direction;
	return cfg->noutcomes++;
}

void fixture_set_rates(struct cs_config *cfg, const char *const *codes, const double *rates,
		       size_t n)
{
	free(cfg->rates);
	cfg->rates = xcalloc(n ? n : 1, sizeof(*cfg->rates));
	for (size_t i = 0; i < n; i++) {
		snprintf(cfg->rates[i].code, sizeof(cfg->rates[i].code), "%s", codes[i]);
		cfg->rates[i].rate = rates[i];
	}
	cfg->nrates = n;
}

void fixture_free_config(struct cs_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	for (size_t i = 0; i < cfg->ndims; i++)
		free(cfg->dims[i]);
	free(cfg->rates);
	for (size_t i = 0; i < cfg->nfeatures; i++)
		free(cfg->features[i]);
	for (size_t i = 0; i < cfg->noutcomes; i++) {
		free(cfg->outcomes[i].name);
		free(cfg->outcomes[i].query.sql);
	}
	free(cfg->outcomes);
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		free(cfg->collectors[i].name);
		free(cfg->collectors[i].kind);
	}
	free(cfg->collectors);
	free(cfg->web.telemetry_path);
	if (cfg->kinds_free)
		cfg->kinds_free(cfg->kinds);
	free(cfg);
}

struct cs_data *fixture_data(const struct cs_config *cfg, enum cs_kind kind, cs_time as_of)
{
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, as_of);
	cs_plan_add(&plan, &cfg->collectors[kind]);
	return cs_data_new(&plan);
}

cs_time fixture_time(const char *s)
{
	cs_time t = 0;
	cr_assert_eq(cs_parse_time(s, &t), 0, "fixture time \"%s\" is malformed", s);
	return t;
}

/* Row order of the activity query, which the exporter asks PostgreSQL for:
 * account_key, user_key in byte order, NULLs last. */
static _Thread_local size_t order_col[2];

static int cmp_nullable(const char *a, const char *b)
{
	if (!a || !b)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static int cmp_activity_row(const void *x, const void *y)
{
	const char *const *a = *(const char *const *const *)x;
	const char *const *b = *(const char *const *const *)y;
	int c = cmp_nullable(a[order_col[0]], b[order_col[0]]);

	return c ? c : cmp_nullable(a[order_col[1]], b[order_col[1]]);
}

static size_t column(const char *const *cols, size_t ncols, const char *name)
{
	for (size_t i = 0; i < ncols; i++)
		if (cols[i] && !strcmp(cols[i], name))
			return i;
	return ncols;
}

static void load(struct cs_data *d, int dataset, size_t outcome, size_t window,
		 const char *const *cols, size_t ncols, const char *const *rows, size_t nrows)
{
	char err[256] = "";
	const char *const **order = xmalloc((nrows ? nrows : 1) * sizeof(*order));
	struct cs_stream *in =
	    cs_data_begin(d, dataset, outcome, window, (int)ncols, cols, err, sizeof(err));
	cr_assert_not_null(in, "cs_data_begin failed: %s", err);
	for (size_t r = 0; r < nrows; r++)
		order[r] = rows + r * ncols;
	order_col[0] = column(cols, ncols, "account_key");
	order_col[1] = column(cols, ncols, "user_key");
	if (dataset == DS_ACTIVITY && order_col[0] < ncols && order_col[1] < ncols)
		qsort(order, nrows, sizeof(*order), cmp_activity_row);
	for (size_t r = 0; r < nrows; r++)
		cs_data_row(in, order[r]);
	free(order);
	int rc = cs_data_end(in, err, sizeof(err));
	cr_assert_eq(rc, 0, "cs_data_end failed: %s", err);
}

void fixture_load(struct cs_data *d, int dataset, const char *const *cols, size_t ncols,
		  const char *const *rows, size_t nrows)
{
	load(d, dataset, 0, 0, cols, ncols, rows, nrows);
}

void fixture_load_outcome(struct cs_data *d, size_t outcome, size_t window, const char *const *cols,
			  size_t ncols, const char *const *rows, size_t nrows)
{
	load(d, CS_DS_OUTCOME, outcome, window, cols, ncols, rows, nrows);
}

double fixture_value(const struct mset *m, const char *family, const char *const *pairs,
		     bool *found)
{
	const char *names[64];
	const char *values[64];
	size_t n = 0;

	while (pairs && pairs[2 * n]) {
		cr_assert(n < 64, "too many label pairs");
		names[n] = pairs[2 * n];
		values[n] = pairs[2 * n + 1];
		n++;
	}
	double v = 0;
	int rc = mset_lookup(m, family, n, names, values, &v);
	if (found)
		*found = rc == 0;
	return rc == 0 ? v : 0;
}

uint64_t fixture_rejects(const struct cs_data *d, const char *dataset, const char *reason)
{
	for (size_t i = 0; i < d->nrejects; i++)
		if (!strcmp(d->rejects[i].dataset, dataset) &&
		    !strcmp(d->rejects[i].reason, reason))
			return d->rejects[i].count;
	return 0;
}
