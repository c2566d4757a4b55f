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
	bool stop; /* --help, --version: parsing ends once it is given */
};

/*
 * Parses argv[1..argc) against table (ended by an entry without name).
 * Returns 0; 1 when a stop flag was given (its dst is set, later arguments
 * are not read); or -1 after the error line.
 */
int flags_parse(const struct flag *table, int argc, char **argv);

/* Checks for the log flags of both commands: they set the level and format. */
int flags_log_level(const char *value, char *why, size_t whylen);
int flags_log_format(const char *value, char *why, size_t whylen);

#endif
