/*
 * expo: metric sets and their text / OpenMetrics rendering.
 *
 * Storage is built for renders of up to a million series without a malloc per
 * sample: every distinct string of a set (label names and escaped label
 * values, which repeat a lot: plan="pro", window="30d") is interned once in a
 * per-set arena, and a sample is a fixed-size record pointing at a run of
 * (name id, value id) pairs. Label values are escaped when they are added, so
 * rendering is mostly memcpy; only numbers are formatted per render.
 *
 * Both formats require UTF-8, and one bad byte from a database column must
 * not make Prometheus reject the whole scrape. In HELP text invalid UTF-8 is
 * replaced by U+FFFD. Label values are escaped losslessly instead, so two
 * different values never become one series (see escape_label_value).
 */
#include "expo.h"
#include "hash.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string interning ------------------------------------------------ */

struct strtab {
	struct buf arena; /* NUL-separated strings */
	uint32_t *off;
	uint32_t *len;
	size_t n, cap;
	uint32_t *slots; /* open addressing; 0 = empty, else id + 1 */
	size_t nslots;
};

static const char *strtab_str(const struct strtab *t, uint32_t id)
{
	return t->arena.data + t->off[id];
}

static void strtab_rehash(struct strtab *t, size_t nslots)
{
	free(t->slots);
	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->nslots = nslots;
	for (size_t id = 0; id < t->n; id++) {
		size_t i = hash_fnv1a(strtab_str(t, (uint32_t)id), t->len[id]) & (nslots - 1);
		while (t->slots[i])
			i = (i + 1) & (nslots - 1);
		t->slots[i] = (uint32_t)id + 1;
	}
}

/* Returns the slot index where s is or would be. */
static size_t strtab_probe(const struct strtab *t, const char *s, size_t n)
{
	size_t i = hash_fnv1a(s, n) & (t->nslots - 1);
	for (;;) {
		uint32_t v = t->slots[i];
		if (!v)
			return i;
		if (t->len[v - 1] == n && memcmp(strtab_str(t, v - 1), s, n) == 0)
			return i;
		i = (i + 1) & (t->nslots - 1);
	}
}

static long strtab_find(const struct strtab *t, const char *s, size_t n)
{
	if (!t->nslots)
		return -1;
	uint32_t v = t->slots[strtab_probe(t, s, n)];
	return v ? (long)(v - 1) : -1;
}

static uint32_t strtab_intern(struct strtab *t, const char *s, size_t n)
{
	if ((t->n + 1) * 2 > t->nslots)
		strtab_rehash(t, t->nslots ? t->nslots * 2 : 64);
	size_t i = strtab_probe(t, s, n);
	if (t->slots[i])
		return t->slots[i] - 1;
	if (t->arena.len + n + 1 > UINT32_MAX) {
		fprintf(stderr, "fatal: metric set string arena exceeds 4 GiB\n");
		abort();
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->off = xrealloc(t->off, t->cap * sizeof(*t->off));
		t->len = xrealloc(t->len, t->cap * sizeof(*t->len));
	}
	t->off[t->n] = (uint32_t)t->arena.len;
	t->len[t->n] = (uint32_t)n;
	buf_add(&t->arena, s, n);
	buf_addch(&t->arena, '\0');
	t->slots[i] = (uint32_t)t->n + 1;
	return (uint32_t)t->n++;
}

static void strtab_release(struct strtab *t)
{
	buf_release(&t->arena);
	free(t->off);
	free(t->len);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- sets and families ----------------------------------------------- */

#define NO_HIST UINT32_MAX

struct sample {
	double value;	/* gsum for a histogram */
	uint32_t pairs; /* index of the first (name, value) id pair */
	uint32_t npairs;
	uint32_t hist; /* index of the first bucket, or NO_HIST */
	uint32_t nbuckets;
};

struct family {
	struct mset *set;
	char *name;
	size_t namelen;
	enum metric_type type;
	char *help;
	char *unit;
	size_t order; /* creation order inside the set */

	struct sample *s;
	size_t ns, caps;
	uint32_t *pairs; /* name id, value id, name id, ... */
	size_t npairs, cappairs;
	uint32_t *le; /* string id of each bucket's formatted bound */
	uint64_t *count;
	size_t nb, capb;
};

struct mset {
	struct strtab strs;
	struct family **fam;
	size_t nfam, capfam;
	uint32_t *slots; /* family hash: 0 = empty, else index + 1 */
	size_t nslots;
	struct buf scratch;
};

struct mset *mset_new(void)
{
	return xcalloc(1, sizeof(struct mset));
}

static void family_free(struct family *f)
{
	free(f->name);
	free(f->help);
	free(f->unit);
	free(f->s);
	free(f->pairs);
	free(f->le);
	free(f->count);
	free(f);
}

void mset_free(struct mset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nfam; i++)
		family_free(set->fam[i]);
	free(set->fam);
	free(set->slots);
	strtab_release(&set->strs);
	buf_release(&set->scratch);
	free(set);
}

static size_t fam_probe(const struct mset *set, const char *name, size_t n)
{
	size_t i = hash_fnv1a(name, n) & (set->nslots - 1);
	for (;;) {
		uint32_t v = set->slots[i];
		if (!v)
			return i;
		const struct family *f = set->fam[v - 1];
		if (f->namelen == n && memcmp(f->name, name, n) == 0)
			return i;
		i = (i + 1) & (set->nslots - 1);
	}
}

static struct family *fam_find(const struct mset *set, const char *name, size_t n)
{
	if (!set->nslots)
		return NULL;
	uint32_t v = set->slots[fam_probe(set, name, n)];
	return v ? set->fam[v - 1] : NULL;
}

static void fam_rehash(struct mset *set, size_t nslots)
{
	free(set->slots);
	set->slots = xcalloc(nslots, sizeof(*set->slots));
	set->nslots = nslots;
	for (size_t k = 0; k < set->nfam; k++) {
		const struct family *f = set->fam[k];
		size_t i = hash_fnv1a(f->name, f->namelen) & (nslots - 1);
		while (set->slots[i])
			i = (i + 1) & (nslots - 1);
		set->slots[i] = (uint32_t)k + 1;
	}
}

