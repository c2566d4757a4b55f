/*
 * kpi: the collector kinds. Each kind is pure compute: a linked struct
 * cs_data (one evaluation's model) and the collector in, metric families
 * out (SPEC sections 3 and 4). No libpq here.
 *
 * Every family is emitted for every segment (and window, type, ...) with
 * zero values included; a ratio is omitted where its denominator is 0.
 * Segment labels come first, in configured dimension order, then the
 * family's own labels.
 */
#ifndef CS_KPI_H
#define CS_KPI_H

#include "base/expo.h"
#include "model.h"

struct collector_kind {
	enum cs_kind kind;
	const char *name;
	void (*compute)(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
};

/* Indexed by enum cs_kind. */
extern const struct collector_kind collector_kinds[KIND_COUNT];

/* c is the collector whose families are computed: its windows, drawn from
 * the evaluation's shared sums (d->plan holds the union of windows). */
void kpi_revenue(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_trials(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_surveys(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_adoption(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_support(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_outcomes(const struct cs_data *d, const struct cs_collector *c, struct mset *out);
void kpi_health(const struct cs_data *d, const struct cs_collector *c, struct mset *out);

#endif
