/*
 * ds_subscriptions: what the subscriptions dataset (ds_subscriptions.c)
 * leaves for compute: each billing customer's MRR at the instants the due
 * kinds ask about, and the payment-risk facts revenue reads. Owned and
 * filled by ds_subscriptions.c; revenue.c and health.c read it through the
 * accessors below, never through the layout.
 *
 * MRR at instant x is the sum of the monthly amounts (reporting currency,
 * normalised by money.c) of the customer's rows with status active or
 * past_due and valid_from <= x < valid_to. Amounts are never negative, so
 * MRR at x is > 0 iff some counting row with a positive amount covers x.
 */
#ifndef CS_DS_SUBSCRIPTIONS_H
#define CS_DS_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cstime.h"
#include "settings.h"

/* A subscription row whose monthly amount in the reporting currency exceeds
 * this is rejected as amount_out_of_range: every sum stays finite. */
#define CS_MAX_MONTHLY 1e12

enum cs_status { SUB_TRIALING, SUB_ACTIVE, SUB_PAST_DUE, SUB_PAUSED, SUB_CANCELED };

/*
 * The instants MRR is summed at (the plan's window starts, struct cs_plan):
 *   MRR_T                     t
 *   MRR_BILLING_START         t minus health's billing window
 *   mrr_window_start(w)       the start t - W of plan window w
 *   mrr_cohort_month(m, j)    with cohorts on and revenue due, j < m->cohorts:
 *                             the start of the month j + 1 - cohorts months
 *                             from t's month (the last is t's month start)
 * Cohort instants cost 8 bytes per billing customer and cohort month during
 * an evaluation.
 */
enum { MRR_T, MRR_BILLING_START, MRR_WINDOW_STARTS };

/*
 * Summed per billing customer as the rows stream in, never stored; rows are
 * added in the order they arrive, as a loop over stored rows would add
 * them. first_positive is the earliest valid_from of a counting row with a
 * positive monthly amount: MRR was > 0 before x iff first_positive < x.
 *
 * Payment risk (kept when revenue is due): the part of MRR at t from
 * past_due rows, and per customer and plan window its last drop: the latest
 * valid_to in (t - W, t] among counting rows with a positive amount, and
 * whether every such row ending exactly there is past_due. A row with
 * valid_to in (t - W, t] starts before t, so rows arriving in any order
 * settle both; when MRR at t - W > 0 and at t = 0, that instant is where
 * MRR last fell to 0 (a row covering it would end later, still by t).
 */
struct cs_mrr {
	size_t nwin; /* plan.nwindows */
	size_t ninstants;
	cs_time *at;		 /* [instant]: the instants named above */
	size_t cohorts;		 /* cohort months with instants here (0: none) */
	double *mrr;		 /* [customer * ninstants + instant] */
	cs_time *first_positive; /* [customer]; CS_TIME_OPEN: none */
	bool risk;		 /* the payment-risk sums are kept (revenue is due) */
	double *past_due;	 /* [customer]: MRR at t from past_due rows */
	cs_time *last_drop;	 /* [customer * nwin + w]; CS_TIME_NONE: none */
	bool *drop_past_due;	 /* [customer * nwin + w] */
	size_t cap;		 /* customers the arrays hold; all of them once linked */
	uint64_t rows;		 /* valid subscription rows */

