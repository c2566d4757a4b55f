#include "backfill.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collectors/kinds.h"
#include "collectors/model.h"
#include "config/config.h"
#include "exporter/eval/eval.h"
#include "exporter/serve/snapshot.h"
#include "exporter/sources/pg.h"
#include "lib/cstime.h"
#include "lib/expo.h"
#include "lib/log.h"
#include "flags.h"

/* Exit codes: documented in --help and docs/cs_exporter.1. */
#define EXIT_KPIS_MISSING 1 /* a collector failed at some step; the file is usable */
#define EXIT_USAGE	  2 /* bad flags or config; nothing written */
#define EXIT_NO_OUTPUT	  3 /* the databases stayed away, or the file could not be written */
/* A typo such as --step 1s over a year would otherwise run for days. */
#define MAX_STEPS  100000
#define MAX_LABELS 16
/* Without a terminal, one progress line this often (seconds). */
#define PROGRESS_EVERY 10
/* Waits between the attempts of a failed step: doubling up to this. */
#define RETRY_FIRST_MS	 1000
#define RETRY_MAX_MS	 10000
#define DEFAULT_MAX_WAIT "5m"

/* ---- flags ----------------------------------------------------------------- */

struct bf_flags {
	const char *config_file;
	const char *from, *to, *step, *output, *max_wait;
	const char *labels[MAX_LABELS]; /* "name=value", as given */
	size_t nlabels;
	bool full_reads;
};

static void bf_usage(void)
{
	printf("usage: cs_exporter backfill --config.file=FILE --from=DATE --to=DATE\n"
	       "                            [--step=DURATION] [--label=NAME=VALUE]...\n"
	       "                            [--output=FILE] [--full-reads]\n"
	       "                            [--retry.max-wait=DURATION]\n"
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
	       "  --output=FILE       where to write (default standard output); written to a\n"
	       "                      temporary file in the same directory, renamed to FILE\n"
	       "                      once complete\n"
	       "  --full-reads        read every dataset whole at every step, as a live\n"
	       "                      evaluation does; by default a dataset whose query\n"
	       "                      binds no parameter is read once, and a step reads\n"
	       "                      only the activity since the step before, merged\n"
	       "                      with what it has (the same rows when the query\n"
	       "                      returns each user and feature's last activity in\n"
	       "                      [since, as_of))\n"
	       "  --retry.max-wait=DURATION\n"
	       "                      how long a failed step waits for its databases to\n"
	       "                      answer again, retrying with backoff, before the run\n"
	       "                      stops (default " DEFAULT_MAX_WAIT "; 0: no wait)\n"
	       "  --log.level=LEVEL   debug, info, warn or error (default info)\n"
	       "  --log.format=FORMAT logfmt or json (default logfmt)\n"
	       "\n"
	       "Exit status: 0 every step of every collector written; 1 some KPIs missing:\n"
	       "a collector failed while its database answered (the file is written and\n"
	       "usable, without that collector's samples at those steps); 2 bad flags or\n"
	       "config; 3 no usable output: the databases did not answer within\n"
	       "--retry.max-wait, or the file could not be written (nothing is left at\n"
	       "FILE).\n");
}

static int check_instant(const char *value, char *why, size_t whylen)
{
	cs_time t;
	if (eval_parse_instant(value, &t) == 0)
		return 0;
	snprintf(why, whylen, "RFC 3339 or YYYY-MM-DD");
	return -1;
}

static int check_step(const char *value, char *why, size_t whylen)
{
	if (config_parse_duration(value) > 0)
		return 0;
	snprintf(why, whylen, "an integer and a unit s, m, h, d or w");
	return -1;
}

static int64_t parse_max_wait(const char *value)
{
	return strcmp(value, "0") == 0 ? 0 : config_parse_duration(value);
}

static int check_max_wait(const char *value, char *why, size_t whylen)
{
	if (parse_max_wait(value) >= 0)
		return 0;
	snprintf(why, whylen, "0, or an integer and a unit s, m, h, d or w");
	return -1;
}

static int bf_parse_flags(int argc, char **argv, struct bf_flags *f)
{
	const struct flag table[] = {
	    {.name = "config.file", .type = FLAG_STRING, .dst = &f->config_file},
	    {.name = "from",
	     .type = FLAG_STRING,
	     .dst = &f->from,
	     .check = check_instant,
	     .required = true},
	    {.name = "to",
	     .type = FLAG_STRING,
	     .dst = &f->to,
	     .check = check_instant,
	     .required = true},
	    {.name = "step", .type = FLAG_STRING, .dst = &f->step, .check = check_step},
	    {.name = "label",
	     .type = FLAG_LIST,
	     .dst = f->labels,
	     .max = MAX_LABELS,
	     .count = &f->nlabels},
	    {.name = "output", .type = FLAG_STRING, .dst = &f->output},
	    {.name = "full-reads", .type = FLAG_BOOL, .dst = &f->full_reads},
	    {.name = "retry.max-wait",
	     .type = FLAG_STRING,
	     .dst = &f->max_wait,
	     .check = check_max_wait},
	    {0},
	};
	return flags_parse(table, bf_usage, argc, argv);
}

