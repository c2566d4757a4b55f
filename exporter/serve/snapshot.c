#include "snapshot.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "collectors/self.h"
#include "collectors/kinds.h"
#include "lib/buf.h"
#include "lib/gzpiece.h"
#include "statuspage.h"

struct cstate {
	char *name;
	char *kind;
	int64_t interval;
	bool configured; /* part of the current config */
	bool ever_ok;
	bool up;
	struct mset *good;   /* last good samples, NULL when none or stale */
	double last_success; /* unix seconds, 0: never */
	double evaluated_at; /* unix seconds: the instant t of the last good families */
	double duration;
	uint64_t runs, failures, rows, rejected;
	size_t series;
	char err[512];
};

struct counter {
	char *a, *b; /* label values */
	uint64_t value;
};

struct counters {
	struct counter *v;
	size_t n;
};

/* The last successful read of a dataset, by any collector. */
struct dstate {
	bool configured, read;
	uint64_t rows, rejected;
	cs_time newest; /* CS_TIME_NONE: no row carried an instant */
	int64_t max_age;
	bool incremental;     /* the daemon reads it incrementally */
	uint64_t drift_total; /* entries its full reads found the memory had wrong */
};

/*
 * The KPI part of the exposition (the collectors' good sets) in both formats,
 * rendered and compressed only when those sets change and shared by the
 * renderings of every tick until then. Only its compressed text stays
 * resident (Prometheus always asks for gzip); the plain text of a format is
 * decompressed at the first plain scrape of it and kept with the part.
 */
struct kpi_part {
	atomic_int refs;
	pthread_mutex_t lock; /* the plain texts being built */
	struct {
		char *gz; /* gzip header + raw deflate ending on a byte boundary */
		size_t gzlen;
		size_t len;   /* of the plain text */
		uint32_t crc; /* of the plain text */
		char *plain;  /* NULL until asked for */
	} f[2];
};

/* One rendering: the KPI part of its time and the self part of this tick
 * (the self-metrics, and OpenMetrics' # EOF). */
struct rendered {
	atomic_int refs;
	struct kpi_part *kpi;
	struct {
		char *plain; /* the self part */
		size_t len;
		/* The whole gzip member: the KPI part's compressed text
		 * copied, then the self part's raw deflate (final) and the
		 * trailer. One buffer, not two pieces: libmicrohttpd (0.9.75)
		 * sends a one-buffer body in the same system call as the
		 * headers, an iovec body in one more; a copy of the KPI part
		 * per tick (some 70 KB at 10,000 series) costs less than a
		 * system call per scrape. */
		char *gz;
		size_t gzlen;
	} f[2];
};

struct snapshot {
	pthread_mutex_t lock; /* state below and rendering */
	struct cstate *c;
	size_t nc;
	struct counters rejects; /* dataset, reason */
	struct counters dropped; /* family */
	struct counters retries; /* dataset, reason: the newest result's */
	struct dstate ds[DS_COUNT];
	int64_t stale_after;
	char *config_path;
	bool have_reload;
	bool reload_ok;
	double reload_success_ts;
	double start_time;
	bool have_tls_expiry;
	double tls_expiry;
	bool offline; /* snapshot_alone: nothing serves it, nothing is rendered */
	/* The status page's: recent headline values (statuspage.h) and the
	 * rejections web.expected_rejections marks, "dataset/reason". */
	struct status_history *history;
	char **expected;
	size_t nexpected;

	struct kpi_part *kpi;	  /* the newest, one reference; NULL: the good sets changed */
	pthread_mutex_t cur_lock; /* only the pointer swap */
	struct rendered *cur;
};

/* Unix seconds, as the self-metrics give times. */
static double now_unix(void)
{
	return (double)cs_now() / (double)CS_SECOND;
}

/* Counters are kept sorted by their label values, so that the exposition
 * does not depend on the order in which rows of parallel reads arrived. */