	/*
	 * Pending churn, churn reasons and expansion drivers (docs/design.md,
	 * kept when revenue is due). "Counted rows" are, as for involuntary
	 * churn, the counting rows with a positive monthly amount: the rows
	 * that make MRR > 0.
	 *
	 * Drivers, always: quantity[c * (nwin + 1)] is the sum of quantity over
	 * c's counted rows at t, quantity[c * (nwin + 1) + 1 + w] at the start
	 * of plan window w: 8 bytes per customer and instant, 8 * (nwin + 1)
	 * bytes per customer (24 with the default two windows).
	 *
	 * Pending churn, when the stream has a cancel_requested_at column
	 * (has_cancel): pending[c] is the part of c's MRR at t from cancelling
	 * rows (cancel_requested_at <= t), committed[c] whether some counted
	 * row at t is not cancelling: 9 bytes per customer.
	 *
	 * Churn reasons, when the stream has a churn_reason column (has_reason):
	 * among the counted rows that end at the last drop of the longest plan
	 * window (last_drop[c * nwin + wl]), the reason of the one with the
	 * largest monthly amount, ties by the byte-wise smallest normalised
	 * reason: reason_mrr[c] is that amount and reason[c] the reason's rank
	 * (below): 9 bytes per customer. For a customer that churned in any
	 * plan window, that drop is where its MRR last fell to 0, the same
	 * instant d for every window it churned in: no counted row covers t,
	 * so none covers an instant in [d, t] (it would end after d, yet by t),
	 * and the rows ending at d are the ones counted just before d. The
	 * longest window holds every such d.
	 *
	 * A reason's rank orders reasons as their normalised texts (spaces and
	 * tabs around removed, ASCII letters lower-cased) order byte-wise, at
	 * the resolution the labels need: 0 is NULL or empty; with the
	 * configured codes sorted, 2i + 2 is the i-th code and 2i + 1 any other
	 * text between code i - 1 and code i (all of them "other"). No text is
	 * kept, so free-text reasons cost nothing per row.
	 */
	bool has_cancel, has_reason;
	double *quantity;			  /* [customer * (nwin + 1) + k] */
	double *pending;			  /* [customer], has_cancel */
	bool *committed;			  /* [customer], has_cancel */
	double *reason_mrr;			  /* [customer], has_reason */
	unsigned char *reason;			  /* [customer], has_reason: rank */
	size_t wl;				  /* the longest plan window */
	size_t ncodes;				  /* configured reason codes */
	const char *sorted[CS_MAX_CHURN_REASONS]; /* the codes, byte order */
	/* reason labels: the codes in config order, then "other" unless it is
	 * a code, then "unknown"; rank_label maps a rank to its label */
	size_t nlabels;
	const char *labels[CS_MAX_CHURN_REASONS + 2];
	unsigned char rank_label[2 * CS_MAX_CHURN_REASONS + 2];
};

static inline size_t mrr_window_start(size_t w)
{
	return MRR_WINDOW_STARTS + w;
}

static inline size_t mrr_cohort_month(const struct cs_mrr *m, size_t j)
{
	return MRR_WINDOW_STARTS + m->nwin + j;
}

/* MRR of billing customer c at an instant named above. */
static inline double mrr_at(const struct cs_mrr *m, size_t c, size_t instant)
{
	return m->mrr[c * m->ninstants + instant];
}

/* The earliest start of a counting row of c with a positive amount
 * (CS_TIME_OPEN: none): c had MRR > 0 before x iff this is < x. */
static inline cs_time mrr_first_positive(const struct cs_mrr *m, size_t c)
{
	return m->first_positive[c];
}

/* The part of c's MRR at t from past_due rows (0 unless m->risk). */
static inline double mrr_past_due(const struct cs_mrr *m, size_t c)
{
	return m->risk ? m->past_due[c] : 0;
}

/* c's MRR last fell in plan window w when only past_due rows ended
 * (involuntary churn; meaningful for a customer that churned in w). */
static inline bool mrr_dropped_past_due(const struct cs_mrr *m, size_t c, size_t w)
{
	size_t k = c * m->nwin + w;
	return m->risk && m->last_drop[k] != CS_TIME_NONE && m->drop_past_due[k];
}

/* The sum of quantity over c's counted rows at t, and at the start of plan
 * window w (0 unless m->risk). */
static inline double mrr_quantity_at_t(const struct cs_mrr *m, size_t c)
{
	return m->risk ? m->quantity[c * (m->nwin + 1)] : 0;
}

static inline double mrr_quantity_at_start(const struct cs_mrr *m, size_t c, size_t w)
{
	return m->risk ? m->quantity[c * (m->nwin + 1) + 1 + w] : 0;
}

/* Pending churn (m->has_cancel): the part of c's MRR at t from cancelling
 * rows, and whether all of c's counted rows at t are cancelling (true also
 * for a customer with MRR 0 at t). */
static inline double mrr_pending(const struct cs_mrr *m, size_t c)
{
	return m->has_cancel ? m->pending[c] : 0;
}

static inline bool mrr_all_cancelling(const struct cs_mrr *m, size_t c)
{
	return m->has_cancel && !m->committed[c];
}

/* Churn reasons (m->has_reason): the labels, and the label index of the
 * reason of c, meaningful for a customer that churned in a plan window. */
static inline size_t mrr_reason_labels(const struct cs_mrr *m)
{
	return m->has_reason ? m->nlabels : 0;
}

static inline const char *mrr_reason_label(const struct cs_mrr *m, size_t i)
{
	return m->labels[i];
}

static inline size_t mrr_churn_reason(const struct cs_mrr *m, size_t c)
{
	return m->rank_label[m->reason[c]];
}

#endif
