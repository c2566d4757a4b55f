#include "eval.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/kpi.h"
#include "collectors/plan.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strtab.h"
#include "collectors/ds_activity.h"

/*
 * The rows of one read of a query that binds no parameter: a backfill's
 * later steps would get the same rows again, so they are replayed.
 */
struct row_cache {
	bool full; /* the rows of one read that ran to its end */
	int ncols;
	char **names;
	char **cells; /* nrows * ncols, NULL: SQL NULL */
	size_t nrows, cap;
	struct arena strings;
};

struct eval_memory {
	struct cs_activity_memory *activity; /* NULL: --full-reads */
	struct row_cache rows[DS_COUNT];
	/* The daemon's (eval_memory_live): no row cache, activity read with
	 * cfg->incremental[DS_ACTIVITY]'s lookback and full reads. */
	bool live;
	int64_t lookback, full_every; /* seconds */
	int64_t history;	      /* seconds: the longest window of all collectors */
	cs_time last_full;	      /* as_of of the last full activity read, NONE: none */
};

struct eval_memory *eval_memory_new(bool activity)
{
	struct eval_memory *m = xcalloc(1, sizeof(*m));
	if (activity)
		m->activity = cs_activity_memory_new();
	return m;
}

struct eval_memory *eval_memory_live(const struct cs_config *cfg)
{
	const struct cs_incremental *inc = &cfg->incremental[DS_ACTIVITY];
	struct cs_plan all;

	if (!cfg->has_dataset[DS_ACTIVITY] || !inc->enabled)
		return NULL;
	cs_plan_init(&all, cfg, 0);
	for (size_t i = 0; i < cfg->ncollectors; i++)
		cs_plan_add(&all, &cfg->collectors[i]);
	struct eval_memory *m = eval_memory_new(true);
	m->live = true;
	m->lookback = inc->lookback;
	m->full_every = inc->full_every;
	m->history = all.history;
	m->last_full = CS_TIME_NONE;
	return m;
}

void eval_memory_forget(struct eval_memory *m)
{
	if (!m)
		return;
	cs_activity_memory_forget(m->activity);
	m->last_full = CS_TIME_NONE;
}

static void row_cache_reset(struct row_cache *c)
{
	free(c->names);
	free(c->cells);
	arena_release(&c->strings);
	memset(c, 0, sizeof(*c));
}

void eval_memory_free(struct eval_memory *m)
{
	if (!m)
		return;
	cs_activity_memory_free(m->activity);
	for (size_t i = 0; i < DS_COUNT; i++)
		row_cache_reset(&m->rows[i]);
	free(m);
}

static char *cache_str(struct row_cache *c, const char *s)
{
	return s ? (char *)arena_strndup(&c->strings, s, strlen(s)) : NULL;
}

/* One query of the evaluation: a dataset, or an outcome in one window. */
struct task {
	struct eval *ev;
	const struct cs_query *q;
	char *sql;   /* as sent (cs_dataset_query) */
	int dataset; /* enum cs_dataset, or CS_DS_OUTCOME */
	size_t outcome, window;
	char window_start[40];
	char since[40];		 /* the since parameter, when not the evaluation's */
	struct row_cache *cache; /* a backfill's copy of a parameterless read */
	struct cs_stream *in;
	uint64_t rows;
	int rc;
	char err[512];
};

struct eval {
	const struct cs_plan *plan;
	struct cs_data *d;
	struct pg_source *const *sources;
	struct eval_memory *mem;
	char as_of[40], since[40];

	/* Rows of several sources arrive at once: the model is fed under the
	 * lock. Datasets other than accounts wait for accounts to end, as
	 * they attribute their rows to accounts. */
	pthread_mutex_t lock;
	pthread_cond_t accounts_cv;
	int accounts; /* 0: being read, 1: ended, -1: failed */

	struct task *t;
	size_t nt;
};

/* Formats t as a timestamptz literal for a bound parameter. */
static void format_param(cs_time t, char *dst, size_t len)
{
	time_t secs = (time_t)(t / CS_SECOND);
	int64_t micros = t % CS_SECOND;
	if (micros < 0) {
		micros += CS_SECOND;
		secs -= 1;
	}
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[24]; /* "YYYY-MM-DD HH:MM:SS" */
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(dst, len, "%s.%06lld+00", base, (long long)micros);
}