static void counter_add(struct counters *cs, const char *a, const char *b, uint64_t n)
{
	size_t at = cs->n;
	for (size_t i = 0; i < cs->n; i++) {
		int c = strcmp(cs->v[i].a, a);
		if (c == 0)
			c = strcmp(cs->v[i].b ? cs->v[i].b : "", b ? b : "");
		if (c == 0) {
			cs->v[i].value += n;
			return;
		}
		if (c > 0 && at == cs->n)
			at = i;
	}
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	memmove(&cs->v[at + 1], &cs->v[at], (cs->n - at) * sizeof(*cs->v));
	cs->v[at].a = xstrdup(a);
	cs->v[at].b = b ? xstrdup(b) : NULL;
	cs->v[at].value = n;
	cs->n++;
}

static void counters_release(struct counters *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].a);
		free(cs->v[i].b);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}

static void kpi_unref(struct kpi_part *k)
{
	if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	for (int f = 0; f < 2; f++) {
		free(k->f[f].gz);
		free(k->f[f].plain);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* The good sets changed: the next rendering renders the KPI part anew
 * (renderings still holding the old one keep it until they go). */
static void kpi_drop(struct snapshot *s)
{
	kpi_unref(s->kpi);
	s->kpi = NULL;
}

void snapshot_unref(const struct rendered *cr)
{
	struct rendered *r = (struct rendered *)cr;
	if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	kpi_unref(r->kpi);
	for (int f = 0; f < 2; f++) {
		free(r->f[f].plain);
		free(r->f[f].gz);
	}
	free(r);
}

const struct rendered *snapshot_ref(struct snapshot *s)
{
	pthread_mutex_lock(&s->cur_lock);
	struct rendered *r = s->cur;
	atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&s->cur_lock);
	return r;
}

/* The buffer's text, its allocation cut to its length: compressed texts
 * are kept for many scrapes, their growth headroom is not worth keeping. */
static char *detach_fit(struct buf *b, size_t *len)
{
	char *p = buf_detach(b, len);
	return xrealloc(p, *len + 1);
}

/* The plain KPI text of format f, decompressed at the first ask. */
static const char *kpi_plain(struct kpi_part *k, int f)
{
	pthread_mutex_lock(&k->lock);
	if (!k->f[f].plain) {
		struct buf b = BUF_INIT;
		buf_grow(&b, k->f[f].len);
		if (gzpiece_inflate(&b, k->f[f].gz + GZPIECE_HEADER_LEN,
				    k->f[f].gzlen - GZPIECE_HEADER_LEN) == 0 &&
		    b.len == k->f[f].len) {
			size_t len;
			k->f[f].plain = detach_fit(&b, &len);
		}
		buf_release(&b);
	}
	const char *p = k->f[f].plain;
	pthread_mutex_unlock(&k->lock);
	return p;
}

int rendered_body(const struct rendered *r, enum expo_format fmt, bool gz,
		  struct body_piece piece[2])
{
	int f = fmt == EXPO_OPENMETRICS;
	struct kpi_part *k = r->kpi;
	if (gz) {
		piece[0] = (struct body_piece){r->f[f].gz, r->f[f].gzlen};
		piece[1] = (struct body_piece){NULL, 0};
		return 0;
	}
	const char *plain = kpi_plain(k, f);
	if (!plain)
		return -1;
	piece[0] = (struct body_piece){plain, k->f[f].len};
	piece[1] = (struct body_piece){r->f[f].plain, r->f[f].len};
	return 0;
}

/* ---- self metrics -------------------------------------------------------- */

/* A family of the exporter's own, as its table row (collectors/self.h) says. */
static struct family *self_family(struct mset *m, enum cs_self id)
{
	const struct cs_family *def = &self_families[id];
	return mset_family(m, def->name, def->type, def->help, NULL);
}

/* One sample of a family with at most one label, named by its table row. */
static void add1(struct mset *m, enum cs_self id, const char *lvalue, double v)
{
	const char *names[1] = {self_families[id].labels[0]};
	const char *values[1] = {lvalue};
	family_add(self_family(m, id), names[0] ? 1 : 0, names, values, v);
}

/* Samples of a two-label family from counters (a, b). */
static void add_counters(struct mset *m, enum cs_self id, const struct counters *cs)
{
	struct family *f = self_family(m, id);
	for (size_t i = 0; i < cs->n; i++) {
		const char *values[2] = {cs->v[i].a, cs->v[i].b};
		family_add(f, 2, self_families[id].labels, values, (double)cs->v[i].value);
	}
}

static void add_dataset_metrics(struct snapshot *s, struct mset *m)
{
	for (int i = 0; i < DS_COUNT; i++) {
		const struct dstate *d = &s->ds[i];
		const char *name = config_dataset_name((enum cs_dataset)i);
		if (!d->configured)
			continue;
		add1(m, SELF_DATASET_MAX_AGE, name, (double)d->max_age);
		if (!d->read)
			continue;
		add1(m, SELF_DATASET_ROWS, name, (double)d->rows);
		if (d->newest != CS_TIME_NONE)
			add1(m, SELF_DATASET_NEWEST, name, (double)d->newest / (double)CS_SECOND);
	}
}

static void add_collector_metrics(struct snapshot *s, struct mset *m, bool stable)
{
	for (size_t i = 0; i < s->nc; i++) {
		struct cstate *c = &s->c[i];
		if (!c->configured)
			continue;
		add1(m, SELF_COLLECTOR_UP, c->name, c->up ? 1 : 0);
		if (c->good)
			add1(m, SELF_COLLECTOR_EVALUATION, c->name, c->evaluated_at);
		if (stable)
			continue;
		add1(m, SELF_COLLECTOR_LAST_SUCCESS, c->name, c->last_success);
		add1(m, SELF_COLLECTOR_DURATION, c->name, c->duration);
		add1(m, SELF_COLLECTOR_RUNS, c->name, (double)c->runs);
		add1(m, SELF_COLLECTOR_FAILURES, c->name, (double)c->failures);
		add1(m, SELF_COLLECTOR_ROWS, c->name, (double)c->rows);
		add1(m, SELF_COLLECTOR_SERIES, c->name, (double)c->series);
	}
	add_counters(m, SELF_ROWS_REJECTED, &s->rejects);
	/* Queries a server cancelled with "try again" and the source ran again
	 * (a hot standby's recovery conflicts): counted by the source layer
	 * for the whole process, shown once there is one. */
	if (s->retries.n)
		add_counters(m, SELF_DATASET_RETRIES, &s->retries);
	add_dataset_metrics(s, m);
	struct family *drop = self_family(m, SELF_SERIES_DROPPED);
	for (size_t i = 0; i < s->dropped.n; i++) {
		const char *values[1] = {s->dropped.v[i].a};
		family_add(drop, 1, self_families[SELF_SERIES_DROPPED].labels, values,
			   (double)s->dropped.v[i].value);
	}
}

static void add_process_metrics(struct snapshot *s, struct mset *m)
{
	long ticks = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/stat", "r");
	if (f) {
		char line[1024];
		if (fgets(line, sizeof(line), f)) {
			/* Fields after the parenthesised command name. */
			char *p = strrchr(line, ')');
			unsigned long utime = 0, stime = 0, vsize = 0;
			long rss = 0;
			if (p &&
			    sscanf(p + 2,
				   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
				   "%*d %*d %*d %*d %*u %lu %ld",
				   &utime, &stime, &vsize, &rss) == 4) {
				add1(m, SELF_PROCESS_CPU, NULL,
				     (double)(utime + stime) / (double)ticks);
				add1(m, SELF_PROCESS_VIRTUAL_MEMORY, NULL, (double)vsize);
				add1(m, SELF_PROCESS_RESIDENT_MEMORY, NULL,
				     (double)rss * (double)page);
			}
		}
		fclose(f);
	}
	DIR *dir = opendir("/proc/self/fd");
	if (dir) {
		int n = 0;
		struct dirent *e;
		while ((e = readdir(dir)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(dir);
		add1(m, SELF_PROCESS_OPEN_FDS, NULL, (double)(n - 1));
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		add1(m, SELF_PROCESS_MAX_FDS, NULL, (double)rl.rlim_cur);
	add1(m, SELF_PROCESS_START_TIME, NULL, floor(s->start_time));
}

static struct mset *self_metrics(struct snapshot *s)
{
	struct mset *m = mset_new();
	const char *values[2] = {CS_VERSION, CS_REVISION};
	family_add(self_family(m, SELF_BUILD_INFO), 2, self_families[SELF_BUILD_INFO].labels,
		   values, 1);
	add_collector_metrics(s, m, false);
	for (int i = 0; i < DS_COUNT; i++)
		if (s->ds[i].configured && s->ds[i].incremental)
			add1(m, SELF_INCREMENTAL_DRIFT, config_dataset_name((enum cs_dataset)i),
			     (double)s->ds[i].drift_total);
	if (s->have_reload) {
		add1(m, SELF_CONFIG_RELOAD_OK, NULL, s->reload_ok ? 1 : 0);
		add1(m, SELF_CONFIG_RELOAD_TIME, NULL, s->reload_success_ts);
	}
	if (s->have_tls_expiry)
		add1(m, SELF_TLS_EXPIRY, NULL, s->tls_expiry);
	add_process_metrics(s, m);
	return m;
}

/* ---- rendering ----------------------------------------------------------- */

static size_t collect_sets(struct snapshot *s, const struct mset **sets, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nc && n < max; i++)
		if (s->c[i].configured && s->c[i].good)
			sets[n++] = s->c[i].good;
	return n;
}

/* zlib fails only when it cannot allocate: as buf does then, give up. */
static void deflate_or_die(struct buf *out, const void *in, size_t len, bool last)
{
	if (gzpiece_deflate(out, in, len, 6, last) != 0) {
		fprintf(stderr, "fatal: zlib could not compress the exposition\n");
		abort();
	}
}

/* Called with s->lock held: the KPI part of the current good sets. */
static struct kpi_part *kpi_render(struct snapshot *s)
{
	struct kpi_part *k = xcalloc(1, sizeof(*k));
	atomic_init(&k->refs, 1);
	pthread_mutex_init(&k->lock, NULL);
	const struct mset **sets = xcalloc(s->nc + 1, sizeof(*sets));
	size_t n = collect_sets(s, sets, s->nc);
	for (int f = 0; f < 2; f++) {
		struct buf plain = BUF_INIT, gz = BUF_INIT;
		expo_render_part(sets, n, (enum expo_format)f, &plain);
		k->f[f].len = plain.len;
		k->f[f].crc = gzpiece_crc(0, plain.data, plain.len);
		gzpiece_header(&gz);
		deflate_or_die(&gz, plain.data, plain.len, false);
		k->f[f].gz = detach_fit(&gz, &k->f[f].gzlen);
		buf_release(&plain);
	}
	free(sets);
	return k;
}

/* Called with s->lock held: a new rendering, its KPI part re-rendered only
 * when the good sets changed since the last one, its self part always. */
static void render_locked(struct snapshot *s)
{
	if (s->offline)
		return;
	if (!s->kpi)
		s->kpi = kpi_render(s);
	struct rendered *r = xcalloc(1, sizeof(*r));
	atomic_init(&r->refs, 1);
	atomic_fetch_add(&s->kpi->refs, 1);
	r->kpi = s->kpi;
	struct mset *self = self_metrics(s);
	const struct mset *sets[1] = {self};
	for (int f = 0; f < 2; f++) {
		struct buf plain = BUF_INIT, gz = BUF_INIT;
		expo_render(sets, 1, (enum expo_format)f, &plain);
		deflate_or_die(&gz, plain.data, plain.len, true);
		gzpiece_trailer(&gz,
				gzpiece_crc_combine(r->kpi->f[f].crc,
						    gzpiece_crc(0, plain.data, plain.len),
						    plain.len),
				(uint64_t)r->kpi->f[f].len + plain.len);
		r->f[f].plain = detach_fit(&plain, &r->f[f].len);
		r->f[f].gzlen = r->kpi->f[f].gzlen + gz.len;
		r->f[f].gz = xmalloc(r->f[f].gzlen);
		memcpy(r->f[f].gz, r->kpi->f[f].gz, r->kpi->f[f].gzlen);
		memcpy(r->f[f].gz + r->kpi->f[f].gzlen, gz.data, gz.len);
		buf_release(&gz);
	}
	mset_free(self);

	pthread_mutex_lock(&s->cur_lock);
	struct rendered *old = s->cur;
	s->cur = r;
	pthread_mutex_unlock(&s->cur_lock);
	snapshot_unref(old);
}

static struct snapshot *snapshot_alloc(bool offline)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	s->offline = offline;
	s->history = offline ? NULL : status_history_new();
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->cur_lock, NULL);
	s->start_time = now_unix();
	pthread_mutex_lock(&s->lock);
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
	return s;
}

struct snapshot *snapshot_new(void)
{
	return snapshot_alloc(false);
}

static void cstate_release(struct cstate *c)
{
	free(c->name);
	free(c->kind);
	mset_free(c->good);
}

static void expected_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->nexpected; i++)
		free(s->expected[i]);
	free(s->expected);
	s->expected = NULL;
	s->nexpected = 0;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nc; i++)
		cstate_release(&s->c[i]);
	free(s->c);
	counters_release(&s->rejects);
	counters_release(&s->dropped);
	counters_release(&s->retries);
	free(s->config_path);
	status_history_free(s->history);
	expected_release(s);
	snapshot_unref(s->cur);
	kpi_unref(s->kpi);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->cur_lock);
	free(s);
}

