/*
 * revenue: MRR, its movements and the ratios built on them (SPEC section 3),
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "ds_subscriptions.h"
#include "emit.h"
#include "kpi.h"

enum { MV_NEW, MV_REACT, MV_EXP, MV_CONTR, MV_CHURN, MV_COUNT };

static const char *const amount_types[MV_COUNT] = {
    "new", "reactivation", "expansion", "contraction", "churn",
};
static const char *const count_types[MV_COUNT] = {
    "new", "reactivated", "expanded", "contracted", "churned",
};
/* customer movement counts are written in the order SPEC section 4 lists them */
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

static void emit_cohorts(const struct cs_data *d, struct mset *out);

void kpi_revenue(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	size_t nw = col->nwindows, ns = d->seg.n, nc = d->ncustomers;
	const struct cs_mrr *mrr = &d->mrr;
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
			int mv = -1;
			double amount = 0;
			if (m0 > 0) {
				a->mrr0 += m0;
				a->start++;
				if (!(m1 > 0)) {
					mv = MV_CHURN;
					amount = m0;
					/* involuntary: only past_due rows ended at the
					 * last drop (ds_subscriptions.h) */
					if (mrr_dropped_past_due(mrr, c, wi[w])) {
						a->involuntary += m0;
						a->involuntary_count++;
					}
				} else if (cs_cmp(m1, m0) > 0) {
					mv = MV_EXP;
					amount = m1 - m0;
				} else if (cs_cmp(m1, m0) < 0) {
					mv = MV_CONTR;
					amount = m0 - m1;
				}
			} else if (m1 > 0) {
				mv = mrr_first_positive(mrr, c) < d->plan.from[wi[w]] ? MV_REACT
										      : MV_NEW;
				amount = m1;
			}
			if (mv >= 0) {
				a->amount[mv] += amount;
				a->count[mv]++;
			}
		}
	}

	const char *cur = d->cfg->currency;

	struct family *f;

	f = mset_family(out, "cs_mrr", METRIC_GAUGE,
			"Monthly recurring revenue at t: active and past_due subscriptions, "
			"normalised to a month, in the reporting currency; recomputed every "
			"collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		emit(f, d, s, sa[s].mrr1, "currency", cur, NULL);

	f = mset_family(out, "cs_mrr_window_start", METRIC_GAUGE,
			"Monthly recurring revenue at the window start t-W, in the reporting "
			"currency; recomputed every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(f, d, s, wa[s * nw + w].mrr0, "currency", cur, "window",
			     col->windows[w].label, NULL);

	f = mset_family(out, "cs_mrr_movement", METRIC_GAUGE,
			"MRR movement over the window by the endpoint method (new, reactivation, "
			"expansion, contraction, churn; amounts >= 0): MRR(t) = MRR(t-W) + new + "
			"reactivation + expansion - contraction - churn; recomputed every "
			"collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			for (int k = 0; k < MV_COUNT; k++)
				emit(f, d, s, wa[s * nw + w].amount[k], "currency", cur, "window",
				     col->windows[w].label, "type", amount_types[k], NULL);

	struct {
		const char *name, *help;
	} ratios[] = {
	    {"cs_net_mrr_churn_ratio",
	     "Net MRR churn: (churn + contraction - expansion - reactivation) / MRR(t-W); "
	     "absent when MRR(t-W) is 0; recomputed every collector interval"},
	    {"cs_gross_mrr_churn_ratio",
	     "Gross MRR churn: (churn + contraction) / MRR(t-W); absent when MRR(t-W) is 0; "
	     "recomputed every collector interval"},
	    {"cs_net_revenue_retention_ratio",
	     "Net revenue retention: (MRR(t-W) - churn - contraction + expansion) / MRR(t-W); "
	     "absent when MRR(t-W) is 0; recomputed every collector interval"},
	    {"cs_gross_revenue_retention_ratio",
	     "Gross revenue retention: (MRR(t-W) - churn - contraction) / MRR(t-W); absent "
	     "when MRR(t-W) is 0; recomputed every collector interval"},
	};
	for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
		f = mset_family(out, ratios[r].name, METRIC_GAUGE, ratios[r].help, NULL);
		for (uint32_t s = 0; s < ns; s++) {
			for (size_t w = 0; w < nw; w++) {
				const struct win_acc *a = &wa[s * nw + w];
				if (!(a->mrr0 > 0))
					continue;
				const double *mv = a->amount;
				double num;
				switch (r) {
				case 0:
					num =
					    mv[MV_CHURN] + mv[MV_CONTR] - mv[MV_EXP] - mv[MV_REACT];
					break;
				case 1:
					num = mv[MV_CHURN] + mv[MV_CONTR];
					break;
				case 2:
					num = a->mrr0 - mv[MV_CHURN] - mv[MV_CONTR] + mv[MV_EXP];
					break;
				default:
					num = a->mrr0 - mv[MV_CHURN] - mv[MV_CONTR];
					break;
				}
				emit(f, d, s, num / a->mrr0, "window", col->windows[w].label, NULL);
			}
		}
	}

	f = mset_family(out, "cs_quick_ratio", METRIC_GAUGE,
			"SaaS quick ratio: (new + reactivation + expansion) / (churn + "
			"contraction) over the window; absent when nothing was lost; recomputed "
			"every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++) {
		for (size_t w = 0; w < nw; w++) {
			const double *mv = wa[s * nw + w].amount;
			double lost = mv[MV_CHURN] + mv[MV_CONTR];
			if (lost > 0)
				emit(f, d, s, (mv[MV_NEW] + mv[MV_REACT] + mv[MV_EXP]) / lost,
				     "window", col->windows[w].label, NULL);
		}
	}

	f = mset_family(out, "cs_customers", METRIC_GAUGE,
			"Paying customers at t (billing customers with MRR > 0); recomputed every "
			"collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		emit(f, d, s, (double)sa[s].end, NULL);

	f = mset_family(out, "cs_customers_window_start", METRIC_GAUGE,
			"Paying customers at the window start t-W; recomputed every collector "
			"interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(f, d, s, (double)wa[s * nw + w].start, "window", col->windows[w].label,
			     NULL);

	f = mset_family(out, "cs_customer_movements", METRIC_GAUGE,
			"Customers by MRR movement class over the window (new, reactivated, "
			"churned, expanded, contracted); recomputed every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			for (int k = 0; k < MV_COUNT; k++)
				emit(f, d, s, (double)wa[s * nw + w].count[count_order[k]],
				     "window", col->windows[w].label, "type",
				     count_types[count_order[k]], NULL);

	struct {
		const char *name, *help;
	} logo[] = {
	    {"cs_customer_churn_ratio",
	     "Logo churn: churned customers / customers at t-W; absent when there were none; "
	     "recomputed every collector interval"},
	    {"cs_customer_retention_ratio",
	     "Customer retention: (customers at t - new - reactivated) / customers at t-W; "
	     "absent when there were none; recomputed every collector interval"},
	    {"cs_upsell_ratio",
	     "Upsell rate: expanded customers / customers at t-W; absent when there were "
	     "none; recomputed every collector interval"},
	};
	for (size_t r = 0; r < sizeof(logo) / sizeof(logo[0]); r++) {
		f = mset_family(out, logo[r].name, METRIC_GAUGE, logo[r].help, NULL);
		for (uint32_t s = 0; s < ns; s++) {
			for (size_t w = 0; w < nw; w++) {
				const struct win_acc *a = &wa[s * nw + w];
				if (!a->start)
					continue;
				double num;
				if (r == 0)
					num = (double)a->count[MV_CHURN];
				else if (r == 1)
					num = (double)sa[s].end - (double)a->count[MV_NEW] -
					      (double)a->count[MV_REACT];
				else
					num = (double)a->count[MV_EXP];
				emit(f, d, s, num / (double)a->start, "window",
				     col->windows[w].label, NULL);
			}
		}
	}

	f = mset_family(out, "cs_arpa", METRIC_GAUGE,
			"Average revenue per account: MRR at t / paying customers at t; absent "
			"without paying customers; recomputed every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		if (sa[s].end)
			emit(f, d, s, sa[s].mrr1 / (double)sa[s].end, "currency", cur, NULL);

	f = mset_family(out, "cs_customer_lifetime_value", METRIC_GAUGE,
			"Customer lifetime value: ARPA x gross margin / monthly logo churn, with "
			"monthly logo churn = logo churn x 30d / W; absent when logo churn or ARPA "
			"is undefined or churn is 0; recomputed every collector interval",
			NULL);
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
			emit(f, d, s, arpa * d->cfg->gross_margin / monthly, "currency", cur,
			     "window", col->windows[w].label, NULL);
		}
	}

	f = mset_family(out, "cs_mrr_past_due", METRIC_GAUGE,
			"Part of MRR at t from subscription rows with status past_due, in the "
			"reporting currency; recomputed every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		emit(f, d, s, sa[s].past_due, "currency", cur, NULL);

	f = mset_family(out, "cs_mrr_involuntary_churn", METRIC_GAUGE,
			"Churned MRR (m0) of churned customers whose MRR last fell to 0 when only "
			"past_due rows ended; a part of the churn movement, not added to it; "
			"recomputed every collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(f, d, s, wa[s * nw + w].involuntary, "currency", cur, "window",
			     col->windows[w].label, NULL);

	f = mset_family(out, "cs_customers_involuntary_churned", METRIC_GAUGE,
			"Churned customers whose MRR last fell to 0 when only past_due rows "
			"ended (failed payments); a part of the churned count; recomputed every "
			"collector interval",
			NULL);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			emit(f, d, s, (double)wa[s * nw + w].involuntary_count, "window",
			     col->windows[w].label, NULL);

	if (mrr->cohorts)
		emit_cohorts(d, out);

	free(sa);
	free(wa);
}

/* ------------------------------------------------------------------ */
/* Retention cohorts (SPEC section 6)                                  */

/*
 * Cohort i (0 .. K-1) is the month i - K from t's month; a customer is in it
 * when its first positive start (ds_subscriptions.h) falls in that month.
 * Age a of cohort i is the start of month i + a + 1 - K, the fold's cohort
 * month i + a (mrr_cohort_month), and exists for a <= K - 1 - i (that
 * instant is at most the start of t's month, so at most t). The families carry the dimensions
 * of cfg->cohorts; segments that agree on those are summed into one group.
 */
struct cohort_cell {
	uint64_t retained;
	double mrr;
};

static void cohort_sample(struct family *f, const struct cs_data *d, uint32_t rep, double value,
			  const char *cohort, const char *age, const char *currency)
{
	const struct cs_cohorts *co = &d->cfg->cohorts;
	const char *names[CS_MAX_DIMENSIONS + 3], *values[CS_MAX_DIMENSIONS + 3];
	size_t n = 0;

	for (size_t i = 0; i < co->ndims; i++, n++) {
		names[n] = d->cfg->dims[co->dims[i]];
		values[n] = d->seg.values[(size_t)rep * d->seg.ndims + co->dims[i]];
	}
	names[n] = "cohort";
	values[n++] = cohort;
	if (age) {
		names[n] = "age_months";
		values[n++] = age;
	}
	if (currency) {
		names[n] = "currency";
		values[n++] = currency;
	}
	family_add(f, n, names, values, value);
}

static void emit_cohorts(const struct cs_data *d, struct mset *out)
{
	const struct cs_mrr *mrr = &d->mrr;
	const struct cs_cohorts *co = &d->cfg->cohorts;
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
	struct family *fc = mset_family(
	    out, "cs_cohort_customers", METRIC_GAUGE,
	    "Customers of a monthly cohort: billing customers whose first positive start "
	    "(UTC calendar month) is the cohort month; recomputed every collector interval",
	    NULL);
	struct family *fr = mset_family(
	    out, "cs_cohort_retained_customers", METRIC_GAUGE,
	    "Customers of the cohort with MRR > 0 at the start of month cohort + age + 1; "
	    "recomputed every collector interval",
	    NULL);
	struct family *fm = mset_family(
	    out, "cs_cohort_mrr", METRIC_GAUGE,
	    "MRR of the cohort's customers at the start of month cohort + age + 1, in the "
	    "reporting currency; recomputed every collector interval",
	    NULL);
	struct family *fl = mset_family(
	    out, "cs_cohort_logo_retention_ratio", METRIC_GAUGE,
	    "Retained customers / customers of the cohort at that age; absent for an empty "
	    "cohort; recomputed every collector interval",
	    NULL);
	struct family *fv =
	    mset_family(out, "cs_cohort_revenue_retention_ratio", METRIC_GAUGE,
			"Cohort MRR at that age / cohort MRR at age 0; absent when age-0 MRR is 0; "
			"recomputed every collector interval",
			NULL);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			cohort_sample(fc, d, rep[g], (double)customers[g * k + i], label[i], NULL,
				      NULL);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			for (size_t a = 0; a + i < k; a++)
				cohort_sample(fr, d, rep[g],
					      (double)cell[(g * k + i) * k + a].retained, label[i],
					      age[a], NULL);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < k; i++)
			for (size_t a = 0; a + i < k; a++)
				cohort_sample(fm, d, rep[g], cell[(g * k + i) * k + a].mrr,
					      label[i], age[a], cur);
	for (size_t g = 0; g < ng; g++) {
		for (size_t i = 0; i < k; i++) {
			uint64_t n = customers[g * k + i];
			const struct cohort_cell *row = &cell[(g * k + i) * k];

			for (size_t a = 0; n && a + i < k; a++)
				cohort_sample(fl, d, rep[g], (double)row[a].retained / (double)n,
					      label[i], age[a], NULL);
			for (size_t a = 0; row[0].mrr > 0 && a + i < k; a++)
				cohort_sample(fv, d, rep[g], row[a].mrr / row[0].mrr, label[i],
					      age[a], NULL);
		}
	}
	free(cell);
	free(customers);
	free(rep);
	free(group);
}
