/*
 * plan: struct cs_plan from the kinds of the due collectors (plan.h).
 */
#include "plan.h"

#include <string.h>

/* At most one collector of each kind is due (cs_settings_load refuses two),
 * so the plan's windows fit. */
_Static_assert(KIND_COUNT <= CS_PLAN_COLLECTORS, "struct cs_plan has room for every kind");

/* The start of the window of that many seconds ending at as_of: the one
 * place a window bound is computed (config bounds durations, so no
 * overflow). */
static cs_time window_start(cs_time as_of, int64_t seconds)
{
	return as_of - seconds * CS_SECOND;
}

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of)
{
	/* Health's model windows (health = { ... }): their starts are laid out
	 * whether health is due or not (ds_subscriptions.h, ds_activity.h). */
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

	p->datasets |= cs_kind_datasets(k, p->cfg);
	if (k->outcomes)
		p->outcomes = true;
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
	if (k->plan)
		k->plan(p->cfg->kinds, p);
}