struct family *mset_family(struct mset *set, const char *name, enum metric_type type,
			   const char *help, const char *unit)
{
	size_t n = strlen(name);
	struct family *f = fam_find(set, name, n);
	if (f)
		return f;
	if ((set->nfam + 1) * 2 > set->nslots)
		fam_rehash(set, set->nslots ? set->nslots * 2 : 32);
	f = xcalloc(1, sizeof(*f));
	f->set = set;
	f->name = xstrndup(name, n);
	f->namelen = n;
	f->type = type;
	f->help = help ? xstrdup(help) : NULL;
	f->unit = unit && *unit ? xstrdup(unit) : NULL;
	f->order = set->nfam;
	if (set->nfam == set->capfam) {
		set->capfam = set->capfam ? set->capfam * 2 : 16;
		set->fam = xrealloc(set->fam, set->capfam * sizeof(*set->fam));
	}
	set->fam[set->nfam] = f;
	set->slots[fam_probe(set, name, n)] = (uint32_t)set->nfam + 1;
	set->nfam++;
	return f;
}

/* ---- escaping -------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there
 * are not valid UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF count as invalid, as in RFC 3629).
 */
static size_t utf8_valid_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

enum {
	ESC_QUOTE = 1, /* escape double quote too */
};

static void escape(struct buf *out, const char *str, int flags)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;
	for (;;) {
		unsigned char c = *s;
		if (c == '\0')
			break;
		if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
			s++;
			continue;
		}
		const char *rep = NULL;
		size_t adv = 1;
		if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '"' && (flags & ESC_QUOTE))
			rep = "\\\"";
		else if (c >= 0x80) {
			/* NUL terminates, so reading s[1..3] never runs past the string. */
			adv = utf8_valid_len(s);
			if (!adv) {
				rep = "\xEF\xBF\xBD";
				adv = 1;
			}
		}
		if (!rep) {
			s += adv;
			continue;
		}
		buf_add(out, run, (size_t)(s - run));
		buf_adds(out, rep);
		s += adv;
		run = s;
	}
	buf_add(out, run, (size_t)(s - run));
}

/* Appends code point cp (< 0x10000) as UTF-8. */
static void add_bmp(struct buf *out, unsigned cp)
{
	char u[3];
	if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		buf_add(out, u, 2);
		return;
	}
	u[0] = (char)(0xE0 | (cp >> 12));
	u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	u[2] = (char)(0x80 | (cp & 0x3F));
	buf_add(out, u, 3);
}

/* Control Pictures (U+2400 + control, DEL at U+2421) stand for control
 * characters; U+F700 + byte stands for one raw byte. */
#define PICTURE_BASE 0x2400u
#define PICTURE_DEL  0x2421u
#define RAWBYTE_BASE 0xF700u

/* The code point of the valid n-byte UTF-8 sequence at s. */
static unsigned decode_utf8(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0];
	if (n == 2)
		return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
	if (n == 3)
		return ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
	return ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
	       (s[3] & 0x3Fu);
}

/*
 * Label values: backslash, double quote and newline as the formats define;
 * any other control character (U+0001-U+001F, U+007F) as its Control
 * Picture (U+2401 for \x01, U+241B for ESC, U+2421 for DEL); every byte that
 * is not part of valid UTF-8 as U+F780-U+F7FF (U+F700 + the byte); and,
 * so that the mapping stays one to one, a valid character that falls in one
 * of those two ranges (U+2400-U+2421, U+F780-U+F7FF) byte by byte as
 * U+F700 + each of its bytes. Reading the value back (replace U+2400-U+2421
 * by the control, U+F780-U+F7FF by the byte) gives the original bytes, so two
 * distinct values never render the same, and the output is valid UTF-8
 * without raw control characters.
 */
static void escape_label_value(struct buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;
	while (*s) {
		unsigned char c = *s;
		if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') {
			s++;
			continue;
		}
		buf_add(out, run, (size_t)(s - run));
		if (c == '\\' || c == '"' || c == '\n') {
			buf_adds(out, c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n");
			s++;
		} else if (c < 0x20 || c == 0x7F) {
			add_bmp(out, c == 0x7F ? PICTURE_DEL : PICTURE_BASE + c);
			s++;
		} else {
			/* NUL terminates, so reading s[1..3] never runs past the string. */
			size_t n = utf8_valid_len(s);
			unsigned cp = n ? decode_utf8(s, n) : 0;
			bool reserved =
			    n && ((cp >= PICTURE_BASE && cp <= PICTURE_DEL) ||
				  (cp >= RAWBYTE_BASE + 0x80 && cp <= RAWBYTE_BASE + 0xFF));
			if (n && !reserved) {
				buf_add(out, s, n);
			} else {
				size_t k = n ? n : 1;
				for (size_t i = 0; i < k; i++)
					add_bmp(out, RAWBYTE_BASE + s[i]);
			}
			s += n ? n : 1;
		}
		run = s;
	}
	buf_add(out, run, (size_t)(s - run));
}

void expo_escape_label(struct buf *out, const char *s)
{
	escape_label_value(out, s);
}

void expo_escape_help(struct buf *out, const char *s)
{
	escape(out, s, 0);
}

/* ---- numbers --------------------------------------------------------- */

static size_t fmt_uint(char *dst, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	dst[n] = '\0';
	return n;
}

