/*
 * model: one evaluation's account model. The plan (what is due), the model's
 * lifecycle, and the dispatch of each dataset's stream to its contract
 * (ds_*.c); the join and segments are in join.c.
 */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ds_contract *const contracts[DS_COUNT + 1] = {
    [DS_ACCOUNTS] = &ds_accounts,   [DS_SUBSCRIPTIONS] = &ds_subscriptions,
    [DS_TRIALS] = &ds_trials,	    [DS_SURVEYS] = &ds_surveys,
    [DS_ACTIVITY] = &ds_activity,   [DS_TICKETS] = &ds_tickets,
    [CS_DS_OUTCOME] = &ds_outcomes,
};

/* ---------------------------------------------------------------- plan */

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->as_of = as_of;
}

static size_t plan_window_add(struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	p->windows[p->nwindows] = seconds;
	return p->nwindows++;
}

void cs_plan_add(struct cs_plan *p, const struct cs_collector *c)
{
	if (p->by_kind[c->kind])
		return;
	p->by_kind[c->kind] = c;
	p->kinds |= 1u << c->kind;
	p->datasets |= config_kind_datasets(c->kind);
	for (size_t w = 0; w < c->nwindows; w++) {
		size_t i = plan_window_add(p, c->windows[w].seconds);

		if (c->kind == KIND_OUTCOMES)
			p->outcome_window[i] = true;
		if (c->windows[w].seconds > p->history)
			p->history = c->windows[w].seconds;
	}
	if (c->kind == KIND_HEALTH) {
		const struct cs_health *h = &p->cfg->health;
		int64_t hw[] = {h->usage_window, h->sentiment_window, h->support_window,
				h->billing_window};

		for (size_t i = 0; i < sizeof(hw) / sizeof(hw[0]); i++)
			if (hw[i] > p->history)
				p->history = hw[i];
	}
	if (p->timeout < c->timeout)
		p->timeout = c->timeout;
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
	size_t nw = plan->nwindows;
	for (size_t w = 0; w < nw; w++)
		d->mrr.at[w] = d->as_of - plan->windows[w] * CS_SECOND;
	d->mrr.at[nw] = d->as_of;
	d->mrr.at[nw + 1] = d->as_of - cfg->health.billing_window * CS_SECOND;
	d->mrr.ninstants = nw + 2;
	if (cs_plan_has(plan, KIND_REVENUE)) {
		d->mrr.risk = true;
		/* cohort ages: the starts of the K months up to t's, oldest first */
		size_t k = cfg->cohorts.months > 0 ? (size_t)cfg->cohorts.months : 0;
		for (size_t j = 0; j < k; j++)
			d->mrr.at[nw + 2 + j] = cs_month_start(d->as_of, (int)j + 1 - (int)k);
		d->mrr.cohorts = k;
		d->mrr.ninstants += k;
	}
	size_t nruns = cfg->noutcomes * nw;
	if (nruns) {
		d->outcomes = xcalloc(nruns, sizeof(*d->outcomes));
		d->noutcome_values = xcalloc(nruns, sizeof(*d->noutcome_values));
		d->priv->cap_outcomes = xcalloc(nruns, sizeof(*d->priv->cap_outcomes));
	}
	return d;
}

