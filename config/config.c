/*
 * config: libconfig file → validated struct cs_config.
 *
 * The loader stops at the first problem and reports it as "FILE:LINE: message",
 * so a user fixes one thing at a time with an exact location. Every group is
 * checked against its list of known keys: a typo must never silently fall back
 * to a default.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"

/* Longest accepted duration: keeps every "t - W" in microseconds far from overflow. */
#define MAX_DURATION	 (INT64_C(36500) * 86400)
#define MAX_NAME	 64
#define MAX_SEGMENTS	 100000
#define MAX_PASSWORD	 4096
#define DEFAULT_INTERVAL 300
#define DEFAULT_TIMEOUT	 30
#define DEFAULT_CONNECT	 10

/* NULL-terminated: the allowed members of the datasets group */
static const char *const dataset_names[DS_COUNT + 1] = {
    [DS_ACCOUNTS] = "accounts", [DS_SUBSCRIPTIONS] = "subscriptions", [DS_TRIALS] = "trials",
    [DS_SURVEYS] = "surveys",	[DS_ACTIVITY] = "activity",	      [DS_TICKETS] = "tickets",
    [DS_PAYMENTS] = "payments",
};

static const char *const param_names[] = {
    [PARAM_AS_OF] = "as_of",
    [PARAM_SINCE] = "since",
    [PARAM_WINDOW_START] = "window_start",
    [PARAM_WINDOW_END] = "window_end",
};

static const char *const sslmodes[] = {
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL,
};

const char *config_dataset_name(enum cs_dataset ds)
{
	if ((unsigned)ds >= DS_COUNT)
		return "unknown";
	return dataset_names[ds];
}

int64_t config_parse_duration(const char *s)
{
	int64_t n = 0, mult;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > MAX_DURATION)
			return -1;
	}
	switch (*s) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (s[1] != '\0' || n <= 0 || n > MAX_DURATION / mult)
		return -1;
	return n * mult;
}

/* ------------------------------------------------------------------------ */
/* Loader state and error reporting                                          */
/* ------------------------------------------------------------------------ */

static void write_err(char *err, size_t errlen, const char *msg)
{
	if (!err || errlen == 0)
		return;
	snprintf(err, errlen, "%s", msg);
}

bool config_fail(struct config_reader *L, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Only the first error is kept: later ones are usually consequences of it. */
bool config_fail(struct config_reader *L, const config_setting_t *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	const char *file = L->path;
	unsigned line = 1;
	va_list ap;

	if (L->failed)
		return false;
	L->failed = true;
	if (s) {
		if (config_setting_source_file(s))
			file = config_setting_source_file(s);
		/* The root group has no line of its own. */
		if (config_setting_source_line(s) > 0)
			line = config_setting_source_line(s);
	}
	buf_addf(&b, "%s:%u: ", file, line);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	write_err(L->err, L->errlen, b.data);
	buf_release(&b);
	return false;
}

/* ------------------------------------------------------------------------ */
/* Typed access. Each getter returns the setting (NULL when absent or on     */
/* error; L->failed tells which) so callers can report range errors at it.  */
/* ------------------------------------------------------------------------ */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool check_keys(struct config_reader *L, const config_setting_t *g,
		       const char *const *allowed)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		if (name && !in_list(name, allowed))
			return config_fail(L, s, "unknown setting '%s'", name);
	}
	return true;
}

static const config_setting_t *lookup(struct config_reader *L, const config_setting_t *g,
				      const char *name, bool required)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s && required)
		config_fail(L, g, "missing required setting '%s'", name);
	return s;
}

const config_setting_t *config_get_string(struct config_reader *L, const config_setting_t *g,
					  const char *name, bool required, const char **out)
{
	const config_setting_t *s = lookup(L, g, name, required);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_fail(L, s, "'%s' must be a string", name);
		return NULL;
	}
	*out = config_setting_get_string(s);
	return s;
}

const config_setting_t *config_get_int(struct config_reader *L, const config_setting_t *g,
				       const char *name, bool required, long long lo, long long hi,
				       long long *out)
{
	const config_setting_t *s = lookup(L, g, name, required);
	long long v;

	if (!s)
		return NULL;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		config_fail(L, s, "'%s' must be an integer", name);
		return NULL;
	}
	if (v < lo || v > hi) {
		config_fail(L, s, "'%s' must be between %lld and %lld", name, lo, hi);
		return NULL;
	}
	*out = v;
	return s;
}

/* Integers are accepted where a number is expected: "target = 100;" is natural. */
const config_setting_t *config_get_number(struct config_reader *L, const config_setting_t *g,
					  const char *name, bool required, double *out)
{
	const config_setting_t *s = lookup(L, g, name, required);
	double v;

	if (!s)
		return NULL;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		v = config_setting_get_int(s);
		break;
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		config_fail(L, s, "'%s' must be a number", name);
		return NULL;
	}
	if (!isfinite(v)) {
		config_fail(L, s, "'%s' must be a finite number", name);
		return NULL;
	}
	*out = v;
	return s;
}

const config_setting_t *config_get_bool(struct config_reader *L, const config_setting_t *g,
					const char *name, bool required, bool *out)
{
	const config_setting_t *s = lookup(L, g, name, required);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_fail(L, s, "'%s' must be a boolean (true or false)", name);
		return NULL;
	}
	*out = config_setting_get_bool(s) != 0;
	return s;
}

static bool parse_duration_at(struct config_reader *L, const config_setting_t *s, const char *name,
			      const char *text, int64_t *out)
{
	int64_t v = config_parse_duration(text);

	if (v < 0)
		return config_fail(
		    L, s,
		    "'%s' has an invalid duration \"%s\": expected a positive integer "
		    "and a unit (s, m, h, d, w) of at most 36500d",
		    name, text);
	*out = v;
	return true;
}

