/*
 * settings: the kinds' own settings (knobs), read and validated by the kind
 * table (kinds.c) and the family files, after config is loaded. They sit
 * below the families and the kind table, so that a family reads its knobs
 * (d->cfg->kinds) without knowing the table that points at it.
 */
#ifndef CS_SETTINGS_H
#define CS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define CS_MAX_COHORT_MONTHS 36
#define CS_MAX_HORIZONS	     8
#define CS_MAX_CHURN_REASONS 32
#define CS_MAX_REASON_BYTES  64

/* health = { ... } (read by the health kind, health.c). */
struct cs_health {
	int64_t usage_window, sentiment_window, support_window, billing_window; /* seconds */
	double w_usage, w_sentiment, w_support, w_billing;			/* weights */
	double usage_target; /* utilisation that scores 100, default 0.8 */
	double red_below;    /* default 50 */
	double green_from;   /* default 75 */
	int at_risk;	     /* 0..100, default 10 */
	/* The at-risk list's order: false, lowest score first; true, by band
	 * (red, yellow, green) then highest MRR first (health.c). */
	bool at_risk_by_mrr;
	bool at_risk_per_segment; /* at_risk accounts per segment, not overall */
};

/* cohorts = { ... } (revenue, revenue.c): the months complete before t's month. */
struct cs_cohorts {
	int months;			/* 0..CS_MAX_COHORT_MONTHS, default 12, 0: off */
	size_t ndims;			/* dimensions the cohort families carry */
	size_t dims[CS_MAX_DIMENSIONS]; /* indexes into cs_config.dims, in config order */
};

/* renewals = { horizons = [...]; } (health, health.c): default 30d, 60d, 90d. */
struct cs_renewals {
	size_t nhorizons; /* 1..CS_MAX_HORIZONS */
	struct cs_window horizons[CS_MAX_HORIZONS];
};

/* movers = { top = N; per_segment = false; } (revenue, movers.c): the
 * customers behind each MRR movement. */
struct cs_movers {
	int top;	  /* 0..100, default 10, 0: off */
	bool per_segment; /* top per segment, window and type, not per window and type */
};

/* churn_reasons = [...] (revenue, churn.c): the reason codes churned
 * customers are counted under, besides "other" and "unknown"; default
 * Stripe's eight feedback codes. */
struct cs_churn_reasons {
	size_t n;						   /* 1..CS_MAX_CHURN_REASONS */
	char codes[CS_MAX_CHURN_REASONS][CS_MAX_REASON_BYTES + 1]; /* snake_case, in config order */
};

/* The kinds' own settings, hung on the config they were read from
 * (cs_config.kinds) so that they live and die with it. */
struct cs_kind_settings {
	struct cs_health health;
	struct cs_cohorts cohorts;
	struct cs_renewals renewals;
	struct cs_churn_reasons churn_reasons;
	struct cs_movers movers;
	/* Whether name is a label the exposition already carries: the kind
	 * table's cs_label_reserved (kinds.h), derived from the family tables
	 * above the readers, handed down so that they refuse it as a
	 * dimension. */
	bool (*label_reserved)(const char *name);
};

#endif
