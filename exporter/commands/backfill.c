#include "backfill.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/model.h"
#include "config/config.h"
#include "lib/expo.h"
#include "lib/log.h"
#include "exporter/sources/pg.h"
#include "exporter/eval/eval.h"
#include "exporter/serve/snapshot.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2
/* A typo such as --step 1s over a year would otherwise run for days. */
#define MAX_STEPS  100000
#define MAX_LABELS 16
/* Without a terminal, one progress line this often (seconds). */
#define PROGRESS_EVERY 10

/* ---- regrouping renders ---------------------------------------------------- */

/*
 * A series' points, compactly: a year of daily steps is hundreds of MB as
 * text. A sample line is a head (name and labels, as rendered, with the
 * added labels) that repeats at every step, a value, and the step's
 * timestamp; a point is stored as the head's index among the series' heads
 * (one for a gauge, one per bucket and suffix for a gauge histogram), the
 * step's index and the value's text.
 */
struct om_series {
	char *key; /* label pairs as rendered, "le" left out for histograms */
	struct buf pts;
	char **heads;
	size_t nheads, last_head;
};

struct om_point {
	uint32_t head, step, vlen; /* vlen bytes of value text follow */
};

struct om_family {
	char *name;    /* as in the metadata lines */
	bool strip_le; /* histogram-like: one point spans several lines */
	struct buf meta;
	struct om_series *s;
	size_t ns, cap;
};

struct om_slot {
	uint64_t hash;
	size_t fam, series; /* fam == SIZE_MAX: empty */
};

struct om_merge {
	struct om_family **fam;
	size_t nfam;
	struct om_slot *tab; /* open addressing, power-of-two size */
	size_t tabcap, tabn;
	/* om_merge_add_label: name="value" pairs, comma-separated, added to
	 * every sample, and their names to find a clash with a family's own. */
	struct buf extra;
	char **extra_names;
	size_t nextra;
	char conflict[256];
	char **steps; /* each render's timestamp, as written */
	size_t nsteps;
	struct buf head; /* scratch */
};

struct om_merge *om_merge_new(void)
{
	struct om_merge *m = xcalloc(1, sizeof(*m));
	m->tabcap = 1024;
	m->tab = xmalloc(m->tabcap * sizeof(*m->tab));
	for (size_t i = 0; i < m->tabcap; i++)
		m->tab[i].fam = SIZE_MAX;
	return m;
}

static void series_release(struct om_series *s)
{
	free(s->key);
	buf_release(&s->pts);
	for (size_t i = 0; i < s->nheads; i++)
		free(s->heads[i]);
	free(s->heads);
	s->key = NULL;
	s->heads = NULL;
	s->nheads = 0;
}

void om_merge_free(struct om_merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfam; i++) {
		struct om_family *f = m->fam[i];
		for (size_t k = 0; k < f->ns; k++)
			series_release(&f->s[k]);
		free(f->s);
		free(f->name);
		buf_release(&f->meta);
		free(f);
	}
	free(m->fam);
	free(m->tab);
	for (size_t i = 0; i < m->nextra; i++)
		free(m->extra_names[i]);
	free(m->extra_names);
	buf_release(&m->extra);
	for (size_t i = 0; i < m->nsteps; i++)
		free(m->steps[i]);
	free(m->steps);
	buf_release(&m->head);
	free(m);
}

void om_merge_add_label(struct om_merge *m, const char *name, const char *value)
{
	if (m->extra.len)
		buf_addch(&m->extra, ',');
	buf_adds(&m->extra, name);
	buf_adds(&m->extra, "=\"");
	expo_escape_label(&m->extra, value);
	buf_addch(&m->extra, '"');
	m->extra_names = xrealloc(m->extra_names, (m->nextra + 1) * sizeof(*m->extra_names));
	m->extra_names[m->nextra++] = xstrdup(name);
}

const char *om_merge_conflict(const struct om_merge *m)
{
	return m->conflict;
}

