#include "kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kpi.h"
#include "lib/buf.h"
#include "self.h"

#define DS(d) (1u << (d))

static const struct cs_family *const revenue_tables[] = {
    revenue_families, churn_families, cohort_families, payment_families, mover_families, NULL};
static const struct cs_family *const trial_tables[] = {trial_families, NULL};
static const struct cs_family *const survey_tables[] = {survey_families, NULL};
static const struct cs_family *const adoption_tables[] = {adoption_families, NULL};
static const struct cs_family *const support_tables[] = {support_families, NULL};
static const struct cs_family *const outcome_tables[] = {outcome_families, NULL};
static const struct cs_family *const health_tables[] = {health_families, movement_families, NULL};

static const char *const revenue_groups[] = {"cohorts", "churn_reasons", "movers", NULL};

/* Revenue's families and settings live in several files: revenue.c (MRR, its
 * movements, churn details, cohorts), payments.c (when payments are
 * configured) and movers.c (the customers behind the movements). */
static bool revenue_all_settings(struct config_reader *r, struct cs_kind_settings *k)
{
	return revenue_settings(r, k) && movers_settings(r, k);
}
static const char *const health_groups[] = {"health", "renewals", NULL};

/* Revenue's families are written by revenue.c, payments.c (nothing when
 * payments were not read) and movers.c. */
static void revenue_compute(const struct cs_data *d, const struct cs_collector *c, struct mset *out)
{
	kpi_revenue(d, c, out);
	kpi_payments(d, c, out);
	kpi_movers(d, c, out);
}

/* What each kind's compute needs the folds to keep (struct cs_plan). */
static void revenue_plan(const struct cs_kind_settings *k, struct cs_plan *p)
{
	p->payment_risk = true;
	p->cohort_months = k->cohorts.months > 0 ? (size_t)k->cohorts.months : 0;
	p->churn_reasons = &k->churn_reasons;
	p->keep_names = p->keep_names || k->movers.top > 0; /* movers name their accounts */
}

static void survey_plan(const struct cs_kind_settings *k, struct cs_plan *p)
{
	(void)k;
	p->survey_sums = true;
}

static void health_plan(const struct cs_kind_settings *k, struct cs_plan *p)
{
	(void)k;
	p->keep_names = true;
	p->latest_nps = true;
}

/* The registry of collector kinds: one explicit table, in enum cs_kind order. */
const struct collector_kind collector_kinds[KIND_COUNT] = {
    [KIND_REVENUE] = {.kind = KIND_REVENUE,
		      .name = "revenue",
		      .datasets = DS(DS_ACCOUNTS) | DS(DS_SUBSCRIPTIONS),
		      .optional_datasets = DS(DS_PAYMENTS),
		      .families = revenue_tables,
		      .groups = revenue_groups,
		      .settings = revenue_all_settings,
		      .compute = revenue_compute,
		      .plan = revenue_plan,
		      .about =
			  "MRR, its movements over each window and the ratios built on them, "
			  "customers and logo churn, ARPA and lifetime value, pending churn and "
			  "committed MRR, churn by reason, expansion and contraction by "
			  "driver (seats or price), monthly retention cohorts, the customers "
			  "behind the largest movements, and with the payments dataset "
			  "receivables, failed and recovered payments and DSO."},
    [KIND_TRIALS] = {.kind = KIND_TRIALS,
		     .name = "trials",
		     .datasets = DS(DS_ACCOUNTS) | DS(DS_TRIALS),
		     .families = trial_tables,
		     .compute = kpi_trials,
		     .about = "Trials that ended in each window and their conversion."},
    [KIND_SURVEYS] = {.kind = KIND_SURVEYS,
		      .name = "surveys",
		      .datasets = DS(DS_ACCOUNTS) | DS(DS_SURVEYS),
		      .families = survey_tables,
		      .compute = kpi_surveys,
		      .plan = survey_plan,
		      .about = "NPS, CSAT and CES over the responses of each window."},
    [KIND_ADOPTION] = {.kind = KIND_ADOPTION,
		       .name = "adoption",
		       .datasets = DS(DS_ACCOUNTS) | DS(DS_ACTIVITY),
		       .families = adoption_tables,
		       .compute = kpi_adoption,
		       .about = "Active users, seat utilisation, feature adoption and time to "
				"value."},
    [KIND_SUPPORT] = {.kind = KIND_SUPPORT,
		      .name = "support",
		      .datasets = DS(DS_ACCOUNTS) | DS(DS_TICKETS),
		      .families = support_tables,
		      .compute = kpi_support,
		      .about = "Tickets opened, escalated and resolved, and resolution time."},
    [KIND_OUTCOMES] = {.kind = KIND_OUTCOMES,
		       .name = "outcomes",
		       .datasets = DS(DS_ACCOUNTS),
		       .outcomes = true,
		       .families = outcome_tables,
		       .compute = kpi_outcomes,
		       .about = "Business outcomes (one query each, see outcomes in the "
				"configuration) against their targets."},
    [KIND_HEALTH] = {.kind = KIND_HEALTH,
		     .name = "health",
		     .datasets =
			 DS(DS_ACCOUNTS) | DS(DS_SUBSCRIPTIONS) | DS(DS_SURVEYS) | DS(DS_TICKETS),
		     /* without activity (a CRM-only shop) the usage component is
		      * undefined and the others' weights renormalise (health.c) */
		     .optional_datasets = DS(DS_ACTIVITY),
		     .families = health_tables,
		     .groups = health_groups,
		     .settings = health_settings,
		     .compute = kpi_health,
		     .lookback = health_lookback,
		     .plan = health_plan,
		     .remember = kpi_health_movement,
		     .forget = cs_band_memory_free,
		     .about = "Account health scores and bands, the accounts most at risk, "
			      "renewals by band, and band transitions between evaluations."},
};

