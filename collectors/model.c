/*
 * model: one evaluation's account model: the plan (what is due) and the
 * model's lifecycle. The dispatch of each dataset's stream to its contract
 * (ds_*.c) is in read.c, the join and segments in join.c.
 */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- plan */

/* The start of the window of that many seconds ending at as_of: the one
 * place a window bound is computed (config bounds durations, so no
 * overflow). */
static cs_time window_start(cs_time as_of, int64_t seconds)
{
	return as_of - seconds * CS_SECOND;
}

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of)
{
	const struct cs_health *h = &cfg->kinds->health;

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->as_of = as_of;
	p->usage_from = window_start(as_of, h->usage_window);
	p->sentiment_from = window_start(as_of, h->sentiment_window);
	p->support_from = window_start(as_of, h->support_window);
	p->billing_from = window_start(as_of, h->billing_window);
	p->since = as_of;
}

static size_t plan_window_add(struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	p->windows[p->nwindows] = seconds;
	p->from[p->nwindows] = window_start(p->as_of, seconds);
	return p->nwindows++;
}

void cs_plan_add(struct cs_plan *p, const struct cs_collector *c)
{
	const struct collector_kind *k = cs_collector_kind(c);

	if (p->by_kind[k->kind])
		return;
	p->by_kind[k->kind] = c;
	p->kinds |= 1u << k->kind;
	p->datasets |= cs_kind_datasets(k, p->cfg);
	for (size_t w = 0; w < c->nwindows; w++) {
		size_t i = plan_window_add(p, c->windows[w].seconds);

		if (k->outcomes)
			p->outcome_window[i] = true;
		if (c->windows[w].seconds > p->history)
			p->history = c->windows[w].seconds;
	}
	if (k->lookback && k->lookback(p->cfg->kinds) > p->history)
		p->history = k->lookback(p->cfg->kinds);
	if (p->timeout < c->timeout)
		p->timeout = c->timeout;
	p->since = window_start(p->as_of, p->history);
}

bool cs_plan_has(const struct cs_plan *p, enum cs_kind kind)
{
	return (p->kinds >> kind) & 1u;
}

size_t cs_plan_window(const struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	return p->nwindows; /* not reached: every collector window is in the plan */
}

/* ------------------------------------------------------------- streams */

struct cs_data *cs_data_new(const struct cs_plan *plan)
{
	struct cs_data *d = xcalloc(1, sizeof(*d));
	const struct cs_config *cfg = plan->cfg;

	d->cfg = cfg;
	d->plan = *plan;
	d->as_of = plan->as_of;
	d->priv = xcalloc(1, sizeof(*d->priv));
	d->seg.ndims = cfg->ndims;
	for (int ds = 0; ds < DS_COUNT; ds++)
		d->newest[ds] = CS_TIME_NONE;
	datasets_init(d);
	return d;
}

void cs_data_free(struct cs_data *d)
{
	if (!d)
		return;
	struct cs_data_private *p = d->priv;
	datasets_release(d);
	free(d->accounts);
	free(d->customers);
	free(d->rejects);
	free(d->seg.values);
	free(d->seg.accounts);
	if (p) {
		strtab_release(&p->accounts);
		strtab_release(&p->billing);
		strtab_release(&p->orphans);
		for (size_t i = 0; i < CS_MAX_DIMENSIONS; i++)
			strtab_release(&p->dimvals[i]);
		free(p->acc_billing);
		free(p->acc_dims);
		arena_release(&p->arena);
		free(p);
	}
	free(d);
}

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