static uint64_t hash_key(size_t fam, const char *key, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037) ^ (uint64_t)fam;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void tab_grow(struct om_merge *m)
{
	size_t cap = m->tabcap * 2;
	struct om_slot *tab = xmalloc(cap * sizeof(*tab));
	for (size_t i = 0; i < cap; i++)
		tab[i].fam = SIZE_MAX;
	for (size_t i = 0; i < m->tabcap; i++) {
		if (m->tab[i].fam == SIZE_MAX)
			continue;
		size_t j = m->tab[i].hash & (cap - 1);
		while (tab[j].fam != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		tab[j] = m->tab[i];
	}
	free(m->tab);
	m->tab = tab;
	m->tabcap = cap;
}

static struct om_series *series_get(struct om_merge *m, size_t fi, const char *key, size_t len)
{
	if ((m->tabn + 1) * 2 > m->tabcap)
		tab_grow(m);
	struct om_family *f = m->fam[fi];
	uint64_t h = hash_key(fi, key, len);
	size_t j = h & (m->tabcap - 1);
	while (m->tab[j].fam != SIZE_MAX) {
		struct om_slot *sl = &m->tab[j];
		if (sl->hash == h && sl->fam == fi) {
			const char *k = f->s[sl->series].key;
			if (strlen(k) == len && memcmp(k, key, len) == 0)
				return &f->s[sl->series];
		}
		j = (j + 1) & (m->tabcap - 1);
	}
	if (f->ns == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->s = xrealloc(f->s, f->cap * sizeof(*f->s));
	}
	struct om_series *s = &f->s[f->ns];
	memset(s, 0, sizeof(*s));
	s->key = xstrndup(key, len);
	buf_init(&s->pts);
	m->tab[j].hash = h;
	m->tab[j].fam = fi;
	m->tab[j].series = f->ns++;
	m->tabn++;
	return s;
}

static size_t family_get(struct om_merge *m, const char *name, size_t len, bool *created)
{
	*created = false;
	/* A few dozen families, looked up once per metadata line: a scan is enough. */
	for (size_t i = 0; i < m->nfam; i++)
		if (strlen(m->fam[i]->name) == len && memcmp(m->fam[i]->name, name, len) == 0)
			return i;
	struct om_family *f = xcalloc(1, sizeof(*f));
	f->name = xstrndup(name, len);
	m->fam = xrealloc(m->fam, (m->nfam + 1) * sizeof(*m->fam));
	m->fam[m->nfam] = f;
	*created = true;
	return m->nfam++;
}

static const char *extra_clash(const struct om_merge *m, const char *name, size_t len)
{
	for (size_t i = 0; i < m->nextra; i++)
		if (strlen(m->extra_names[i]) == len && memcmp(m->extra_names[i], name, len) == 0)
			return m->extra_names[i];
	return NULL;
}

/*
 * Appends to key the label pairs of a sample line (value escapes kept as
 * rendered, which is canonical for one renderer), leaving out "le" when
 * strip_le: the buckets of one histogram point then share the key. Returns
 * the pointer just past the label set ('}' included), or past the name when
 * there is none; sets *clash to an added label the line already has.
 */
static const char *series_key(const struct om_merge *m, const char *line, const char *end,
			      bool strip_le, struct buf *key, const char **clash)
{
	const char *p = line;
	while (p < end && *p != '{' && *p != ' ')
		p++;
	if (p == end || *p != '{')
		return p;
	p++;
	while (p < end && *p != '}') {
		const char *pair = p;
		while (p < end && *p != '=')
			p++;
		bool is_le = (size_t)(p - pair) == 2 && memcmp(pair, "le", 2) == 0;
		const char *c = m->nextra ? extra_clash(m, pair, (size_t)(p - pair)) : NULL;
		if (c && !*clash)
			*clash = c;
		if (p + 1 >= end || p[1] != '"')
			break;
		p += 2;
		while (p < end && *p != '"')
			p += *p == '\\' ? 2 : 1;
		if (p >= end)
			break;
		p++;
		if (!(strip_le && is_le)) {
			if (key->len)
				buf_addch(key, ',');
			buf_add(key, pair, (size_t)(p - pair));
		}
		if (p < end && *p == ',')
			p++;
	}
	return p < end ? p + 1 : p;
}

static void format_ts(char *dst, size_t len, int64_t usec)
{
	int64_t secs = usec / 1000000, frac = usec % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	if (frac == 0) {
		snprintf(dst, len, "%lld", (long long)secs);
		return;
	}
	int n = snprintf(dst, len, "%lld.%06lld", (long long)secs, (long long)frac);
	while (n > 0 && dst[n - 1] == '0')
		dst[--n] = '\0';
}

/* Index of head (len bytes) among the series' heads, added when new. The
 * lines of a point come in the same order at every step: the one after the
 * last found is tried first. */
static uint32_t series_head(struct om_series *s, const char *head, size_t len)
{
	for (size_t n = 0; n < s->nheads; n++) {
		size_t i = (s->last_head + 1 + n) % s->nheads;
		if (strlen(s->heads[i]) == len && memcmp(s->heads[i], head, len) == 0) {
			s->last_head = i;
			return (uint32_t)i;
		}
	}
	s->heads = xrealloc(s->heads, (s->nheads + 1) * sizeof(*s->heads));
	s->heads[s->nheads] = xstrndup(head, len);
	s->last_head = s->nheads;
	return (uint32_t)s->nheads++;
}

/* Appends the series' points as sample lines. */
static void series_lines(const struct om_merge *m, const struct om_series *s, struct buf *out)
{
	for (size_t off = 0; off + sizeof(struct om_point) <= s->pts.len;) {
		struct om_point pt;
		memcpy(&pt, s->pts.data + off, sizeof(pt));
		off += sizeof(pt);
		buf_adds(out, s->heads[pt.head]);
		buf_add(out, s->pts.data + off, pt.vlen);
		off += pt.vlen;
		buf_addch(out, ' ');
		buf_adds(out, m->steps[pt.step]);
		buf_addch(out, '\n');
	}
}

int om_merge_add(struct om_merge *m, const char *text, size_t len, int64_t ts_usec)
{
	char ts[48];
	format_ts(ts, sizeof(ts), ts_usec);
	m->steps = xrealloc(m->steps, (m->nsteps + 1) * sizeof(*m->steps));
	m->steps[m->nsteps++] = xstrdup(ts);
	uint32_t step = (uint32_t)(m->nsteps - 1);
	const char *p = text, *end = text + len;
	size_t cur = SIZE_MAX;
	bool meta_wanted = false;
	struct buf key = BUF_INIT;
	int rc = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (eol == p) {
			p = next;
			continue;
		}
		if (*p == '#') {
			if ((size_t)(eol - p) == 5 && memcmp(p, "# EOF", 5) == 0)
				break;
			/* "# HELP name ...", "# TYPE name type", "# UNIT name unit" */
			const char *name = p + 7 <= eol ? p + 7 : eol;
			const char *ne = name;
			while (ne < eol && *ne != ' ')
				ne++;
			if (cur == SIZE_MAX || strlen(m->fam[cur]->name) != (size_t)(ne - name) ||
			    memcmp(m->fam[cur]->name, name, (size_t)(ne - name)) != 0)
				cur = family_get(m, name, (size_t)(ne - name), &meta_wanted);
			struct om_family *f = m->fam[cur];
			if (meta_wanted) {
				buf_add(&f->meta, p, (size_t)(eol - p));
				buf_addch(&f->meta, '\n');
			}
			if (eol - p > 7 && memcmp(p, "# TYPE ", 7) == 0) {
				const char *type = ne < eol ? ne + 1 : eol;
				size_t tl = (size_t)(eol - type);
				f->strip_le = (tl == 9 && memcmp(type, "histogram", 9) == 0) ||
					      (tl == 14 && memcmp(type, "gaugehistogram", 14) == 0);
			}
		} else {
			if (cur == SIZE_MAX) {
				rc = -1;
				break;
			}
			buf_reset(&key);
			const char *clash = NULL;
			const char *lend =
			    series_key(m, p, eol, m->fam[cur]->strip_le, &key, &clash);
			if (clash) {
				snprintf(m->conflict, sizeof(m->conflict),
					 "label \"%s\" is already one of %s's", clash,
					 m->fam[cur]->name);
				rc = -2;
				break;
			}
			struct om_series *s = series_get(m, cur, key.data ? key.data : "", key.len);
			struct buf *h = &m->head;
			buf_reset(h);
			if (m->extra.len) {
				bool braces = lend > p && lend[-1] == '}';
				buf_add(h, p, (size_t)(lend - p) - braces);
				if (!braces)
					buf_addch(h, '{');
				else if (lend[-2] != '{')
					buf_addch(h, ',');
				buf_add(h, m->extra.data, m->extra.len);
				buf_addch(h, '}');
			} else {
				buf_add(h, p, (size_t)(lend - p));
			}
			struct om_point pt = {series_head(s, h->data ? h->data : "", h->len), step,
					      (uint32_t)(eol - lend)};
			buf_add(&s->pts, &pt, sizeof(pt));
			buf_add(&s->pts, lend, pt.vlen);
		}
		p = next;
	}
	buf_release(&key);
	return rc;
}