size_t expo_format_double(char *dst, double v)
{
	if (isnan(v))
		return (size_t)snprintf(dst, 32, "NaN");
	if (isinf(v))
		return (size_t)snprintf(dst, 32, v > 0 ? "+Inf" : "-Inf");
	/* Most values are counts; skip printf for them. */
	if (v == 0 && signbit(v))
		return (size_t)snprintf(dst, 32, "-0");
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		if (v < 0) {
			dst[0] = '-';
			return 1 + fmt_uint(dst + 1, (uint64_t)(-(int64_t)v));
		}
		return fmt_uint(dst, (uint64_t)v);
	}
	/*
	 * Money and ratios usually have a few decimals. If v is exactly the
	 * double nearest to k / 10^d, that decimal is what %.15g would print
	 * (it has at most 15 digits and round-trips), found without printf.
	 */
	static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	double av = fabs(v);
	if (av >= 1e-4 && av < 1e9) {
		for (int d = 1; d <= 6; d++) {
			double k = nearbyint(av * pow10[d]);
			if (k >= 1e15 || k / pow10[d] != av)
				continue;
			char digits[24];
			size_t nd = fmt_uint(digits, (uint64_t)k), n = 0;
			if (v < 0)
				dst[n++] = '-';
			if (nd <= (size_t)d) {
				dst[n++] = '0';
				dst[n++] = '.';
				for (size_t z = nd; z < (size_t)d; z++)
					dst[n++] = '0';
				memcpy(dst + n, digits, nd);
				n += nd;
			} else {
				memcpy(dst + n, digits, nd - (size_t)d);
				n += nd - (size_t)d;
				dst[n++] = '.';
				memcpy(dst + n, digits + nd - d, (size_t)d);
				n += (size_t)d;
			}
			dst[n] = '\0';
			return n;
		}
	}
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(dst, 32, "%.*g", prec, v);
		if (strtod(dst, NULL) == v)
			break;
	}
	return (size_t)n;
}

/*
 * Formats a bucket bound the way client_python's floatToGoString does, so
 * that le values are identical to what other exporters write for the same
 * bound: Python repr ("10.0", "0.1", "1e-07"), except that positive values of
 * a million and above switch to Go's exponent form ("1.2096e+06").
 */