/* Labels of the exporter's own series and of what Prometheus attaches on
 * scrape: self-metrics (exporter/serve/snapshot.c), histogram buckets. */
/* Labels the exposition carries beyond any family table's: histogram
 * buckets and quantiles, and what Prometheus attaches to every scraped
 * series. */
const char *const cs_prometheus_labels[] = {"le", "quantile", "job", "instance", NULL};

const struct collector_kind *cs_kind_named(const char *name)
{
	for (int k = 0; name && k < KIND_COUNT; k++)
		if (strcmp(collector_kinds[k].name, name) == 0)
			return &collector_kinds[k];
	return NULL;
}

unsigned cs_kind_datasets(const struct collector_kind *k, const struct cs_config *cfg)
{
	unsigned ds = k->datasets;

	for (int d = 0; d < DS_COUNT; d++)
		if ((k->optional_datasets & DS(d)) && cfg->has_dataset[d])
			ds |= DS(d);
	return ds;
}

enum cs_kind cs_kind_of(const struct cs_collector *c)
{
	const struct collector_kind *k = cs_kind_named(c->kind);

	/* cs_settings_load refused any other: not reached for a checked config */
	if (!k) {
		fprintf(stderr, "collector '%s': unknown kind '%s'\n", c->name, c->kind);
		abort();
	}
	return k->kind;
}

/* ------------------------------------------------------------- labels */

/* Adds name to the n distinct names of out (at most max kept). */
static size_t add_name(const char **out, size_t n, size_t max, const char *name)
{
	for (size_t i = 0; i < n && i < max; i++)
		if (strcmp(out[i], name) == 0)
			return n;
	if (n < max)
		out[n] = name;
	return n + 1;
}

size_t cs_label_names(const char **out, size_t max)
{
	size_t n = 0;

	for (int k = 0; k < KIND_COUNT; k++)
		for (const struct cs_family *const *t = collector_kinds[k].families; *t; t++)
			for (const struct cs_family *f = *t; f->name; f++)
				for (size_t l = 0; l < CS_FAMILY_LABELS && f->labels[l]; l++)
					n = add_name(out, n, max, f->labels[l]);
	for (const struct cs_family *f = self_families; f->name; f++)
		for (size_t l = 0; l < CS_FAMILY_LABELS && f->labels[l]; l++)
			n = add_name(out, n, max, f->labels[l]);
	for (const char *const *l = cs_prometheus_labels; *l; l++)
		n = add_name(out, n, max, *l);
	return n;
}