static int family_cmp(const void *a, const void *b)
{
	const struct om_family *x = *(const struct om_family *const *)a;
	const struct om_family *y = *(const struct om_family *const *)b;
	return strcmp(x->name, y->name);
}

static int write_all(FILE *f, const char *data, size_t len)
{
	return len && fwrite(data, 1, len, f) != len ? -1 : 0;
}

/* Slots hold family indexes: a sorted copy, not m->fam. */
static struct om_family **families_sorted(const struct om_merge *m)
{
	struct om_family **order = xmalloc((m->nfam ? m->nfam : 1) * sizeof(*order));
	memcpy(order, m->fam, m->nfam * sizeof(*order));
	qsort(order, m->nfam, sizeof(*order), family_cmp);
	return order;
}

int om_merge_write(struct om_merge *m, FILE *out)
{
	struct om_family **order = families_sorted(m);
	struct buf lines = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < m->nfam && rc == 0; i++) {
		struct om_family *f = order[i];
		rc = write_all(out, f->meta.data, f->meta.len);
		for (size_t k = 0; k < f->ns && rc == 0; k++) {
			buf_reset(&lines);
			series_lines(m, &f->s[k], &lines);
			rc = write_all(out, lines.data, lines.len);
			series_release(&f->s[k]);
		}
	}
	free(order);
	buf_release(&lines);
	if (rc == 0)
		rc = write_all(out, "# EOF\n", 6);
	return rc == 0 && fflush(out) == 0 ? 0 : -1;
}

