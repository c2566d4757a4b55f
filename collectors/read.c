/*
 * read: the model's lifecycle (cs_data_new, cs_data_free), a dataset's
 * stream to its contract (ds_*.c), and the link once all are read. The one
 * file that knows every dataset: below it, the datasets, the join and the
 * model know none of the others.
 */
#include "dataset.h"

#include "ds_accounts.h"
#include "ds_activity.h"
#include "ds_outcomes.h"
#include "ds_payments.h"
#include "ds_subscriptions.h"
#include "ds_surveys.h"
#include "ds_tickets.h"
#include "ds_trials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ds_contract *const contracts[DS_COUNT + 1] = {
    [DS_ACCOUNTS] = &ds_accounts, [DS_SUBSCRIPTIONS] = &ds_subscriptions,
    [DS_TRIALS] = &ds_trials,	  [DS_SURVEYS] = &ds_surveys,
    [DS_ACTIVITY] = &ds_activity, [DS_TICKETS] = &ds_tickets,
    [DS_PAYMENTS] = &ds_payments, [CS_DS_OUTCOME] = &ds_outcomes,
};

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

const char *cs_col_type_name(enum cs_col_type t)
{
	static const char *const names[] = {
	    [CS_COL_TEXT] = "text",	      [CS_COL_NUMBER] = "number",
	    [CS_COL_INTEGER] = "integer",     [CS_COL_BOOLEAN] = "boolean",
	    [CS_COL_TIMESTAMP] = "timestamp",
	};
	return names[t];
}

bool cs_data_column_type(const struct cs_config *cfg, int dataset, const char *name,
			 enum cs_col_type *type)
{
	if (dataset < 0 || dataset > CS_DS_OUTCOME || !name)
		return false;
	const struct ds_contract *k = contracts[dataset];

	for (size_t c = 0; c < k->ncols; c++)
		if (!strcmp(k->cols[c].name, name)) {
			*type = k->cols[c].type;
			return true;
		}
	if (dataset < DS_COUNT && !strcmp(name, CS_LOADED_AT)) {
		*type = CS_COL_TIMESTAMP;
		return true;
	}
	for (size_t i = 0; dataset == DS_ACCOUNTS && i < cfg->ndims; i++)
		if (!strcmp(cfg->dims[i], name)) {
			*type = CS_COL_TEXT;
			return true;
		}
	return false;
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
		in->run = outcome * nw + window;
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
	in->loaded_col = dataset < DS_COUNT ? find_column(ncols, names, CS_LOADED_AT) : -1;
	in->by_load = in->loaded_col >= 0;
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

/*
 * loaded_at, when the query returns it, is when the row reached the
 * database (an ETL's load stamp, Fivetran's _fivetran_synced): the newest
 * one at or before t is the dataset's freshness, whatever the business did
 * (docs/datasets.md, "Freshness"). It counts for a row the contract then
 * rejects too: the feed delivered it. NULL: the row has no stamp.
 */
static bool loaded(struct cs_stream *in, const char *s)
{
	cs_time t, *newest = &in->d->newest[in->ds];

	if (!s)
		return true;
	if (cs_parse_time(s, &t)) {
		reject(in, "bad_time");
		return false;
	}
	if (t <= in->d->as_of && t > *newest)
		*newest = t;
	return true;
}

void cs_data_row(struct cs_stream *in, const char *const *values)
{
	in->d->rows_read++;
	in->rows++;
	if (in->by_load && !loaded(in, values[in->loaded_col]))
		return;
	contracts[in->ds]->row(in, values);
}

int cs_data_end(struct cs_stream *in, char *err, size_t errlen)
{
	if (!in)
		return 0;
	const struct ds_contract *k = contracts[in->ds];
	int rc = k->close ? k->close(in, err, errlen) : 0;

	/* Once every account is in, the join decides duplicate billing keys
	 * and builds the segments that the other datasets attribute to. */
	if (in->ds == DS_ACCOUNTS && rc == 0)
		finish_accounts(in->d);

	if (in->ds < DS_COUNT)
		in->d->ds_rows[in->ds] += in->rows;
	free(in);
	return rc;
}

static void datasets_init(struct cs_data *d)
{
	for (size_t k = 0; k < sizeof(contracts) / sizeof(contracts[0]); k++)
		if (contracts[k]->init)
			contracts[k]->init(d);
}

static void datasets_release(struct cs_data *d)
{
	for (size_t k = 0; k < sizeof(contracts) / sizeof(contracts[0]); k++)
		if (contracts[k]->release)
			contracts[k]->release(d);
}

struct cs_data *cs_data_new(const struct cs_plan *plan)
{
	struct cs_data *d = xcalloc(1, sizeof(*d));
	const struct cs_config *cfg = plan->cfg;

	d->cfg = cfg;
	d->plan = *plan;
	d->as_of = plan->as_of;
	d->priv = xcalloc(1, sizeof(*d->priv));
	d->mrr = xcalloc(1, sizeof(*d->mrr));
	d->trials = xcalloc(1, sizeof(*d->trials));
	d->surveys = xcalloc(1, sizeof(*d->surveys));
	d->nps = xcalloc(1, sizeof(*d->nps));
	d->activity = xcalloc(1, sizeof(*d->activity));
	d->tickets = xcalloc(1, sizeof(*d->tickets));
	d->outcomes = xcalloc(1, sizeof(*d->outcomes));
	d->payments = xcalloc(1, sizeof(*d->payments));
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
	free(d->mrr);
	free(d->trials);
	free(d->surveys);
	free(d->nps);
	free(d->activity);
	free(d->tickets);
	free(d->outcomes);
	free(d->payments);
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

void cs_data_link(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	if (!p->accounts_done)
		finish_accounts(d);
	/* The sums a kind reads exist even when its dataset returned no row;
	 * a kind that does not read them gets none (they are per account). */
	for (int ds = 0; ds < DS_COUNT; ds++)
		if ((d->plan.datasets & (1u << ds)) && contracts[ds]->prepare)
			contracts[ds]->prepare(d);

	uint32_t unknown = link_unknown(d);
	for (size_t k = 0; k < sizeof(contracts) / sizeof(contracts[0]); k++)
		if (contracts[k]->link_unknown)
			contracts[k]->link_unknown(d, unknown);
}
