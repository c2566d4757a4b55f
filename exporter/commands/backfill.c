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
#include "exporter/eval/eval.h"
#include "exporter/serve/snapshot.h"
#include "exporter/sources/pg.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2
/* A typo such as --step 1s over a year would otherwise run for days. */
#define MAX_STEPS  100000
#define MAX_LABELS 16
/* Without a terminal, one progress line this often (seconds). */
#define PROGRESS_EVERY 10

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

/*
 * Evaluates every collector at as_of and adds the step to h: its KPI sets and
 * its own collector and rejection metrics, as --once would print them at that
 * instant (snapshot_alone). Returns the number of failed collectors, or
 * SIZE_MAX when an added --label clashes with a family's own.
 */
static size_t eval_step(const struct cs_config *cfg, struct pg_source *const *sources,
			cs_time as_of, struct eval_memory *mem, struct progress *progress,
			struct expo_history *h)
{
	struct cs_result res;
	eval_all(cfg, sources, as_of, mem, &res);
	size_t failed = cs_result_failed(&res);
	for (size_t i = 0; i < res.n; i++) {
		if (res.v[i].ok)
			continue;
		char when[40];
		cs_format_time(as_of, when, sizeof(when));
		progress_break(progress);
		logx(LOG_ERROR, "collector failed", "collector", res.v[i].c->name, "as_of", when,
		     "err", res.v[i].err, NULL);
	}
	size_t n;
	struct mset **sets = snapshot_alone(cfg, &res, &n);
	cs_result_release(&res);
	if (expo_history_add(h, (const struct mset *const *)sets, n, as_of) < 0)
		failed = SIZE_MAX;
	snapshot_sets_free(sets, n);
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
	struct expo_history *m = expo_history_new();
	for (size_t i = 0; i < f.nlabels; i++) {
		char *eq = strchr(f.labels[i], '=');
		*eq = '\0';
		expo_history_add_label(m, f.labels[i], eq + 1);
		*eq = '=';
	}
	/* Datasets whose query binds no parameter are read once, and each step
	 * reads only the activity since the step before (eval.h). */
	struct eval_memory *mem = f.full_reads ? NULL : eval_memory_new(true);
	size_t failed = 0, failed_steps = 0;
	bool clash = false;
	for (uint64_t i = 0; i < nsteps && !clash; i++) {
		cs_time as_of = from + (int64_t)i * step * CS_SECOND;
		progress_show(&pr, i, as_of);
		size_t fs = eval_step(cfg, sources, as_of, mem, &pr, m);
		if (fs == SIZE_MAX) {
			progress_break(&pr);
			fprintf(stderr, "cs_exporter: backfill: --label: %s\n",
				expo_history_conflict(m));
			clash = true;
			break;
		}
		failed += fs;
		failed_steps += fs > 0;
	}
	if (!clash)
		progress_show(&pr, nsteps, 0);
	eval_memory_free(mem);
	pg_sources_close(sources, cfg->nsources);
	if (clash) {
		expo_history_free(m);
		if (out != stdout) {
			fclose(out);
			remove(f.output);
		}
		config_free(cfg);
		return EXIT_USAGE;
	}

	/* Straight from the merge: no second copy of the whole output. */
	int rc = failed ? EXIT_FAILED : 0;
	if (expo_history_write(m, out) < 0) {
		fprintf(stderr, "cs_exporter: backfill: could not write \"%s\": %s\n",
			f.output ? f.output : "standard output", strerror(errno));
		rc = EXIT_FAILED;
	}
	expo_history_free(m);
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