bool cs_label_reserved(const char *name)
{
	const char *names[CS_MAX_LABEL_NAMES];
	size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES);

	for (size_t i = 0; i < n && i < CS_MAX_LABEL_NAMES; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* ----------------------------------------------------------- settings */

static void settings_free(struct cs_kind_settings *k)
{
	free(k);
}

struct cs_kind_settings *cs_kind_settings_attach(struct cs_config *cfg)
{
	struct cs_kind_settings *k = xcalloc(1, sizeof(*k));
	struct cs_health *h = &k->health;

	k->label_reserved = cs_label_reserved;
	h->w_usage = 40;
	h->usage_window = 30 * 86400;
	h->usage_target = 0.8;
	h->w_sentiment = 25;
	h->sentiment_window = 90 * 86400;
	h->w_support = 15;
	h->support_window = 30 * 86400;
	h->w_billing = 20;
	h->billing_window = 90 * 86400;
	h->red_below = 50;
	h->green_from = 75;
	h->at_risk = 10;
	k->movers.top = 10;

	/* cohorts carry every segment dimension unless told otherwise */
	k->cohorts.months = 12;
	k->cohorts.ndims = cfg->ndims;
	for (size_t i = 0; i < cfg->ndims; i++)
		k->cohorts.dims[i] = i;

	/* Stripe's cancellation_details.feedback codes, in its order */
	static const char *const stripe_reasons[] = {
	    "customer_service", "low_quality", "missing_features", "other",
	    "switched_service", "too_complex", "too_expensive",	   "unused",
	};
	k->churn_reasons.n = sizeof(stripe_reasons) / sizeof(stripe_reasons[0]);
	for (size_t i = 0; i < k->churn_reasons.n; i++)
		snprintf(k->churn_reasons.codes[i], sizeof(k->churn_reasons.codes[i]), "%s",
			 stripe_reasons[i]);

	k->renewals.nhorizons = 3;
	for (size_t i = 0; i < 3; i++) {
		k->renewals.horizons[i].seconds = (int64_t)(30 * (i + 1)) * 86400;
		snprintf(k->renewals.horizons[i].label, sizeof(k->renewals.horizons[i].label),
			 "%zud", 30 * (i + 1));
	}
	if (cfg->kinds_free)
		cfg->kinds_free(cfg->kinds);
	cfg->kinds = k;
	cfg->kinds_free = settings_free;
	return k;
}

static bool check_dimensions(struct config_reader *r)
{
	const struct config_setting_t *dims =
	    config_member(config_member(config_root(r->cfg), "segments"), "dimensions");

	for (int i = 0; i < config_count(dims); i++) {
		const struct config_setting_t *e = config_elem(dims, i);
		const char *d = config_string_of(e);

		if (d && cs_label_reserved(d))
			return config_fail(
			    r, e, "dimension '%s' is a reserved label name of the exporter", d);
	}
	return true;
}

/* "revenue, trials, ... or health", from the table. */
static void kind_list(struct buf *b)
{
	for (int k = 0; k < KIND_COUNT; k++)
		buf_addf(b, "%s%s",
			 k == 0		       ? ""
			 : k + 1 == KIND_COUNT ? " or "
					       : ", ",
			 collector_kinds[k].name);
}

static bool check_collector(struct config_reader *r, const struct cs_collector *c,
			    const struct config_setting_t *g)
{
	const struct cs_config *cfg = r->cfg;
	const struct config_setting_t *ks = config_member(g, "kind");
	const struct collector_kind *k = cs_kind_named(c->kind);

	if (!k) {
		struct buf b = BUF_INIT;
		bool ok;

		kind_list(&b);
		ok = config_fail(r, ks, "unknown collector kind '%s' (expected %s)", c->kind,
				 b.data);
		buf_release(&b);
		return ok;
	}
	/* Two collectors of one kind would write the same metric families. */
	for (const struct cs_collector *o = cfg->collectors; o < c; o++)
		if (strcmp(o->kind, c->kind) == 0)
			return config_fail(
			    r, ks, "collector '%s' has the same kind '%s' as collector '%s'",
			    c->name, c->kind, o->name);
	for (int d = 0; d < DS_COUNT; d++)
		if ((k->datasets & DS(d)) && !cfg->has_dataset[d])
			return config_fail(
			    r, g,
			    "collector '%s' of kind '%s' needs dataset '%s', which is not "
			    "configured",
			    c->name, c->kind, config_dataset_name((enum cs_dataset)d));
	if (k->outcomes && cfg->noutcomes == 0)
		return config_fail(r, g, "collector '%s' of kind '%s' needs at least one outcome",
				   c->name, c->kind);
	return true;
}

static bool check_collectors(struct config_reader *r)
{
	const struct config_setting_t *list = config_member(config_root(r->cfg), "collectors");

	for (size_t i = 0; i < r->cfg->ncollectors; i++)
		if (!check_collector(r, &r->cfg->collectors[i], config_elem(list, (int)i)))
			return false;
	return true;
}

struct cs_config *cs_settings_load(const char *path, char *err, size_t errlen)
{
	const char *groups[KIND_COUNT * 4 + 1];
	size_t ng = 0;
	struct cs_config *cfg;
	struct config_reader r;
	bool ok;

	for (int k = 0; k < KIND_COUNT; k++)
		for (const char *const *g = collector_kinds[k].groups; g && *g; g++)
			if (ng + 1 < sizeof(groups) / sizeof(groups[0]))
				groups[ng++] = *g;
	groups[ng] = NULL;
	cfg = config_load(path, groups, err, errlen);
	if (!cfg)
		return NULL;
	config_reader_init(&r, cfg, err, errlen);
	cs_kind_settings_attach(cfg);
	ok = check_dimensions(&r);
	for (int k = 0; ok && k < KIND_COUNT; k++)
		if (collector_kinds[k].settings)
			ok = collector_kinds[k].settings(&r, cfg->kinds);
	ok = ok && check_collectors(&r);
	if (!ok) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}