static struct cstate *find(struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nc; i++)
		if (strcmp(s->c[i].name, name) == 0)
			return &s->c[i];
	return NULL;
}

void snapshot_configure(struct snapshot *s, const struct cs_config *cfg)
{
	pthread_mutex_lock(&s->lock);
	/* Drop the states of collectors the new config no longer has. */
	size_t keep = 0;
	for (size_t i = 0; i < s->nc; i++) {
		bool wanted = false;
		for (size_t j = 0; j < cfg->ncollectors; j++)
			if (strcmp(s->c[i].name, cfg->collectors[j].name) == 0 &&
			    strcmp(s->c[i].kind, cfg->collectors[j].kind) == 0)
				wanted = true;
		if (wanted)
			s->c[keep++] = s->c[i];
		else
			cstate_release(&s->c[i]);
	}
	s->nc = keep;
	for (size_t j = 0; j < cfg->ncollectors; j++) {
		const struct cs_collector *cc = &cfg->collectors[j];
		struct cstate *c = find(s, cc->name);
		if (!c) {
			s->c = xrealloc(s->c, (s->nc + 1) * sizeof(*s->c));
			c = &s->c[s->nc++];
			memset(c, 0, sizeof(*c));
			c->name = xstrdup(cc->name);
			c->kind = xstrdup(cc->kind);
		}
		c->configured = true;
		c->interval = cc->interval;
	}
	for (int i = 0; i < DS_COUNT; i++) {
		s->ds[i].configured = cfg->has_dataset[i];
		s->ds[i].max_age = cfg->max_age[i];
		s->ds[i].incremental = cfg->incremental[i].enabled;
	}
	s->stale_after = cfg->web.stale_after;
	expected_release(s);
	s->expected = xcalloc(cfg->web.nexpected + 1, sizeof(*s->expected));
	for (size_t i = 0; i < cfg->web.nexpected; i++)
		s->expected[s->nexpected++] = xstrdup(cfg->web.expected_rejections[i]);
	free(s->config_path);
	s->config_path = xstrdup(cfg->path);
	kpi_drop(s); /* collectors may have come or gone */
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
}

