/*
 * flags: one table-driven parser for the command lines of the daemon and of
 * `cs_exporter backfill`, behaving as kingpin (the flag library of
 * Prometheus' exporters) does: --name=value or --name value, exact names
 * only, and every mistake named in one line on stderr with a pointer to
 * --help:
 *
 *   cs_exporter: error: unknown long flag '--web.listen-adress', try --help
 *
 * The caller exits 2 after such a line. Usage texts stay with their commands.
 */
#ifndef CS_FLAGS_H
#define CS_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

enum flag_type {
	FLAG_BOOL,   /* dst: bool *, set to true; no value */
	FLAG_STRING, /* dst: const char ** (may be NULL when check does the work) */
	FLAG_LIST,   /* dst: const char *[max], count: entries used; repeatable */
	FLAG_INT,    /* dst: int *, a decimal in [lo, hi] */
};

struct flag {
	const char *name; /* without the leading "--" */
	char short_name;  /* -X as well, or 0 */
	enum flag_type type;
	void *dst;
	size_t max;    /* FLAG_LIST */
	size_t *count; /* FLAG_LIST */
	long lo, hi;   /* FLAG_INT */
	/* FLAG_STRING, FLAG_LIST: accepts the value (0) or refuses it (-1) with
	 * what is wanted in why ("text or openmetrics"); may act on it. */
	int (*check)(const char *value, char *why, size_t whylen);
	bool required;
	/* --help, --version: given, it runs (printing to stdout) and the
	 * process exits 0; the flags after it are not read. */
	void (*action)(void);
};

/*
 * Parses argv[1..argc) against table (ended by an entry without name) and
 * the flags every command takes: --log.level, --log.format, and -h, --help
 * (usage prints the command's usage to stdout; the process exits 0).
 * Returns 0, or -1 after the error line.
 */
int flags_parse(const struct flag *table, void (*usage)(void), int argc, char **argv);

/* The error line of a flag value refused after parsing (one that needs the
 * configuration), in the parser's form: "cs_exporter: error: invalid value
 * 'V' for flag '--NAME' (WHY), try --help". why lists the valid values when
 * they are a finite set. Returns -1. */
int flags_invalid(const char *name, const char *value, const char *why);
/* Any other flag mistake found after parsing (flags that go together), in
 * the same form: "cs_exporter: error: MESSAGE, try --help". Returns -1. */
__attribute__((format(printf, 1, 2))) int flags_error(const char *fmt, ...);

#endif