/*
 * Checks one --label: NAME=VALUE with a Prometheus label name that neither
 * Prometheus (__*, le, quantile) nor the segment dimensions of the config
 * use. A clash with a label a family always has (collector, window, type, ...)
 * is caught by expo_history_add at the first step that has the family: the
 * metric sets are the one list of those names.
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
		return flags_invalid("label", arg,
				     "NAME=VALUE, NAME of letters, digits and _, not starting "
				     "with a digit");
	}
	if (eq[1] == '\0') {
		return flags_invalid("label", arg, "empty value: Prometheus drops such a label");
	}
	if (len >= 2 && arg[0] == '_' && arg[1] == '_') {
		return flags_invalid("label", arg,
				     "names starting with __ are reserved to Prometheus");
	}
	bool taken = false;
	for (size_t i = 0; reserved[i] && !taken; i++)
		taken = strlen(reserved[i]) == len && memcmp(reserved[i], arg, len) == 0;
	for (size_t i = 0; i < cfg->ndims && !taken; i++)
		taken = strlen(cfg->dims[i]) == len && memcmp(cfg->dims[i], arg, len) == 0;
	if (taken) {
		return flags_invalid("label", arg,
				     "the exported families already use that label name");
	}
	for (size_t i = 0; i < idx; i++)
		if (strncmp(f->labels[i], arg, len + 1) == 0) {
			return flags_invalid("label", arg, "that label name is given twice");
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

/* ---- output ---------------------------------------------------------------- */

/*
 * --output is written to a temporary file in the same directory and renamed
 * over FILE once complete and synced: a run that fails, or is stopped by a
 * signal, leaves no truncated file at FILE (and an older FILE as it was).
 */
static char tmp_path[PATH_MAX]; /* the temporary file while it exists, else "" */

static void remove_tmp_and_die(int sig)
{
	if (tmp_path[0])
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static FILE *open_output(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	const char *base = slash ? slash + 1 : path;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(EISDIR));
		return NULL;
	}
	if (snprintf(tmp_path, sizeof(tmp_path), "%.*s.%s.XXXXXX", dirlen, path, base) >=
	    (int)sizeof(tmp_path)) {
		tmp_path[0] = '\0';
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(ENAMETOOLONG));
		return NULL;
	}
	int fd = mkstemp(tmp_path);
	if (fd < 0) {
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		tmp_path[0] = '\0';
		return NULL;
	}
	/* mkstemp makes the file 0600: give it the mode a plain open would. */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		logx(LOG_WARN, "could not set the mode of the output", "file", tmp_path, "err",
		     strerror(errno), NULL);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		close(fd);
		unlink(tmp_path);
		tmp_path[0] = '\0';
		return NULL;
	}
	signal(SIGINT, remove_tmp_and_die);
	signal(SIGTERM, remove_tmp_and_die);
	signal(SIGHUP, remove_tmp_and_die);
	return f;
}

/* Syncs, closes and renames the temporary file to path. Returns 0, or -1
 * with errno set (the temporary file is then removed). */
static int finish_output(FILE *out, const char *path)
{
	int rc = fflush(out) == 0 && fsync(fileno(out)) == 0 ? 0 : -1;
	int saved = errno;
	if (fclose(out) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp_path, path) < 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0)
		unlink(tmp_path);
	tmp_path[0] = '\0';
	errno = saved;
	return rc;
}

static void discard_output(FILE *out)
{
	fclose(out);
	unlink(tmp_path);
	tmp_path[0] = '\0';
}

/* ---- steps ----------------------------------------------------------------- */

struct run {
	const struct cs_config *cfg;
	struct pg_source *const *sources;
	struct eval_memory *mem;
	struct progress *progress;
	struct expo_history *h;
	double max_wait; /* seconds */
	/* [collector]: it failed while its databases answered, twice: its own
	 * query fails, and waiting would not help; not waited for again. */
	bool *broken;
	size_t failed_runs, failed_steps;
};

enum step_outcome {
	STEP_DONE,   /* added, possibly with failed collectors */
	STEP_CLASH,  /* an added --label is one of a family's own */
	STEP_OUTAGE, /* the databases did not answer within max_wait */
};

static int probe_columns(void *ctx, int ncols, const char *const *names, char *err, size_t errlen)
{
	(void)ctx;
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	return 0;
}

static void probe_row(void *ctx, const char *const *values)
{
	(void)ctx;
	(void)values;
}