const config_setting_t *config_get_duration(struct config_reader *L, const config_setting_t *g,
					    const char *name, bool required, int64_t *out)
{
	const char *text;
	const config_setting_t *s = config_get_string(L, g, name, required, &text);

	if (!s)
		return NULL;
	if (!parse_duration_at(L, s, name, text, out))
		return NULL;
	return s;
}

const config_setting_t *config_get_group(struct config_reader *L, const config_setting_t *g,
					 const char *name, bool required,
					 const char *const *allowed)
{
	const config_setting_t *s = lookup(L, g, name, required);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		config_fail(L, s, "'%s' must be a group { ... }", name);
		return NULL;
	}
	if (allowed && !check_keys(L, s, allowed))
		return NULL;
	return s;
}

/* A list ( ... ) whose every element is a group. */
const config_setting_t *config_get_group_list(struct config_reader *L, const config_setting_t *g,
					      const char *name, bool required)
{
	const config_setting_t *s = lookup(L, g, name, required);
	int n;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_fail(L, s, "'%s' must be a list of groups ( { ... }, ... )", name);
		return NULL;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			config_fail(L, e, "'%s' must be a list of groups ( { ... }, ... )", name);
			return NULL;
		}
	}
	return s;
}

/* An array [ ... ] or list ( ... ) of strings; both spellings are accepted. */
const config_setting_t *config_get_strings(struct config_reader *L, const config_setting_t *g,
					   const char *name, bool required, size_t max)
{
	const config_setting_t *s = lookup(L, g, name, required);
	int n;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_fail(L, s, "'%s' must be a list of strings [\"...\", ...]", name);
		return NULL;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			config_fail(L, e, "'%s' must be a list of strings [\"...\", ...]", name);
			return NULL;
		}
	}
	if ((size_t)n > max) {
		config_fail(L, s, "'%s' has %d entries; at most %zu are allowed", name, n, max);
		return NULL;
	}
	return s;
}

int config_count(const config_setting_t *s)
{
	return s ? config_setting_length(s) : 0;
}

const config_setting_t *config_elem(const config_setting_t *s, int i)
{
	return s ? config_setting_get_elem(s, (unsigned)i) : NULL;
}

const char *config_string_of(const config_setting_t *s)
{
	return s && config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
								 : NULL;
}

const config_setting_t *config_member(const config_setting_t *g, const char *name)
{
	return g ? config_setting_get_member(g, name) : NULL;
}

static const char *elem_string(const config_setting_t *list, int i)
{
	return config_setting_get_string(config_setting_get_elem(list, (unsigned)i));
}

/* ------------------------------------------------------------------------ */
/* Value checks                                                              */
/* ------------------------------------------------------------------------ */

/* Names used in logs and as label values: short, printable, no quoting needed. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* [A-Za-z_][A-Za-z0-9_]*: Prometheus label names and environment variable
 * names alike. */
static bool valid_identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Label values may be any UTF-8; control characters are refused because they
 * make dashboards and logs unreadable. */
static bool valid_label_value(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	while (*p) {
		int extra;
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			extra = 1;
		else if ((*p & 0xf0) == 0xe0)
			extra = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			extra = 3;
		else
			return false;
		for (p++; extra > 0; extra--, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool parse_currency(const char *s, char out[4])
{
	if (strlen(s) != 3)
		return false;
	for (int i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)s[i]))
			return false;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[3] = '\0';
	return true;
}

/* "host:port", "[v6]:port" or ":port" (all interfaces). */
static bool valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	long port = 0;

	if (!colon || colon[1] == '\0')
		return false;
	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		port = port * 10 + (*p - '0');
		if (port > 65535)
			return false;
	}
	if (port < 1)
		return false;
	if (s[0] == '[')
		return colon > s + 1 && colon[-1] == ']';
	for (const char *p = s; p < colon; p++)
		if (*p == ':' || *p == '[' || *p == ']' || isspace((unsigned char)*p))
			return false;
	return true;
}

/* Relative file names are relative to the configuration file, not the cwd of
 * whoever started the daemon. */
