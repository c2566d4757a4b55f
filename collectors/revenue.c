/*
 * revenue: MRR, its movements and the ratios built on them (docs/metrics.md),
 * per segment and per collector window.
 *
 * The loader summed, per customer, MRR at t and at every window start t0,
 * and kept the earliest valid_from of a counting row with a positive monthly
 * amount (struct cs_mrr, ds_subscriptions.h). That last instant decides
 * reactivation: amounts
 * are never negative (negative amounts and quantities are rejected, rates
 * are positive), so a customer's summed MRR is > 0 at an instant x iff some
 * counting row with monthly > 0 covers x. Such an x < t0 exists iff some
 * such row starts before t0 (take x = its valid_from; conversely the row
 * covering x starts at or before x). Hence "MRR was > 0 before t0" is
 * "earliest positive counting valid_from < t0". No row is kept, no sort is
 * needed and every window is evaluated from the same sums.
 *
 * MRR is compared with zero exactly (a sum of non-negative terms is 0 only
 * when every term is), and m1 with m0 through cs_cmp, so a change within a
 * relative 1e-9 is no movement.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "ds_subscriptions.h"
#include "emit.h"
#include "kpi.h"
#include "ds_accounts.h"

static const char *const amount_types[MV_COUNT] = {
    "new", "reactivation", "expansion", "contraction", "churn",
};
static const char *const count_types[MV_COUNT] = {
    "new", "reactivated", "expanded", "contracted", "churned",
};
/* customer movement counts are written in the order their HELP lists them */
static const int count_order[MV_COUNT] = {MV_NEW, MV_REACT, MV_CHURN, MV_EXP, MV_CONTR};

struct win_acc {
	double mrr0;
	double amount[MV_COUNT];
	uint64_t start;
	uint64_t count[MV_COUNT];
	double involuntary; /* the churn amount of involuntary churners */
	uint64_t involuntary_count;
};

struct seg_acc {
	double mrr1;
	uint64_t end;
	double past_due; /* part of mrr1 from past_due rows */
};

/* What a ratio's formula reads: one segment's and one window's sums. */
struct cell {
	const struct seg_acc *s;
	const struct win_acc *w;
};

static double net_mrr_churn(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;
	const double *mv = a->amount;

	return a->mrr0 > 0 ? (mv[MV_CHURN] + mv[MV_CONTR] - mv[MV_EXP] - mv[MV_REACT]) / a->mrr0
			   : NAN;
}

static double gross_mrr_churn(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;
	const double *mv = a->amount;

	return a->mrr0 > 0 ? (mv[MV_CHURN] + mv[MV_CONTR]) / a->mrr0 : NAN;
}

static double net_revenue_retention(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;
	const double *mv = a->amount;

	return a->mrr0 > 0 ? (a->mrr0 - mv[MV_CHURN] - mv[MV_CONTR] + mv[MV_EXP]) / a->mrr0 : NAN;
}

static double gross_revenue_retention(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;
	const double *mv = a->amount;

	return a->mrr0 > 0 ? (a->mrr0 - mv[MV_CHURN] - mv[MV_CONTR]) / a->mrr0 : NAN;
}

static double quick_ratio(const void *cell)
{
	const double *mv = ((const struct cell *)cell)->w->amount;
	double lost = mv[MV_CHURN] + mv[MV_CONTR];

	return lost > 0 ? (mv[MV_NEW] + mv[MV_REACT] + mv[MV_EXP]) / lost : NAN;
}

static double logo_churn(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;

	return a->start ? (double)a->count[MV_CHURN] / (double)a->start : NAN;
}

static double customer_retention(const void *cell)
{
	const struct cell *c = cell;
	const struct win_acc *a = c->w;

	return a->start
		   ? ((double)c->s->end - (double)a->count[MV_NEW] - (double)a->count[MV_REACT]) /
			 (double)a->start
		   : NAN;
}

