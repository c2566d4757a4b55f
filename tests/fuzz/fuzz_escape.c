/*
 * Label and HELP escaping through a full render in both formats. The input
 * is split at NUL bytes into two label values and a HELP text. Checks that
 * every line of the output is well formed (no raw newline or quote inside a
 * label value, only known escapes, no raw control character), that the
 * output is valid UTF-8, and that every label value, valid UTF-8 or not,
 * reads back to its exact bytes (so two values never render the same).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/expo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/*
 * Parses a quoted label value at *p (after the opening quote), unescapes it
 * into out and leaves *p after the closing quote. Aborts on a raw newline or
 * an unknown escape.
 */
static void parse_value(const char **p, struct buf *out)
{
	const char *s = *p;
	for (;;) {
		char c = *s++;
		if (c == '\n' || c == '\0')
			abort();
		if (c == '"')
			break;
		if (c == '\\') {
			char e = *s++;
			if (e == 'n')
				buf_addch(out, '\n');
			else if (e == '\\' || e == '"')
				buf_addch(out, e);
			else
				abort();
		} else {
			buf_addch(out, c);
		}
	}
	*p = s;
}

/* Undoes the lossless mapping: Control Pictures U+2400-U+2421 back to the
 * controls, U+F780-U+F7FF back to raw bytes. */
static void unmap(const struct buf *in, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)(in->data ? in->data : "");
	const unsigned char *end = p + in->len;
	while (p < end) {
		if (end - p >= 3 && p[0] == 0xE2 && p[1] == 0x90 && p[2] >= 0x80 && p[2] <= 0xA1) {
			buf_addch(out, p[2] == 0xA1 ? 0x7F : (char)(p[2] - 0x80));
			p += 3;
		} else if (end - p >= 3 && p[0] == 0xEF && (p[1] == 0x9E || p[1] == 0x9F)) {
			buf_addch(out, (char)(0x80 + (p[1] - 0x9E) * 0x40 + (p[2] - 0x80)));
			p += 3;
		} else {
			buf_addch(out, (char)*p++);
		}
	}
}

static void check_output(const struct buf *o, enum expo_format fmt, const char *const *vals,
			 size_t nvals)
{
	if (!valid_utf8((const unsigned char *)o->data, o->len))
		abort();
	size_t seen = 0;
	struct buf v = BUF_INIT, raw = BUF_INIT;
	for (const char *line = o->data; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			abort(); /* every line ends with a newline */
		if (line[0] == '#') {
			/* HELP text: only \\, \n (and \" in OpenMetrics) escapes */
			for (const char *c = line; c < end; c++) {
				if (*c == '"' && fmt == EXPO_OPENMETRICS &&
				    strncmp(line, "# HELP", 6) == 0)
					abort();
				if (*c == '\\') {
					c++;
					if (*c != '\\' && *c != 'n' &&
					    !(*c == '"' && fmt == EXPO_OPENMETRICS))
						abort();
				}
			}
		} else {
			for (const char *c = line; c < end; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7F)
					abort(); /* a raw control character */
			const char *p = line;
			while (*p == '_' || (*p >= 'a' && *p <= 'z'))
				p++;
			if (*p == '{') {
				p++;
				while (*p != '}') {
					while (*p == '_' || (*p >= 'a' && *p <= 'z'))
						p++;
					if (p[0] != '=' || p[1] != '"')
						abort();
					p += 2;
					buf_reset(&v);
					parse_value(&p, &v);
					buf_reset(&raw);
					unmap(&v, &raw);
					const char *got = raw.data ? raw.data : "";
					/* the first two label values carry the fuzz input */
					if (seen < nvals && (raw.len != strlen(vals[seen]) ||
							     memcmp(got, vals[seen], raw.len) != 0))
						abort();
					seen++;
					if (*p == ',')
						p++;
					else if (*p != '}')
						abort();
				}
				p++;
			}
			if (*p != ' ')
				abort();
			if (strchr(p + 1, ' ') && strchr(p + 1, ' ') < end)
				abort();
		}
		line = end + 1;
	}
	buf_release(&v);
	buf_release(&raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* three NUL-separated strings; missing ones are empty */
	char *copy = malloc(size + 3);
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = copy[size + 2] = '\0';
	const char *parts[3];
	const char *p = copy;
	for (int i = 0; i < 3; i++) {
		parts[i] = p;
		p += strlen(p);
		if (p < copy + size)
			p++;
	}

	struct mset *m = mset_new();
	const char *names[] = {"account", "name"};
	const char *vals[] = {parts[0], parts[1]};
	struct family *f = mset_family(m, "cs_at_risk_account_score", METRIC_GAUGE, parts[2], NULL);
	double v = size ? (double)data[0] / 7.0 : NAN;
	family_add(f, 2, names, vals, v);
	double bounds[] = {10, 50, INFINITY};
	uint64_t cum[] = {1, 2, 3};
	struct family *h = mset_family(m, "cs_health_score", METRIC_GAUGEHISTOGRAM, parts[2], NULL);
	family_add_histogram(h, 1, names + 1, vals + 1, 3, bounds, cum, v);

	double got;
	if (mset_lookup(m, "cs_at_risk_account_score", 2, names, vals, &got) != 0)
		abort();
	if (mset_lookup(m, "cs_health_score_gcount", 1, names + 1, vals + 1, &got) != 0 || got != 3)
		abort();

	const struct mset *sets[] = {m};
	for (int fmt = 0; fmt < 2; fmt++) {
		struct buf out = BUF_INIT;
		expo_render(sets, 1, (enum expo_format)fmt, &out);
		check_output(&out, (enum expo_format)fmt, vals, 2);
		buf_release(&out);
	}

	/* the number formatter must round-trip any 8 bytes taken as a double */
	if (size >= 8) {
		double d;
		memcpy(&d, data, sizeof(d));
		char num[40];
		expo_format_double(num, d);
		double back = strtod(num, NULL);
		if (!(isnan(d) ? isnan(back) : back == d))
			abort();
	}
	mset_free(m);
	free(copy);
	return 0;
}