static size_t format_le(char *dst, double v)
{
	if (isnan(v) || isinf(v))
		return expo_format_double(dst, v);
	/* Shortest round-trip digits, as Python's repr finds them. */
	char e[40];
	int prec;
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is "[-]d[.ddd]e[+-]XX": split it into digits and exponent. */
	const char *p = e;
	bool neg = *p == '-';
	if (neg)
		p++;
	char digits[24];
	size_t nd = 0;
	for (; *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int exp10 = atoi(p + 1);

	size_t n = 0;
	if (neg)
		dst[n++] = '-';
	if (exp10 >= 16 || exp10 < -4) {
		/* Python's repr switches to scientific notation here. */
		dst[n++] = digits[0];
		if (nd > 1) {
			dst[n++] = '.';
			memcpy(dst + n, digits + 1, nd - 1);
			n += nd - 1;
		}
		n +=
		    (size_t)snprintf(dst + n, 32 - n, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		return n;
	}
	if (v > 0 && exp10 >= 6) {
		/* floatToGoString: Go prints exponents from 1e6 on (21 digits max). */
		dst[n++] = digits[0];
		if (nd > 1) {
			dst[n++] = '.';
			memcpy(dst + n, digits + 1, nd - 1);
			n += nd - 1;
		}
		n += (size_t)snprintf(dst + n, 32 - n, "e+%02d", exp10);
		return n;
	}
	if (exp10 < 0) {
		dst[n++] = '0';
		dst[n++] = '.';
		for (int i = -1; i > exp10; i--)
			dst[n++] = '0';
		memcpy(dst + n, digits, nd);
		n += nd;
	} else {
		size_t intlen = (size_t)exp10 + 1;
		for (size_t i = 0; i < intlen; i++)
			dst[n++] = i < nd ? digits[i] : '0';
		dst[n++] = '.';
		if (nd > intlen) {
			memcpy(dst + n, digits + intlen, nd - intlen);
			n += nd - intlen;
		} else {
			dst[n++] = '0';
		}
	}
	dst[n] = '\0';
	return n;
}

/* ---- adding samples -------------------------------------------------- */

static uint32_t intern_escaped(struct mset *set, const char *s)
{
	buf_reset(&set->scratch);
	expo_escape_label(&set->scratch, s);
	return strtab_intern(&set->strs, set->scratch.data ? set->scratch.data : "",
			     set->scratch.len);
}

static struct sample *new_sample(struct family *f, size_t nlabels, const char *const *names,
				 const char *const *values)
{
	struct mset *set = f->set;
	if (f->ns == f->caps) {
		f->caps = f->caps ? f->caps * 2 : 8;
		f->s = xrealloc(f->s, f->caps * sizeof(*f->s));
	}
	if (f->npairs + 2 * nlabels > f->cappairs) {
		while (f->npairs + 2 * nlabels > f->cappairs)
			f->cappairs = f->cappairs ? f->cappairs * 2 : 16;
		f->pairs = xrealloc(f->pairs, f->cappairs * sizeof(*f->pairs));
	}
	if (f->npairs + 2 * nlabels > UINT32_MAX) {
		fprintf(stderr, "fatal: too many labels in family %s\n", f->name);
		abort();
	}
	struct sample *s = &f->s[f->ns++];
	s->pairs = (uint32_t)f->npairs;
	s->npairs = (uint32_t)nlabels;
	s->hist = NO_HIST;
	s->nbuckets = 0;
	s->value = 0;
	for (size_t i = 0; i < nlabels; i++) {
		f->pairs[f->npairs++] = strtab_intern(&set->strs, names[i], strlen(names[i]));
		f->pairs[f->npairs++] = intern_escaped(set, values[i] ? values[i] : "");
	}
	return s;
}

void family_add(struct family *f, size_t nlabels, const char *const *names,
		const char *const *values, double value)
{
	struct sample *s = new_sample(f, nlabels, names, values);
	s->value = value;
}

void family_add_histogram(struct family *f, size_t nlabels, const char *const *names,
			  const char *const *values, size_t nbuckets, const double *bounds,
			  const uint64_t *cumulative, double gsum)
{
	struct sample *s = new_sample(f, nlabels, names, values);
	s->value = gsum;
	if (f->nb + nbuckets > f->capb) {
		while (f->nb + nbuckets > f->capb)
			f->capb = f->capb ? f->capb * 2 : 16;
		f->le = xrealloc(f->le, f->capb * sizeof(*f->le));
		f->count = xrealloc(f->count, f->capb * sizeof(*f->count));
	}
	s->hist = (uint32_t)f->nb;
	s->nbuckets = (uint32_t)nbuckets;
	for (size_t i = 0; i < nbuckets; i++) {
		char tmp[40];
		size_t n = format_le(tmp, bounds[i]);
		f->le[f->nb] = strtab_intern(&f->set->strs, tmp, n);
		f->count[f->nb] = cumulative[i];
		f->nb++;
	}
}

size_t mset_series(const struct mset *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->nfam; i++)
		n += set->fam[i]->ns;
	return n;
}

/* ---- lookup ---------------------------------------------------------- */

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Does sample s carry exactly the query pairs (any order), ignoring "le"? */
static bool sample_matches(const struct family *f, const struct sample *s, size_t npairs,
			   const long *nid, const long *vid)
{
	if (s->npairs != npairs)
		return false;
	const uint32_t *p = f->pairs + s->pairs;
	for (size_t q = 0; q < npairs; q++) {
		bool found = false;
		for (size_t k = 0; k < s->npairs && !found; k++)
			found = p[2 * k] == (uint32_t)nid[q] && p[2 * k + 1] == (uint32_t)vid[q];
		if (!found)
			return false;
	}
	return true;
}

void mset_each_sample(const struct mset *set, const char *family,
		      void (*fn)(void *ctx, size_t nlabels, const char *const *names,
				 const char *const *values, double value),
		      void *ctx)
{
	const struct family *f = set ? fam_find(set, family, strlen(family)) : NULL;
	const char **names = NULL, **values = NULL;
	size_t cap = 0;

	for (size_t i = 0; f && i < f->ns; i++) {
		const struct sample *s = &f->s[i];
		const uint32_t *p = f->pairs + s->pairs;

		if (s->npairs > cap) {
			cap = s->npairs;
			names = xrealloc(names, cap * sizeof(*names));
			values = xrealloc(values, cap * sizeof(*values));
		}
		for (uint32_t k = 0; k < s->npairs; k++) {
			names[k] = strtab_str(&set->strs, p[2 * k]);
			values[k] = strtab_str(&set->strs, p[2 * k + 1]);
		}
		fn(ctx, s->npairs, names, values, s->value);
	}
	free(names);
	free(values);
}

int mset_lookup(const struct mset *set, const char *family, size_t npairs, const char *const *names,
		const char *const *values, double *value)
{
	size_t n = strlen(family);
	const struct family *f = fam_find(set, family, n);
	enum { PLAIN, GCOUNT, GSUM, BUCKET } want = PLAIN;
	if (!f || f->type == METRIC_GAUGEHISTOGRAM) {
		static const char *const sufs[] = {"_gcount", "_gsum", "_bucket"};
		f = NULL;
		for (int k = 0; k < 3 && !f; k++) {
			if (!has_suffix(family, n, sufs[k]))
				continue;
			f = fam_find(set, family, n - strlen(sufs[k]));
			want = (k == 0) ? GCOUNT : (k == 1) ? GSUM : BUCKET;
		}
		if (!f || f->type != METRIC_GAUGEHISTOGRAM)
			return -1;
	}

	/* Translate the query into interned ids; an unknown string cannot match. */
	long *nid = xcalloc(npairs + 1, sizeof(long));
	long *vid = xcalloc(npairs + 1, sizeof(long));
	struct buf esc = BUF_INIT;
	const char *le = NULL;
	size_t m = 0;
	int rc = -1;
	for (size_t i = 0; i < npairs; i++) {
		if (want == BUCKET && strcmp(names[i], "le") == 0 && !le) {
			le = values[i];
			continue;
		}
		buf_reset(&esc);
		expo_escape_label(&esc, values[i]);
		nid[m] = strtab_find(&set->strs, names[i], strlen(names[i]));
		vid[m] = strtab_find(&set->strs, esc.data ? esc.data : "", esc.len);
		if (nid[m] < 0 || vid[m] < 0)
			goto out;
		m++;
	}
	if (want == BUCKET && !le)
		goto out;
	for (size_t i = 0; i < f->ns; i++) {
		const struct sample *s = &f->s[i];
		if (!sample_matches(f, s, m, nid, vid))
			continue;
		switch (want) {
		case PLAIN:
			*value = s->value;
			rc = 0;
			break;
		case GSUM:
			*value = s->value;
			rc = 0;
			break;
		case GCOUNT:
			*value = s->nbuckets ? (double)f->count[s->hist + s->nbuckets - 1] : 0;
			rc = 0;
			break;
		case BUCKET: {
			/* Compare numerically so "10" finds the bucket written "10.0". */
			double want_le = strtod(le, NULL);
			for (uint32_t b = 0; b < s->nbuckets; b++) {
				const char *bs = strtab_str(&set->strs, f->le[s->hist + b]);
				if (strcmp(bs, le) == 0 || strtod(bs, NULL) == want_le) {
					*value = (double)f->count[s->hist + b];
					rc = 0;
					break;
				}
			}
			break;
		}
		}
		if (rc == 0)
			break;
	}
out:
	buf_release(&esc);
	free(nid);
	free(vid);
	return rc;
}

/* ---- rendering ------------------------------------------------------- */

struct fref {
	const struct family *f;
	size_t set;
};

static int fref_cmp(const void *a, const void *b)
{
	const struct fref *x = a, *y = b;
	int c = strcmp(x->f->name, y->f->name);
	if (c)
		return c;
	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	return x->f->order < y->f->order ? -1 : x->f->order > y->f->order;
}

/* Writes "{name="value",...}" (with an optional trailing le pair, then the
 * pairs of extra, already rendered: expo_history_add_label) or nothing. */
static void write_labels(struct buf *out, const struct family *f, const struct sample *s,
			 const char *le, size_t lelen, const struct buf *extra)
{
	bool more = extra && extra->len;
	if (!s->npairs && !le && !more)
		return;
	const struct strtab *t = &f->set->strs;
	const uint32_t *p = f->pairs + s->pairs;
	buf_addch(out, '{');
	for (uint32_t k = 0; k < s->npairs; k++) {
		if (k)
			buf_addch(out, ',');
		buf_add(out, strtab_str(t, p[2 * k]), t->len[p[2 * k]]);
		buf_add(out, "=\"", 2);
		buf_add(out, strtab_str(t, p[2 * k + 1]), t->len[p[2 * k + 1]]);
		buf_addch(out, '"');
	}
	if (le) {
		if (s->npairs)
			buf_addch(out, ',');
		buf_add(out, "le=\"", 4);
		buf_add(out, le, lelen);
		buf_addch(out, '"');
	}
	if (more) {
		if (s->npairs || le)
			buf_addch(out, ',');
		buf_add(out, extra->data, extra->len);
	}
	buf_addch(out, '}');
}

static void write_value(struct buf *out, double v)
{
	char num[40];
	size_t n = expo_format_double(num, v);
	buf_addch(out, ' ');
	buf_add(out, num, n);
	buf_addch(out, '\n');
}

/* Which parts of a gauge histogram sample to write. */
enum hist_part { PART_ALL, PART_BUCKETS, PART_GCOUNT, PART_GSUM };

static void write_sample(struct buf *out, const struct family *f, const struct sample *s,
			 const char *name, size_t namelen, const char *suffix, enum hist_part part)
{
	if (s->hist == NO_HIST) {
		buf_add(out, name, namelen);
		buf_adds(out, suffix);
		write_labels(out, f, s, NULL, 0, NULL);
		write_value(out, s->value);
		return;
	}
	const struct strtab *t = &f->set->strs;
	if (part == PART_ALL || part == PART_BUCKETS) {
		for (uint32_t b = 0; b < s->nbuckets; b++) {
			uint32_t le = f->le[s->hist + b];
			buf_add(out, name, namelen);
			buf_add(out, "_bucket", 7);
			write_labels(out, f, s, strtab_str(t, le), t->len[le], NULL);
			write_value(out, (double)f->count[s->hist + b]);
		}
	}
	if (part == PART_ALL || part == PART_GCOUNT) {
		uint64_t count = s->nbuckets ? f->count[s->hist + s->nbuckets - 1] : 0;
		buf_add(out, name, namelen);
		buf_add(out, "_gcount", 7);
		write_labels(out, f, s, NULL, 0, NULL);
		write_value(out, (double)count);
	}
	if (part == PART_ALL || part == PART_GSUM) {
		buf_add(out, name, namelen);
		buf_add(out, "_gsum", 5);
		write_labels(out, f, s, NULL, 0, NULL);
		write_value(out, s->value);
	}
}

static void write_meta(struct buf *out, const char *name, size_t namelen, const char *extra,
		       const char *help, const char *type, enum expo_format fmt)
{
	if (help && *help) {
		buf_add(out, "# HELP ", 7);
		buf_add(out, name, namelen);
		buf_adds(out, extra);
		buf_addch(out, ' ');
		escape(out, help, fmt == EXPO_OPENMETRICS ? ESC_QUOTE : 0);
		buf_addch(out, '\n');
	}
	buf_add(out, "# TYPE ", 7);
	buf_add(out, name, namelen);
	buf_adds(out, extra);
	buf_addch(out, ' ');
	buf_adds(out, type);
	buf_addch(out, '\n');
}

static const char *type_word(enum metric_type type, enum expo_format fmt)
{
	switch (type) {
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGEHISTOGRAM:
		return fmt == EXPO_OPENMETRICS ? "gaugehistogram" : "histogram";
	case METRIC_UNTYPED:
		break;
	}
	return fmt == EXPO_OPENMETRICS ? "unknown" : "untyped";
}

static void write_parts(struct buf *out, const struct fref *refs, size_t nrefs, const char *name,
			size_t namelen, enum hist_part part)
{
	for (size_t r = 0; r < nrefs; r++) {
		const struct family *f = refs[r].f;
		for (size_t i = 0; i < f->ns; i++)
			write_sample(out, f, &f->s[i], name, namelen, "", part);
	}
}

/*
 * Writes the metadata lines of a family (the first of a group of the same
 * name) and sets the length of its name in them and the suffix its samples
 * add: OpenMetrics names a counter family without _total, its samples keep it.
 */
static void write_group_meta(struct buf *out, const struct family *first, enum expo_format fmt,
			     size_t *metalen_out, const char **suffix_out)
{
	const char *name = first->name;
	size_t namelen = first->namelen;
	size_t metalen = namelen;
	const char *suffix = "";
	if (fmt == EXPO_OPENMETRICS && first->type == METRIC_COUNTER) {
		if (has_suffix(name, namelen, "_total"))
			metalen -= 6;
		suffix = "_total";
	}

	write_meta(out, name, metalen, "", first->help, type_word(first->type, fmt), fmt);
	if (fmt == EXPO_OPENMETRICS && first->unit) {
		/* A unit that is not a suffix of the name would make the output invalid. */
		size_t ul = strlen(first->unit);
		if (metalen > ul && name[metalen - ul - 1] == '_' &&
		    memcmp(name + metalen - ul, first->unit, ul) == 0) {
			buf_add(out, "# UNIT ", 7);
			buf_add(out, name, metalen);
			buf_addch(out, ' ');
			buf_adds(out, first->unit);
			buf_addch(out, '\n');
		}
	}
	*metalen_out = metalen;
	*suffix_out = suffix;
}

static void write_group(struct buf *out, const struct fref *refs, size_t nrefs,
			enum expo_format fmt)
{
	const struct family *first = refs[0].f;
	const char *name = first->name;
	size_t metalen;
	const char *suffix;

	write_group_meta(out, first, fmt, &metalen, &suffix);
	if (fmt == EXPO_TEXT && first->type == METRIC_GAUGEHISTOGRAM) {
		/* client_python's text form: _bucket lines under TYPE histogram,
		 * then _gcount and _gsum. Giving those two metadata of their own
		 * keeps them documented for linters (promtool check metrics),
		 * which do not know them as parts of a histogram. */
		write_parts(out, refs, nrefs, name, metalen, PART_BUCKETS);
		write_meta(out, name, metalen, "_gcount",
			   "Number of observations of the gauge histogram.", "gauge", fmt);
		write_parts(out, refs, nrefs, name, metalen, PART_GCOUNT);
		write_meta(out, name, metalen, "_gsum",
			   "Sum of the observations of the gauge histogram.", "gauge", fmt);
		write_parts(out, refs, nrefs, name, metalen, PART_GSUM);
		return;
	}
	for (size_t r = 0; r < nrefs; r++) {
		const struct family *f = refs[r].f;
		for (size_t i = 0; i < f->ns; i++)
			write_sample(out, f, &f->s[i], name, metalen, suffix, PART_ALL);
	}
}

/* The families of sets in render order: by name, then set, then creation.
 * Returns *n refs (free them); *nseries counts the samples. */
static struct fref *sorted_refs(const struct mset *const *sets, size_t nsets, size_t *n,
				size_t *nseries)
{
	size_t total = 0;
	*nseries = 0;
	for (size_t i = 0; i < nsets; i++) {
		if (sets[i]) {
			total += sets[i]->nfam;
			*nseries += mset_series(sets[i]);
		}
	}
	struct fref *refs = xmalloc((total ? total : 1) * sizeof(*refs));
	*n = 0;
	for (size_t i = 0; i < nsets; i++) {
		if (!sets[i])
			continue;
		for (size_t k = 0; k < sets[i]->nfam; k++) {
			refs[*n].f = sets[i]->fam[k];
			refs[*n].set = i;
			(*n)++;
		}
	}
	qsort(refs, *n, sizeof(*refs), fref_cmp);
	return refs;
}

/* The end of the group of refs[i]'s name. */
static size_t group_end(const struct fref *refs, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && strcmp(refs[j].f->name, refs[i].f->name) == 0)
		j++;
	return j;
}