/* Whether every source answers a query now: tells an outage (waiting helps)
 * from a collector's own query failing (it would fail again). */
static bool sources_answer(const struct run *r)
{
	struct pg_sink sink = {probe_columns, probe_row, NULL, "probe", NULL};
	char err[512];
	for (size_t i = 0; i < r->cfg->nsources; i++)
		if (pg_query(r->sources[i], "SELECT 1", 0, NULL, 10, &sink, err, sizeof(err)) < 0)
			return false;
	return true;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Marks the failed collectors of res as broken. */
static void mark_broken(struct run *r, const struct cs_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		if (!res->v[i].ok)
			r->broken[res->v[i].c - r->cfg->collectors] = true;
}

/* Adds an evaluation to the history: its KPI sets and its own collector and
 * rejection metrics, as --once would print them at that instant. */
static enum step_outcome add_step(struct run *r, struct cs_result *res, const char *when)
{
	size_t failed = cs_result_failed(res);
	for (size_t i = 0; i < res->n && failed; i++) {
		if (res->v[i].ok)
			continue;
		progress_break(r->progress);
		logx(LOG_ERROR, "collector failed", "collector", res->v[i].c->name, "as_of", when,
		     "err", res->v[i].err, NULL);
	}
	r->failed_runs += failed;
	r->failed_steps += failed > 0;
	size_t n;
	struct mset **sets = snapshot_alone(r->cfg, res, &n);
	int rc = expo_history_add(r->h, (const struct mset *const *)sets, n, res->as_of);
	snapshot_sets_free(sets, n);
	return rc < 0 ? STEP_CLASH : STEP_DONE;
}

/*
 * Evaluates every collector at as_of. A step with a failed collector is tried
 * again with backoff (RETRY_FIRST_MS doubling to RETRY_MAX_MS) for as long as
 * some database does not answer, up to max_wait from its first failure: an
 * outage shorter than that loses no step. A failure while every database
 * answers is tried once more (a restart between two queries), then kept:
 * the collector's samples are missing at that step, and it is not waited for
 * at later steps.
 */
static enum step_outcome run_step(struct run *r, cs_time as_of)
{
	char when[40];
	cs_format_time(as_of, when, sizeof(when));
	double first_failure = -1;
	int64_t delay = RETRY_FIRST_MS;
	bool retried_while_up = false;

	for (;;) {
		struct cs_result res;
		eval_all(r->cfg, r->sources, as_of, r->mem, &res);
		const struct cs_result_collector *first = NULL;
		bool only_broken = true;
		for (size_t i = 0; i < res.n; i++) {
			if (res.v[i].ok)
				continue;
			if (!first)
				first = &res.v[i];
			if (!r->broken[res.v[i].c - r->cfg->collectors])
				only_broken = false;
		}
		if (!first || only_broken) {
			if (first_failure >= 0) {
				char waited[24];
				format_secs(waited, sizeof(waited),
					    cs_mono_seconds() - first_failure);
				progress_break(r->progress);
				logx(LOG_INFO, "backfill step recovered", "as_of", when, "waited",
				     waited, NULL);
			}
			enum step_outcome o = add_step(r, &res, when);
			cs_result_release(&res);
			return o;
		}
		bool up = sources_answer(r);
		double now = cs_mono_seconds();
		if (first_failure < 0)
			first_failure = now;
		double left = r->max_wait - (now - first_failure);
		if (up && (retried_while_up || left <= 0)) {
			mark_broken(r, &res);
			enum step_outcome o = add_step(r, &res, when);
			cs_result_release(&res);
			return o;
		}
		if (left <= 0) {
			char waited[24];
			format_secs(waited, sizeof(waited), now - first_failure);
			progress_break(r->progress);
			logx(LOG_ERROR, "backfill stopped: the databases did not answer in time",
			     "as_of", when, "waited", waited, "collector", first->c->name, "err",
			     first->err, NULL);
			cs_result_release(&res);
			return STEP_OUTAGE;
		}
		int64_t wait = delay < (int64_t)(left * 1000) ? delay : (int64_t)(left * 1000) + 1;
		char retry_in[24];
		format_secs(retry_in, sizeof(retry_in), (double)wait / 1000);
		progress_break(r->progress);
		logx(LOG_WARN, "backfill step failed, retrying", "as_of", when, "collector",
		     first->c->name, "err", first->err, "databases",
		     up ? "answer" : "do not answer", "retry_in", retry_in, NULL);
		cs_result_release(&res);
		sleep_ms(wait);
		retried_while_up = retried_while_up || up;
		delay = delay * 2 < RETRY_MAX_MS ? delay * 2 : RETRY_MAX_MS;
	}
}

/* ---- the command ----------------------------------------------------------- */

int backfill_main(int argc, char **argv)
{
	struct bf_flags f = {
	    .config_file = "cs_exporter.conf", .step = "1d", .max_wait = DEFAULT_MAX_WAIT};
	if (bf_parse_flags(argc, argv, &f) < 0)
		return EXIT_USAGE;

	cs_time from, to;
	eval_parse_instant(f.from, &from); /* both checked by the flag table */
	eval_parse_instant(f.to, &to);
	if (to < from) {
		flags_invalid("to", f.to, "not before --from");
		return EXIT_USAGE;
	}
	int64_t step = config_parse_duration(f.step);
	uint64_t nsteps = (uint64_t)((to - from) / (step * CS_SECOND)) + 1;
	if (nsteps > MAX_STEPS) {
		char why[96];
		snprintf(why, sizeof(why), "%llu steps, more than %d: use a longer step",
			 (unsigned long long)nsteps, MAX_STEPS);
		flags_invalid("step", f.step, why);
		return EXIT_USAGE;
	}

	char err[1024];
	struct cs_config *cfg = cs_settings_load(f.config_file, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < f.nlabels; i++)
		if (check_label(f.labels[i], cfg, &f, i) < 0) {
			config_free(cfg);
			return EXIT_USAGE;
		}
	/* Opened before the long part, so a bad path fails at once. A file
	 * beyond RLIMIT_FSIZE is a failed write, not a killed process. */
	signal(SIGXFSZ, SIG_IGN);
	FILE *out = stdout;
	if (f.output && !(out = open_output(f.output, err, sizeof(err)))) {
		fprintf(stderr, "cs_exporter: backfill: %s\n", err);
		config_free(cfg);
		return EXIT_USAGE;
	}

	struct pg_source **sources = pg_sources_open(cfg);
	struct progress pr = {.tty = isatty(STDERR_FILENO), .total = nsteps};
	pr.started = pr.last = cs_mono_seconds();
	struct expo_history *h = expo_history_new();
	for (size_t i = 0; i < f.nlabels; i++) {
		char *eq = strchr(f.labels[i], '=');
		*eq = '\0';
		expo_history_add_label(h, f.labels[i], eq + 1);
		*eq = '=';
	}
	struct run r = {
	    .cfg = cfg,
	    .sources = sources,
	    /* Datasets whose query binds no parameter are read once, and each
	     * step reads only the activity since the step before (eval.h),
	     * unless the config turns that off (incremental.enabled). */
	    .mem = f.full_reads ? NULL : eval_memory_new(cfg->incremental[DS_ACTIVITY].enabled),
	    .progress = &pr,
	    .h = h,
	    .max_wait = (double)parse_max_wait(f.max_wait),
	    .broken = xcalloc(cfg->ncollectors + 1, sizeof(bool)),
	};
	enum step_outcome o = STEP_DONE;
	for (uint64_t i = 0; i < nsteps && o == STEP_DONE; i++) {
		cs_time as_of = from + (int64_t)i * step * CS_SECOND;
		progress_show(&pr, i, as_of);
		o = run_step(&r, as_of);
	}
	if (o == STEP_DONE)
		progress_show(&pr, nsteps, 0);
	eval_memory_free(r.mem);
	free(r.broken);
	pg_sources_close(sources, cfg->nsources);

	int rc;
	if (o == STEP_CLASH) {
		progress_break(&pr);
		fprintf(stderr, "cs_exporter: backfill: --label: %s\n", expo_history_conflict(h));
		rc = EXIT_USAGE;
	} else if (o == STEP_OUTAGE) {
		fprintf(stderr,
			"cs_exporter: backfill: the databases did not answer within "
			"--retry.max-wait=%s; nothing written\n",
			f.max_wait);
		rc = EXIT_NO_OUTPUT;
	} else {
		/* Straight from the history: no second copy of the whole output. */
		rc = r.failed_runs ? EXIT_KPIS_MISSING : 0;
		int wrc = expo_history_write(h, out);
		int werr = errno;
		if (f.output) {
			if (wrc < 0)
				discard_output(out);
			else if ((wrc = finish_output(out, f.output)) < 0)
				werr = errno;
			out = NULL;
		}
		if (wrc < 0) {
			fprintf(stderr, "cs_exporter: backfill: could not write \"%s\": %s\n",
				f.output ? f.output : "standard output", strerror(werr));
			rc = EXIT_NO_OUTPUT;
		}
	}
	if (f.output && out)
		discard_output(out);
	expo_history_free(h);
	if (rc == EXIT_KPIS_MISSING) {
		char nrun[32], nstep[32];
		snprintf(nrun, sizeof(nrun), "%zu", r.failed_runs);
		snprintf(nstep, sizeof(nstep), "%zu", r.failed_steps);
		logx(LOG_ERROR, "backfill incomplete: collector runs failed", "runs", nrun, "steps",
		     nstep, NULL);
	}
	config_free(cfg);
	return rc;
}