static char *resolve_path(const struct config_reader *L, const char *file)
{
	struct buf b = BUF_INIT;

	if (file[0] == '/' || !L->dir)
		return xstrdup(file);
	buf_addf(&b, "%s/%s", L->dir, file);
	return buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------------ */
/* SQL placeholders                                                          */
/* ------------------------------------------------------------------------ */

static bool sql_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/*
 * Finds the $N parameters of a PostgreSQL statement, skipping string
 * literals (standard, E'' escape strings and dollar-quoted), quoted
 * identifiers and comments, where "$1" is just text. Sets bit N-1 of *used
 * for each N <= nparams and returns the first N that is 0 or > nparams, or 0
 * when every reference is in range.
 */
static long sql_scan(const char *sql, size_t nparams, unsigned *used)
{
	const char *p = sql;

	*used = 0;
	while (*p) {
		if (*p == '\'' || ((*p == 'E' || *p == 'e') && p[1] == '\'')) {
			bool esc = *p != '\'';
			p += esc ? 2 : 1;
			while (*p) {
				if (esc && *p == '\\' && p[1]) {
					p += 2;
				} else if (*p == '\'') {
					p++;
					if (*p != '\'')
						break;
					p++;
				} else {
					p++;
				}
			}
		} else if (*p == '"') {
			for (p++; *p; p++)
				if (*p == '"' && *++p != '"')
					break;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			int depth = 1;
			for (p += 2; *p && depth > 0;) {
				if (p[0] == '/' && p[1] == '*') {
					depth++;
					p += 2;
				} else if (p[0] == '*' && p[1] == '/') {
					depth--;
					p += 2;
				} else {
					p++;
				}
			}
		} else if (*p == '$' && isdigit((unsigned char)p[1])) {
			long n = 0;
			for (p++; isdigit((unsigned char)*p); p++)
				if (n < 1000000)
					n = n * 10 + (*p - '0');
			if (n < 1 || (size_t)n > nparams)
				return n == 0 ? -1 : n;
			*used |= 1u << (n - 1);
		} else if (*p == '$') {
			/* $tag$ ... $tag$; a tag cannot start with a digit. */
			const char *q = p + 1;
			while (*q && *q != '$' && sql_ident_char(*q))
				q++;
			if (*q == '$') {
				size_t taglen = (size_t)(q - p) + 1;
				const char *end = q + 1;
				for (; *end; end++)
					if (strncmp(end, p, taglen) == 0)
						break;
				p = *end ? end + taglen : end;
			} else {
				p++;
			}
		} else if (sql_ident_char(*p)) {
			/* Identifiers may contain '$' (foo$1): never a parameter. */
			while (sql_ident_char(*p))
				p++;
		} else {
			p++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static bool find_source(struct config_reader *L, const config_setting_t *at, const char *name,
			size_t *idx)
{
	for (size_t i = 0; i < L->cfg->nsources; i++) {
		if (strcmp(L->cfg->sources[i].name, name) == 0) {
			*idx = i;
			return true;
		}
	}
	return config_fail(L, at, "unknown source '%s'", name);
}

static void conninfo_add(struct buf *b, const char *key, const char *value)
{
	if (b->len)
		buf_addch(b, ' ');
	buf_addf(b, "%s='", key);
	for (; *value; value++) {
		if (*value == '\'' || *value == '\\')
			buf_addch(b, '\\');
		buf_addch(b, *value);
	}
	buf_addch(b, '\'');
}

static bool load_source(struct config_reader *L, const config_setting_t *g, struct cs_source *src)
{
	static const char *const keys[] = {
	    "name",	     "host",	     "port",	"dbname",	   "user",
	    "password_file", "password_env", "sslmode", "connect_timeout", NULL,
	};
	const config_setting_t *s;
	const char *name = NULL, *host = NULL, *dbname = NULL, *user = NULL, *sslmode = NULL;
	const char *pwfile = NULL, *pwenv = NULL;
	long long port = 0;
	int64_t timeout = DEFAULT_CONNECT;
	struct buf ci = BUF_INIT;
	char num[32];

	src->line = config_setting_source_line(g);
	s = config_setting_get_member(g, "password");
	if (s)
		return config_fail(
		    L, s,
		    "inline passwords are not allowed; use password_file or password_env "
		    "(or leave both out to use ~/.pgpass)");
	if (!check_keys(L, g, keys))
		return false;
	s = config_get_string(L, g, "name", true, &name);
	if (!s)
		return false;
	if (!valid_name(name))
		return config_fail(
		    L, s, "source name '%s' must be 1 to %d letters, digits, '_', '-' or '.'", name,
		    MAX_NAME);
	for (const struct cs_source *o = L->cfg->sources; o < src; o++)
		if (strcmp(o->name, name) == 0)
			return config_fail(L, s,
					   "duplicate source name '%s' (first defined at line %d)",
					   name, o->line);
	src->name = xstrdup(name);

	config_get_string(L, g, "host", false, &host);
	config_get_int(L, g, "port", false, 1, 65535, &port);
	config_get_string(L, g, "dbname", false, &dbname);
	config_get_string(L, g, "user", false, &user);
	s = config_get_string(L, g, "sslmode", false, &sslmode);
	if (s && !in_list(sslmode, sslmodes))
		return config_fail(
		    L, s,
		    "'sslmode' must be one of disable, allow, prefer, require, verify-ca, "
		    "verify-full");
	config_get_duration(L, g, "connect_timeout", false, &timeout);
	config_get_string(L, g, "password_file", false, &pwfile);
	s = config_get_string(L, g, "password_env", false, &pwenv);
	if (L->failed)
		return false;
	if (pwfile && pwenv)
		return config_fail(L, s, "set only one of 'password_file' and 'password_env'");
	if (pwenv && !valid_identifier(pwenv))
		return config_fail(L, s, "'password_env' must be an environment variable name");
	if (pwfile && !*pwfile)
		return config_fail(L, config_setting_get_member(g, "password_file"),
				   "'password_file' must not be empty");

	if (host && *host)
		conninfo_add(&ci, "host", host);
	if (port) {
		snprintf(num, sizeof(num), "%lld", port);
		conninfo_add(&ci, "port", num);
	}
	if (dbname && *dbname)
		conninfo_add(&ci, "dbname", dbname);
	if (user && *user)
		conninfo_add(&ci, "user", user);
	if (sslmode)
		conninfo_add(&ci, "sslmode", sslmode);
	snprintf(num, sizeof(num), "%lld", (long long)timeout);
	conninfo_add(&ci, "connect_timeout", num);
	conninfo_add(&ci, "application_name", "cs_exporter");
	src->conninfo = buf_detach(&ci, NULL);
	if (pwfile)
		src->password_file = resolve_path(L, pwfile);
	if (pwenv)
		src->password_env = xstrdup(pwenv);
	return true;
}

static bool load_sources(struct config_reader *L, const config_setting_t *root)
{
	const config_setting_t *list = config_get_group_list(L, root, "sources", true);
	int n;

	if (!list)
		return false;
	n = config_setting_length(list);
	if (n == 0)
		return config_fail(L, list, "'sources' must list at least one source");
	L->cfg->sources = xcalloc((size_t)n, sizeof(*L->cfg->sources));
	/* Counted before filling so that config_free releases a half-loaded entry. */
	for (int i = 0; i < n; i++) {
		L->cfg->nsources++;
		if (!load_source(L, config_setting_get_elem(list, (unsigned)i),
				 &L->cfg->sources[i]))
			return false;
	}
	return true;
}

static bool load_segments(struct config_reader *L, const config_setting_t *root)
{
	static const char *const keys[] = {"dimensions", "max_combinations", NULL};
	struct cs_config *cfg = L->cfg;
	const config_setting_t *g = config_get_group(L, root, "segments", true, keys), *dims;
	long long max = 500;
	int n;

	if (!g)
		return false;
	dims = config_get_strings(L, g, "dimensions", true, CS_MAX_DIMENSIONS);
	if (!dims)
		return false;
	n = config_setting_length(dims);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(dims, (unsigned)i);
		const char *d = config_setting_get_string(e);

		if (!valid_identifier(d))
			return config_fail(
			    L, e,
			    "dimension '%s' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", d);
		if (strncmp(d, "__", 2) == 0)
			return config_fail(
			    L, e,
			    "dimension '%s' must not start with '__' (reserved by Prometheus)", d);
		/* the label names the exposition carries are checked against the
		 * kind table after loading (collectors/kinds.h) */
		for (size_t j = 0; j < cfg->ndims; j++)
			if (strcmp(cfg->dims[j], d) == 0)
				return config_fail(L, e, "duplicate dimension '%s'", d);
		cfg->dims[cfg->ndims++] = xstrdup(d);
	}
	config_get_int(L, g, "max_combinations", false, 1, MAX_SEGMENTS, &max);
	cfg->max_segments = (size_t)max;
	return !L->failed;
}

static bool load_reporting(struct config_reader *L, const config_setting_t *root)
{
	static const char *const keys[] = {"currency", "gross_margin", "rates", NULL};
	struct cs_config *cfg = L->cfg;
	const config_setting_t *g = config_get_group(L, root, "reporting", false, keys), *s, *rates;
	const char *cur;
	int n;

	if (!g)
		return !L->failed;
	s = config_get_string(L, g, "currency", false, &cur);
	if (s && !parse_currency(cur, cfg->currency))
		return config_fail(L, s, "'currency' must be a 3-letter ISO 4217 code such as USD");
	s = config_get_number(L, g, "gross_margin", false, &cfg->gross_margin);
	if (s && !(cfg->gross_margin > 0 && cfg->gross_margin <= 1))
		return config_fail(L, s, "'gross_margin' must be greater than 0 and at most 1");
	if (L->failed)
		return false;
	rates = config_get_group(L, g, "rates", false, NULL);
	if (!rates)
		return !L->failed;
	n = config_setting_length(rates);
	cfg->rates = xcalloc((size_t)n, sizeof(*cfg->rates));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(rates, (unsigned)i);
		const char *code = config_setting_name(e);
		struct cs_rate *r = &cfg->rates[cfg->nrates];

		if (!parse_currency(code, r->code))
			return config_fail(
			    L, e, "rate '%s' must be named by a 3-letter ISO 4217 code", code);
		if (!config_get_number(L, rates, code, true, &r->rate))
			return false;
		if (!(r->rate > 0))
			return config_fail(L, e, "rate for '%s' must be greater than 0", r->code);
		if (strcmp(r->code, cfg->currency) == 0)
			return config_fail(
			    L, e, "rate for '%s' is not allowed: it is the reporting currency",
			    r->code);
		for (size_t j = 0; j < cfg->nrates; j++)
			if (strcmp(cfg->rates[j].code, r->code) == 0)
				return config_fail(L, e, "duplicate rate for '%s'", r->code);
		cfg->nrates++;
	}
	return true;
}

/* Fills windows from a list of duration strings; labels keep the text as written. */
bool config_windows(struct config_reader *L, const config_setting_t *list, const char *name,
		    struct cs_window *w, size_t *nw)
{
	int n = config_setting_length(list);

	if (n == 0)
		return config_fail(L, list, "'%s' must list at least one window", name);
	*nw = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *text = config_setting_get_string(e);
		int64_t secs = 0;

		if (!parse_duration_at(L, e, name, text, &secs))
			return false;
		if (strlen(text) >= sizeof(w->label))
			return config_fail(L, e, "window \"%s\" is too long a label", text);
		for (size_t j = 0; j < *nw; j++)
			if (w[j].seconds == secs)
				return config_fail(L, e, "window \"%s\" repeats window \"%s\"",
						   text, w[j].label);
		w[*nw].seconds = secs;
		snprintf(w[*nw].label, sizeof(w[*nw].label), "%s", text);
		(*nw)++;
	}
	return true;
}

static bool load_features(struct config_reader *L, const config_setting_t *root)
{
	struct cs_config *cfg = L->cfg;
	const config_setting_t *list =
	    config_get_strings(L, root, "features", false, CS_MAX_FEATURES);
	int n;

	if (!list)
		return !L->failed;
	n = config_setting_length(list);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *f = config_setting_get_string(e);

		if (!valid_label_value(f, MAX_NAME))
			return config_fail(
			    L, e,
			    "feature \"%s\" must be 1 to %d bytes of UTF-8 without control "
			    "characters",
			    f, MAX_NAME);
		for (size_t j = 0; j < cfg->nfeatures; j++)
			if (strcmp(cfg->features[j], f) == 0)
				return config_fail(L, e, "duplicate feature '%s'", f);
		cfg->features[cfg->nfeatures++] = xstrdup(f);
	}
	return true;
}