void expo_render_part(const struct mset *const *sets, size_t nsets, enum expo_format fmt,
		      struct buf *out)
{
	size_t n, nseries;
	struct fref *refs = sorted_refs(sets, nsets, &n, &nseries);
	/* One early reservation instead of a dozen doublings on big renders. */
	buf_grow(out, nseries * 64 + n * 128);
	for (size_t i = 0; i < n;) {
		size_t j = group_end(refs, n, i);
		write_group(out, refs + i, j - i, fmt);
		i = j;
	}
	free(refs);
}

void expo_render(const struct mset *const *sets, size_t nsets, enum expo_format fmt,
		 struct buf *out)
{
	expo_render_part(sets, nsets, fmt, out);
	if (fmt == EXPO_OPENMETRICS)
		buf_add(out, "# EOF\n", 6);
}

void mset_each_family(const struct mset *set, void (*fn)(void *ctx, const char *name), void *ctx)
{
	for (size_t i = 0; i < set->nfam; i++)
		fn(ctx, set->fam[i]->name);
}

/* ---- history: several instants in one timestamped exposition -------- */

/*
 * A series' points, compactly: a year of daily steps is hundreds of MB as
 * text. A sample line is a head (name and labels, as rendered, with the
 * added labels) that repeats at every step, a value, and the step's
 * timestamp; a point is stored as the head's index among the series' heads
 * (one for a gauge, one per bucket and suffix for a gauge histogram), the
 * step's index and the value, formatted when written.
 */
