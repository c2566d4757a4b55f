/*
 * payments: receivables by age, failed and recovered payments, billing and
 * days sales outstanding, per segment (docs/design.md, "Payments"). Written
 * by the revenue kind when the optional payments dataset is configured;
 * without it, nothing.
 *
 * The fold (struct cs_payments, ds_payments.h) counted every invoice as it
 * streamed in: open ones at t by bucket, and per window the failed, recovered
 * and billed ones. A ratio is absent where its denominator is 0: the
 * recovery ratio without failed invoices, DSO without a billed amount.
 */
#include "ds_payments.h"
#include "emit.h"
#include "kpi.h"

enum {
	F_RECV_AMOUNT,
	F_RECV_INVOICES,
	F_FAILED,
	F_RECOVERED,
	F_FAILED_AMOUNT,
	F_RECOVERED_AMOUNT,
	F_RECOVERY,
	F_BILLED,
	F_DSO,
	F_COUNT
};

static const char *const bucket_names[PAY_BUCKETS] = {
    [PAY_CURRENT] = "current", [PAY_1_30] = "1_30",	  [PAY_31_60] = "31_60",
    [PAY_61_90] = "61_90",     [PAY_OVER_90] = "over_90",
};

const struct cs_family payment_families[] = {
    [F_RECV_AMOUNT] = {.name = "cs_receivables_amount",
		       .type = METRIC_GAUGE,
		       .labels = {"bucket", "currency"},
		       .help = "Amount of invoices open at t (issued by t, not paid by t), by age "
			       "of their due date (current, 1_30, 31_60, 61_90, over_90 days "
			       "overdue), in the reporting currency; recomputed every collector "
			       "interval"},
    [F_RECV_INVOICES] = {.name = "cs_receivables_invoices",
			 .type = METRIC_GAUGE,
			 .labels = {"bucket"},
			 .help = "Invoices open at t by age of their due date (current, 1_30, "
				 "31_60, 61_90, over_90 days overdue); recomputed every collector "
				 "interval"},
    [F_FAILED] = {.name = "cs_payments_failed",
		  .type = METRIC_GAUGE,
		  .labels = {"window"},
		  .help = "Invoices whose first payment failure is in the window; recomputed "
			  "every collector interval"},
    [F_RECOVERED] = {.name = "cs_payments_recovered",
		     .type = METRIC_GAUGE,
		     .labels = {"window"},
		     .help = "Of the invoices that failed in the window, those paid before t; "
			     "recomputed every collector interval"},
    [F_FAILED_AMOUNT] = {.name = "cs_payments_failed_amount",
			 .type = METRIC_GAUGE,
			 .labels = {"window", "currency"},
			 .help = "Amount of the invoices that failed in the window, in the "
				 "reporting currency; recomputed every collector interval"},
    [F_RECOVERED_AMOUNT] = {.name = "cs_payments_recovered_amount",
			    .type = METRIC_GAUGE,
			    .labels = {"window", "currency"},
			    .help = "Amount of the failed invoices of the window paid before t, in "
				    "the reporting currency; recomputed every collector interval"},
    [F_RECOVERY] = {.name = "cs_payment_recovery_ratio",
		    .type = METRIC_GAUGE,
		    .labels = {"window"},
		    .help = "Recovered / failed invoices of the window; absent when none failed; "
			    "recomputed every collector interval"},
    [F_BILLED] = {.name = "cs_billed_amount",
		  .type = METRIC_GAUGE,
		  .labels = {"window", "currency"},
		  .help = "Amount of the invoices issued in the window, in the reporting currency; "
			  "recomputed every collector interval"},
    [F_DSO] = {.name = "cs_days_sales_outstanding",
	       .type = METRIC_GAUGE,
	       .labels = {"window"},
	       .help = "Days sales outstanding: receivables at t (all buckets) / amount billed in "
		       "the window x the window in days; absent when nothing was billed; "
		       "recomputed every collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

void kpi_payments(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_payments *p = d->payments; /* ds_payments.h */
	const char *cur = d->cfg->currency;
	struct cs_emitter e[F_COUNT];

	if (!payments_read(p))
		return;
	for (int f = 0; f < F_COUNT; f++)
		e[f] = family_of(out, d, &payment_families[f]);
	for (uint32_t seg = 0; seg < d->seg.n; seg++) {
		double receivables = 0;

		for (int b = 0; b < PAY_BUCKETS; b++) {
			const struct cs_receivables *r = payments_open(p, seg, b);

			emit(&e[F_RECV_AMOUNT], seg, r->amount, bucket_names[b], cur, NULL);
			emit(&e[F_RECV_INVOICES], seg, (double)r->invoices, bucket_names[b], NULL);
			receivables += r->amount;
		}
		for (size_t w = 0; w < col->nwindows; w++) {
			const char *label = col->windows[w].label;
			size_t pw = cs_plan_window(&d->plan, col->windows[w].seconds);
			const struct cs_payment_window *c = payments_window(p, seg, pw);
			double days = (double)col->windows[w].seconds / 86400.0;

			emit(&e[F_FAILED], seg, (double)c->failed, label, NULL);
			emit(&e[F_RECOVERED], seg, (double)c->recovered, label, NULL);
			emit(&e[F_FAILED_AMOUNT], seg, c->failed_amount, label, cur, NULL);
			emit(&e[F_RECOVERED_AMOUNT], seg, c->recovered_amount, label, cur, NULL);
			if (c->failed)
				emit(&e[F_RECOVERY], seg, (double)c->recovered / (double)c->failed,
				     label, NULL);
			emit(&e[F_BILLED], seg, c->billed_amount, label, cur, NULL);
			if (c->billed_amount > 0)
				emit(&e[F_DSO], seg, receivables / c->billed_amount * days, label,
				     NULL);
		}
	}
}
