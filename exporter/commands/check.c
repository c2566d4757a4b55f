#include "check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/model.h"
#include "lib/buf.h"
#include "exporter/sources/pg.h"

#define CHECK_TIMEOUT_S 30

struct probe {
	const struct cs_config *cfg;
	int dataset;
	const char *name;
	int nmissing;
	char msg[512];
};

static int probe_columns(void *ctx, int ncols, const char *const *names, char *err, size_t errlen)
{
	struct probe *p = ctx;
	(void)err;
	(void)errlen;
	p->nmissing = cs_data_check_columns(p->cfg, p->dataset, p->name, ncols, names, p->msg,
					    sizeof(p->msg));
	return 0;
}

static void probe_row(void *ctx, const char *const *values)
{
	(void)ctx;
	(void)values;
}

/* config.c sends the activity query inside an ORDER BY on account_key and
 * user_key, which fails in PostgreSQL before the columns can be compared
 * when those are missing: check the query as configured. */
static const char activity_head[] = "SELECT * FROM (\n";
static const char activity_tail[] = "\n) AS cs_activity ORDER BY ";

static char *probe_sql(const struct cs_query *q, int dataset)
{
	const char *sql = q->sql;
	size_t n = strlen(sql);
	struct buf b = BUF_INIT;

	if (dataset == DS_ACTIVITY && !strncmp(sql, activity_head, strlen(activity_head))) {
		const char *tail = strstr(sql, activity_tail);
		const char *next;
		while (tail && (next = strstr(tail + 1, activity_tail)) != NULL)
			tail = next;
		if (tail) {
			sql += strlen(activity_head);
			n = (size_t)(tail - sql);
		}
	}
	while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n' ||
			 sql[n - 1] == '\t' || sql[n - 1] == '\r'))
		n--;
	buf_adds(&b, "SELECT * FROM (\n");
	buf_add(&b, sql, n);
	buf_adds(&b, "\n) AS cs_check LIMIT 0");
	return buf_detach(&b, NULL);
}

static void format_instant(time_t t, char *dst, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dst, len, "%Y-%m-%d %H:%M:%S+00", &tm);
}

static int check_query(const struct cs_config *cfg, struct pg_source *const *sources,
		       bool *unreachable, const struct cs_query *q, int dataset, const char *name,
		       const char *path, FILE *err)
{
	/* One connection failure per source is enough; the retry would only
	 * say that it is backing off. */
	if (unreachable[q->source]) {
		fprintf(err, "%s:%d: dataset \"%s\": not checked, source \"%s\" is unreachable\n",
			path, q->line, name, cfg->sources[q->source].name);
		return 1;
	}
	/* The values do not matter for LIMIT 0, their types do. */
	time_t now = time(NULL);
	char vals[4][40];
	format_instant(now, vals[PARAM_AS_OF], sizeof(vals[0]));
	format_instant(now - 365 * 86400, vals[PARAM_SINCE], sizeof(vals[0]));
	format_instant(now - 30 * 86400, vals[PARAM_WINDOW_START], sizeof(vals[0]));
	format_instant(now, vals[PARAM_WINDOW_END], sizeof(vals[0]));
	const char *params[CS_MAX_PARAMS];
	for (size_t i = 0; i < q->nparams; i++)
		params[i] = vals[q->params[i]];

	struct probe p = {cfg, dataset, name, 0, ""};
	struct pg_sink sink = {probe_columns, probe_row, &p, name};
	char *sql = probe_sql(q, dataset);
	char msg[1024];
	int rc = pg_query(sources[q->source], sql, q->nparams, params, CHECK_TIMEOUT_S, &sink, msg,
			  sizeof(msg));
	free(sql);
	if (rc < 0) {
		if (!strncmp(msg, "could not connect", 17) || !strncmp(msg, "could not read", 14))
			unreachable[q->source] = true;
		fprintf(err, "%s:%d: dataset \"%s\": %s\n", path, q->line, name, msg);
		return 1;
	}
	if (p.nmissing > 0) {
		fprintf(err, "%s:%d: %s\n", path, q->line, p.msg);
		return 1;
	}
	return 0;
}

int check_connect(const struct cs_config *cfg, const char *path, FILE *err)
{
	struct pg_source **sources = pg_sources_open(cfg);
	bool *unreachable = xcalloc(cfg->nsources ? cfg->nsources : 1, sizeof(*unreachable));
	int bad = 0;

	for (int ds = 0; ds < DS_COUNT; ds++)
		if (cfg->has_dataset[ds])
			bad += check_query(cfg, sources, unreachable, &cfg->datasets[ds], ds,
					   config_dataset_name((enum cs_dataset)ds), path, err);
	for (size_t o = 0; o < cfg->noutcomes; o++)
		bad += check_query(cfg, sources, unreachable, &cfg->outcomes[o].query,
				   CS_DS_OUTCOME, cfg->outcomes[o].name, path, err);
	pg_sources_close(sources, cfg->nsources);
	free(unreachable);
	return bad;
}