/* source, params and query of a dataset or outcome; allowed_params is how many
 * of enum cs_param (from the start) this kind of query may bind. */
static bool load_query(struct config_reader *L, const config_setting_t *g, struct cs_query *q,
		       size_t allowed_params, const char *accepted)
{
	const config_setting_t *src, *params, *qs;
	const char *source, *sql;
	unsigned used;
	long bad;
	int n;

	src = config_get_string(L, g, "source", true, &source);
	if (!src || !find_source(L, src, source, &q->source))
		return false;
	qs = config_get_string(L, g, "query", true, &sql);
	if (!qs)
		return false;
	q->line = config_setting_source_line(qs);
	params = config_get_strings(L, g, "params", false, CS_MAX_PARAMS);
	if (L->failed)
		return false;
	n = params ? config_setting_length(params) : 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(params, (unsigned)i);
		const char *p = config_setting_get_string(e);
		size_t k;

		for (k = 0; k < allowed_params; k++)
			if (strcmp(p, param_names[k]) == 0)
				break;
		if (k == allowed_params)
			return config_fail(L, e, "unknown parameter '%s'; %s", p, accepted);
		for (size_t j = 0; j < q->nparams; j++)
			if (q->params[j] == (enum cs_param)k)
				return config_fail(L, e, "parameter '%s' is listed twice", p);
		q->params[q->nparams++] = (enum cs_param)k;
	}
	if (!*sql)
		return config_fail(L, qs, "'query' must not be empty");
	bad = sql_scan(sql, q->nparams, &used);
	if (bad < 0)
		return config_fail(L, qs, "query references $0; parameters are numbered from $1");
	if (bad > 0)
		return config_fail(
		    L, qs, "query references $%ld but only %zu parameter%s listed in 'params'", bad,
		    q->nparams, q->nparams == 1 ? " is" : "s are");
	for (size_t i = 0; i < q->nparams; i++)
		if (!(used & (1u << i)))
			return config_fail(
			    L, qs, "parameter '%s' is listed as $%zu but the query never uses $%zu",
			    param_names[q->params[i]], i + 1, i + 1);
	q->sql = xstrdup(sql);
	return true;
}

