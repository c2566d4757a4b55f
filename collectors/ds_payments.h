/*
 * ds_payments: what the payments dataset (ds_payments.c) leaves for compute.
 * One row is an invoice: billing_key, amount_minor, currency, issued_at,
 * due_at (NULL: issued_at), paid_at (NULL: unpaid), first_failed_at (NULL:
 * never failed). The dataset is optional: the revenue kind reads it when it
 * is configured (docs/datasets.md, "Payments").
 *
 * Folded as the rows stream in, never stored: per segment, the invoices open
 * at t (issued_at <= t, not paid by t) by receivables bucket, with their
 * amounts; per segment and plan window [t - W, t), the invoices that failed
 * (first_failed_at in the window), of those the recovered (also paid before
 * t), and the billed (issued_at in the window), with their amounts. Amounts
 * are in the reporting currency (converted as MRR is, money.c). Owned and
 * filled by ds_payments.c; payments.c reads it through the accessors below.
 *
 * Until the link, the last segment slot holds the invoices of billing
 * customers no account names; payments_link_unknown moves them to the
 * unknown segment, after which nseg is the number of segments.
 */
#ifndef CS_DS_PAYMENTS_H
#define CS_DS_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cstime.h"

/* An invoice whose amount in the reporting currency exceeds this is
 * rejected as amount_out_of_range (the bound of a subscription's monthly
 * amount): every sum stays finite. */
#define CS_MAX_INVOICE 1e12

/*
 * Receivables buckets of an open invoice by its due_at, at t:
 *   PAY_CURRENT   due_at >= t
 *   PAY_1_30      t - 30d <= due_at < t
 *   PAY_31_60     t - 60d <= due_at < t - 30d
 *   PAY_61_90     t - 90d <= due_at < t - 60d
 *   PAY_OVER_90   due_at < t - 90d
 */
enum cs_pay_bucket { PAY_CURRENT, PAY_1_30, PAY_31_60, PAY_61_90, PAY_OVER_90, PAY_BUCKETS };

struct cs_receivables {
	uint64_t invoices;
	double amount;
};

struct cs_payment_window {
	uint64_t failed, recovered, billed;
	double failed_amount, recovered_amount, billed_amount;
};

struct cs_payments {
	size_t nwin;			  /* plan.nwindows */
	size_t nseg;			  /* segment slots; the segments once linked */
	cs_time edge[PAY_BUCKETS - 1];	  /* t - 30d, t - 60d, t - 90d (init) */
	struct cs_receivables *open;	  /* [seg * PAY_BUCKETS + bucket]; NULL: not read */
	struct cs_payment_window *window; /* [seg * nwin + w] */
	uint64_t rows;			  /* valid invoice rows */
};

/* Whether the payments dataset was read in this evaluation (it is optional:
 * without it there are no payment samples). */
static inline bool payments_read(const struct cs_payments *p)
{
	return p->open != NULL;
}

/* The invoices of segment seg open at t in bucket b. */
static inline const struct cs_receivables *payments_open(const struct cs_payments *p, size_t seg,
							 enum cs_pay_bucket b)
{
	return &p->open[seg * PAY_BUCKETS + b];
}

/* Failed, recovered and billed invoices of segment seg in plan window w. */
static inline const struct cs_payment_window *payments_window(const struct cs_payments *p,
							      size_t seg, size_t w)
{
	return &p->window[seg * p->nwin + w];
}

#endif
