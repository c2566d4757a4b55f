#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_LOGFMT;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			min_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_set_format(const char *name)
{
	if (strcmp(name, "logfmt") == 0)
		format = LOG_LOGFMT;
	else if (strcmp(name, "json") == 0)
		format = LOG_JSON;
	else
		return -1;
	return 0;
}

static void add_json_string(struct buf *b, const char *s)
{
	buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf_addch(b, '\\');
			buf_addch(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c < 0x20) {
			buf_addf(b, "\\u%04x", c);
		} else {
			buf_addch(b, (char)c);
		}
	}
	buf_addch(b, '"');
}

static void add_logfmt_value(struct buf *b, const char *s)
{
	if (*s && strpbrk(s, " =\"\\\n\t") == NULL) {
		buf_adds(b, s);
		return;
	}
	/* logfmt quoting follows JSON string escaping, as go-kit's logger does. */
	add_json_string(b, s);
}

static void add_pair(struct buf *b, const char *key, const char *value)
{
	if (format == LOG_JSON) {
		buf_addch(b, ',');
		add_json_string(b, key);
		buf_addch(b, ':');
		add_json_string(b, value);
	} else {
		buf_addch(b, ' ');
		buf_adds(b, key);
		buf_addch(b, '=');
		add_logfmt_value(b, value);
	}
}

void logx(enum log_level level, const char *msg, ...)
{
	if (level < min_level)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	struct buf b = BUF_INIT;
	if (format == LOG_JSON) {
		buf_adds(&b, "{\"ts\":\"");
		buf_adds(&b, when);
		buf_addch(&b, '"');
	} else {
		buf_adds(&b, "ts=");
		buf_adds(&b, when);
	}
	add_pair(&b, "level", level_names[level]);
	add_pair(&b, "msg", msg);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *key = va_arg(ap, const char *);
		if (!key)
			break;
		const char *value = va_arg(ap, const char *);
		add_pair(&b, key, value ? value : "");
	}
	va_end(ap);
	if (format == LOG_JSON)
		buf_addch(&b, '}');
	buf_addch(&b, '\n');
	ssize_t w = write(STDERR_FILENO, b.data, b.len);
	(void)w;
	buf_release(&b);
}