static bool binds(const struct cs_query *q, enum cs_param param)
{
	for (size_t i = 0; i < q->nparams; i++)
		if (q->params[i] == param)
			return true;
	return false;
}

/*
 * datasets.<d>.incremental = { enabled; lookback; full_every; }. Only
 * activity's contract (each user's last activity in [since, as_of)) lets a
 * read from the previous evaluation be merged into the one before
 * (docs/configuration.md); a query that does not bind since reads its whole
 * window anyway, so it is off for one unless enabled is written (an error).
 */
static bool load_incremental(struct config_reader *L, const config_setting_t *ds, int d)
{
	static const char *const keys[] = {"enabled", "lookback", "full_every", NULL};
	struct cs_incremental *inc = &L->cfg->incremental[d];
	const config_setting_t *g = config_get_group(L, ds, "incremental", false, keys), *en;
	bool since = binds(&L->cfg->datasets[d], PARAM_SINCE);

	inc->enabled = d == DS_ACTIVITY && since;
	inc->lookback = 2 * 3600;
	inc->full_every = 86400;
	if (!g)
		return !L->failed;
	if (d != DS_ACTIVITY)
		return config_fail(L, g,
				   "'incremental' is only supported by dataset \"activity\" (the "
				   "other contracts do not allow merging reads)");
	en = config_get_bool(L, g, "enabled", false, &inc->enabled);
	config_get_duration(L, g, "lookback", false, &inc->lookback);
	if (L->failed)
		return false;
	config_get_duration(L, g, "full_every", false, &inc->full_every);
	if (L->failed)
		return false;
	if (en && inc->enabled && !since)
		return config_fail(L, en,
				   "incremental reads need the activity query to bind since "
				   "(params = [\"since\", ...])");
	return true;
}

static bool load_datasets(struct config_reader *L, const config_setting_t *root)
{
	static const char *const keys[] = {"source",  "params",	     "query",
					   "max_age", "incremental", NULL};
	struct cs_config *cfg = L->cfg;
	const config_setting_t *g = config_get_group(L, root, "datasets", true, dataset_names);

	if (!g)
		return false;
	if (!lookup(L, g, "accounts", true))
		return false;
	for (int d = 0; d < DS_COUNT; d++) {
		const config_setting_t *ds = config_get_group(L, g, dataset_names[d], false, keys);

		if (!ds) {
			if (L->failed)
				return false;
			continue;
		}
		if (!load_query(L, ds, &cfg->datasets[d], PARAM_SINCE + 1,
				"datasets accept as_of and since"))
			return false;
		/* "none": no max age, even for a dataset that has one by default */
		const config_setting_t *ma = config_setting_get_member(ds, "max_age");
		const char *mas = ma ? config_setting_get_string(ma) : NULL;
		if (mas && !strcmp(mas, "none"))
			cfg->max_age[d] = 0;
		else
			config_get_duration(L, ds, "max_age", false, &cfg->max_age[d]);
		if (L->failed || !load_incremental(L, ds, d))
			return false;
		cfg->has_dataset[d] = true;
	}
	return true;
}

static bool load_outcomes(struct config_reader *L, const config_setting_t *root)
{
	static const char *const keys[] = {
	    "name", "source", "target", "direction", "params", "query", NULL,
	};
	struct cs_config *cfg = L->cfg;
	const config_setting_t *list = config_get_group_list(L, root, "outcomes", false);
	int n;

	if (!list)
		return !L->failed;
	n = config_setting_length(list);
	cfg->outcomes = xcalloc((size_t)n, sizeof(*cfg->outcomes));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *s;
		struct cs_outcome *o = &cfg->outcomes[cfg->noutcomes];
		const char *name, *dir = NULL;

		o->line = config_setting_source_line(g);
		if (!check_keys(L, g, keys))
			return false;
		s = config_get_string(L, g, "name", true, &name);
		if (!s)
			return false;
		if (!valid_label_value(name, MAX_NAME))
			return config_fail(
			    L, s,
			    "outcome name \"%s\" must be 1 to %d bytes of UTF-8 without "
			    "control characters",
			    name, MAX_NAME);
		/* Rejected rows are counted under dataset="<outcome name>". */
		for (int d = 0; d < DS_COUNT; d++)
			if (strcmp(name, dataset_names[d]) == 0)
				return config_fail(
				    L, s, "outcome name '%s' is already a dataset name", name);
		for (size_t j = 0; j < cfg->noutcomes; j++)
			if (strcmp(cfg->outcomes[j].name, name) == 0)
				return config_fail(
				    L, s, "duplicate outcome name '%s' (first defined at line %d)",
				    name, cfg->outcomes[j].line);
		o->name = xstrdup(name);
		cfg->noutcomes++;
		if (!config_get_number(L, g, "target", true, &o->target))
			return false;
		o->direction = OUTCOME_AT_LEAST;
		s = config_get_string(L, g, "direction", false, &dir);
		if (L->failed)
			return false;
		if (s && strcmp(dir, "at_most") == 0)
			o->direction = OUTCOME_AT_MOST;
		else if (s && strcmp(dir, "at_least") != 0)
			return config_fail(L, s, "'direction' must be at_least or at_most");
		if (!load_query(L, g, &o->query, PARAM_WINDOW_END + 1,
				"outcomes accept as_of, since, window_start and window_end"))
			return false;
	}
	return true;
}

