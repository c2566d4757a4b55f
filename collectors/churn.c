/*
 * churn: what stands behind revenue's movements (docs/design.md, "Pending
 * churn, churn reasons and drivers"), per segment and per collector window,
 * written by the revenue kind after its own families (kpi_revenue):
 *
 *   - pending churn and committed MRR: the part of MRR at t whose
 *     cancellation is already requested (cancel_requested_at <= t), and the
 *     customers all of whose counted rows at t are cancelling;
 *   - churn by reason: each churned customer under the reason of its
 *     largest row ending where its MRR last fell to 0 (a configured code,
 *     "other" or "unknown");
 *   - expansion and contraction by driver: seats when the quantity moved
 *     the same way as MRR, price otherwise.
 *
 * The fold (ds_subscriptions.h) kept per customer what these need; rows
 * are never stored. Pending churn is written only when the subscriptions
 * query returns a cancel_requested_at column, reasons only with a
 * churn_reason column; drivers always. The movement classes are revenue's
 * (cs_movement_of), so each family sums to its movement: over reasons to the
 * churn movement (amount and count), over drivers to expansion and
 * contraction, and committed plus pending MRR to cs_mrr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_subscriptions.h"
#include "emit.h"
#include "kpi.h"
#include "lib/buf.h"
#include "ds_accounts.h"

enum {
	F_PENDING_MRR,
	F_COMMITTED_MRR,
	F_PENDING_CUSTOMERS,
	F_CHURNED_BY_REASON,
	F_MRR_CHURN_BY_REASON,
	F_MOVEMENT_BY_DRIVER,
	F_COUNT
};

const struct cs_family churn_families[] = {
    [F_PENDING_MRR] = {.name = "cs_mrr_pending_churn",
		       .type = METRIC_GAUGE,
		       .labels = {"currency"},
		       .help = "Part of MRR at t from cancelling subscription rows (a cancellation "
			       "requested at or before t, effective later), in the reporting "
			       "currency; only with a cancel_requested_at column; recomputed every "
			       "collector interval"},
    [F_COMMITTED_MRR] = {.name = "cs_committed_mrr",
			 .type = METRIC_GAUGE,
			 .labels = {"currency"},
			 .help = "Committed MRR: MRR at t minus its pending churn, in the "
				 "reporting currency; only with a cancel_requested_at column; "
				 "recomputed every collector interval"},
    [F_PENDING_CUSTOMERS] = {.name = "cs_customers_pending_churn",
			     .type = METRIC_GAUGE,
			     .help = "Paying customers at t all of whose paying subscription rows "
				     "at t are cancelling; only with a cancel_requested_at column; "
				     "recomputed every collector interval"},
    [F_CHURNED_BY_REASON] = {.name = "cs_customers_churned_by_reason",
			     .type = METRIC_GAUGE,
			     .labels = {"window", "reason"},
			     .help = "Churned customers of the window by churn reason (a "
				     "configured code, other or unknown); sums over reasons to the "
				     "churned count; only with a churn_reason column; recomputed "
				     "every collector interval"},
    [F_MRR_CHURN_BY_REASON] = {.name = "cs_mrr_churn_by_reason",
			       .type = METRIC_GAUGE,
			       .labels = {"currency", "window", "reason"},
			       .help =
				   "Churned MRR (m0) of the window by churn reason, in the "
				   "reporting currency; sums over reasons to the churn movement; "
				   "only with a churn_reason column; recomputed every collector "
				   "interval"},
    [F_MOVEMENT_BY_DRIVER] = {.name = "cs_mrr_movement_by_driver",
			      .type = METRIC_GAUGE,
			      .labels = {"currency", "window", "type", "driver"},
			      .help =
				  "Expansion and contraction over the window by driver: seats "
				  "when the customer's quantity moved with its MRR, else price; "
				  "sums over drivers to the movement; recomputed every "
				  "collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

enum { DRIVER_SEATS, DRIVER_PRICE };
static const char *const driver_names[] = {"seats", "price"};

struct seg_sums {
	double mrr1, pending;
	uint64_t npending;
};

void kpi_churn(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_mrr *mrr = d->mrr;
	size_t nw = col->nwindows, ns = d->seg.n, nc = d->ncustomers, nr = mrr_reason_labels(mrr);
	size_t wi[CS_MAX_WINDOWS]; /* the collector's windows among the plan's */
	const char *cur = d->cfg->currency;

	for (size_t w = 0; w < nw; w++)
		wi[w] = cs_plan_window(&d->plan, col->windows[w].seconds);

	struct seg_sums *ss = xcalloc(ns + 1, sizeof(*ss));
	/* [(seg * nw + w) * nr + reason] */
	double *rmrr = xcalloc(ns * nw * nr + 1, sizeof(*rmrr));
	uint64_t *rcount = xcalloc(ns * nw * nr + 1, sizeof(*rcount));
	/* [((seg * nw + w) * 2 + expansion/contraction) * 2 + driver] */
	double *drv = xcalloc(ns * nw * 4 + 1, sizeof(*drv));

	for (size_t c = 0; c < nc; c++) {
		uint32_t seg = d->customers[c].seg;
		if (seg >= ns)
			continue;
		double m1 = mrr_at(mrr, c, MRR_T);
		if (m1 > 0) {
			/* summed as kpi_revenue sums cs_mrr, so the two agree */
			ss[seg].mrr1 += m1;
			ss[seg].pending += mrr_pending(mrr, c);
			if (mrr_all_cancelling(mrr, c))
				ss[seg].npending++;
		}
		for (size_t w = 0; w < nw; w++) {
			size_t k = seg * nw + w;
			double m0 = mrr_at(mrr, c, mrr_window_start(wi[w]));
			int mv = cs_movement_of(m0, m1, false);

			if (mv == MV_CHURN && nr) {
				size_t r = mrr_churn_reason(mrr, c);

				rmrr[k * nr + r] += m0;
				rcount[k * nr + r]++;
			} else if (mv == MV_EXP || mv == MV_CONTR) {
				double q0 = mrr_quantity_at_start(mrr, c, wi[w]);
				double q1 = mrr_quantity_at_t(mrr, c);
				bool seats = mv == MV_EXP ? q1 > q0 : q1 < q0;
				size_t i = (k * 2 + (mv == MV_EXP ? 0 : 1)) * 2 +
					   (seats ? DRIVER_SEATS : DRIVER_PRICE);

				drv[i] += mv == MV_EXP ? m1 - m0 : m0 - m1;
			}
		}
	}

	struct cs_emitter f;

	if (mrr->has_cancel) {
		f = family_of(out, d, &churn_families[F_PENDING_MRR]);
		for (uint32_t s = 0; s < ns; s++)
			emit(&f, s, ss[s].pending, cur, NULL);
		/* all of a customer's MRR pending is the same sum twice: 0 exactly */
		f = family_of(out, d, &churn_families[F_COMMITTED_MRR]);
		for (uint32_t s = 0; s < ns; s++)
			emit(&f, s, ss[s].mrr1 > ss[s].pending ? ss[s].mrr1 - ss[s].pending : 0,
			     cur, NULL);
		f = family_of(out, d, &churn_families[F_PENDING_CUSTOMERS]);
		for (uint32_t s = 0; s < ns; s++)
			emit(&f, s, (double)ss[s].npending, NULL);
	}
	if (nr) {
		f = family_of(out, d, &churn_families[F_CHURNED_BY_REASON]);
		for (uint32_t s = 0; s < ns; s++)
			for (size_t w = 0; w < nw; w++)
				for (size_t r = 0; r < nr; r++)
					emit(&f, s, (double)rcount[(s * nw + w) * nr + r],
					     col->windows[w].label, mrr_reason_label(mrr, r), NULL);
		f = family_of(out, d, &churn_families[F_MRR_CHURN_BY_REASON]);
		for (uint32_t s = 0; s < ns; s++)
			for (size_t w = 0; w < nw; w++)
				for (size_t r = 0; r < nr; r++)
					emit(&f, s, rmrr[(s * nw + w) * nr + r], cur,
					     col->windows[w].label, mrr_reason_label(mrr, r), NULL);
	}
	f = family_of(out, d, &churn_families[F_MOVEMENT_BY_DRIVER]);
	for (uint32_t s = 0; s < ns; s++)
		for (size_t w = 0; w < nw; w++)
			for (size_t t = 0; t < 2; t++)
				for (size_t r = 0; r < 2; r++)
					emit(&f, s, drv[((s * nw + w) * 2 + t) * 2 + r], cur,
					     col->windows[w].label, t ? "contraction" : "expansion",
					     driver_names[r], NULL);

	free(drv);
	free(rcount);
	free(rmrr);
	free(ss);
}