struct drop_ctx {
	struct snapshot *s;
	uint64_t n;
};

static void count_drop(void *ctx, const char *name)
{
	struct drop_ctx *dc = ctx;
	counter_add(&dc->s->dropped, name, NULL, dc->n);
}

/* Called with s->lock held. */
static void publish_collector(struct snapshot *s, const struct cs_result *res,
			      struct cs_result_collector *r)
{
	struct cstate *c = find(s, r->c->name);
	if (!c)
		return;
	c->runs++;
	c->duration = res->seconds;
	c->rows = r->rows;
	if (r->ok) {
		c->up = true;
		c->ever_ok = true;
		c->last_success = now_unix();
		c->evaluated_at = (double)res->as_of / (double)CS_SECOND;
		c->err[0] = '\0';
		mset_free(c->good);
		c->good = r->set;
		r->set = NULL;
		kpi_drop(s);
		c->series = mset_series(c->good);
		/* Adding 0 creates the series, so the counter exists before
		 * its first fold and rate() sees the first increase. */
		struct drop_ctx dc = {s, res->folded};
		mset_each_family(c->good, count_drop, &dc);
	} else {
		c->up = false;
		c->failures++;
		snprintf(c->err, sizeof(c->err), "%s", r->err);
	}
}

/* Rows rejected in this evaluation from what collector c reads: the
 * datasets its kind needs, the optional ones it read, and for outcomes the outcome runs (named
 * after their outcome). The status page's per-collector column. */