/* A collector's kind is kept as written: the kind table (collectors/kinds.h)
 * knows what kinds exist and what each needs, and checks it after loading. */
static bool load_collector(struct config_reader *L, const config_setting_t *g,
			   struct cs_collector *c)
{
	static const char *const keys[] = {"name", "kind", "interval", "timeout", "windows", NULL};
	struct cs_config *cfg = L->cfg;
	const config_setting_t *s, *ks, *ws;
	const char *name = NULL, *kind;
	bool timeout_set;

	c->line = config_setting_source_line(g);
	if (!check_keys(L, g, keys))
		return false;
	ks = config_get_string(L, g, "kind", true, &kind);
	if (!ks)
		return false;
	c->kind = xstrdup(kind);
	c->kind_line = config_setting_source_line(ks);
	/* The name defaults to the kind, which is unique anyway. */
	s = config_get_string(L, g, "name", false, &name);
	if (L->failed)
		return false;
	if (!s) {
		name = kind;
		s = ks;
	}
	if (!valid_name(name))
		return config_fail(
		    L, s, "collector name '%s' must be 1 to %d letters, digits, '_', '-' or '.'",
		    name, MAX_NAME);
	for (const struct cs_collector *o = cfg->collectors; o < c; o++)
		if (strcmp(o->name, name) == 0)
			return config_fail(
			    L, s, "duplicate collector name '%s' (first defined at line %d)", name,
			    o->line);
	c->name = xstrdup(name);

	c->interval = DEFAULT_INTERVAL;
	config_get_duration(L, g, "interval", false, &c->interval);
	timeout_set = config_get_duration(L, g, "timeout", false, &c->timeout) != NULL;
	if (L->failed)
		return false;
	/* A short interval with the default timeout should not let runs overlap. */
	if (!timeout_set)
		c->timeout = c->interval < DEFAULT_TIMEOUT ? c->interval : DEFAULT_TIMEOUT;

	ws = config_get_strings(L, g, "windows", false, CS_MAX_WINDOWS);
	if (L->failed)
		return false;
	if (ws)
		return config_windows(L, ws, "windows", c->windows, &c->nwindows);
	c->nwindows = cfg->nwindows;
	memcpy(c->windows, cfg->windows, sizeof(c->windows));
	return true;
}

static bool load_collectors(struct config_reader *L, const config_setting_t *root)
{
	struct cs_config *cfg = L->cfg;
	const config_setting_t *list = config_get_group_list(L, root, "collectors", true);
	int n;

	if (!list)
		return false;
	n = config_setting_length(list);
	if (n == 0)
		return config_fail(L, list, "'collectors' must list at least one collector");
	cfg->collectors = xcalloc((size_t)n, sizeof(*cfg->collectors));
	for (int i = 0; i < n; i++) {
		cfg->ncollectors++;
		if (!load_collector(L, config_setting_get_elem(list, (unsigned)i),
				    &cfg->collectors[i]))
			return false;
	}
	return true;
}

static bool load_web(struct config_reader *L, const config_setting_t *root)
{
	static const char *const keys[] = {
	    "listen_addresses", "telemetry_path",      "config_file", "enable_reload",
	    "stale_after",	"expected_rejections", NULL,
	};
	struct cs_web *w = &L->cfg->web;
	const config_setting_t *g = config_get_group(L, root, "web", false, keys), *s, *list = NULL;
	const config_setting_t *expected = NULL;
	const char *path = "/metrics", *file = NULL;
	int64_t longest = 0;
	int n;

	for (size_t i = 0; i < L->cfg->ncollectors; i++)
		if (L->cfg->collectors[i].interval > longest)
			longest = L->cfg->collectors[i].interval;
	w->stale_after = 3 * longest;
	if (g) {
		list = config_get_strings(L, g, "listen_addresses", false, 64);
		if (list && config_setting_length(list) == 0)
			return config_fail(L, list,
					   "'listen_addresses' must list at least one address");
		for (int i = 0; list && i < config_setting_length(list); i++)
			if (!valid_listen(elem_string(list, i)))
				return config_fail(
				    L, config_setting_get_elem(list, (unsigned)i),
				    "listen address \"%s\" must be host:port, [v6]:port or "
				    ":port",
				    elem_string(list, i));
		s = config_get_string(L, g, "telemetry_path", false, &path);
		if (s && (path[0] != '/' || strpbrk(path, " \t\r\n?#")))
			return config_fail(
			    L, s,
			    "'telemetry_path' must start with '/' and contain no spaces, "
			    "'?' or '#'");
		s = config_get_string(L, g, "config_file", false, &file);
		if (s && !*file)
			return config_fail(L, s, "'config_file' must not be empty");
		config_get_bool(L, g, "enable_reload", false, &w->enable_reload_endpoint);
		s = config_get_duration(L, g, "stale_after", false, &w->stale_after);
		if (s && w->stale_after < longest)
			return config_fail(
			    L, s,
			    "'stale_after' must be at least the longest collector interval "
			    "(%lld seconds)",
			    (long long)longest);
		expected = config_get_strings(L, g, "expected_rejections", false, 64);
		for (int i = 0; expected && i < config_setting_length(expected); i++) {
			const char *e = elem_string(expected, i), *slash = strchr(e, '/');

			if (!slash || slash == e || !slash[1] || strchr(slash + 1, '/'))
				return config_fail(L,
						   config_setting_get_elem(expected, (unsigned)i),
						   "expected rejection \"%s\" must be "
						   "\"dataset/reason\"",
						   e);
		}
		if (L->failed)
			return false;
	}
	if (expected) {
		n = config_setting_length(expected);
		w->expected_rejections = xcalloc((size_t)n + 1, sizeof(*w->expected_rejections));
		for (int i = 0; i < n; i++)
			w->expected_rejections[w->nexpected++] = xstrdup(elem_string(expected, i));
	}
	if (list) {
		n = config_setting_length(list);
		w->listen = xcalloc((size_t)n, sizeof(*w->listen));
		for (int i = 0; i < n; i++)
			w->listen[w->nlisten++] = xstrdup(elem_string(list, i));
	} else {
		w->listen = xcalloc(1, sizeof(*w->listen));
		w->listen[w->nlisten++] = xstrdup(":9818");
	}
	w->telemetry_path = xstrdup(path);
	if (file)
		w->config_file = resolve_path(L, file);
	return true;
}

