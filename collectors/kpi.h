/*
 * kpi: the collector kinds. Each kind is pure compute: a linked struct
 * cs_data (one evaluation's model) and the collector in, metric families
 * out (docs/metrics.md). No libpq here.
 *
 * Every family is emitted for every segment (and window, type, ...) with
 * zero values included; a ratio is omitted where its denominator is 0.
 * Segment labels come first, in configured dimension order, then the
 * family's own labels.
 */
#ifndef CS_KPI_H
#define CS_KPI_H

#include "emit.h"
#include "lib/expo.h"
#include "model.h"
#include "settings.h"

/* Each family file's table of the families it emits (emit.h). */
extern const struct cs_family revenue_families[], churn_families[], cohort_families[],
    trial_families[], survey_families[], adoption_families[], support_families[],
    outcome_families[], health_families[], movement_families[], payment_families[],
    mover_families[];

/* The kinds' settings readers (called by the kind table, kinds.c): revenue
 * reads cohorts and churn_reasons (churn_reason_settings), health reads
 * health and renewals. */
bool revenue_settings(struct config_reader *r, struct cs_kind_settings *k);
bool churn_reason_settings(struct config_reader *r, struct cs_kind_settings *k);
bool health_settings(struct config_reader *r, struct cs_kind_settings *k);
/* movers = { ... } (movers.c, read with revenue's settings). */
bool movers_settings(struct config_reader *r, struct cs_kind_settings *k);
/* The longest of the health model's windows. */
int64_t health_lookback(const struct cs_kind_settings *k);

/* c is the collector whose families are computed: its windows, drawn from
 * the evaluation's shared sums (d->plan holds the union of windows). */
void kpi_revenue(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
/* Revenue's payment families; nothing when payments were not read. */
void kpi_payments(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
/* The customers behind revenue's movements (movers.c); part of the revenue kind. */
void kpi_movers(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_trials(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_surveys(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_adoption(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_support(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_outcomes(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_health(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
/* Pending churn, churn reasons and drivers (churn.c): part of kpi_revenue. */
void kpi_churn(const struct cs_data *d, const struct cs_collector *c, struct mset *out);

/*
 * A customer's MRR movement over a window (docs/design.md, movements), by the
 * endpoint method: m0 its MRR at t - W, m1 at t, paid_before whether its MRR
 * was > 0 before t - W. MV_NONE: no movement. m1 and m0 are compared through
 * cs_cmp (a change within a relative 1e-9 is none); MRR with 0 exactly.
 */
enum cs_movement { MV_NONE = -1, MV_NEW, MV_REACT, MV_EXP, MV_CONTR, MV_CHURN, MV_COUNT };

static inline int cs_movement_of(double m0, double m1, bool paid_before)
{
	if (m0 > 0) {
		if (!(m1 > 0))
			return MV_CHURN;
		int c = cs_cmp(m1, m0);
		return c > 0 ? MV_EXP : c < 0 ? MV_CONTR : MV_NONE;
	}
	if (m1 > 0)
		return paid_before ? MV_REACT : MV_NEW;
	return MV_NONE;
}

/* The amount (>= 0) of movement mv: churn m0, expansion m1 - m0, contraction
 * m0 - m1, new and reactivation m1, none 0. */
static inline double cs_movement_amount(int mv, double m0, double m1)
{
	return mv == MV_CHURN	? m0
	       : mv == MV_EXP	? m1 - m0
	       : mv == MV_CONTR ? m0 - m1
	       : mv == MV_NONE	? 0
				: m1;
}

/* Health bands; unscored: an account not scored at t (no MRR > 0). */
enum cs_band { CS_BAND_GREEN, CS_BAND_YELLOW, CS_BAND_RED, CS_BAND_UNKNOWN, CS_BAND_UNSCORED };
#define CS_BANDS 5

/* Every account's band at t: band[i] for d->accounts[i] (what kpi_health
 * scores). */
void health_bands(const struct cs_data *d, unsigned char *band);

/*
 * Health movement (docs/metrics.md, health): cs_health_band_transitions_total, a
 * counter the daemon keeps across evaluations. A struct cs_band_memory holds
 * each scored account's band (by account key) from one successful health
 * evaluation, its segment, and the cumulative transition counts per segment.
 *
 * kpi_health_movement is pure: from prev (the memory of the previous
 * successful health evaluation; NULL: none, as after a start or under
 * --once) and this evaluation's model, it writes the family to out (every
 * pair from != to for every segment, counts since prev's start) and returns
 * the memory that the next evaluation gets as prev (the caller owns it and
 * frees prev when it keeps the new one). prev is ignored (counting starts
 * again) when it was made for another health collector name or other
 * segment dimensions (a reload that changed them).
 */
struct cs_band_memory;

struct cs_band_memory *kpi_health_movement(const struct cs_data *d, const struct cs_collector *c,
					   const struct cs_band_memory *prev, struct mset *out);
void cs_band_memory_free(struct cs_band_memory *m);
/* Accounts remembered (tests and logs). */
size_t cs_band_memory_accounts(const struct cs_band_memory *m);

#endif
