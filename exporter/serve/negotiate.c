/*
 * negotiate: Accept / Accept-Encoding parsing (RFC 9110 section 12) and gzip.
 *
 * The parser is deliberately forgiving at the list level and strict inside
 * an element: a malformed element (bad token, bad q-value) is skipped on its
 * own, so one odd entry from a proxy does not throw away the rest.
 */
#include "negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static size_t token_len(const char *p, const char *end)
{
	size_t n = 0;
	while (p + n < end && is_tchar((unsigned char)p[n]))
		n++;
	return n;
}

static bool tok_eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* End of the list element starting at p: the next comma outside quotes. */
static const char *element_end(const char *p)
{
	bool quoted = false;
	for (; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == ',') {
			break;
		}
	}
	return p;
}

/*
 * RFC 9110 qvalue: "0" ["." 0-3 digits] or "1" ["." 0-3 zeros]. Returns the
 * value in thousandths, or -1 when malformed.
 */
static int parse_qvalue(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	int v = (p[0] - '0') * 1000;
	if (n == 1)
		return v;
	if (p[1] != '.' || n > 5)
		return -1;
	int scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v += (p[i] - '0') * scale;
	}
	return v > 1000 ? -1 : v;
}

struct param_cb {
	/* Called per parameter; value is unquoted into a small buffer. */
	bool (*fn)(void *ctx, const char *name, size_t nlen, const char *val, size_t vlen);
	void *ctx;
};

/* Parses *( OWS ";" OWS name "=" value ) up to end. Returns false if malformed. */
static bool parse_params(const char *p, const char *end, const struct param_cb *cb)
{
	char val[64];
	for (;;) {
		p = skip_ows(p, end);
		if (p == end)
			return true;
		if (*p != ';')
			return false;
		p = skip_ows(p + 1, end);
		if (p == end)
			return true; /* tolerate a trailing ";" */
		size_t nlen = token_len(p, end);
		if (!nlen)
			return false;
		const char *name = p;
		p = skip_ows(p + nlen, end);
		if (p == end || *p != '=')
			return false;
		p = skip_ows(p + 1, end);
		size_t vlen = 0;
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (vlen + 1 >= sizeof(val))
					return false;
				val[vlen++] = *p++;
			}
			if (p == end)
				return false;
			p++;
		} else {
			vlen = token_len(p, end);
			if (!vlen || vlen >= sizeof(val))
				return false;
			memcpy(val, p, vlen);
			p += vlen;
		}
		val[vlen] = '\0';
		if (!cb->fn(cb->ctx, name, nlen, val, vlen))
			return false;
	}
}

/* ---- Accept ---------------------------------------------------------- */

struct range_params {
	int q; /* thousandths */
	bool has_version;
	char version[16];
	bool after_q; /* accept-ext after the weight: ignored */
};

static bool range_param(void *ctx, const char *name, size_t nlen, const char *val, size_t vlen)
{
	struct range_params *r = ctx;
	if (r->after_q)
		return true;
	if (tok_eq(name, nlen, "q")) {
		r->q = parse_qvalue(val, vlen);
		r->after_q = true;
		return r->q >= 0;
	}
	if (tok_eq(name, nlen, "version")) {
		r->has_version = true;
		if (vlen >= sizeof(r->version))
			vlen = sizeof(r->version) - 1;
		memcpy(r->version, val, vlen);
		r->version[vlen] = '\0';
	}
	return true;
}

/* Per format: the q of the most specific matching range seen so far. */
struct choice {
	int spec; /* -1: no range matched yet */
	int q;
};

static void consider(struct choice *c, int spec, int q)
{
	if (spec > c->spec) {
		c->spec = spec;
		c->q = q;
	} else if (spec == c->spec && q > c->q) {
		c->q = q;
	}
}

enum expo_format negotiate_format(const char *accept)
{
	struct choice om = {-1, 0}, text = {-1, 0};
	if (!accept)
		return EXPO_TEXT;
	const char *p = accept;
	while (*p) {
		const char *end = element_end(p);
		const char *s = skip_ows(p, end);
		p = *end ? end + 1 : end;

		size_t tlen = token_len(s, end);
		if (!tlen || s + tlen >= end || s[tlen] != '/')
			continue;
		const char *sub = s + tlen + 1;
		size_t slen = token_len(sub, end);
		if (!slen)
			continue;
		struct range_params rp = {.q = 1000};
		struct param_cb cb = {range_param, &rp};
		if (!parse_params(sub + slen, end, &cb))
			continue;

		bool star_type = tok_eq(s, tlen, "*"), star_sub = tok_eq(sub, slen, "*");
		if (star_type && star_sub) {
			consider(&om, 0, rp.q);
			consider(&text, 0, rp.q);
		} else if (star_type) {
			continue; /* "*" / subtype is not a valid media range */
		} else if (tok_eq(s, tlen, "text") && star_sub) {
			consider(&text, 1, rp.q);
		} else if (tok_eq(s, tlen, "application") && star_sub) {
			consider(&om, 1, rp.q);
		} else if (tok_eq(s, tlen, "text") && tok_eq(sub, slen, "plain")) {
			if (!rp.has_version)
				consider(&text, 2, rp.q);
			else if (strcmp(rp.version, "0.0.4") == 0)
				consider(&text, 3, rp.q);
		} else if (tok_eq(s, tlen, "application") &&
			   tok_eq(sub, slen, "openmetrics-text")) {
			if (!rp.has_version)
				consider(&om, 2, rp.q);
			else if (strcmp(rp.version, "1.0.0") == 0 ||
				 strcmp(rp.version, "0.0.1") == 0)
				consider(&om, 3, rp.q);
		}
	}
	int qo = om.spec >= 0 ? om.q : 0, qt = text.spec >= 0 ? text.q : 0;
	if (qo <= 0)
		return EXPO_TEXT;
	if (qo > qt)
		return EXPO_OPENMETRICS;
	if (qo == qt && om.spec >= 2)
		return EXPO_OPENMETRICS;
	return EXPO_TEXT;
}

const char *negotiate_content_type(enum expo_format fmt)
{
	if (fmt == EXPO_OPENMETRICS)
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	return "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- Accept-Encoding ------------------------------------------------- */

struct coding_params {
	int q;
	bool seen_q;
};

static bool coding_param(void *ctx, const char *name, size_t nlen, const char *val, size_t vlen)
{
	struct coding_params *c = ctx;
	if (!c->seen_q && tok_eq(name, nlen, "q")) {
		c->seen_q = true;
		c->q = parse_qvalue(val, vlen);
		return c->q >= 0;
	}
	return true;
}

bool negotiate_gzip(const char *accept_encoding)
{
	int qgzip = -1, qstar = -1;
	if (!accept_encoding)
		return false;
	const char *p = accept_encoding;
	while (*p) {
		const char *end = element_end(p);
		const char *s = skip_ows(p, end);
		p = *end ? end + 1 : end;
		size_t n = token_len(s, end);
		if (!n)
			continue;
		struct coding_params cp = {1000, false};
		struct param_cb cb = {coding_param, &cp};
		if (!parse_params(s + n, end, &cb))
			continue;
		if (tok_eq(s, n, "gzip") || tok_eq(s, n, "x-gzip")) {
			/* listed twice: the lower q is the client's real limit */
			qgzip = qgzip < 0 ? cp.q : (cp.q < qgzip ? cp.q : qgzip);
		} else if (tok_eq(s, n, "*")) {
			qstar = cp.q;
		}
	}
	if (qgzip >= 0)
		return qgzip > 0;
	return qstar > 0;
}