static void set_defaults(struct cs_config *cfg)
{
	cfg->max_segments = 500;
	memcpy(cfg->currency, "USD", 4);
	cfg->gross_margin = 1.0;
	/* Only activity has a max age by default: a company with users uses its
	 * product every week, while a healthy small one may sign no account,
	 * change no plan and get no survey or ticket for weeks, which is no
	 * reason to page (docs/datasets.md, "Freshness"). */
	cfg->max_age[DS_ACTIVITY] = 7 * 86400;
	cfg->nwindows = 2;
	cfg->windows[0].seconds = 30 * 86400;
	memcpy(cfg->windows[0].label, "30d", 4);
	cfg->windows[1].seconds = 90 * 86400;
	memcpy(cfg->windows[1].label, "90d", 4);
}

/* The top-level settings config reads itself; groups adds the ones its
 * caller reads from the tree (config_root). */
static bool check_root_keys(struct config_reader *L, const config_setting_t *root,
			    const char *const *groups)
{
	static const char *const keys[] = {
	    "sources",	"segments", "reporting",  "windows", "features",
	    "datasets", "outcomes", "collectors", "web",     NULL,
	};
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);

		if (name && !in_list(name, keys) && !(groups && in_list(name, groups)))
			return config_fail(L, s, "unknown setting '%s'", name);
	}
	return true;
}

static bool load_root(struct config_reader *L, const config_setting_t *root,
		      const char *const *groups)
{
	const config_setting_t *w;

	if (!check_root_keys(L, root, groups) || !load_sources(L, root) ||
	    !load_segments(L, root) || !load_reporting(L, root))
		return false;
	w = config_get_strings(L, root, "windows", false, CS_MAX_WINDOWS);
	if (L->failed)
		return false;
	if (w && !config_windows(L, w, "windows", L->cfg->windows, &L->cfg->nwindows))
		return false;
	return load_features(L, root) && load_datasets(L, root) && load_outcomes(L, root) &&
	       load_collectors(L, root) && load_web(L, root);
}

/* The parsed tree written back by libconfig: includes expanded, comments
 * and layout gone, so that two loads of the same settings compare equal. */
static char *canonical_text(config_t *lc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return xstrdup("");
	config_write(lc, mem);
	fclose(mem);
	return text ? text : xstrdup("");
}

bool config_same(const struct cs_config *a, const struct cs_config *b)
{
	return a && b && a->canonical && b->canonical && strcmp(a->canonical, b->canonical) == 0;
}

struct cs_config *config_load(const char *path, const char *const *groups, char *err, size_t errlen)
{
	struct config_reader L = {.path = path, .err = err, .errlen = errlen};
	const char *slash = strrchr(path, '/');
	struct cs_config *cfg;
	config_t *lc;
	struct stat st;
	FILE *f;
	bool ok;

	/* libconfig reports only "file I/O error"; say which and why ourselves. */
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: could not open configuration file: %s", path,
			 strerror(f ? EISDIR : errno));
		if (f)
			fclose(f);
		write_err(err, errlen, msg);
		return NULL;
	}
	fclose(f);

	if (slash)
		L.dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	lc = xcalloc(1, sizeof(*lc));
	config_init(lc);
	/* @include paths are relative to the including file's directory. */
	if (L.dir)
		config_set_include_dir(lc, L.dir);
	if (!config_read_file(lc, path)) {
		struct buf b = BUF_INIT;
		const char *text = config_error_text(lc);

		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			buf_addf(&b, "%s: could not read configuration file: %s", path,
				 text ? text : "I/O error");
		else {
			char m[1024];
			config_format_parse_error(
			    config_error_file(lc) ? config_error_file(lc) : path,
			    config_error_line(lc), text ? text : "syntax error", L.dir, m,
			    sizeof(m));
			buf_adds(&b, m);
		}
		write_err(err, errlen, b.data);
		buf_release(&b);
		config_destroy(lc);
		free(lc);
		free(L.dir);
		return NULL;
	}

	cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	cfg->tree = lc;
	set_defaults(cfg);
	L.cfg = cfg;
	ok = load_root(&L, config_root_setting(lc), groups);
	if (ok)
		cfg->canonical = canonical_text(lc);
	free(L.dir);
	if (!ok) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