void om_merge_finish(struct om_merge *m, struct buf *out)
{
	struct om_family **order = families_sorted(m);
	for (size_t i = 0; i < m->nfam; i++) {
		struct om_family *f = order[i];
		buf_add(out, f->meta.data, f->meta.len);
		for (size_t k = 0; k < f->ns; k++)
			series_lines(m, &f->s[k], out);
	}
	buf_adds(out, "# EOF\n");
	free(order);
}

/* ---- flags ----------------------------------------------------------------- */

struct bf_flags {
	const char *config_file;
	const char *from, *to, *step, *output;
	const char *labels[MAX_LABELS]; /* "name=value", as given */
	size_t nlabels;
	bool full_reads;
};

static void bf_usage(FILE *out)
{
	fprintf(out, "usage: cs_exporter backfill --config.file=FILE --from=DATE --to=DATE\n"
		     "                            [--step=DURATION] [--label=NAME=VALUE]...\n"
		     "                            [--output=FILE] [--full-reads]\n"
		     "\n"
		     "Evaluates every collector at FROM, FROM+STEP, ... up to TO (inclusive), as\n"
		     "--once --as-of would, and writes OpenMetrics with timestamps for\n"
		     "`promtool tsdb create-blocks-from openmetrics FILE DIR`.\n"
		     "\n"
		     "  --config.file=FILE  configuration file (default cs_exporter.conf)\n"
		     "  --from=DATE         first instant: RFC 3339 (2026-01-01T00:00:00Z) or\n"
		     "                      YYYY-MM-DD (midnight UTC)\n"
		     "  --to=DATE           last instant, same forms; not before --from\n"
		     "  --step=DURATION     one integer and a unit s, m, h, d or w (default 1d)\n"
		     "  --label=NAME=VALUE  add this label to every sample; repeatable. Give the\n"
		     "                      live target's job and instance, as Prometheus\n"
		     "                      attaches them, or dashboards and rules miss the data\n"
		     "  --output=FILE       where to write (default standard output)\n"
		     "  --full-reads        read every dataset whole at every step, as a live\n"
		     "                      evaluation does; by default a dataset whose query\n"
		     "                      binds no parameter is read once, and a step reads\n"
		     "                      only the activity since the step before, merged\n"
		     "                      with what it has (the same rows when the query\n"
		     "                      returns each user and feature's last activity in\n"
		     "                      [since, as_of))\n"
		     "  --log.level=LEVEL   debug, info, warn or error (default info)\n"
		     "  --log.format=FORMAT logfmt or json (default logfmt)\n"
		     "\n"
		     "Exit status: 0 success, 1 some collector run failed (the file is still\n"
		     "written without that run's KPIs), 2 bad flags or config.\n");
}