static uint64_t collector_rejected(const struct cs_result *res, const struct cs_collector *c)
{
	const struct collector_kind *k = cs_kind_named(c->kind);
	uint64_t n = 0;

	for (size_t i = 0; k && i < res->nrejects; i++) {
		int d = 0;

		while (d < DS_COUNT &&
		       strcmp(config_dataset_name((enum cs_dataset)d), res->rejects[i].dataset))
			d++;
		/* an optional dataset counts when this evaluation read it */
		bool reads = d < DS_COUNT ? (k->datasets & (1u << d)) != 0 ||
						((k->optional_datasets & (1u << d)) != 0 &&
						 res->datasets[d].read)
					  : k->outcomes;
		if (reads)
			n += res->rejects[i].count;
	}
	return n;
}

/* The collectors' last good sets by kind, for the status page. */
static void status_sets_of(struct snapshot *s, struct status_sets *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < s->nc; i++) {
		const struct collector_kind *k = cs_kind_named(s->c[i].kind);

		if (k && s->c[i].configured && s->c[i].good)
			v->set[k->kind] = s->c[i].good;
	}
}

void snapshot_publish(struct snapshot *s, struct cs_result *res)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < res->nrejects; i++)
		counter_add(&s->rejects, res->rejects[i].dataset, res->rejects[i].reason,
			    res->rejects[i].count);
	if (res->nretries) { /* cumulative: the newest counts replace the older */
		counters_release(&s->retries);
		for (size_t i = 0; i < res->nretries; i++)
			counter_add(&s->retries, res->retries[i].dataset, res->retries[i].reason,
				    res->retries[i].count);
	}
	for (int i = 0; i < DS_COUNT; i++) {
		const struct cs_result_dataset *rd = &res->datasets[i];
		if (rd->drift_checked)
			s->ds[i].drift_total += rd->drift;
		if (!rd->read)
			continue;
		s->ds[i].read = true;
		s->ds[i].rows = rd->rows;
		s->ds[i].rejected = rd->rejected;
		s->ds[i].newest = rd->newest;
	}
	for (size_t i = 0; i < res->n; i++) {
		struct cstate *c = find(s, res->v[i].c->name);
		if (c)
			c->rejected = collector_rejected(res, res->v[i].c);
		publish_collector(s, res, &res->v[i]);
	}
	if (s->history) {
		struct status_sets v;

		status_sets_of(s, &v);
		status_history_add(s->history, res->as_of, &v);
	}
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void snapshot_reload_result(struct snapshot *s, bool ok)
{
	pthread_mutex_lock(&s->lock);
	s->have_reload = true;
	s->reload_ok = ok;
	if (ok)
		s->reload_success_ts = now_unix();
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void snapshot_tls_expiry(struct snapshot *s, double not_after)
{
	pthread_mutex_lock(&s->lock);
	s->have_tls_expiry = true;
	s->tls_expiry = not_after;
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void snapshot_tick(struct snapshot *s)
{
	pthread_mutex_lock(&s->lock);
	double now = now_unix();
	for (size_t i = 0; i < s->nc; i++) {
		struct cstate *c = &s->c[i];
		/* Last good values outlive failures only for so long: past
		 * stale_after they would be presented as current when they are
		 * not. */
		if (c->good && s->stale_after > 0 &&
		    now - c->last_success > (double)s->stale_after) {
			mset_free(c->good);
			c->good = NULL;
			c->series = 0;
			kpi_drop(s);
		}
	}
	render_locked(s);
	pthread_mutex_unlock(&s->lock);
}

bool snapshot_ready(struct snapshot *s)
{
	pthread_mutex_lock(&s->lock);
	bool ready = true;
	for (size_t i = 0; i < s->nc; i++)
		if (s->c[i].configured && !s->c[i].ever_ok)
			ready = false;
	pthread_mutex_unlock(&s->lock);
	return ready;
}

struct mset **snapshot_alone(const struct cs_config *cfg, struct cs_result *res, size_t *n)
{
	struct snapshot *s = snapshot_alloc(true);
	snapshot_configure(s, cfg);
	snapshot_publish(s, res);
	struct mset **sets = xcalloc(s->nc + 1, sizeof(*sets));
	struct mset *self = mset_new();
	add_collector_metrics(s, self, true);
	*n = 0;
	for (size_t i = 0; i < s->nc; i++) {
		if (s->c[i].configured && s->c[i].good) {
			sets[(*n)++] = s->c[i].good;
			s->c[i].good = NULL;
		}
	}
	sets[(*n)++] = self;
	snapshot_free(s);
	return sets;
}

void snapshot_sets_free(struct mset **sets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mset_free(sets[i]);
	free(sets);
}

/* ---- status page --------------------------------------------------------- */

static void format_age(char *dst, size_t len, double ts, double now)
{
	if (ts <= 0) {
		snprintf(dst, len, "never");
		return;
	}
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(dst, len, "%s (%.0f s ago)", when, now - ts);
}

static void format_span(char *dst, size_t len, double secs)
{
	if (secs >= 2 * 86400)
		snprintf(dst, len, "%.1f d", secs / 86400);
	else if (secs >= 2 * 3600)
		snprintf(dst, len, "%.1f h", secs / 3600);
	else
		snprintf(dst, len, "%.0f min", secs / 60);
}

/* web.expected_rejections names dataset/reason. */
static bool rejection_expected(const struct snapshot *s, const char *dataset, const char *reason)
{
	size_t dl = strlen(dataset);

	for (size_t i = 0; i < s->nexpected; i++)
		if (!strncmp(s->expected[i], dataset, dl) && s->expected[i][dl] == '/' &&
		    !strcmp(s->expected[i] + dl + 1, reason ? reason : ""))
			return true;
	return false;
}

/* Freshness of each dataset and every rejection reason seen since start. */
static void status_datasets(struct snapshot *s, struct buf *b, double now)
{
	buf_adds(b, "<h2>Datasets</h2>\n<table><tr><th>dataset</th><th>state</th>"
		    "<th>newest row</th><th>age</th><th>max age</th><th>rows read</th>"
		    "<th>rows rejected</th></tr>\n");
	for (int i = 0; i < DS_COUNT; i++) {
		const struct dstate *d = &s->ds[i];
		if (!d->configured)
			continue;
		char newest[48] = "&mdash;", age[32] = "&mdash;", max_age[32];
		const char *state = "pending";
		if (d->max_age > 0)
			format_span(max_age, sizeof(max_age), (double)d->max_age);
		else
			snprintf(max_age, sizeof(max_age), "none");
		if (d->read && d->newest == CS_TIME_NONE) {
			state = "empty";
		} else if (d->read) {
			double secs = now - (double)d->newest / (double)CS_SECOND;
			cs_format_time(d->newest, newest, sizeof(newest));
			if (secs < 0) /* dated ahead, e.g. an onboarding booked for next week */
				snprintf(age, sizeof(age), "ahead");
			else
				format_span(age, sizeof(age), secs);
			/* without a max age nothing is stale (docs/datasets.md) */
			state = d->max_age <= 0		    ? "read"
				: secs > (double)d->max_age ? "stale"
							    : "fresh";
		}
		buf_addf(b,
			 "<tr><td>%s</td><td class=\"%s\">%s</td><td>%s</td><td "
			 "class=\"num\">%s</td><td class=\"num\">%s</td>",
			 config_dataset_name((enum cs_dataset)i),
			 !strcmp(state, "fresh") || !strcmp(state, "read") ? "up"
			 : !strcmp(state, "stale")			   ? "down"
									   : "pending",
			 state, newest, age, max_age);
		if (d->read)
			buf_addf(b, "<td class=\"num\">%llu</td><td class=\"num\">%llu</td></tr>\n",
				 (unsigned long long)d->rows, (unsigned long long)d->rejected);
		else
			buf_adds(b, "<td></td><td></td></tr>\n");
	}
	buf_adds(b, "</table>\n<h2>Rejected rows</h2>\n");
	if (!s->rejects.n) {
		buf_adds(b, "<p>None since start.</p>\n");
		return;
	}
	buf_adds(b, "<table><tr><th>dataset</th><th>reason</th><th>rows since start</th>"
		    "<th>expected</th></tr>\n");
	size_t nexpected = 0;
	for (size_t i = 0; i < s->rejects.n; i++) {
		bool expected = rejection_expected(s, s->rejects.v[i].a, s->rejects.v[i].b);

		nexpected += expected;
		buf_addf(b, "<tr%s><td>", expected ? " class=\"expected\"" : "");
		status_html_escape(b, s->rejects.v[i].a);
		buf_adds(b, "</td><td>");
		status_html_escape(b, s->rejects.v[i].b ? s->rejects.v[i].b : "");
		buf_addf(b, "</td><td class=\"num\">%llu</td><td>%s</td></tr>\n",
			 (unsigned long long)s->rejects.v[i].value,
			 expected ? "yes (web.expected_rejections)" : "");
	}
	buf_adds(b, "</table>\n<p>Reasons are documented in docs/datasets.md (Rejected rows).");
	if (nexpected)
		buf_addf(b,
			 " %zu of %zu reasons are marked expected by the configuration "
			 "(web.expected_rejections): rows planted or known upstream, shown "
			 "but no cause for alarm.",
			 nexpected, s->rejects.n);
	buf_adds(b, "</p>\n");
}

void snapshot_status_page(struct snapshot *s, const char *metrics_path, struct buf *b)
{
	pthread_mutex_lock(&s->lock);
	double now = now_unix();
	struct status_sets sets;
	status_sets_of(s, &sets);
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width\">"
		    "<title>cs_exporter</title><style>");
	buf_adds(b, status_page_style);
	buf_adds(b, "</style></head><body>\n"
		    "<h1>cs_exporter</h1>\n<p>Customer-success KPIs from billing and CRM "
		    "databases, for Prometheus. Version " CS_VERSION " (" CS_REVISION ").</p>\n"
		    "<p><a href=\"");
	status_html_escape(b, metrics_path);
	buf_adds(b, "\">Metrics</a> &middot; <a href=\"/-/healthy\">/-/healthy</a> &middot; "
		    "<a href=\"/-/ready\">/-/ready</a></p>\n");
	status_page_kpis(b, &sets, s->history);
	buf_adds(b, "<h2>Collectors</h2>\n<table>"
		    "<tr><th>collector</th><th>kind</th><th>state</th><th>last success</th>"
		    "<th>duration</th><th>rows read</th><th>rows rejected</th><th>series</th>"
		    "<th>runs</th><th>failures</th><th>last error</th></tr>\n");
	for (size_t i = 0; i < s->nc; i++) {
		struct cstate *c = &s->c[i];
		if (!c->configured)
			continue;
		const char *state = c->up ? "up" : (c->runs ? "down" : "pending");
		char age[96];
		format_age(age, sizeof(age), c->last_success, now);
		buf_adds(b, "<tr><td>");
		status_html_escape(b, c->name);
		buf_adds(b, "</td><td>");
		status_html_escape(b, c->kind);
		buf_addf(b, "</td><td class=\"%s\">%s</td><td>%s</td><td class=\"num\">%.3f s</td>",
			 state, state, age, c->duration);
		buf_addf(b,
			 "<td class=\"num\">%llu</td><td class=\"num\">%llu</td><td "
			 "class=\"num\">%zu</td><td class=\"num\">%llu</td><td "
			 "class=\"num\">%llu</td><td>",
			 (unsigned long long)c->rows, (unsigned long long)c->rejected, c->series,
			 (unsigned long long)c->runs, (unsigned long long)c->failures);
		status_html_escape(b, c->err);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n<p class=\"note\">Rows read and rejected: the last run's, over the "
		    "datasets the collector reads (docs/design.md, Status page).</p>\n");
	status_datasets(s, b, now);
	buf_adds(b, "<h2>Configuration</h2>\n<p>File: <code>");
	status_html_escape(b, s->config_path ? s->config_path : "");
	buf_adds(b, "</code></p>\n<p>Last reload: ");
	if (!s->have_reload) {
		buf_adds(b, "none since start");
	} else {
		char age[96];
		format_age(age, sizeof(age), s->reload_success_ts, now);
		buf_addf(b, "%s; last success %s", s->reload_ok ? "successful" : "failed", age);
	}
	char started[96];
	format_age(started, sizeof(started), s->start_time, now);
	buf_addf(b, "</p>\n<p>Started %s.</p>\n</body></html>\n", started);
	pthread_mutex_unlock(&s->lock);
}