struct hseries {
	char *key; /* label pairs as rendered, without "le" */
	struct buf pts;
	char **heads;
	size_t nheads, last_head;
};

struct hpoint {
	uint32_t head, step;
	double value;
};

struct hfamily {
	char *name; /* as in the metadata lines */
	struct buf meta;
	struct hseries *s;
	size_t ns, cap;
};

struct hslot {
	uint64_t hash;
	size_t fam, series; /* fam == SIZE_MAX: empty */
};

struct expo_history {
	struct hfamily **fam;
	size_t nfam;
	struct hslot *tab; /* open addressing, power-of-two size */
	size_t tabcap, tabn;
	/* expo_history_add_label: name="value" pairs, comma-separated, added
	 * to every sample, and their names to find a clash with a family's own. */
	struct buf extra;
	char **extra_names;
	size_t nextra;
	char conflict[256];
	char **steps; /* each instant's timestamp, as written */
	size_t nsteps;
	struct buf key, head, meta; /* scratch */
};

struct expo_history *expo_history_new(void)
{
	struct expo_history *h = xcalloc(1, sizeof(*h));
	h->tabcap = 1024;
	h->tab = xmalloc(h->tabcap * sizeof(*h->tab));
	for (size_t i = 0; i < h->tabcap; i++)
		h->tab[i].fam = SIZE_MAX;
	return h;
}

static void hseries_release(struct hseries *s)
{
	free(s->key);
	buf_release(&s->pts);
	for (size_t i = 0; i < s->nheads; i++)
		free(s->heads[i]);
	free(s->heads);
	s->key = NULL;
	s->heads = NULL;
	s->nheads = 0;
}

void expo_history_free(struct expo_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nfam; i++) {
		struct hfamily *f = h->fam[i];
		for (size_t k = 0; k < f->ns; k++)
			hseries_release(&f->s[k]);
		free(f->s);
		free(f->name);
		buf_release(&f->meta);
		free(f);
	}
	free(h->fam);
	free(h->tab);
	for (size_t i = 0; i < h->nextra; i++)
		free(h->extra_names[i]);
	free(h->extra_names);
	buf_release(&h->extra);
	for (size_t i = 0; i < h->nsteps; i++)
		free(h->steps[i]);
	free(h->steps);
	buf_release(&h->key);
	buf_release(&h->head);
	buf_release(&h->meta);
	free(h);
}