int eval_parse_instant(const char *s, cs_time *t)
{
	char tmp[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(tmp) - 4)
		return -1;
	memcpy(tmp, s, n + 1);
	if (n > 10 && (tmp[10] == 'T' || tmp[10] == 't'))
		tmp[10] = ' ';
	if (tmp[n - 1] == 'Z' || tmp[n - 1] == 'z')
		memcpy(tmp + n - 1, "+00", 4);
	cs_time v;
	if (cs_parse_time(tmp, &v) < 0 || v == CS_TIME_OPEN || v <= CS_TIME_NONE + 1)
		return -1;
	*t = v;
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

static int feed_columns(void *ctx, int ncols, const char *const *names, char *err, size_t errlen)
{
	struct task *t = ctx;
	struct eval *ev = t->ev;

	pthread_mutex_lock(&ev->lock);
	if (t->dataset != DS_ACCOUNTS) {
		/* The query runs on its server meanwhile: only folding waits. */
		while (ev->accounts == 0)
			pthread_cond_wait(&ev->accounts_cv, &ev->lock);
		if (ev->accounts < 0) {
			pthread_mutex_unlock(&ev->lock);
			snprintf(err, errlen, "dataset \"accounts\" failed");
			return -1;
		}
	}
	t->in = cs_data_begin(ev->d, t->dataset, t->outcome, t->window, ncols, names, err, errlen);
	pthread_mutex_unlock(&ev->lock);
	struct row_cache *c = t->cache;
	if (t->in && c && !c->full) {
		c->ncols = ncols;
		c->names = xcalloc((size_t)ncols + 1, sizeof(*c->names));
		for (int i = 0; i < ncols; i++)
			c->names[i] = cache_str(c, names[i]);
	}
	return t->in ? 0 : -1;
}

static void feed_row(void *ctx, const char *const *values)
{
	struct task *t = ctx;

	pthread_mutex_lock(&t->ev->lock);
	cs_data_row(t->in, values);
	pthread_mutex_unlock(&t->ev->lock);
	t->rows++;
	struct row_cache *c = t->cache;
	if (c && !c->full) {
		size_t n = (size_t)c->ncols;
		if ((c->nrows + 1) * n > c->cap) {
			c->cap = c->cap ? 2 * c->cap : 256 * n;
			c->cells = xrealloc(c->cells, c->cap * sizeof(*c->cells));
		}
		for (size_t i = 0; i < n; i++)
			c->cells[c->nrows * n + i] = cache_str(c, values[i]);
		c->nrows++;
	}
}

/* Feeds the rows of an earlier read again, as pg_query would. */
static int replay(struct task *t, char *err, size_t errlen)
{
	const struct row_cache *c = t->cache;
	if (feed_columns(t, c->ncols, (const char *const *)c->names, err, errlen) < 0)
		return -1;
	for (size_t r = 0; r < c->nrows; r++)
		feed_row(t, (const char *const *)c->cells + r * (size_t)c->ncols);
	return 0;
}

static void run_task(struct task *t)
{
	struct eval *ev = t->ev;
	const struct cs_query *q = t->q;
	const char *params[CS_MAX_PARAMS];

	for (size_t i = 0; i < q->nparams; i++) {
		switch (q->params[i]) {
		case PARAM_SINCE:
			params[i] = t->since[0] ? t->since : ev->since;
			break;
		case PARAM_WINDOW_START:
			params[i] = t->window_start;
			break;
		case PARAM_AS_OF:
		case PARAM_WINDOW_END:
		default:
			params[i] = ev->as_of;
			break;
		}
	}
	if (t->cache && t->cache->full) {
		t->rc = replay(t, t->err, sizeof(t->err));
	} else {
		struct pg_sink sink = {feed_columns, feed_row, t,
				       t->dataset == CS_DS_OUTCOME
					   ? ev->plan->cfg->outcomes[t->outcome].name
					   : config_dataset_name((enum cs_dataset)t->dataset),
				       NULL};
		t->rc = pg_query(ev->sources[q->source], t->sql, q->nparams, params,
				 ev->plan->timeout, &sink, t->err, sizeof(t->err));
		if (t->cache && t->rc == 0 && t->cache->names)
			t->cache->full = true;
		else if (t->cache)
			row_cache_reset(t->cache);
	}

	pthread_mutex_lock(&ev->lock);
	if (t->in) {
		char why[256];

		if (cs_data_end(t->in, why, sizeof(why)) < 0 && t->rc == 0) {
			snprintf(t->err, sizeof(t->err), "%s", why);
			t->rc = -1;
		}
		t->in = NULL;
	}
	if (t->dataset == DS_ACCOUNTS) {
		ev->accounts = t->rc == 0 ? 1 : -1;
		pthread_cond_broadcast(&ev->accounts_cv);
	}
	pthread_mutex_unlock(&ev->lock);
}

struct source_run {
	struct eval *ev;
	size_t source;
	pthread_t thread;
	bool threaded;
};

/* Reads one source's datasets, one after the other, in plan order. */
static void *read_source(void *arg)
{
	struct source_run *r = arg;

	for (size_t i = 0; i < r->ev->nt; i++)
		if (r->ev->t[i].q->source == r->source)
			run_task(&r->ev->t[i]);
	return NULL;
}

/* The queries of the plan: accounts first, then each dataset once, then each
 * outcome once per window an outcomes collector asks for. */
static void plan_tasks(struct eval *ev)
{
	const struct cs_plan *p = ev->plan;
	const struct cs_config *cfg = p->cfg;
	size_t max = DS_COUNT + cfg->noutcomes * p->nwindows;

	ev->t = xcalloc(max ? max : 1, sizeof(*ev->t));
	for (int ds = 0; ds < DS_COUNT; ds++) {
		if (!(p->datasets & (1u << ds)))
			continue;
		struct task *t = &ev->t[ev->nt++];
		t->ev = ev;
		t->q = &cfg->datasets[ds];
		t->sql = cs_dataset_query(ds, t->q->sql);
		t->dataset = ds;
		if (ds == DS_ACTIVITY)
			format_param(cs_data_activity_since(ev->d), t->since, sizeof(t->since));
		if (ev->mem && !ev->mem->live && t->q->nparams == 0)
			t->cache = &ev->mem->rows[ds];
	}
	if (!p->outcomes)
		return;
	for (size_t o = 0; o < cfg->noutcomes; o++) {
		for (size_t w = 0; w < p->nwindows; w++) {
			if (!p->outcome_window[w])
				continue;
			struct task *t = &ev->t[ev->nt++];
			t->ev = ev;
			t->q = &cfg->outcomes[o].query;
			t->sql = cs_dataset_query(CS_DS_OUTCOME, t->q->sql);
			t->dataset = CS_DS_OUTCOME;
			t->outcome = o;
			t->window = w;
			format_param(p->from[w], t->window_start, sizeof(t->window_start));
		}
	}
}

/* One thread per source with work, the accounts source in the caller's. */
static void read_sources(struct eval *ev)
{
	size_t nsrc = ev->plan->cfg->nsources;
	struct source_run *runs = xcalloc(nsrc ? nsrc : 1, sizeof(*runs));
	bool *used = xcalloc(nsrc ? nsrc : 1, sizeof(*used));
	size_t home = ev->nt ? ev->t[0].q->source : 0; /* accounts come first */

	for (size_t i = 0; i < ev->nt; i++)
		used[ev->t[i].q->source] = true;
	for (size_t s = 0; s < nsrc; s++) {
		runs[s].ev = ev;
		runs[s].source = s;
		if (!used[s] || s == home)
			continue;
		runs[s].threaded =
		    pthread_create(&runs[s].thread, NULL, read_source, &runs[s]) == 0;
	}
	if (used[home])
		read_source(&runs[home]);
	for (size_t s = 0; s < nsrc; s++) {
		if (runs[s].threaded)
			pthread_join(runs[s].thread, NULL);
		else if (used[s] && s != home)
			read_source(&runs[s]); /* no thread: after accounts, in this one */
	}
	free(used);
	free(runs);
}

/*
 * What was last logged of each dataset's rejections, process-wide: every
 * evaluation (daemon, backfill step) rejects the same bad rows again, and a
 * line per dataset per evaluation said nothing new (docs/operations.md,
 * "Logs"). Guarded by reject_log_lock: evaluations may overlap.
 */
#define REJECT_LOG_EVERY_S 3600.0
static struct reject_logged {
	char *dataset;
	char *reasons; /* "reason=count ...", "" after a clean run was logged */
	double at;     /* cs_mono_seconds() of the line */
} * reject_logged;
static size_t nreject_logged, capreject_logged;
static pthread_mutex_t reject_log_lock = PTHREAD_MUTEX_INITIALIZER;

bool eval_reject_log_due(const char *dataset, const char *reasons, double now)
{
	bool due = false;
	size_t i;

	pthread_mutex_lock(&reject_log_lock);
	for (i = 0; i < nreject_logged; i++)
		if (!strcmp(reject_logged[i].dataset, dataset))
			break;
	if (i == nreject_logged) {
		if (*reasons) {
			if (nreject_logged == capreject_logged) {
				capreject_logged = capreject_logged ? 2 * capreject_logged : 16;
				reject_logged = xrealloc(reject_logged,
							 capreject_logged * sizeof(*reject_logged));
			}
			reject_logged[nreject_logged++] =
			    (struct reject_logged){xstrdup(dataset), xstrdup(reasons), now};
			due = true;
		}
	} else {
		struct reject_logged *l = &reject_logged[i];

		due = strcmp(l->reasons, reasons) != 0 ||
		      (*reasons && now - l->at >= REJECT_LOG_EVERY_S);
		if (due) {
			free(l->reasons);
			l->reasons = xstrdup(reasons);
			l->at = now;
		}
	}
	pthread_mutex_unlock(&reject_log_lock);
	return due;
}

/*
 * One line per dataset (or outcome) with rejected rows, with the count of
 * each reason: at warn level when more than 5 % of its rows were rejected,
 * which usually means a mapping problem rather than a few bad rows. Logged
 * when the reasons or their counts differ from the dataset's last line, or
 * an hour after it (eval_reject_log_due); a dataset whose rejections stopped
 * gets one line with rejected=0. The counters are per evaluation as ever.
 */
static void log_rejects(const struct cs_data *d, const char *dataset, uint64_t rows,
			uint64_t *rejected_out)
{
	struct buf reasons = BUF_INIT;
	uint64_t rejected = 0;
	for (size_t i = 0; i < d->nrejects; i++) {
		if (strcmp(d->rejects[i].dataset, dataset) != 0)
			continue;
		buf_addf(&reasons, "%s%s=%llu", reasons.len ? " " : "", d->rejects[i].reason,
			 (unsigned long long)d->rejects[i].count);
		rejected += d->rejects[i].count;
	}
	if (eval_reject_log_due(dataset, reasons.len ? reasons.data : "", cs_mono_seconds())) {
		char nrej[24], nrows[24];
		snprintf(nrej, sizeof(nrej), "%llu", (unsigned long long)rejected);
		snprintf(nrows, sizeof(nrows), "%llu", (unsigned long long)rows);
		logx(rejected * 20 > rows ? LOG_WARN : LOG_INFO, "rows rejected", "dataset",
		     dataset, "rejected", nrej, "rows", nrows, "reasons",
		     reasons.len ? reasons.data : "", NULL);
	}
	buf_release(&reasons);
	if (rejected_out)
		*rejected_out = rejected;
}

/* Freshness of each dataset read, and the rejection log lines. */
/* The sources' retry counts as they stand after this evaluation. */
static void take_retries(struct cs_result *res)
{
	struct pg_retry_count r[PG_RETRY_COUNTERS];
	size_t n = pg_retries(r, PG_RETRY_COUNTERS);

	res->retries = n ? xcalloc(n, sizeof(*res->retries)) : NULL;
	for (size_t i = 0; i < n; i++) {
		res->retries[i].dataset = xstrdup(r[i].label);
		res->retries[i].reason = xstrdup(r[i].reason);
		res->retries[i].count = r[i].count;
	}
	res->nretries = n;
}

static void account_reads(const struct eval *ev, struct cs_result *res)
{
	const struct cs_config *cfg = ev->plan->cfg;
	const struct cs_data *d = ev->d;
	uint64_t *outcome_rows = xcalloc(cfg->noutcomes + 1, sizeof(*outcome_rows));

	for (size_t k = 0; k < ev->nt; k++) {
		const struct task *t = &ev->t[k];

		if (t->dataset == CS_DS_OUTCOME) {
			outcome_rows[t->outcome] += t->rows;
			continue;
		}
		struct cs_result_dataset *rd = &res->datasets[t->dataset];
		rd->rows = d->ds_rows[t->dataset];
		rd->read = t->rc == 0 && d->read[t->dataset];
		rd->newest = d->newest[t->dataset];
		log_rejects(d, config_dataset_name((enum cs_dataset)t->dataset), rd->rows,
			    &rd->rejected);
	}
	if (ev->plan->outcomes)
		for (size_t o = 0; o < cfg->noutcomes; o++)
			log_rejects(d, cfg->outcomes[o].name, outcome_rows[o], NULL);
	free(outcome_rows);
}

/* ---- computing ----------------------------------------------------------- */

/* Whether task t is one collector c reads. */
static bool needs(const struct cs_collector *c, const struct task *t)
{
	if (t->dataset == CS_DS_OUTCOME) {
		if (!cs_collector_kind(c)->outcomes)
			return false;
		for (size_t w = 0; w < c->nwindows; w++)
			if (cs_plan_window(t->ev->plan, c->windows[w].seconds) == t->window)
				return true;
		return false;
	}
	return (cs_kind_datasets(cs_collector_kind(c), t->ev->plan->cfg) >> t->dataset) & 1u;
}

/* The daemon's activity read: from the memory, or whole when full_every has
 * passed since the last full read (or there was none). */
static void remember_live(struct eval *ev, struct eval_memory *mem, cs_time as_of)
{
	struct cs_activity_live o = {
	    .keep_from = as_of - mem->history * CS_SECOND,
	    .lookback = mem->lookback * CS_SECOND,
	    .full = mem->last_full == CS_TIME_NONE || as_of < mem->last_full ||
		    as_of - mem->last_full >= mem->full_every * CS_SECOND,
	};
	cs_data_remember_activity_live(ev->d, mem->activity, &o);
}

/* After the daemon's reads: a failed read of any dataset makes the next
 * activity read a full one (docs/configuration.md, "Incremental reads");
 * a full read that could have been incremental counts and logs the drift. */
static void live_done(const struct eval *ev, struct eval_memory *mem, struct cs_result *res)
{
	bool failed = false, checked;
	uint64_t drift;

	for (size_t k = 0; k < ev->nt; k++)
		failed = failed || ev->t[k].rc != 0;
	if (failed) {
		eval_memory_forget(mem);
		return;
	}
	bool full = cs_data_activity_full(ev->d, &checked, &drift);
	char since[40], nread[24], nwin[24];
	format_param(cs_data_activity_since(ev->d), since, sizeof(since));
	snprintf(nread, sizeof(nread), "%llu", (unsigned long long)cs_data_activity_read(ev->d));
	snprintf(nwin, sizeof(nwin), "%llu", (unsigned long long)ev->d->ds_rows[DS_ACTIVITY]);
	logx(LOG_DEBUG, "activity read", "read", full ? "full" : "incremental", "since", since,
	     "rows_read", nread, "window_rows", nwin, NULL);
	if (!full)
		return;
	mem->last_full = ev->plan->as_of;
	if (!checked)
		return;
	struct cs_result_dataset *rd = &res->datasets[DS_ACTIVITY];
	rd->drift_checked = true;
	rd->drift = drift;
	char n[24], lb[24];
	snprintf(n, sizeof(n), "%llu", (unsigned long long)drift);
	snprintf(lb, sizeof(lb), "%llds", (long long)mem->lookback);
	logx(drift ? LOG_WARN : LOG_INFO, "incremental drift at full read", "dataset",
	     config_dataset_name(DS_ACTIVITY), "rows", n, "lookback", lb, NULL);
}

void eval_run(const struct cs_config *cfg, const struct cs_collector *const *due, size_t ndue,
	      struct pg_source *const *sources, cs_time as_of, struct cs_band_memory **bands,
	      struct eval_memory *mem, struct cs_result *res)
{
	memset(res, 0, sizeof(*res));
	for (int ds = 0; ds < DS_COUNT; ds++)
		res->datasets[ds].newest = CS_TIME_NONE;
	double start = cs_mono_seconds();
	struct cs_plan plan;

	cs_plan_init(&plan, cfg, as_of);
	for (size_t i = 0; i < ndue; i++)
		cs_plan_add(&plan, due[i]);

	struct eval ev = {0};
	ev.plan = &plan;
	ev.sources = sources;
	ev.d = cs_data_new(&plan);
	pthread_mutex_init(&ev.lock, NULL);
	pthread_cond_init(&ev.accounts_cv, NULL);
	format_param(as_of, ev.as_of, sizeof(ev.as_of));
	format_param(plan.since, ev.since, sizeof(ev.since));
	ev.mem = mem;
	bool activity = mem && mem->activity && (plan.datasets & (1u << DS_ACTIVITY));
	if (activity && mem->live)
		remember_live(&ev, mem, as_of);
	else if (activity)
		cs_data_remember_activity(ev.d, mem->activity);
	plan_tasks(&ev);
	read_sources(&ev);

	struct cs_data *d = ev.d;
	for (size_t k = 0; k < ev.nt; k++)
		if (ev.t[k].dataset == DS_ACTIVITY)
			cs_data_activity_done(d, ev.t[k].rc == 0);
	if (activity && mem->live)
		live_done(&ev, mem, res);
	account_reads(&ev, res);
	cs_data_link(d);
	res->as_of = as_of;
	res->n = ndue;
	res->v = xcalloc(ndue ? ndue : 1, sizeof(*res->v));
	for (size_t i = 0; i < ndue; i++) {
		struct cs_result_collector *r = &res->v[i];
		const struct task *failed = NULL;

		r->c = due[i];
		for (size_t k = 0; k < ev.nt; k++) {
			if (!needs(r->c, &ev.t[k]))
				continue;
			r->rows += ev.t[k].dataset == CS_DS_OUTCOME ? ev.t[k].rows
								    : d->ds_rows[ev.t[k].dataset];
			if (ev.t[k].rc != 0 && !failed)
				failed = &ev.t[k];
		}
		if (failed) {
			snprintf(r->err, sizeof(r->err), "%s", failed->err);
			continue;
		}
		r->set = mset_new();
		const struct collector_kind *kind = cs_collector_kind(r->c);
		kind->compute(d, r->c, r->set);
		r->ok = true;
		if (kind->remember) {
			/* the one family with memory: the previous health evaluation's bands */
			struct cs_band_memory *next =
			    kind->remember(d, r->c, bands ? *bands : NULL, r->set);

			if (bands) {
				kind->forget(*bands);
				*bands = next;
			} else {
				kind->forget(next);
			}
		}
	}
	res->rows = d->rows_read;
	res->folded = d->seg.folded;
	if (d->nrejects) {
		res->rejects = xcalloc(d->nrejects, sizeof(*res->rejects));
		for (size_t i = 0; i < d->nrejects; i++) {
			res->rejects[i].dataset = xstrdup(d->rejects[i].dataset);
			res->rejects[i].reason = xstrdup(d->rejects[i].reason);
			res->rejects[i].count = d->rejects[i].count;
		}
		res->nrejects = d->nrejects;
	}
	cs_data_free(d);
	for (size_t k = 0; k < ev.nt; k++)
		free(ev.t[k].sql);
	free(ev.t);
	pthread_cond_destroy(&ev.accounts_cv);
	pthread_mutex_destroy(&ev.lock);
	take_retries(res);
	res->seconds = cs_mono_seconds() - start;
}

void eval_all(const struct cs_config *cfg, struct pg_source *const *sources, cs_time as_of,
	      struct eval_memory *mem, struct cs_result *res)
{
	const struct cs_collector **due = xcalloc(cfg->ncollectors + 1, sizeof(*due));

	for (size_t i = 0; i < cfg->ncollectors; i++)
		due[i] = &cfg->collectors[i];
	eval_run(cfg, due, cfg->ncollectors, sources, as_of, NULL, mem, res);
	free(due);
}
