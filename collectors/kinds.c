#include "kpi.h"

/* The registry of collector kinds: one explicit table, in enum cs_kind order. */
const struct collector_kind collector_kinds[KIND_COUNT] = {
    [KIND_REVENUE] = {KIND_REVENUE, "revenue", kpi_revenue},
    [KIND_TRIALS] = {KIND_TRIALS, "trials", kpi_trials},
    [KIND_SURVEYS] = {KIND_SURVEYS, "surveys", kpi_surveys},
    [KIND_ADOPTION] = {KIND_ADOPTION, "adoption", kpi_adoption},
    [KIND_SUPPORT] = {KIND_SUPPORT, "support", kpi_support},
    [KIND_OUTCOMES] = {KIND_OUTCOMES, "outcomes", kpi_outcomes},
    [KIND_HEALTH] = {KIND_HEALTH, "health", kpi_health},
};