static double upsell(const void *cell)
{
	const struct win_acc *a = ((const struct cell *)cell)->w;

	return a->start ? (double)a->count[MV_EXP] / (double)a->start : NAN;
}

enum {
	F_MRR,
	F_MRR_WINDOW_START,
	F_MRR_MOVEMENT,
	F_NET_MRR_CHURN,
	F_GROSS_MRR_CHURN,
	F_NRR,
	F_GRR,
	F_QUICK,
	F_CUSTOMERS,
	F_CUSTOMERS_WINDOW_START,
	F_CUSTOMER_MOVEMENTS,
	F_LOGO_CHURN,
	F_CUSTOMER_RETENTION,
	F_UPSELL,
	F_ARPA,
	F_CLV,
	F_MRR_PAST_DUE,
	F_INVOLUNTARY,
	F_INVOLUNTARY_COUNT,
	F_COUNT
};

const struct cs_family revenue_families[] = {
    [F_MRR] = {.name = "cs_mrr",
	       .type = METRIC_GAUGE,
	       .labels = {"currency"},
	       .help = "Monthly recurring revenue at t: active and past_due subscriptions, "
		       "normalised to a month, in the reporting currency; recomputed every "
		       "collector interval"},
    [F_MRR_WINDOW_START] = {.name = "cs_mrr_window_start",
			    .type = METRIC_GAUGE,
			    .labels = {"currency", "window"},
			    .help = "Monthly recurring revenue at the window start t-W, in the "
				    "reporting currency; recomputed every collector interval"},
    [F_MRR_MOVEMENT] = {.name = "cs_mrr_movement",
			.type = METRIC_GAUGE,
			.labels = {"currency", "window", "type"},
			.help = "MRR movement over the window by the endpoint method (new, "
				"reactivation, expansion, contraction, churn; amounts >= 0): "
				"MRR(t) = MRR(t-W) + new + reactivation + expansion - contraction "
				"- churn; recomputed every collector interval"},
    [F_NET_MRR_CHURN] = {.name = "cs_net_mrr_churn_ratio",
			 .type = METRIC_GAUGE,
			 .labels = {"window"},
			 .formula = net_mrr_churn,
			 .help =
			     "Net MRR churn: (churn + contraction - expansion - reactivation) / "
			     "MRR(t-W); absent when MRR(t-W) is 0; recomputed every collector "
			     "interval"},
    [F_GROSS_MRR_CHURN] = {.name = "cs_gross_mrr_churn_ratio",
			   .type = METRIC_GAUGE,
			   .labels = {"window"},
			   .formula = gross_mrr_churn,
			   .help = "Gross MRR churn: (churn + contraction) / MRR(t-W); absent when "
				   "MRR(t-W) is 0; recomputed every collector interval"},
    [F_NRR] = {.name = "cs_net_revenue_retention_ratio",
	       .type = METRIC_GAUGE,
	       .labels = {"window"},
	       .formula = net_revenue_retention,
	       .help = "Net revenue retention: (MRR(t-W) - churn - contraction + expansion) / "
		       "MRR(t-W); absent when MRR(t-W) is 0; recomputed every collector interval"},
    [F_GRR] = {.name = "cs_gross_revenue_retention_ratio",
	       .type = METRIC_GAUGE,
	       .labels = {"window"},
	       .formula = gross_revenue_retention,
	       .help = "Gross revenue retention: (MRR(t-W) - churn - contraction) / MRR(t-W); "
		       "absent when MRR(t-W) is 0; recomputed every collector interval"},
    [F_QUICK] = {.name = "cs_quick_ratio",
		 .type = METRIC_GAUGE,
		 .labels = {"window"},
		 .formula = quick_ratio,
		 .help = "SaaS quick ratio: (new + reactivation + expansion) / (churn + "
			 "contraction) over the window; absent when nothing was lost; recomputed "
			 "every collector interval"},
    [F_CUSTOMERS] = {.name = "cs_customers",
		     .type = METRIC_GAUGE,
		     .help = "Paying customers at t (billing customers with MRR > 0); recomputed "
			     "every collector interval"},
    [F_CUSTOMERS_WINDOW_START] = {.name = "cs_customers_window_start",
				  .type = METRIC_GAUGE,
				  .labels = {"window"},
				  .help = "Paying customers at the window start t-W; recomputed "
					  "every collector interval"},
    [F_CUSTOMER_MOVEMENTS] = {.name = "cs_customer_movements",
			      .type = METRIC_GAUGE,
			      .labels = {"window", "type"},
			      .help = "Customers by MRR movement class over the window (new, "
				      "reactivated, churned, expanded, contracted); recomputed "
				      "every collector interval"},
    [F_LOGO_CHURN] = {.name = "cs_customer_churn_ratio",
		      .type = METRIC_GAUGE,
		      .labels = {"window"},
		      .formula = logo_churn,
		      .help = "Logo churn: churned customers / customers at t-W; absent when there "
			      "were none; recomputed every collector interval"},
    [F_CUSTOMER_RETENTION] = {.name = "cs_customer_retention_ratio",
			      .type = METRIC_GAUGE,
			      .labels = {"window"},
			      .formula = customer_retention,
			      .help = "Customer retention: (customers at t - new - reactivated) / "
				      "customers at t-W; absent when there were none; recomputed "
				      "every collector interval"},
    [F_UPSELL] = {.name = "cs_upsell_ratio",
		  .type = METRIC_GAUGE,
		  .labels = {"window"},
		  .formula = upsell,
		  .help = "Upsell rate: expanded customers / customers at t-W; absent when there "
			  "were none; recomputed every collector interval"},
    [F_ARPA] = {.name = "cs_arpa",
		.type = METRIC_GAUGE,
		.labels = {"currency"},
		.help = "Average revenue per account: MRR at t / paying customers at t; absent "
			"without paying customers; recomputed every collector interval"},
    [F_CLV] = {.name = "cs_customer_lifetime_value",
	       .type = METRIC_GAUGE,
	       .labels = {"currency", "window"},
	       .help = "Customer lifetime value: ARPA x gross margin / monthly logo churn, with "
		       "monthly logo churn = logo churn x 30d / W; absent when logo churn or ARPA "
		       "is undefined or churn is 0; recomputed every collector interval"},
    [F_MRR_PAST_DUE] = {.name = "cs_mrr_past_due",
			.type = METRIC_GAUGE,
			.labels = {"currency"},
			.help = "Part of MRR at t from subscription rows with status past_due, in "
				"the reporting currency; recomputed every collector interval"},
    [F_INVOLUNTARY] = {.name = "cs_mrr_involuntary_churn",
		       .type = METRIC_GAUGE,
		       .labels = {"currency", "window"},
		       .help =
			   "Churned MRR (m0) of churned customers whose MRR last fell to 0 when "
			   "only past_due rows ended; a part of the churn movement, not added "
			   "to it; recomputed every collector interval"},
    [F_INVOLUNTARY_COUNT] = {.name = "cs_customers_involuntary_churned",
			     .type = METRIC_GAUGE,
			     .labels = {"window"},
			     .help =
				 "Churned customers whose MRR last fell to 0 when only past_due "
				 "rows ended (failed payments); a part of the churned count; "
				 "recomputed every collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

/* The families from .. to - 1 of the table, each a formula over every
 * segment's and window's cell, sample by sample absent where it is NaN. */
static void emit_ratios(struct mset *out, const struct cs_data *d, const struct cs_collector *col,
			int from, int to, const struct seg_acc *sa, const struct win_acc *wa)
{
	size_t nw = col->nwindows;

	for (int r = from; r < to; r++) {
		struct cs_emitter f = family_of(out, d, &revenue_families[r]);

		for (uint32_t s = 0; s < d->seg.n; s++) {
			for (size_t w = 0; w < nw; w++) {
				struct cell c = {&sa[s], &wa[s * nw + w]};
				double v = revenue_families[r].formula(&c);

				if (!isnan(v))
					emit(&f, s, v, col->windows[w].label, NULL);
			}
		}
	}
}

static void emit_cohorts(const struct cs_data *d, struct mset *out);

void kpi_revenue(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	size_t nw = col->nwindows, ns = d->seg.n, nc = d->ncustomers;
	const struct cs_mrr *mrr = d->mrr;
	size_t wi[CS_MAX_WINDOWS]; /* the collector's windows among the plan's */

	for (size_t w = 0; w < nw; w++)
		wi[w] = cs_plan_window(&d->plan, col->windows[w].seconds);

	struct seg_acc *sa = xcalloc(ns + 1, sizeof(*sa));
	struct win_acc *wa = xcalloc(ns * nw + 1, sizeof(*wa));
	for (size_t c = 0; c < nc; c++) {
		uint32_t seg = d->customers[c].seg;
		if (seg >= ns)
			continue;
		double m1 = mrr_at(mrr, c, MRR_T);
		if (m1 > 0) {
			sa[seg].mrr1 += m1;
			sa[seg].end++;
			sa[seg].past_due += mrr_past_due(mrr, c);
		}
		for (size_t w = 0; w < nw; w++) {
			struct win_acc *a = &wa[seg * nw + w];
			double m0 = mrr_at(mrr, c, mrr_window_start(wi[w]));
			bool before = mrr_first_positive(mrr, c) < d->plan.from[wi[w]];
			int mv = cs_movement_of(m0, m1, before);
			double amount = cs_movement_amount(mv, m0, m1);

			if (m0 > 0) {
				a->mrr0 += m0;
				a->start++;
			}
			/* involuntary: only past_due rows ended at the last drop
			 * (ds_subscriptions.h) */
			if (mv == MV_CHURN && mrr_dropped_past_due(mrr, c, wi[w])) {
				a->involuntary += m0;
				a->involuntary_count++;
			}
			if (mv >= 0) {
				a->amount[mv] += amount;
				a->count[mv]++;
			}
		}
	}

	const char *cur = d->cfg->currency;
	struct cs_emitter f;

	f = family_of(out, d, &revenue_families[F_MRR]);
	for (uint32_t s = 0; s < ns; s++)
		emit(&f, s, sa[s].mrr1, cur, NULL);

	f = family_of(out, d, &revenue_families[F_MRR_WINDOW_START]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(&f, s, wa[s * nw + w].mrr0, cur, col->windows[w].label, NULL);

	f = family_of(out, d, &revenue_families[F_MRR_MOVEMENT]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			for (int k = 0; k < MV_COUNT; k++)
				emit(&f, s, wa[s * nw + w].amount[k], cur, col->windows[w].label,
				     amount_types[k], NULL);

	emit_ratios(out, d, col, F_NET_MRR_CHURN, F_QUICK + 1, sa, wa);

	f = family_of(out, d, &revenue_families[F_CUSTOMERS]);
	for (uint32_t s = 0; s < ns; s++)
		emit(&f, s, (double)sa[s].end, NULL);

	f = family_of(out, d, &revenue_families[F_CUSTOMERS_WINDOW_START]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(&f, s, (double)wa[s * nw + w].start, col->windows[w].label, NULL);

	f = family_of(out, d, &revenue_families[F_CUSTOMER_MOVEMENTS]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			for (int k = 0; k < MV_COUNT; k++)
				emit(&f, s, (double)wa[s * nw + w].count[count_order[k]],
				     col->windows[w].label, count_types[count_order[k]], NULL);

	emit_ratios(out, d, col, F_LOGO_CHURN, F_UPSELL + 1, sa, wa);

	f = family_of(out, d, &revenue_families[F_ARPA]);
	for (uint32_t s = 0; s < ns; s++)
		if (sa[s].end)
			emit(&f, s, sa[s].mrr1 / (double)sa[s].end, cur, NULL);

	f = family_of(out, d, &revenue_families[F_CLV]);
	for (uint32_t s = 0; s < ns; s++) {
		if (!sa[s].end)
			continue;
		double arpa = sa[s].mrr1 / (double)sa[s].end;
		for (size_t w = 0; w < nw; w++) {
			const struct win_acc *a = &wa[s * nw + w];
			if (!a->start || !a->count[MV_CHURN] || col->windows[w].seconds <= 0)
				continue;
			double churn = (double)a->count[MV_CHURN] / (double)a->start;
			double monthly = churn * (30.0 * 86400) / (double)col->windows[w].seconds;
			emit(&f, s, arpa * d->cfg->gross_margin / monthly, cur,
			     col->windows[w].label, NULL);
		}
	}

	f = family_of(out, d, &revenue_families[F_MRR_PAST_DUE]);
	for (uint32_t s = 0; s < ns; s++)
		emit(&f, s, sa[s].past_due, cur, NULL);

	f = family_of(out, d, &revenue_families[F_INVOLUNTARY]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(&f, s, wa[s * nw + w].involuntary, cur, col->windows[w].label, NULL);

	f = family_of(out, d, &revenue_families[F_INVOLUNTARY_COUNT]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(&f, s, (double)wa[s * nw + w].involuntary_count, col->windows[w].label,
			     NULL);

	kpi_churn(d, col, out);
	if (mrr->cohorts)
		emit_cohorts(d, out);

	free(sa);
	free(wa);
}

/* ------------------------------------------------------------------ */
/* Settings                                                             */

/* cohorts = { months = K; dimensions = [...]; } (revenue's cohort families). */
static bool cohort_settings(struct config_reader *L, struct cs_kind_settings *kinds)
{
	static const char *const keys[] = {"months", "dimensions", NULL};
	struct cs_config *cfg = L->cfg;
	struct cs_cohorts *co = &kinds->cohorts;
	const struct config_setting_t *g = config_get_group(L, config_root(cfg), "cohorts", false,
							    keys),
				      *list;
	long long months = co->months;

	if (!g)
		return !L->failed;
	config_get_int(L, g, "months", false, 0, CS_MAX_COHORT_MONTHS, &months);
	if (L->failed)
		return false;
	co->months = (int)months;
	list = config_get_strings(L, g, "dimensions", false, CS_MAX_DIMENSIONS);
	if (L->failed)
		return false;
	if (!list)
		return true;
	co->ndims = 0;
	for (int i = 0; i < config_count(list); i++) {
		const struct config_setting_t *e = config_elem(list, i);
		const char *name = config_string_of(e);
		size_t k = 0;

		if (kinds->label_reserved(name))
			return config_fail(
			    L, e,
			    "cohort dimension \"%s\" is a reserved label name of the exporter",
			    name);
		while (k < cfg->ndims && strcmp(cfg->dims[k], name) != 0)
			k++;
		if (k == cfg->ndims)
			return config_fail(
			    L, e, "cohort dimension \"%s\" is not a segment dimension", name);
		for (size_t j = 0; j < co->ndims; j++)
			if (co->dims[j] == k)
				return config_fail(L, e, "duplicate cohort dimension \"%s\"", name);
		co->dims[co->ndims++] = k;
	}
	return true;
}

/* The revenue kind's settings: cohorts, and churn_reasons (churn.c). */
bool revenue_settings(struct config_reader *L, struct cs_kind_settings *kinds)
{
	return cohort_settings(L, kinds) && churn_reason_settings(L, kinds);
}

/* ------------------------------------------------------------------ */
/* Retention cohorts (docs/metrics.md, revenue)                        */

/*
 * Cohort i (0 .. K-1) is the month i - K from t's month; a customer is in it
 * when its first positive start (ds_subscriptions.h) falls in that month.
 * Age a of cohort i is the start of month i + a + 1 - K, the fold's cohort
 * month i + a (mrr_cohort_month), and exists for a <= K - 1 - i (that
 * instant is at most the start of t's month, so at most t). The families carry the dimensions
 * of cfg->kinds->cohorts; segments that agree on those are summed into one group.
 */
struct cohort_cell {
	uint64_t retained;
	double mrr;
};

enum { F_COHORT_CUSTOMERS, F_COHORT_RETAINED, F_COHORT_MRR, F_COHORT_LOGO, F_COHORT_REVENUE };

const struct cs_family cohort_families[] = {
    [F_COHORT_CUSTOMERS] = {.name = "cs_cohort_customers",
			    .type = METRIC_GAUGE,
			    .prefix = PREFIX_COHORT,
			    .labels = {"cohort"},
			    .help = "Customers of a monthly cohort: billing customers whose first "
				    "positive start (UTC calendar month) is the cohort month; "
				    "recomputed every collector interval"},
    [F_COHORT_RETAINED] = {.name = "cs_cohort_retained_customers",
			   .type = METRIC_GAUGE,
			   .prefix = PREFIX_COHORT,
			   .labels = {"cohort", "age_months"},
			   .help = "Customers of the cohort with MRR > 0 at the start of month "
				   "cohort + age + 1; recomputed every collector interval"},
    [F_COHORT_MRR] = {.name = "cs_cohort_mrr",
		      .type = METRIC_GAUGE,
		      .prefix = PREFIX_COHORT,
		      .labels = {"cohort", "age_months", "currency"},
		      .help = "MRR of the cohort's customers at the start of month cohort + age + "
			      "1, in the reporting currency; recomputed every collector interval"},
    [F_COHORT_LOGO] = {.name = "cs_cohort_logo_retention_ratio",
		       .type = METRIC_GAUGE,
		       .prefix = PREFIX_COHORT,
		       .labels = {"cohort", "age_months"},
		       .help = "Retained customers / customers of the cohort at that age; absent "
			       "for an empty cohort; recomputed every collector interval"},
    [F_COHORT_REVENUE] = {.name = "cs_cohort_revenue_retention_ratio",
			  .type = METRIC_GAUGE,
			  .prefix = PREFIX_COHORT,
			  .labels = {"cohort", "age_months"},
			  .help = "Cohort MRR at that age / cohort MRR at age 0; absent when age-0 "
				  "MRR is 0; recomputed every collector interval"},
    CS_FAMILIES_END,
};

/* A sample of a cohort family for the group whose first segment is rep:
 * the group's cohort dimensions, then the family's own labels. */
static void cohort_sample(const struct cs_emitter *f, const struct cs_data *d, uint32_t rep,
			  double value, const char *cohort, const char *age, const char *currency)
{
	const struct cs_cohorts *co = &d->cfg->kinds->cohorts;
	const char *names[CS_MAX_DIMENSIONS], *prefix[CS_MAX_DIMENSIONS];
	const char *own[] = {cohort, age, currency};

	for (size_t i = 0; i < co->ndims; i++) {
		names[i] = d->cfg->dims[co->dims[i]];
		prefix[i] = d->seg.values[(size_t)rep * d->seg.ndims + co->dims[i]];
	}
	emit_labels(f, co->ndims, names, prefix, own, value);
}

static void emit_cohorts(const struct cs_data *d, struct mset *out)
{
	const struct cs_mrr *mrr = d->mrr;
	const struct cs_cohorts *co = &d->cfg->kinds->cohorts;
	size_t k = mrr->cohorts, ns = d->seg.n, nc = d->ncustomers, ng = 0;
	uint32_t *group = xcalloc(ns + 1, sizeof(*group)); /* segment -> group */
	uint32_t *rep = xcalloc(ns + 1, sizeof(*rep));	   /* group -> its first segment */
	cs_time start[CS_MAX_COHORT_MONTHS + 1];
	char label[CS_MAX_COHORT_MONTHS][32], age[CS_MAX_COHORT_MONTHS][24];

	for (uint32_t s = 0; s < ns; s++) {
		size_t g = 0;

		for (; g < ng; g++) {
			size_t i = 0;

			while (i < co->ndims &&
			       !strcmp(d->seg.values[(size_t)s * d->seg.ndims + co->dims[i]],
				       d->seg.values[(size_t)rep[g] * d->seg.ndims + co->dims[i]]))
				i++;
			if (i == co->ndims)
				break;
		}
		if (g == ng)
			rep[ng++] = s;
		group[s] = (uint32_t)g;
	}
	for (size_t i = 0; i <= k; i++)
		start[i] = cs_month_start(d->as_of, (int)i - (int)k);
	for (size_t i = 0; i < k; i++) {
		cs_format_time(start[i], label[i], sizeof(label[i]));
		label[i][7] = '\0'; /* "2026-01" */
		snprintf(age[i], sizeof(age[i]), "%zu", i);
	}

	uint64_t *customers = xcalloc(ng * k + 1, sizeof(*customers));
	struct cohort_cell *cell = xcalloc(ng * k * k + 1, sizeof(*cell));
	for (size_t c = 0; c < nc; c++) {
		uint32_t seg = d->customers[c].seg;
		cs_time first = mrr_first_positive(mrr, c);

		if (seg >= ns || first < start[0] || first >= start[k])
			continue;
		size_t i = 0;
		while (first >= start[i + 1])
			i++;
		size_t gi = group[seg] * k + i;

		customers[gi]++;
		for (size_t a = 0; a + i < k; a++) {
			double m = mrr_at(mrr, c, mrr_cohort_month(mrr, i + a));
			if (m > 0) {
				cell[gi * k + a].retained++;
				cell[gi * k + a].mrr += m;
			}
		}
	}

	const char *cur = d->cfg->currency;
	struct cs_emitter fc = family_of(out, d, &cohort_families[F_COHORT_CUSTOMERS]);
	struct cs_emitter fr = family_of(out, d, &cohort_families[F_COHORT_RETAINED]);
	struct cs_emitter fm = family_of(out, d, &cohort_families[F_COHORT_MRR]);
	struct cs_emitter fl = family_of(out, d, &cohort_families[F_COHORT_LOGO]);
	struct cs_emitter fv = family_of(out, d, &cohort_families[F_COHORT_REVENUE]);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			cohort_sample(&fc, d, rep[g], (double)customers[g * k + i], label[i], NULL,
				      NULL);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			for (size_t a = 0; a + i < k; a++)
				cohort_sample(&fr, d, rep[g],
					      (double)cell[(g * k + i) * k + a].retained, label[i],
					      age[a], NULL);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			for (size_t a = 0; a + i < k; a++)
				cohort_sample(&fm, d, rep[g], cell[(g * k + i) * k + a].mrr,
					      label[i], age[a], cur);
	for (size_t g = 0; g < ng; g++) {
		for (size_t i = 0; i < k; i++) {
			uint64_t n = customers[g * k + i];
			const struct cohort_cell *row = &cell[(g * k + i) * k];

			for (size_t a = 0; n && a + i < k; a++)
				cohort_sample(&fl, d, rep[g], (double)row[a].retained / (double)n,
					      label[i], age[a], NULL);
			for (size_t a = 0; row[0].mrr > 0 && a + i < k; a++)
				cohort_sample(&fv, d, rep[g], row[a].mrr / row[0].mrr, label[i],
					      age[a], NULL);
		}
	}
	free(cell);
	free(customers);
	free(rep);
	free(group);
}