static int bf_parse_flags(int argc, char **argv, struct bf_flags *f)
{
	enum {
		F_CONFIG = 1,
		F_FROM,
		F_TO,
		F_STEP,
		F_LABEL,
		F_OUTPUT,
		F_FULL,
		F_LEVEL,
		F_LOGFMT,
		F_HELP
	};
	static const struct option opts[] = {
	    {"config.file", required_argument, NULL, F_CONFIG},
	    {"from", required_argument, NULL, F_FROM},
	    {"to", required_argument, NULL, F_TO},
	    {"step", required_argument, NULL, F_STEP},
	    {"label", required_argument, NULL, F_LABEL},
	    {"output", required_argument, NULL, F_OUTPUT},
	    {"full-reads", no_argument, NULL, F_FULL},
	    {"log.level", required_argument, NULL, F_LEVEL},
	    {"log.format", required_argument, NULL, F_LOGFMT},
	    {"help", no_argument, NULL, F_HELP},
	    {NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case F_CONFIG:
			f->config_file = optarg;
			break;
		case F_FROM:
			f->from = optarg;
			break;
		case F_TO:
			f->to = optarg;
			break;
		case F_STEP:
			f->step = optarg;
			break;
		case F_LABEL:
			if (f->nlabels == MAX_LABELS) {
				fprintf(stderr, "cs_exporter: backfill: more than %d --label\n",
					MAX_LABELS);
				return -1;
			}
			f->labels[f->nlabels++] = optarg;
			break;
		case F_OUTPUT:
			f->output = optarg;
			break;
		case F_FULL:
			f->full_reads = true;
			break;
		case F_LEVEL:
			if (log_apply_flag("level", optarg) < 0)
				return -1;
			break;
		case F_LOGFMT:
			if (log_apply_flag("format", optarg) < 0)
				return -1;
			break;
		case F_HELP:
			bf_usage(stdout);
			exit(0);
		default:
			fprintf(stderr,
				"cs_exporter: backfill: unknown or incomplete flag \"%s\"\n",
				argv[optind - 1]);
			bf_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cs_exporter: backfill: unexpected argument \"%s\"\n",
			argv[optind]);
		return -1;
	}
	if (!f->from || !f->to) {
		fprintf(stderr, "cs_exporter: backfill: --from and --to are required\n");
		return -1;
	}
	return 0;
}

