/*
 * model: one evaluation's account model: plan windows by length. The plan
 * is built above the kind table (plan.c); the model's lifecycle and the dispatch of each dataset's
 * stream to its contract (ds_*.c) are in read.c, the join and segments in join.c.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- plan */

size_t cs_plan_window(const struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	return p->nwindows; /* not reached: every collector window is in the plan */
}
