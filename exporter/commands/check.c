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
	unsigned int *oids; /* each column's type, NULL: not told */
	int nbad;	    /* columns of the wrong type */
	struct buf bad;	    /* one line per such column, without the place */
};

/* PostgreSQL's built-in types (pg_type.oid, fixed since 7.x) and the
 * contract types each can stand for. A type not listed (a domain, an enum,
 * uuid, ...) is not judged: only text takes it, and text takes anything. */
#define TAKES(t) (1u << (t))
static const struct pg_type {
	unsigned int oid;
	const char *name;
	unsigned takes; /* bit per enum cs_col_type */
} pg_types[] = {
    {16, "bool", TAKES(CS_COL_BOOLEAN)},
    {20, "int8", TAKES(CS_COL_NUMBER) | TAKES(CS_COL_INTEGER)},
    {21, "int2", TAKES(CS_COL_NUMBER) | TAKES(CS_COL_INTEGER)},
    {23, "int4", TAKES(CS_COL_NUMBER) | TAKES(CS_COL_INTEGER)},
    {1700, "numeric", TAKES(CS_COL_NUMBER) | TAKES(CS_COL_INTEGER)},
    {700, "float4", TAKES(CS_COL_NUMBER)},
    {701, "float8", TAKES(CS_COL_NUMBER)},
    {18, "char", 0},
    {19, "name", 0},
    {25, "text", 0},
    {1042, "bpchar", 0},
    {1043, "varchar", 0},
    {1082, "date", TAKES(CS_COL_TIMESTAMP)},
    {1114, "timestamp", TAKES(CS_COL_TIMESTAMP)},
    {1184, "timestamptz", TAKES(CS_COL_TIMESTAMP)},
    {1083, "time", 0},
    {1266, "timetz", 0},
    {1186, "interval", 0},
    {114, "json", 0},
    {3802, "jsonb", 0},
};

static void probe_types(void *ctx, int ncols, const unsigned int *oids)
{
	struct probe *p = ctx;

	p->oids = xcalloc((size_t)ncols + 1, sizeof(*p->oids));
	memcpy(p->oids, oids, (size_t)ncols * sizeof(*oids));
}

/* Each column the contract names whose type cannot hold what it wants
 * (docs/datasets.md): "column "escalated" is text, wants boolean". */
static void check_types(struct probe *p, int ncols, const char *const *names)
{
	for (int i = 0; p->oids && i < ncols; i++) {
		enum cs_col_type want;

		if (!cs_data_column_type(p->cfg, p->dataset, names[i], &want) ||
		    want == CS_COL_TEXT)
			continue;
		for (size_t t = 0; t < sizeof(pg_types) / sizeof(pg_types[0]); t++) {
			if (pg_types[t].oid != p->oids[i])
				continue;
			if (!(pg_types[t].takes & TAKES(want))) {
				buf_addf(&p->bad, "dataset \"%s\": column \"%s\" is %s, wants %s\n",
					 p->name, names[i], pg_types[t].name,
					 cs_col_type_name(want));
				p->nbad++;
			}
			break;
		}
	}
}

static int probe_columns(void *ctx, int ncols, const char *const *names, char *err, size_t errlen)
{
	struct probe *p = ctx;
	(void)err;
	(void)errlen;
	p->nmissing = cs_data_check_columns(p->cfg, p->dataset, p->name, ncols, names, p->msg,
					    sizeof(p->msg));
	check_types(p, ncols, names);
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

	struct probe p = {.cfg = cfg, .dataset = dataset, .name = name, .bad = BUF_INIT};
	struct pg_sink sink = {probe_columns, probe_row, &p, name, probe_types};
	char *sql = probe_sql(q, dataset);
	char msg[1024];
	int rc = pg_query(sources[q->source], sql, q->nparams, params, CHECK_TIMEOUT_S, &sink, msg,
			  sizeof(msg));
	int bad = 0;
	free(sql);
	if (rc < 0) {
		if (!strncmp(msg, "could not connect", 17) || !strncmp(msg, "could not read", 14))
			unreachable[q->source] = true;
		fprintf(err, "%s:%d: dataset \"%s\": %s\n", path, q->line, name, msg);
		bad = 1;
	} else {
		if (p.nmissing > 0)
			fprintf(err, "%s:%d: %s\n", path, q->line, p.msg);
		for (const char *l = p.bad.data, *e; p.nbad && l && *l; l = e + 1) {
			e = strchr(l, '\n');
			fprintf(err, "%s:%d: %.*s\n", path, q->line, (int)(e - l), l);
		}
		bad = p.nmissing > 0 || p.nbad > 0;
	}
	free(p.oids);
	buf_release(&p.bad);
	return bad;
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