/*
 * Checks one --label: NAME=VALUE with a Prometheus label name that neither
 * Prometheus (__*, le, quantile) nor the segment dimensions of the config
 * use. A clash with a label a family always has (collector, window, type, ...)
 * is caught by om_merge_add at the first step that renders the family: the
 * renders are the one list of those names.
 */
static int check_label(const char *arg, const struct cs_config *cfg, const struct bf_flags *f,
		       size_t idx)
{
	static const char *const reserved[] = {"le", "quantile", NULL};
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;
	bool valid = len > 0 && !(arg[0] >= '0' && arg[0] <= '9');
	for (size_t i = 0; valid && i < len; i++) {
		char c = arg[i];
		valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_';
	}
	if (!valid) {
		fprintf(stderr,
			"cs_exporter: backfill: invalid --label \"%s\": want NAME=VALUE, NAME of "
			"letters, digits and _, not starting with a digit\n",
			arg);
		return -1;
	}
	if (eq[1] == '\0') {
		fprintf(stderr,
			"cs_exporter: backfill: --label \"%s\": empty value (Prometheus drops "
			"such a label)\n",
			arg);
		return -1;
	}
	if (len >= 2 && arg[0] == '_' && arg[1] == '_') {
		fprintf(stderr,
			"cs_exporter: backfill: --label \"%.*s\": names starting with __ "
			"are reserved to Prometheus\n",
			(int)len, arg);
		return -1;
	}
	bool taken = false;
	for (size_t i = 0; reserved[i] && !taken; i++)
		taken = strlen(reserved[i]) == len && memcmp(reserved[i], arg, len) == 0;
	for (size_t i = 0; i < cfg->ndims && !taken; i++)
		taken = strlen(cfg->dims[i]) == len && memcmp(cfg->dims[i], arg, len) == 0;
	if (taken) {
		fprintf(stderr,
			"cs_exporter: backfill: --label \"%.*s\": the exported families already "
			"use that label\n",
			(int)len, arg);
		return -1;
	}
	for (size_t i = 0; i < idx; i++)
		if (strncmp(f->labels[i], arg, len + 1) == 0) {
			fprintf(stderr, "cs_exporter: backfill: --label \"%.*s\" given twice\n",
				(int)len, arg);
			return -1;
		}
	return 0;
}

/* ---- progress -------------------------------------------------------------- */

/*
 * On a terminal, a bar redrawn in place; otherwise (a log file, the journal)
 * one log line every PROGRESS_EVERY seconds. Both give the step, the instant
 * and an estimate of the time left.
 */
struct progress {
	bool tty;
	bool line_open; /* the bar is on screen, the cursor at its start */
	uint64_t total;
	double started, last;
};