void expo_history_add_label(struct expo_history *h, const char *name, const char *value)
{
	if (h->extra.len)
		buf_addch(&h->extra, ',');
	buf_adds(&h->extra, name);
	buf_adds(&h->extra, "=\"");
	expo_escape_label(&h->extra, value);
	buf_addch(&h->extra, '"');
	h->extra_names = xrealloc(h->extra_names, (h->nextra + 1) * sizeof(*h->extra_names));
	h->extra_names[h->nextra++] = xstrdup(name);
}

const char *expo_history_conflict(const struct expo_history *h)
{
	return h->conflict;
}

static uint64_t hkey_hash(size_t fam, const char *key, size_t len)
{
	return hash_fnv1a(key, len) ^ ((uint64_t)fam * 0x9E3779B97F4A7C15ULL);
}

static void htab_grow(struct expo_history *h)
{
	size_t cap = h->tabcap * 2;
	struct hslot *tab = xmalloc(cap * sizeof(*tab));
	for (size_t i = 0; i < cap; i++)
		tab[i].fam = SIZE_MAX;
	for (size_t i = 0; i < h->tabcap; i++) {
		if (h->tab[i].fam == SIZE_MAX)
			continue;
		size_t j = h->tab[i].hash & (cap - 1);
		while (tab[j].fam != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		tab[j] = h->tab[i];
	}
	free(h->tab);
	h->tab = tab;
	h->tabcap = cap;
}

static struct hseries *hseries_get(struct expo_history *h, size_t fi, const char *key, size_t len)
{
	if ((h->tabn + 1) * 2 > h->tabcap)
		htab_grow(h);
	struct hfamily *f = h->fam[fi];
	uint64_t hash = hkey_hash(fi, key, len);
	size_t j = hash & (h->tabcap - 1);
	while (h->tab[j].fam != SIZE_MAX) {
		struct hslot *sl = &h->tab[j];
		if (sl->hash == hash && sl->fam == fi) {
			const char *k = f->s[sl->series].key;
			if (strlen(k) == len && memcmp(k, key, len) == 0)
				return &f->s[sl->series];
		}
		j = (j + 1) & (h->tabcap - 1);
	}
	if (f->ns == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->s = xrealloc(f->s, f->cap * sizeof(*f->s));
	}
	struct hseries *s = &f->s[f->ns];
	memset(s, 0, sizeof(*s));
	s->key = xstrndup(key, len);
	buf_init(&s->pts);
	h->tab[j].hash = hash;
	h->tab[j].fam = fi;
	h->tab[j].series = f->ns++;
	h->tabn++;
	return s;
}

/* The family named name (len bytes) in the metadata lines; *created when new. */
static size_t hfamily_get(struct expo_history *h, const char *name, size_t len, bool *created)
{
	*created = false;
	/* A few dozen families, looked up once per family and instant: a scan is enough. */
	for (size_t i = 0; i < h->nfam; i++)
		if (strlen(h->fam[i]->name) == len && memcmp(h->fam[i]->name, name, len) == 0)
			return i;
	struct hfamily *f = xcalloc(1, sizeof(*f));
	f->name = xstrndup(name, len);
	h->fam = xrealloc(h->fam, (h->nfam + 1) * sizeof(*h->fam));
	h->fam[h->nfam] = f;
	*created = true;
	return h->nfam++;
}

/* Index of the head in h->head among the series' heads, added when new. The
 * lines of a point come in the same order at every instant: the one after
 * the last found is tried first. */
static uint32_t hseries_head(struct hseries *s, const struct buf *head)
{
	const char *text = head->data ? head->data : "";
	for (size_t n = 0; n < s->nheads; n++) {
		size_t i = (s->last_head + 1 + n) % s->nheads;
		if (strlen(s->heads[i]) == head->len && memcmp(s->heads[i], text, head->len) == 0) {
			s->last_head = i;
			return (uint32_t)i;
		}
	}
	s->heads = xrealloc(s->heads, (s->nheads + 1) * sizeof(*s->heads));
	s->heads[s->nheads] = xstrndup(text, head->len);
	s->last_head = s->nheads;
	return (uint32_t)s->nheads++;
}

static void hseries_point(struct expo_history *h, struct hseries *s, double value)
{
	struct hpoint pt = {hseries_head(s, &h->head), (uint32_t)(h->nsteps - 1), value};
	buf_add(&s->pts, &pt, sizeof(pt));
}

/* The series key of sample s (its label pairs as rendered); returns an added
 * label that the sample already has, or NULL. */
static const char *sample_key(const struct expo_history *h, const struct family *f,
			      const struct sample *s, struct buf *key)
{
	const struct strtab *t = &f->set->strs;
	const uint32_t *p = f->pairs + s->pairs;
	const char *clash = NULL;
	buf_reset(key);
	for (uint32_t k = 0; k < s->npairs; k++) {
		const char *name = strtab_str(t, p[2 * k]);
		for (size_t e = 0; e < h->nextra && !clash; e++)
			if (strcmp(h->extra_names[e], name) == 0)
				clash = h->extra_names[e];
		if (k)
			buf_addch(key, ',');
		buf_add(key, name, t->len[p[2 * k]]);
		buf_add(key, "=\"", 2);
		buf_add(key, strtab_str(t, p[2 * k + 1]), t->len[p[2 * k + 1]]);
		buf_addch(key, '"');
	}
	return clash;
}

/* Adds the lines of one sample as expo_render writes them in OpenMetrics. */
static void history_sample(struct expo_history *h, struct hseries *hs, const struct family *f,
			   const struct sample *s, size_t metalen, const char *suffix)
{
	const struct strtab *t = &f->set->strs;
	struct buf *head = &h->head;
	if (s->hist == NO_HIST) {
		buf_reset(head);
		buf_add(head, f->name, metalen);
		buf_adds(head, suffix);
		write_labels(head, f, s, NULL, 0, &h->extra);
		hseries_point(h, hs, s->value);
		return;
	}
	for (uint32_t b = 0; b < s->nbuckets; b++) {
		uint32_t le = f->le[s->hist + b];
		buf_reset(head);
		buf_add(head, f->name, metalen);
		buf_add(head, "_bucket", 7);
		write_labels(head, f, s, strtab_str(t, le), t->len[le], &h->extra);
		hseries_point(h, hs, (double)f->count[s->hist + b]);
	}
	buf_reset(head);
	buf_add(head, f->name, metalen);
	buf_add(head, "_gcount", 7);
	write_labels(head, f, s, NULL, 0, &h->extra);
	hseries_point(h, hs, s->nbuckets ? (double)f->count[s->hist + s->nbuckets - 1] : 0);
	buf_reset(head);
	buf_add(head, f->name, metalen);
	buf_add(head, "_gsum", 5);
	write_labels(head, f, s, NULL, 0, &h->extra);
	hseries_point(h, hs, s->value);
}

static void format_ts(char *dst, size_t len, int64_t usec)
{
	int64_t secs = usec / 1000000, frac = usec % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	if (frac == 0) {
		snprintf(dst, len, "%lld", (long long)secs);
		return;
	}
	int n = snprintf(dst, len, "%lld.%06lld", (long long)secs, (long long)frac);
	while (n > 0 && dst[n - 1] == '0')
		dst[--n] = '\0';
}

int expo_history_add(struct expo_history *h, const struct mset *const *sets, size_t nsets,
		     int64_t ts_usec)
{
	char ts[48];
	format_ts(ts, sizeof(ts), ts_usec);
	h->steps = xrealloc(h->steps, (h->nsteps + 1) * sizeof(*h->steps));
	h->steps[h->nsteps++] = xstrdup(ts);

	size_t n, nseries;
	struct fref *refs = sorted_refs(sets, nsets, &n, &nseries);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		size_t j = group_end(refs, n, i);
		size_t metalen;
		const char *suffix;
		buf_reset(&h->meta);
		write_group_meta(&h->meta, refs[i].f, EXPO_OPENMETRICS, &metalen, &suffix);
		bool created;
		size_t fi = hfamily_get(h, refs[i].f->name, metalen, &created);
		if (created)
			buf_add(&h->fam[fi]->meta, h->meta.data, h->meta.len);
		for (size_t r = i; r < j && rc == 0; r++) {
			const struct family *f = refs[r].f;
			for (size_t k = 0; k < f->ns; k++) {
				const char *clash = sample_key(h, f, &f->s[k], &h->key);
				if (clash) {
					snprintf(h->conflict, sizeof(h->conflict),
						 "label \"%s\" is already one of %s's", clash,
						 h->fam[fi]->name);
					rc = -1;
					break;
				}
				struct hseries *hs =
				    hseries_get(h, fi, h->key.data ? h->key.data : "", h->key.len);
				history_sample(h, hs, f, &f->s[k], metalen, suffix);
			}
		}
		i = j;
	}
	free(refs);
	return rc;
}

