/*
 * plan: what one evaluation reads (struct cs_plan, model.h), built above the
 * kind table: each due collector's kind row (kinds.h) says which datasets
 * it reads, whether it reads the outcome queries, how far back its own
 * settings look and, through its plan hook, what the folds must keep for
 * its compute. Below this file the datasets and the model read only the
 * plan's fields and never ask which kinds are due.
 *
 *   cs_plan_init(&plan, cfg, t);
 *   cs_plan_add(&plan, collector)  ... for each due collector
 *   d = cs_data_new(&plan);        model.h
 */
#ifndef CS_PLAN_H
#define CS_PLAN_H

#include "config/config.h"
#include "kinds.h"
#include "lib/cstime.h"
#include "model.h"

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of);
/* Adds a due collector; adding one a second time changes nothing. */
void cs_plan_add(struct cs_plan *p, const struct cs_collector *c);

#endif