static void format_secs(char *dst, size_t len, double secs)
{
	long s = (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(dst, len, "%ldh%02ldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(dst, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(dst, len, "%lds", s);
}

/* Called before step done+1 (at as_of) and, with done == total, at the end. */
static void progress_show(struct progress *p, uint64_t done, cs_time as_of)
{
	double now = cs_mono_seconds();
	bool end = done == p->total;
	if (!p->tty && !end && done > 0 && now - p->last < PROGRESS_EVERY)
		return;
	p->last = now;
	char when[40] = "", elapsed[24], left[24] = "?";
	if (!end)
		cs_format_time(as_of, when, sizeof(when));
	format_secs(elapsed, sizeof(elapsed), now - p->started);
	if (done > 0)
		format_secs(left, sizeof(left),
			    (now - p->started) / (double)done * (double)(p->total - done));
	unsigned pct = (unsigned)(done * 100 / p->total);
	if (p->tty) {
		enum { WIDTH = 30 };
		char bar[WIDTH + 1];
		size_t fill = (size_t)(done * WIDTH / p->total);
		memset(bar, '#', fill);
		memset(bar + fill, '.', WIDTH - fill);
		bar[WIDTH] = '\0';
		/* The cursor goes back to the start of the line: log lines of the
		 * step (rows rejected, ...) overwrite the bar, which is then drawn
		 * again below them. */
		if (end)
			fprintf(stderr, "\r\033[Kbackfill [%s] %3u%% %llu/%llu took %s\n", bar, pct,
				(unsigned long long)done, (unsigned long long)p->total, elapsed);
		else
			fprintf(stderr, "\r\033[Kbackfill [%s] %3u%% %llu/%llu %s left %s\r", bar,
				pct, (unsigned long long)done, (unsigned long long)p->total, when,
				left);
		p->line_open = !end;
		return;
	}
	char sdone[24], stotal[24], spct[8];
	snprintf(sdone, sizeof(sdone), "%llu", (unsigned long long)done);
	snprintf(stotal, sizeof(stotal), "%llu", (unsigned long long)p->total);
	snprintf(spct, sizeof(spct), "%u", pct);
	if (end)
		logx(LOG_INFO, "backfill evaluated every step", "steps", stotal, "elapsed", elapsed,
		     NULL);
	else
		logx(LOG_INFO, "backfill progress", "done", sdone, "steps", stotal, "percent", spct,
		     "next", when, "elapsed", elapsed, "left", left, NULL);
}

/* Clears the bar before a line of our own that may be shorter than it. */
static void progress_break(struct progress *p)
{
	if (p->line_open) {
		fputs("\r\033[K", stderr);
		p->line_open = false;
	}
}

/* ---- the command ----------------------------------------------------------- */

/* Runs every collector at as_of into a fresh snapshot, so that each step's
 * counters (rows rejected) are that run's alone, as with --once. */
struct step_ctx {
	cs_time as_of;
	struct progress *progress;
};

static void step_failed(void *ctx, const struct cs_collector *c, const char *err)
{
	struct step_ctx *sc = ctx;
	char when[40];
	cs_format_time(sc->as_of, when, sizeof(when));
	progress_break(sc->progress);
	logx(LOG_ERROR, "collector failed", "collector", c->name, "as_of", when, "err", err, NULL);
}

static size_t eval_step(const struct cs_config *cfg, struct pg_source *const *sources,
			cs_time as_of, struct eval_memory *mem, struct progress *progress,
			struct buf *out)
{
	struct snapshot *snap = snapshot_new();
	snapshot_configure(snap, cfg);
	struct step_ctx sc = {as_of, progress};
	size_t failed = eval_once(snap, cfg, sources, as_of, mem, step_failed, &sc);
	snapshot_render_stable(snap, EXPO_OPENMETRICS, out);
	snapshot_free(snap);
	return failed;
}

int backfill_main(int argc, char **argv)
{
	struct bf_flags f = {0};
	f.config_file = "cs_exporter.conf";
	f.step = "1d";
	if (bf_parse_flags(argc, argv, &f) < 0)
		return EXIT_USAGE;

	int64_t from, to;
	if (eval_parse_instant(f.from, &from) < 0) {
		fprintf(stderr, "cs_exporter: backfill: invalid --from \"%s\"\n", f.from);
		return EXIT_USAGE;
	}
	if (eval_parse_instant(f.to, &to) < 0) {
		fprintf(stderr, "cs_exporter: backfill: invalid --to \"%s\"\n", f.to);
		return EXIT_USAGE;
	}
	if (to < from) {
		fprintf(stderr, "cs_exporter: backfill: --to is before --from\n");
		return EXIT_USAGE;
	}
	int64_t step = config_parse_duration(f.step);
	if (step <= 0) {
		fprintf(stderr, "cs_exporter: backfill: invalid --step \"%s\"\n", f.step);
		return EXIT_USAGE;
	}
	uint64_t nsteps = (uint64_t)((to - from) / (step * CS_SECOND)) + 1;
	if (nsteps > MAX_STEPS) {
		fprintf(stderr,
			"cs_exporter: backfill: %llu steps, more than %d; use a longer --step\n",
			(unsigned long long)nsteps, MAX_STEPS);
		return EXIT_USAGE;
	}

	char err[1024];
	struct cs_config *cfg = config_load(f.config_file, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < f.nlabels; i++)
		if (check_label(f.labels[i], cfg, &f, i) < 0) {
			config_free(cfg);
			return EXIT_USAGE;
		}
	/* Opened before the long part, so a bad path fails at once. */
	FILE *out = stdout;
	if (f.output && !(out = fopen(f.output, "w"))) {
		fprintf(stderr, "cs_exporter: backfill: could not open \"%s\": %s\n", f.output,
			strerror(errno));
		config_free(cfg);
		return EXIT_USAGE;
	}

	struct pg_source **sources = pg_sources_open(cfg);

	struct progress pr = {.tty = isatty(STDERR_FILENO), .total = nsteps};
	pr.started = pr.last = cs_mono_seconds();
	struct om_merge *m = om_merge_new();
	for (size_t i = 0; i < f.nlabels; i++) {
		char *eq = strchr(f.labels[i], '=');
		*eq = '\0';
		om_merge_add_label(m, f.labels[i], eq + 1);
		*eq = '=';
	}
	/* Datasets whose query binds no parameter are read once, and each step
	 * reads only the activity since the step before (eval.h). */
	struct eval_memory *mem = f.full_reads ? NULL : eval_memory_new(true);
	struct buf render = BUF_INIT;
	size_t failed = 0, failed_steps = 0;
	bool clash = false;
	for (uint64_t i = 0; i < nsteps && !clash; i++) {
		cs_time as_of = from + (int64_t)i * step * CS_SECOND;
		progress_show(&pr, i, as_of);
		buf_reset(&render);
		size_t fs = eval_step(cfg, sources, as_of, mem, &pr, &render);
		failed += fs;
		failed_steps += fs > 0;
		if (om_merge_add(m, render.data ? render.data : "", render.len, as_of) == -2) {
			progress_break(&pr);
			fprintf(stderr, "cs_exporter: backfill: --label: %s\n",
				om_merge_conflict(m));
			clash = true;
		}
	}
	if (!clash)
		progress_show(&pr, nsteps, 0);
	buf_release(&render);
	eval_memory_free(mem);
	pg_sources_close(sources, cfg->nsources);
	if (clash) {
		om_merge_free(m);
		if (out != stdout) {
			fclose(out);
			remove(f.output);
		}
		config_free(cfg);
		return EXIT_USAGE;
	}

	/* Straight from the merge: no second copy of the whole output. */
	int rc = failed ? EXIT_FAILED : 0;
	if (om_merge_write(m, out) < 0) {
		fprintf(stderr, "cs_exporter: backfill: could not write \"%s\": %s\n",
			f.output ? f.output : "standard output", strerror(errno));
		rc = EXIT_FAILED;
	}
	om_merge_free(m);
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "cs_exporter: backfill: could not write \"%s\": %s\n", f.output,
			strerror(errno));
		rc = EXIT_FAILED;
	}
	if (failed) {
		char nrun[32], nstep[32];
		snprintf(nrun, sizeof(nrun), "%zu", failed);
		snprintf(nstep, sizeof(nstep), "%zu", failed_steps);
		logx(LOG_ERROR, "backfill incomplete: collector runs failed", "runs", nrun, "steps",
		     nstep, NULL);
	}
	config_free(cfg);
	return rc;
}