/* Appends the series' points as sample lines. */
static void hseries_lines(const struct expo_history *h, const struct hseries *s, struct buf *out)
{
	for (size_t off = 0; off + sizeof(struct hpoint) <= s->pts.len;
	     off += sizeof(struct hpoint)) {
		struct hpoint pt;
		memcpy(&pt, s->pts.data + off, sizeof(pt));
		buf_adds(out, s->heads[pt.head]);
		char num[40];
		size_t nl = expo_format_double(num, pt.value);
		buf_addch(out, ' ');
		buf_add(out, num, nl);
		buf_addch(out, ' ');
		buf_adds(out, h->steps[pt.step]);
		buf_addch(out, '\n');
	}
}

static int hfamily_cmp(const void *a, const void *b)
{
	const struct hfamily *x = *(const struct hfamily *const *)a;
	const struct hfamily *y = *(const struct hfamily *const *)b;
	return strcmp(x->name, y->name);
}

/* Slots hold family indexes: a sorted copy, not h->fam. */
static struct hfamily **hfamilies_sorted(const struct expo_history *h)
{
	struct hfamily **order = xmalloc((h->nfam ? h->nfam : 1) * sizeof(*order));
	memcpy(order, h->fam, h->nfam * sizeof(*order));
	qsort(order, h->nfam, sizeof(*order), hfamily_cmp);
	return order;
}

static int write_all(FILE *f, const char *data, size_t len)
{
	return len && fwrite(data, 1, len, f) != len ? -1 : 0;
}

int expo_history_write(struct expo_history *h, FILE *out)
{
	struct hfamily **order = hfamilies_sorted(h);
	struct buf lines = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < h->nfam && rc == 0; i++) {
		struct hfamily *f = order[i];
		rc = write_all(out, f->meta.data, f->meta.len);
		for (size_t k = 0; k < f->ns && rc == 0; k++) {
			buf_reset(&lines);
			hseries_lines(h, &f->s[k], &lines);
			rc = write_all(out, lines.data, lines.len);
			hseries_release(&f->s[k]);
		}
	}
	free(order);
	buf_release(&lines);
	if (rc == 0)
		rc = write_all(out, "# EOF\n", 6);
	return rc == 0 && fflush(out) == 0 ? 0 : -1;
}

void expo_history_finish(struct expo_history *h, struct buf *out)
{
	struct hfamily **order = hfamilies_sorted(h);
	for (size_t i = 0; i < h->nfam; i++) {
		struct hfamily *f = order[i];
		buf_add(out, f->meta.data, f->meta.len);
		for (size_t k = 0; k < f->ns; k++)
			hseries_lines(h, &f->s[k], out);
	}
	buf_adds(out, "# EOF\n");
	free(order);
}
