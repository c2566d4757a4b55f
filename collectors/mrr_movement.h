/*
 * mrr_movement: one billing customer's MRR movement over one window, by the
 * endpoint method (docs/metrics.md, revenue), read from the subscriptions
 * fold through its accessors (ds_subscriptions.h). movers.c names the
 * customers behind the movements with it; the classes and amounts are those
 * cs_mrr_movement and cs_customer_movements sum (revenue.c).
 *
 * With m0 the MRR at the window start and m1 at t: churn when m0 > 0 and
 * m1 = 0 (amount m0); expansion / contraction when both are > 0 and m1 is
 * above / below m0 beyond cs_cmp's tolerance (amount |m1 - m0|); when m0 = 0
 * and m1 > 0, reactivation if MRR was > 0 before the window start, new
 * otherwise (amount m1). MRR is compared with zero exactly: a sum of
 * non-negative amounts is 0 only when every term is.
 */
#ifndef CS_MRR_MOVEMENT_H
#define CS_MRR_MOVEMENT_H

#include "ds_subscriptions.h"
#include "emit.h"

/* In the order of cs_mrr_movement's type label. */
enum mrr_move { MOVE_NEW, MOVE_REACT, MOVE_EXP, MOVE_CONTR, MOVE_CHURN, MOVE_COUNT, MOVE_NONE };

/* The movement of customer c over the plan window w whose start is from;
 * its amount (>= 0) in *amount, 0 for MOVE_NONE. */
static inline enum mrr_move mrr_movement(const struct cs_mrr *m, size_t c, size_t w, cs_time from,
					 double *amount)
{
	double m0 = mrr_at(m, c, mrr_window_start(w)), m1 = mrr_at(m, c, MRR_T);

	*amount = 0;
	if (m0 > 0) {
		if (!(m1 > 0)) {
			*amount = m0;
			return MOVE_CHURN;
		}
		if (cs_cmp(m1, m0) > 0) {
			*amount = m1 - m0;
			return MOVE_EXP;
		}
		if (cs_cmp(m1, m0) < 0) {
			*amount = m0 - m1;
			return MOVE_CONTR;
		}
		return MOVE_NONE;
	}
	if (m1 > 0) {
		*amount = m1;
		return mrr_first_positive(m, c) < from ? MOVE_REACT : MOVE_NEW;
	}
	return MOVE_NONE;
}

#endif
