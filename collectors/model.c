/*
 * model: one evaluation's account model: plan windows by length and the
 * rejects. The plan is built above the kind table (plan.c); the model's
 * lifecycle and the dispatch of each dataset's stream to its contract
 * (ds_*.c) are in read.c, the join and segments in join.c.
 */
#include "dataset.h"

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

/* ------------------------------------------------------------- rejects */

void cs_data_reject(struct cs_data *d, const char *dataset, const char *reason)
{
	for (size_t i = 0; i < d->nrejects; i++) {
		if (!strcmp(d->rejects[i].reason, reason) &&
		    !strcmp(d->rejects[i].dataset, dataset)) {
			d->rejects[i].count++;
			return;
		}
	}
	d->rejects = xrealloc(d->rejects, (d->nrejects + 1) * sizeof(*d->rejects));
	struct cs_reject *r = &d->rejects[d->nrejects++];
	/* Copies, so callers may pass names that die before d does. */
	r->dataset = arena_strndup(&d->priv->arena, dataset, strlen(dataset));
	r->reason = arena_strndup(&d->priv->arena, reason, strlen(reason));
	r->count = 1;
}
