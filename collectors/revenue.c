/*
 * revenue: MRR, its movements and the ratios built on them (SPEC section 3),
 * per segment and per collector window.
 *
 * The loader summed, per customer, MRR at t and at every window start t0,
 * and kept the earliest valid_from of a counting row with a positive monthly
 * amount (struct cs_mrr). That last instant decides reactivation: amounts
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
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
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
};

struct seg_acc {
	double mrr1;
	uint64_t end;
};

void kpi_revenue(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	size_t nw = col->nwindows, ns = d->seg.n, nc = d->ncustomers;
	const struct cs_mrr *mrr = &d->mrr;
	size_t stride = mrr->ninstants;
	size_t wi[CS_MAX_WINDOWS]; /* the collector's windows among the evaluation's instants */

	for (size_t w = 0; w < nw; w++)
		wi[w] = cs_plan_window(&d->plan, col->windows[w].seconds);

	struct seg_acc *sa = xcalloc(ns + 1, sizeof(*sa));
	struct win_acc *wa = xcalloc(ns * nw + 1, sizeof(*wa));
	for (size_t c = 0; c < nc; c++) {
		uint32_t seg = d->customers[c].seg;
		if (seg >= ns)
			continue;
		const double *mc = mrr->mrr + c * stride;
		double m1 = mc[d->plan.nwindows]; /* at t; mc[wi[w]] at window w's start */
		if (m1 > 0) {
			sa[seg].mrr1 += m1;
			sa[seg].end++;
		}
		for (size_t w = 0; w < nw; w++) {
			struct win_acc *a = &wa[seg * nw + w];
			double m0 = mc[wi[w]];
			int mv = -1;
			double amount = 0;
			if (m0 > 0) {
				a->mrr0 += m0;
				a->start++;
				if (!(m1 > 0)) {
					mv = MV_CHURN;
					amount = m0;
				} else if (cs_cmp(m1, m0) > 0) {
					mv = MV_EXP;
					amount = m1 - m0;
				} else if (cs_cmp(m1, m0) < 0) {
					mv = MV_CONTR;
					amount = m0 - m1;
				}
			} else if (m1 > 0) {
				mv = mrr->first_positive[c] < mrr->at[wi[w]] ? MV_REACT : MV_NEW;
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

	free(sa);
	free(wa);
}
