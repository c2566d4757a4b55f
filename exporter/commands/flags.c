#include "flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

int flags_error(const char *fmt, ...)
{
	va_list ap;
	fputs("cs_exporter: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(", try --help\n", stderr);
	return -1;
}

int flags_invalid(const char *name, const char *value, const char *why)
{
	return flags_error("invalid value '%s' for flag '--%s' (%s)", value, name, why);
}

static const struct flag *find_long(const struct flag *table, const char *name, size_t len)
{
	for (const struct flag *f = table; f->name; f++)
		if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

static const struct flag *find_short(const struct flag *table, char c)
{
	for (const struct flag *f = table; f->name; f++)
		if (f->short_name && f->short_name == c)
			return f;
	return NULL;
}

static int set_value(const struct flag *f, const char *value)
{
	char why[128] = "";
	switch (f->type) {
	case FLAG_BOOL:
		break;
	case FLAG_INT: {
		char *end;
		long v = strtol(value, &end, 10);
		if (end == value || *end != '\0' || v < f->lo || v > f->hi)
			return flags_error("invalid value '%s' for flag '--%s' (%ld to %ld)", value,
					   f->name, f->lo, f->hi);
		*(int *)f->dst = (int)v;
		return 0;
	}
	case FLAG_STRING:
	case FLAG_LIST:
		if (f->check && f->check(value, why, sizeof(why)) < 0)
			return flags_invalid(f->name, value, why);
		if (f->type == FLAG_STRING) {
			if (f->dst)
				*(const char **)f->dst = value;
			return 0;
		}
		if (*f->count == f->max)
			return flags_error("flag '--%s' given more than %zu times", f->name,
					   f->max);
		((const char **)f->dst)[(*f->count)++] = value;
		return 0;
	}
	return 0;
}

static int log_level(const char *value, char *why, size_t whylen)
{
	if (log_set_level(value) == 0)
		return 0;
	snprintf(why, whylen, "debug, info, warn or error");
	return -1;
}

static int log_format(const char *value, char *why, size_t whylen)
{
	if (log_set_format(value) == 0)
		return 0;
	snprintf(why, whylen, "logfmt or json");
	return -1;
}

static int parse(const struct flag *table, size_t nflags, int argc, char **argv)
{
	bool *seen = xcalloc(nflags + 1, sizeof(*seen));
	int rc = 0;

	for (int i = 1; i < argc && rc == 0; i++) {
		const char *arg = argv[i];
		const struct flag *f;
		const char *value = NULL;

		if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
			const char *name = arg + 2;
			size_t len = strcspn(name, "=");
			f = find_long(table, name, len);
			if (!f) {
				rc = flags_error("unknown long flag '--%.*s'", (int)len, name);
				break;
			}
			if (name[len] == '=')
				value = name + len + 1;
			if (f->type == FLAG_BOOL && value) {
				rc = flags_error("flag '--%s' takes no argument", f->name);
				break;
			}
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-' && arg[2] == '\0') {
			f = find_short(table, arg[1]);
			if (!f) {
				rc = flags_error("unknown short flag '-%c'", arg[1]);
				break;
			}
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-') {
			rc = flags_error("unknown short flag '-%c'", arg[1]);
			break;
		} else {
			rc = flags_error("unexpected argument '%s'", arg);
			break;
		}
		if (f->type != FLAG_BOOL && !value) {
			if (i + 1 == argc) {
				rc = flags_error("expected argument for flag '--%s'", f->name);
				break;
			}
			value = argv[++i];
		}
		seen[f - table] = true;
		if (f->action) {
			free(seen);
			f->action();
			exit(0);
		}
		if (f->type == FLAG_BOOL)
			*(bool *)f->dst = true;
		else if (set_value(f, value) < 0)
			rc = -1;
	}
	for (size_t k = 0; k < nflags && rc == 0; k++)
		if (table[k].required && !seen[k])
			rc = flags_error("required flag '--%s' not provided", table[k].name);
	free(seen);
	return rc;
}

int flags_parse(const struct flag *own, void (*usage)(void), int argc, char **argv)
{
	size_t n = 0;
	while (own[n].name)
		n++;
	struct flag *table = xcalloc(n + 4, sizeof(*table)); /* ends with a zeroed entry */
	memcpy(table, own, n * sizeof(*table));
	table[n++] = (struct flag){.name = "log.level", .type = FLAG_STRING, .check = log_level};
	table[n++] = (struct flag){.name = "log.format", .type = FLAG_STRING, .check = log_format};
	table[n++] =
	    (struct flag){.name = "help", .short_name = 'h', .type = FLAG_BOOL, .action = usage};
	int rc = parse(table, n, argc, argv);
	free(table);
	return rc;
}