const struct config_setting_t *config_root(const struct cs_config *cfg)
{
	return cfg && cfg->tree ? config_root_setting((const config_t *)cfg->tree) : NULL;
}

void config_reader_init(struct config_reader *r, struct cs_config *cfg, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->path = cfg->path;
	r->err = err;
	r->errlen = errlen;
	r->cfg = cfg;
}

static void free_query(struct cs_query *q)
{
	free(q->sql);
}

void config_free(struct cs_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->canonical);
	for (size_t i = 0; i < cfg->nsources; i++) {
		free(cfg->sources[i].name);
		free(cfg->sources[i].conninfo);
		free(cfg->sources[i].password_file);
		free(cfg->sources[i].password_env);
	}
	free(cfg->sources);
	for (size_t i = 0; i < cfg->ndims; i++)
		free(cfg->dims[i]);
	free(cfg->rates);
	for (size_t i = 0; i < cfg->nfeatures; i++)
		free(cfg->features[i]);
	for (int d = 0; d < DS_COUNT; d++)
		free_query(&cfg->datasets[d]);
	for (size_t i = 0; i < cfg->noutcomes; i++) {
		free(cfg->outcomes[i].name);
		free_query(&cfg->outcomes[i].query);
	}
	free(cfg->outcomes);
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		free(cfg->collectors[i].name);
		free(cfg->collectors[i].kind);
	}
	free(cfg->collectors);
	for (size_t i = 0; i < cfg->web.nlisten; i++)
		free(cfg->web.listen[i]);
	free(cfg->web.listen);
	free(cfg->web.telemetry_path);
	free(cfg->web.config_file);
	for (size_t i = 0; i < cfg->web.nexpected; i++)
		free(cfg->web.expected_rejections[i]);
	free(cfg->web.expected_rejections);
	if (cfg->kinds_free)
		cfg->kinds_free(cfg->kinds);
	if (cfg->tree) {
		config_destroy(cfg->tree);
		free(cfg->tree);
	}
	free(cfg);
}

void config_format_parse_error(const char *file, int line, const char *text, const char *dir,
			       char *out, size_t outlen)
{
	char name[512] = "";
	if (text && strcmp(text, "cannot open include file") == 0) {
		/* libconfig names the including file as given; a relative one
		 * is found through dir, like the include itself. */
		char p[1024];
		if (file[0] != '/' && dir && access(file, R_OK) != 0)
			snprintf(p, sizeof(p), "%s/%s", dir, file);
		else
			snprintf(p, sizeof(p), "%s", file);
		FILE *f = fopen(p, "r");
		char l[1024];
		for (int n = 1; f && fgets(l, sizeof(l), f); n++) {
			if (n != line)
				continue;
			char *q = strstr(l, "@include");
			char *a = q ? strchr(q, '"') : NULL;
			char *e = a ? strchr(a + 1, '"') : NULL;
			if (e)
				snprintf(name, sizeof(name), "%.*s", (int)(e - a - 1), a + 1);
			break;
		}
		if (f)
			fclose(f);
	}
	if (name[0])
		snprintf(out, outlen, "%s:%d: cannot open include file \"%s\"%s%s", file, line,
			 name, name[0] != '/' && dir ? " in " : "",
			 name[0] != '/' && dir ? dir : "");
	else
		snprintf(out, outlen, "%s:%d: %s", file, line, text);
}

char *config_source_password(const struct cs_source *src, bool *failed, char *err, size_t errlen)
{
	char msg[512];

	*failed = false;
	if (src->password_file) {
		struct buf b = BUF_INIT;
		char chunk[512];
		size_t n;
		/* O_NONBLOCK: a FIFO named by mistake must not hang the open
		 * (and with it the collector, readiness and a stop). */
		int fd = open(src->password_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		struct stat st;

		if (fd < 0) {
			snprintf(msg, sizeof(msg),
				 "source '%s': could not open password file \"%s\": %s", src->name,
				 src->password_file, strerror(errno));
			goto fail;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(msg, sizeof(msg),
				 "source '%s': password file \"%s\" is not a regular file",
				 src->name, src->password_file);
			close(fd);
			goto fail;
		}
		FILE *f = fdopen(fd, "r");
		if (!f) {
			snprintf(msg, sizeof(msg),
				 "source '%s': could not open password file \"%s\": %s", src->name,
				 src->password_file, strerror(errno));
			close(fd);
			goto fail;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= MAX_PASSWORD)
			buf_add(&b, chunk, n);
		if (ferror(f)) {
			snprintf(msg, sizeof(msg),
				 "source '%s': could not read password file \"%s\": %s", src->name,
				 src->password_file, strerror(errno));
			fclose(f);
			buf_release(&b);
			goto fail;
		}
		fclose(f);
		/* Editors add a final newline; it is never part of the password. */
		if (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		if (b.len && b.data[b.len - 1] == '\r')
			b.data[--b.len] = '\0';
		if (b.len == 0 || b.len > MAX_PASSWORD || memchr(b.data, '\0', b.len)) {
			snprintf(msg, sizeof(msg),
				 "source '%s': password file \"%s\" must hold one password of 1 to "
				 "%d bytes",
				 src->name, src->password_file, MAX_PASSWORD);
			/* Do not leave the secret lying around in freed memory. */
			if (b.data)
				memset(b.data, 0, b.cap);
			buf_release(&b);
			goto fail;
		}
		return buf_detach(&b, NULL);
	}
	if (src->password_env) {
		const char *v = getenv(src->password_env);

		if (!v || !*v) {
			snprintf(msg, sizeof(msg),
				 "source '%s': environment variable %s is not set or empty",
				 src->name, src->password_env);
			goto fail;
		}
		return xstrdup(v);
	}
	return NULL;
fail:
	*failed = true;
	write_err(err, errlen, msg);
	return NULL;
}
