#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../collectors/kpi.h"
#include "buf.h"
#include "log.h"

struct feed {
	struct cs_data *d;
	int dataset;
	size_t outcome, window;
	bool begun;
	uint64_t rows;
};

static int feed_columns(void *ctx, int ncols, const char *const *names, char *err, size_t errlen)
{
	struct feed *f = ctx;
	if (cs_data_begin(f->d, f->dataset, f->outcome, f->window, ncols, names, err, errlen) < 0)
		return -1;
	f->begun = true;
	return 0;
}

static void feed_row(void *ctx, const char *const *values)
{
	struct feed *f = ctx;
	f->rows++;
	cs_data_row(f->d, values);
}

/* Formats t as a timestamptz literal for a bound parameter. */
static void runner_format_param(cs_time t, char *dst, size_t len)
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

int runner_parse_instant(const char *s, cs_time *t)
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

static int64_t longest_window(const struct cs_config *cfg, const struct cs_collector *c)
{
	int64_t w = 0;
	for (size_t i = 0; i < c->nwindows; i++)
		if (c->windows[i].seconds > w)
			w = c->windows[i].seconds;
	if (c->kind == KIND_HEALTH) {
		const struct cs_health *h = &cfg->health;
		int64_t hw[] = {h->usage_window, h->sentiment_window, h->support_window,
				h->billing_window};
		for (size_t i = 0; i < sizeof(hw) / sizeof(hw[0]); i++)
			if (hw[i] > w)
				w = hw[i];
	}
	return w;
}

static const char *param_value(enum cs_param p, char (*vals)[40])
{
	return vals[p];
}

static int fetch(const struct cs_query *q, struct pg_source *const *sources, int64_t timeout,
		 struct feed *f, char (*vals)[40], char *err, size_t errlen)
{
	const char *params[CS_MAX_PARAMS];
	for (size_t i = 0; i < q->nparams; i++)
		params[i] = param_value(q->params[i], vals);
	struct pg_sink sink = {feed_columns, feed_row, f};
	f->begun = false;
	int rc =
	    pg_query(sources[q->source], q->sql, q->nparams, params, timeout, &sink, err, errlen);
	if (f->begun) {
		char why[256];

		if (cs_data_end(f->d, why, sizeof(why)) < 0 && rc == 0) {
			snprintf(err, errlen, "%s", why);
			rc = -1;
		}
	}
	return rc;
}

/*
 * One line per dataset (or outcome) with rejected rows, with the count of
 * each reason: at warn level when more than 5 % of its rows were rejected,
 * which usually means a mapping problem rather than a few bad rows.
 */
static void log_rejects(const struct cs_collector *c, const struct cs_data *d, const char *dataset,
			uint64_t rows)
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
	if (rejected) {
		char nrej[24], nrows[24];
		snprintf(nrej, sizeof(nrej), "%llu", (unsigned long long)rejected);
		snprintf(nrows, sizeof(nrows), "%llu", (unsigned long long)rows);
		logx(rejected * 20 > rows ? LOG_WARN : LOG_INFO, "rows rejected", "collector",
		     c->name, "dataset", dataset, "rejected", nrej, "rows", nrows, "reasons",
		     reasons.data, NULL);
	}
	buf_release(&reasons);
}

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void runner_run(const struct cs_config *cfg, const struct cs_collector *c,
		struct pg_source *const *sources, cs_time as_of, struct run_result *res)
{
	memset(res, 0, sizeof(*res));
	double start = mono_seconds();
	struct cs_data *d = cs_data_new(cfg, c, as_of);

	char vals[4][40];
	runner_format_param(as_of, vals[PARAM_AS_OF], sizeof(vals[0]));
	runner_format_param(as_of - longest_window(cfg, c) * CS_SECOND, vals[PARAM_SINCE],
			    sizeof(vals[0]));
	runner_format_param(as_of, vals[PARAM_WINDOW_END], sizeof(vals[0]));

	unsigned need = config_kind_datasets(c->kind);
	int rc = 0;
	for (int ds = 0; ds < DS_COUNT && rc == 0; ds++) {
		if (!(need & (1u << ds)))
			continue;
		struct feed f = {d, ds, 0, 0, false, 0};
		rc = fetch(&cfg->datasets[ds], sources, c->timeout, &f, vals, res->err,
			   sizeof(res->err));
		res->datasets[ds].rows = f.rows;
	}
	uint64_t *outcome_rows = xcalloc(cfg->noutcomes + 1, sizeof(*outcome_rows));
	if (c->kind == KIND_OUTCOMES) {
		for (size_t o = 0; o < cfg->noutcomes && rc == 0; o++) {
			for (size_t w = 0; w < c->nwindows && rc == 0; w++) {
				runner_format_param(as_of - c->windows[w].seconds * CS_SECOND,
						    vals[PARAM_WINDOW_START], sizeof(vals[0]));
				struct feed f = {d, CS_DS_OUTCOME, o, w, false, 0};
				rc = fetch(&cfg->outcomes[o].query, sources, c->timeout, &f, vals,
					   res->err, sizeof(res->err));
				outcome_rows[o] += f.rows;
			}
		}
	}
	for (int ds = 0; ds < DS_COUNT; ds++) {
		struct run_dataset *rd = &res->datasets[ds];
		rd->read = d->read[ds];
		rd->newest = d->newest[ds];
		for (size_t i = 0; i < d->nrejects; i++)
			if (!strcmp(d->rejects[i].dataset,
				    config_dataset_name((enum cs_dataset)ds)))
				rd->rejected += d->rejects[i].count;
		if (rd->read)
			log_rejects(c, d, config_dataset_name((enum cs_dataset)ds), rd->rows);
	}
	if (c->kind == KIND_OUTCOMES)
		for (size_t o = 0; o < cfg->noutcomes; o++)
			log_rejects(c, d, cfg->outcomes[o].name, outcome_rows[o]);
	free(outcome_rows);

	if (rc == 0) {
		cs_data_link(d);
		res->set = mset_new();
		collector_kinds[c->kind].compute(d, res->set);
		res->ok = true;
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
	res->seconds = mono_seconds() - start;
}

void run_result_release(struct run_result *res)
{
	mset_free(res->set);
	for (size_t i = 0; i < res->nrejects; i++) {
		free(res->rejects[i].dataset);
		free(res->rejects[i].reason);
	}
	free(res->rejects);
	memset(res, 0, sizeof(*res));
}