/* ------------------------------------------------------------------ */
/* Settings                                                             */

/* Reason codes are label values dashboards match on: snake_case. */
static bool snake_case(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CS_MAX_REASON_BYTES || !(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* churn_reasons = ["...", ...]: 1 to CS_MAX_CHURN_REASONS snake_case codes;
 * "unknown" is what a churn without a reason is counted as, never a code. */
bool churn_reason_settings(struct config_reader *L, struct cs_kind_settings *kinds)
{
	struct cs_churn_reasons *r = &kinds->churn_reasons;
	const struct config_setting_t *list = config_get_strings(
	    L, config_root(L->cfg), "churn_reasons", false, CS_MAX_CHURN_REASONS);

	if (!list)
		return !L->failed;
	if (config_count(list) == 0)
		return config_fail(L, list, "'churn_reasons' must list at least one reason code");
	r->n = 0;
	for (int i = 0; i < config_count(list); i++) {
		const struct config_setting_t *e = config_elem(list, i);
		const char *code = config_string_of(e);

		if (!snake_case(code))
			return config_fail(
			    L, e,
			    "churn reason \"%s\" must be snake_case: a lower-case "
			    "letter, then lower-case letters, digits and underscores, "
			    "at most %d bytes",
			    code, CS_MAX_REASON_BYTES);
		if (!strcmp(code, "unknown"))
			return config_fail(L, e,
					   "churn reason \"unknown\" is not a code: it counts the "
					   "churns without a recorded reason");
		for (size_t j = 0; j < r->n; j++)
			if (!strcmp(r->codes[j], code))
				return config_fail(L, e, "duplicate churn reason \"%s\"", code);
		snprintf(r->codes[r->n], sizeof(r->codes[r->n]), "%s", code);
		r->n++;
	}
	return true;
}