void cs_data_free(struct cs_data *d)
{
	if (!d)
		return;
	struct cs_data_private *p = d->priv;
	size_t nruns = d->cfg->noutcomes * d->plan.nwindows;
	for (size_t i = 0; i < nruns; i++)
		free(d->outcomes[i]);
	free(d->outcomes);
	free(d->noutcome_values);
	free(d->accounts);
	free(d->customers);
	free(d->mrr.mrr);
	free(d->mrr.first_positive);
	free(d->mrr.past_due);
	free(d->mrr.last_drop);
	free(d->mrr.drop_past_due);
	free(d->trials.n);
	for (size_t i = 0; i < d->surveys.nanon; i++)
		free(d->surveys.anon[i].v);
	free(d->surveys.anon);
	free(d->surveys.latest);
	free(d->activity.account_users);
	free(d->activity.seg_users);
	free(d->activity.seg_feature_users);
	free(d->nps.at);
	free(d->nps.score);
	free(d->tickets.seg);
	free(d->tickets.account_escalations);
	free(d->rejects);
	free(d->seg.values);
	free(d->seg.accounts);
	if (p) {
		strtab_release(&p->accounts);
		strtab_release(&p->billing);
		strtab_release(&p->orphans);
		strtab_release(&p->respondents);
		for (size_t i = 0; i < CS_MAX_DIMENSIONS; i++)
			strtab_release(&p->dimvals[i]);
		free(p->acc_billing);
		free(p->acc_dims);
		free(p->slice);
		free(p->cap_outcomes);
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

static int find_column(int ncols, const char *const *names, const char *name)
{
	for (int i = 0; i < ncols; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return -1;
}

int cs_data_check_columns(const struct cs_config *cfg, int dataset, const char *dsname, int ncols,
			  const char *const *names, char *err, size_t errlen)
{
	if (dataset < 0 || dataset > CS_DS_OUTCOME)
		return 0;
	const struct ds_contract *k = contracts[dataset];
	struct buf list = BUF_INIT;
	int nmissing = 0;

	for (size_t c = 0; c < k->ncols; c++) {
		if (k->cols[c].optional || find_column(ncols, names, k->cols[c].name) >= 0)
			continue;
		buf_addf(&list, "%s\"%s\"", nmissing++ ? ", " : "", k->cols[c].name);
	}
	for (size_t i = 0; dataset == DS_ACCOUNTS && i < cfg->ndims; i++) {
		if (find_column(ncols, names, cfg->dims[i]) >= 0)
			continue;
		buf_addf(&list, "%s\"%s\" (segment dimension)", nmissing++ ? ", " : "",
			 cfg->dims[i]);
	}
	if (nmissing)
		snprintf(err, errlen, "dataset \"%s\": missing column%s %.*s", dsname,
			 nmissing > 1 ? "s" : "", (int)list.len, list.data);
	buf_release(&list);
	return nmissing;
}

struct cs_stream *cs_data_begin(struct cs_data *d, int dataset, size_t outcome, size_t window,
				int ncols, const char *const *names, char *err, size_t errlen)
{
	struct cs_data_private *p = d->priv;

	if (dataset < 0 || dataset > CS_DS_OUTCOME) {
		snprintf(err, errlen, "unknown dataset %d", dataset);
		return NULL;
	}
	if (dataset == DS_ACCOUNTS && p->accounts_done) {
		snprintf(err, errlen, "accounts must be loaded once, before any other dataset");
		return NULL;
	}
	if (dataset != DS_ACCOUNTS && !p->accounts_done)
		finish_accounts(d);

	const struct ds_contract *k = contracts[dataset];
	struct cs_stream *in = xcalloc(1, sizeof(*in));
	in->d = d;
	in->ds = dataset;
	in->ds_name = k->name;
	in->last_customer = -1;
	if (dataset == CS_DS_OUTCOME) {
		size_t nw = d->plan.nwindows;
		if (outcome >= d->cfg->noutcomes || window >= nw) {
			snprintf(err, errlen, "no outcome %zu in window %zu", outcome, window);
			free(in);
			return NULL;
		}
		in->ds_name = d->cfg->outcomes[outcome].name;
		size_t run = outcome * nw + window;
		in->ov = &d->outcomes[run];
		in->nov = &d->noutcome_values[run];
		in->capov = &p->cap_outcomes[run];
	}
	if (cs_data_check_columns(d->cfg, dataset, in->ds_name, ncols, names, err, errlen) > 0) {
		/* An evaluation stops that dataset at its first bad query; say
		 * where to see them all. */
		size_t n = strlen(err);
		if (n < errlen)
			snprintf(err + n, errlen - n,
				 "; cs_exporter --config.check --connect lists those of every "
				 "dataset");
		free(in);
		return NULL;
	}
	for (size_t c = 0; c < k->ncols; c++)
		in->col[c] = find_column(ncols, names, k->cols[c].name);
	if (k->open && k->open(in, ncols, names, err, errlen) < 0) {
		free(in);
		return NULL;
	}
	if (dataset < DS_COUNT)
		d->read[dataset] = true;
	return in;
}

char *cs_dataset_query(int dataset, const char *sql)
{
	if (dataset < 0 || dataset > CS_DS_OUTCOME || !contracts[dataset]->query)
		return xstrdup(sql);
	return contracts[dataset]->query(sql);
}

void cs_data_row(struct cs_stream *in, const char *const *values)
{
	in->d->rows_read++;
	in->rows++;
	contracts[in->ds]->row(in, values);
}

int cs_data_end(struct cs_stream *in, char *err, size_t errlen)
{
	if (!in)
		return 0;
	const struct ds_contract *k = contracts[in->ds];
	int rc = k->close ? k->close(in, err, errlen) : 0;

	if (in->ds < DS_COUNT)
		in->d->ds_rows[in->ds] += in->rows;
	free(in);
	return rc;
}
