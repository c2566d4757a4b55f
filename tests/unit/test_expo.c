#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/expo.h"

static char *escaped_label(const char *s)
{
	struct buf b = BUF_INIT;
	expo_escape_label(&b, s);
	return buf_detach(&b, NULL);
}

static char *escaped_help(const char *s)
{
	struct buf b = BUF_INIT;
	expo_escape_help(&b, s);
	return buf_detach(&b, NULL);
}

static char *fmt(double v)
{
	static char dst[64];
	size_t n = expo_format_double(dst, v);
	cr_assert_eq(n, strlen(dst));
	return dst;
}

static char *render(const struct mset *const *sets, size_t n, enum expo_format f)
{
	struct buf b = BUF_INIT;
	expo_render(sets, n, f, &b);
	return buf_detach(&b, NULL);
}

/* ---- escaping ---- */

Test(expo_escape, label_quote_backslash_newline)
{
	char *s = escaped_label("a\"b\\c\nd");
	cr_assert_str_eq(s, "a\\\"b\\\\c\\nd");
	free(s);
}

Test(expo_escape, label_plain_is_unchanged)
{
	char *s = escaped_label("eu-west_1 Pro plan (annual)");
	cr_assert_str_eq(s, "eu-west_1 Pro plan (annual)");
	free(s);
}

Test(expo_escape, label_multibyte_utf8_passes_through)
{
	/* 2-, 3- and 4-byte sequences: é, €, 😀 */
	const char *in = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
	char *s = escaped_label(in);
	cr_assert_str_eq(s, in);
	free(s);
}

Test(expo_escape, label_invalid_utf8_is_escaped_byte_by_byte)
{
	/* lone continuation byte, truncated 2-byte sequence, overlong '/', surrogate:
	 * each bad byte b becomes U+F700 + b */
	char *s = escaped_label("a\x80z");
	cr_assert_str_eq(s, "a\xEF\x9E\x80z");
	free(s);
	s = escaped_label("x\xC3");
	cr_assert_str_eq(s, "x\xEF\x9F\x83");
	free(s);
	s = escaped_label("\xC0\xAF");
	cr_assert_str_eq(s, "\xEF\x9F\x80\xEF\x9E\xAF");
	free(s);
	s = escaped_label("\xED\xA0\x80");
	cr_assert_str_eq(s, "\xEF\x9F\xAD\xEF\x9E\xA0\xEF\x9E\x80");
	free(s);
}

Test(expo_escape, label_latin1_bytes_stay_distinct)
{
	/* Zürich and Zörich in LATIN1: once both became Z\uFFFDrich, one series */
	char *a = escaped_label("Z\xFCrich");
	char *b = escaped_label("Z\xF6rich");
	cr_assert_str_neq(a, b);
	cr_assert_str_eq(a, "Z\xEF\x9F\xBCrich");
	free(a);
	free(b);
}

Test(expo_escape, label_control_characters_are_never_raw)
{
	char *s = escaped_label("a\x01"
				"b\x1B[31m\x7F\tc\r");
	/* U+2401, U+241B, U+2421, U+2409, U+240D */
	cr_assert_str_eq(s, "a\xE2\x90\x81"
			    "b\xE2\x90\x9B[31m\xE2\x90\xA1\xE2\x90\x89"
			    "c\xE2\x90\x8D");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		cr_assert(*p >= 0x20 && *p != 0x7F, "raw control byte 0x%02x", *p);
	free(s);
}

/* Reads a rendered label value back into the bytes it came from. */
static size_t unescape_label(const char *in, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;
	while (*p) {
		if (p[0] == '\\') {
			out[n++] = p[1] == 'n' ? '\n' : p[1];
			p += 2;
			continue;
		}
		if (p[0] == 0xE2 && p[1] == 0x90 && p[2] >= 0x80 && p[2] <= 0xA1) {
			out[n++] = p[2] == 0xA1 ? 0x7F : (unsigned char)(p[2] - 0x80);
			p += 3;
			continue;
		}
		if (p[0] == 0xEF && (p[1] == 0x9E || p[1] == 0x9F)) {
			out[n++] = (unsigned char)(0x80 + (p[1] - 0x9E) * 0x40 + (p[2] - 0x80));
			p += 3;
			continue;
		}
		out[n++] = *p++;
	}
	return n;
}

Test(expo_escape, label_escape_is_one_to_one)
{
	/* Each value must read back to itself, so no two render the same. */
	static const char *const values[] = {
	    "Z\xFCrich",    "Z\xEF\x9F\xBCrich", /* a raw byte vs its own escape */
	    "\x01",	    "\xE2\x90\x81",	 /* a control vs its picture */
	    "\x7F",	    "\xE2\x90\xA1",
	    "\xE2\x90\xA2", "\xEF\x9E\x80",
	    "\xEF\x9F\xBF", "\xEF\x9D\xBF",
	    "a\\b\"c\nd",   "\xF0\x9F\x98\x80\xF0\x9F",
	    "\xFF\xFE",	    "plain",
	};
	size_t n = sizeof(values) / sizeof(values[0]);
	char *out[16];
	for (size_t i = 0; i < n; i++) {
		out[i] = escaped_label(values[i]);
		unsigned char back[256];
		size_t len = unescape_label(out[i], back);
		cr_assert_eq(len, strlen(values[i]), "value %zu: length %zu", i, len);
		cr_assert(memcmp(back, values[i], len) == 0, "value %zu does not read back", i);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			cr_assert_str_neq(out[i], out[j], "values %zu and %zu render the same", i,
					  j);
	for (size_t i = 0; i < n; i++)
		free(out[i]);
}

Test(expo_escape, help_keeps_quotes)
{
	char *s = escaped_help("say \"hi\"\\\nbye");
	cr_assert_str_eq(s, "say \"hi\"\\\\\\nbye");
	free(s);
}

/* ---- number formatting ---- */

Test(expo_float, simple_values)
{
	cr_assert_str_eq(fmt(0.1), "0.1");
	cr_assert_str_eq(fmt(12500), "12500");
	cr_assert_str_eq(fmt(166.66666666666666), "166.66666666666666");
	cr_assert_str_eq(fmt(-3), "-3");
	cr_assert_str_eq(fmt(0), "0");
}

Test(expo_float, third_round_trips)
{
	double v = 1.0 / 3.0;
	char *s = fmt(v);
	cr_assert_str_eq(s, "0.3333333333333333");
	cr_assert(strtod(s, NULL) == v);
}

Test(expo_float, exponents)
{
	cr_assert_str_eq(fmt(1e21), "1e+21");
	cr_assert_str_eq(fmt(1e-7), "1e-07");
}

Test(expo_float, negative_zero_keeps_sign)
{
	char *s = fmt(-0.0);
	double back = strtod(s, NULL);
	cr_assert(back == 0 && signbit(back), "got %s", s);
}

Test(expo_float, large_integers_without_exponent)
{
	cr_assert_str_eq(fmt(123456789012345.0), "123456789012345");
	cr_assert_str_eq(fmt(-999999999999999.0), "-999999999999999");
	cr_assert_str_eq(fmt(9007199254740992.0), "9007199254740992");
}

Test(expo_float, specials)
{
	cr_assert_str_eq(fmt(INFINITY), "+Inf");
	cr_assert_str_eq(fmt(-INFINITY), "-Inf");
	cr_assert_str_eq(fmt(NAN), "NaN");
}

Test(expo_float, random_doubles_round_trip)
{
	srand(12345);
	for (int i = 0; i < 20000; i++) {
		uint64_t bits = 0;
		for (int k = 0; k < 4; k++)
			bits = (bits << 16) ^ (uint64_t)(rand() & 0xFFFF);
		double v;
		memcpy(&v, &bits, sizeof(v));
		if (isnan(v) || isinf(v))
			continue;
		char *s = fmt(v);
		cr_assert(strlen(s) < 32);
		cr_assert(strtod(s, NULL) == v, "%s does not round-trip", s);
	}
}

Test(expo_float, shortest_for_short_decimals)
{
	/* a decimal with few digits must not come out as its 17-digit expansion */
	cr_assert_str_eq(fmt(2.333), "2.333");
	cr_assert_str_eq(fmt(-0.01), "-0.01");
	cr_assert_str_eq(fmt(0.97), "0.97");
}

/* ---- sets ---- */

Test(expo_set, family_is_reused_and_first_metadata_wins)
{
	struct mset *m = mset_new();
	struct family *a = mset_family(m, "cs_x", METRIC_GAUGE, "first", NULL);
	struct family *b = mset_family(m, "cs_x", METRIC_COUNTER, "second", NULL);
	cr_assert_eq(a, b);
	family_add(a, 0, NULL, NULL, 1);
	const struct mset *sets[] = {m};
	char *out = render(sets, 1, EXPO_TEXT);
	cr_assert_str_eq(out, "# HELP cs_x first\n# TYPE cs_x gauge\ncs_x 1\n");
	free(out);
	mset_free(m);
}

Test(expo_set, lookup_any_label_order)
{
	struct mset *m = mset_new();
	struct family *f = mset_family(m, "cs_mrr", METRIC_GAUGE, "h", NULL);
	const char *n[] = {"plan", "currency"};
	const char *v1[] = {"pro", "USD"};
	const char *v2[] = {"basic", "USD"};
	family_add(f, 2, n, v1, 10);
	family_add(f, 2, n, v2, 20);
	const char *qn[] = {"currency", "plan"};
	const char *qv[] = {"USD", "basic"};
	double got = 0;
	cr_assert_eq(mset_lookup(m, "cs_mrr", 2, qn, qv, &got), 0);
	cr_assert_eq(got, 20);
	const char *bad[] = {"USD", "enterprise"};
	cr_assert_eq(mset_lookup(m, "cs_mrr", 2, qn, bad, &got), -1);
	/* a subset of the labels is not the same series */
	cr_assert_eq(mset_lookup(m, "cs_mrr", 1, qn, qv, &got), -1);
	cr_assert_eq(mset_lookup(m, "cs_nope", 2, qn, qv, &got), -1);
	mset_free(m);
}

Test(expo_set, lookup_escaped_value)
{
	struct mset *m = mset_new();
	struct family *f = mset_family(m, "cs_a", METRIC_GAUGE, "h", NULL);
	const char *n[] = {"name"};
	const char *v[] = {"Acme \"Inc\"\n"};
	family_add(f, 1, n, v, 7);
	double got = 0;
	cr_assert_eq(mset_lookup(m, "cs_a", 1, n, v, &got), 0);
	cr_assert_eq(got, 7);
	mset_free(m);
}

Test(expo_set, lookup_gauge_histogram_parts)
{
	struct mset *m = mset_new();
	struct family *f = mset_family(m, "cs_health_score", METRIC_GAUGEHISTOGRAM, "h", NULL);
	const char *n[] = {"plan"};
	const char *v[] = {"pro"};
	double bounds[] = {10, 50, INFINITY};
	uint64_t cum[] = {1, 3, 5};
	family_add_histogram(f, 1, n, v, 3, bounds, cum, 200.5);
	double got = 0;
	cr_assert_eq(mset_lookup(m, "cs_health_score_gcount", 1, n, v, &got), 0);
	cr_assert_eq(got, 5);
	cr_assert_eq(mset_lookup(m, "cs_health_score_gsum", 1, n, v, &got), 0);
	cr_assert_eq(got, 200.5);
	const char *bn[] = {"le", "plan"};
	const char *bv[] = {"50.0", "pro"};
	cr_assert_eq(mset_lookup(m, "cs_health_score_bucket", 2, bn, bv, &got), 0);
	cr_assert_eq(got, 3);
	const char *bv2[] = {"10", "pro"};
	cr_assert_eq(mset_lookup(m, "cs_health_score_bucket", 2, bn, bv2, &got), 0);
	cr_assert_eq(got, 1);
	const char *bv3[] = {"+Inf", "pro"};
	cr_assert_eq(mset_lookup(m, "cs_health_score_bucket", 2, bn, bv3, &got), 0);
	cr_assert_eq(got, 5);
	const char *bv4[] = {"20", "pro"};
	cr_assert_eq(mset_lookup(m, "cs_health_score_bucket", 2, bn, bv4, &got), -1);
	cr_assert_eq(mset_lookup(m, "cs_health_score", 1, n, v, &got), -1);
	mset_free(m);
}

Test(expo_set, series_count)
{
	struct mset *m = mset_new();
	cr_assert_eq(mset_series(m), 0);
	struct family *g = mset_family(m, "cs_g", METRIC_GAUGE, "h", NULL);
	struct family *h = mset_family(m, "cs_h", METRIC_GAUGEHISTOGRAM, "h", NULL);
	for (int i = 0; i < 5; i++)
		family_add(g, 0, NULL, NULL, i);
	double b[] = {INFINITY};
	uint64_t c[] = {2};
	family_add_histogram(h, 0, NULL, NULL, 1, b, c, 3);
	cr_assert_eq(mset_series(m), 6);
	mset_free(m);
}

Test(expo_set, strings_are_copied)
{
	struct mset *m = mset_new();
	char name[16], help[16], ln[8], lv[8];
	strcpy(name, "cs_tmp");
	strcpy(help, "helpful");
	strcpy(ln, "k");
	strcpy(lv, "v1");
	struct family *f = mset_family(m, name, METRIC_GAUGE, help, NULL);
	const char *n[] = {ln};
	const char *v[] = {lv};
	family_add(f, 1, n, v, 1);
	memset(name, 'X', 6);
	memset(help, 'X', 7);
	memset(ln, 'X', 1);
	memset(lv, 'X', 2);
	const struct mset *sets[] = {m};
	char *out = render(sets, 1, EXPO_TEXT);
	cr_assert_str_eq(out, "# HELP cs_tmp helpful\n# TYPE cs_tmp gauge\ncs_tmp{k=\"v1\"} 1\n");
	free(out);
	mset_free(m);
}

/* ---- golden rendering ---- */

static void fill_golden(struct mset *a, struct mset *b)
{
	struct family *mrr =
	    mset_family(a, "cs_mrr", METRIC_GAUGE, "Monthly recurring revenue.", NULL);
	const char *mn[] = {"plan", "currency"};
	const char *mv1[] = {"pro", "USD"};
	family_add(mrr, 2, mn, mv1, 12500);

	struct family *runs = mset_family(a, "cs_collector_runs_total", METRIC_COUNTER,
					  "Runs of each collector.", NULL);
	const char *rn[] = {"collector"};
	const char *rv[] = {"revenue"};
	family_add(runs, 1, rn, rv, 3);

	struct family *hs =
	    mset_family(a, "cs_health_score", METRIC_GAUGEHISTOGRAM,
			"Health \"score\" of accounts\\by band\nsecond line.", NULL);
	const char *hn[] = {"plan"};
	const char *hv[] = {"pro"};
	double bounds[] = {10, 50, 1209600, INFINITY};
	uint64_t cum[] = {1, 2, 3, 4};
	family_add_histogram(hs, 1, hn, hv, 4, bounds, cum, 215.5);

	struct family *res = mset_family(b, "cs_ticket_resolution_seconds", METRIC_GAUGE,
					 "Mean resolution time.", "seconds");
	family_add(res, 0, NULL, NULL, 0.1);

	/* second set adds to cs_mrr: merged after the first set's samples */
	struct family *mrr2 = mset_family(b, "cs_mrr", METRIC_GAUGE, "ignored", NULL);
	const char *mv2[] = {"basic", "USD"};
	family_add(mrr2, 2, mn, mv2, 166.66666666666666);
}

Test(expo_render, golden_text)
{
	struct mset *a = mset_new(), *b = mset_new();
	fill_golden(a, b);
	const struct mset *sets[] = {a, NULL, b};
	char *out = render(sets, 3, EXPO_TEXT);
	const char *want =
	    "# HELP cs_collector_runs_total Runs of each collector.\n"
	    "# TYPE cs_collector_runs_total counter\n"
	    "cs_collector_runs_total{collector=\"revenue\"} 3\n"
	    "# HELP cs_health_score Health \"score\" of accounts\\\\by band\\nsecond "
	    "line.\n"
	    "# TYPE cs_health_score histogram\n"
	    "cs_health_score_bucket{plan=\"pro\",le=\"10.0\"} 1\n"
	    "cs_health_score_bucket{plan=\"pro\",le=\"50.0\"} 2\n"
	    "cs_health_score_bucket{plan=\"pro\",le=\"1.2096e+06\"} 3\n"
	    "cs_health_score_bucket{plan=\"pro\",le=\"+Inf\"} 4\n"
	    "# HELP cs_health_score_gcount Number of observations of the gauge histogram.\n"
	    "# TYPE cs_health_score_gcount gauge\n"
	    "cs_health_score_gcount{plan=\"pro\"} 4\n"
	    "# HELP cs_health_score_gsum Sum of the observations of the gauge histogram.\n"
	    "# TYPE cs_health_score_gsum gauge\n"
	    "cs_health_score_gsum{plan=\"pro\"} 215.5\n"
	    "# HELP cs_mrr Monthly recurring revenue.\n"
	    "# TYPE cs_mrr gauge\n"
	    "cs_mrr{plan=\"pro\",currency=\"USD\"} 12500\n"
	    "cs_mrr{plan=\"basic\",currency=\"USD\"} 166.66666666666666\n"
	    "# HELP cs_ticket_resolution_seconds Mean resolution time.\n"
	    "# TYPE cs_ticket_resolution_seconds gauge\n"
	    "cs_ticket_resolution_seconds 0.1\n";
	cr_assert_str_eq(out, want);
	free(out);
	mset_free(a);
	mset_free(b);
}

Test(expo_render, golden_openmetrics)
{
	struct mset *a = mset_new(), *b = mset_new();
	fill_golden(a, b);
	const struct mset *sets[] = {a, b};
	char *out = render(sets, 2, EXPO_OPENMETRICS);
	const char *want = "# HELP cs_collector_runs Runs of each collector.\n"
			   "# TYPE cs_collector_runs counter\n"
			   "cs_collector_runs_total{collector=\"revenue\"} 3\n"
			   "# HELP cs_health_score Health \\\"score\\\" of accounts\\\\by "
			   "band\\nsecond line.\n"
			   "# TYPE cs_health_score gaugehistogram\n"
			   "cs_health_score_bucket{plan=\"pro\",le=\"10.0\"} 1\n"
			   "cs_health_score_bucket{plan=\"pro\",le=\"50.0\"} 2\n"
			   "cs_health_score_bucket{plan=\"pro\",le=\"1.2096e+06\"} 3\n"
			   "cs_health_score_bucket{plan=\"pro\",le=\"+Inf\"} 4\n"
			   "cs_health_score_gcount{plan=\"pro\"} 4\n"
			   "cs_health_score_gsum{plan=\"pro\"} 215.5\n"
			   "# HELP cs_mrr Monthly recurring revenue.\n"
			   "# TYPE cs_mrr gauge\n"
			   "cs_mrr{plan=\"pro\",currency=\"USD\"} 12500\n"
			   "cs_mrr{plan=\"basic\",currency=\"USD\"} 166.66666666666666\n"
			   "# HELP cs_ticket_resolution_seconds Mean resolution time.\n"
			   "# TYPE cs_ticket_resolution_seconds gauge\n"
			   "# UNIT cs_ticket_resolution_seconds seconds\n"
			   "cs_ticket_resolution_seconds 0.1\n"
			   "# EOF\n";
	cr_assert_str_eq(out, want);
	free(out);
	mset_free(a);
	mset_free(b);
}

Test(expo_render, le_values_like_client_python)
{
	struct mset *m = mset_new();
	struct family *f = mset_family(m, "cs_ttv_seconds", METRIC_GAUGEHISTOGRAM, "h", NULL);
	/* 1d, 7d, 90d, then small and fractional bounds */
	double bounds[] = {0.000001, 0.25, 86400, 604800, 7776000, INFINITY};
	uint64_t cum[] = {0, 0, 1, 1, 2, 2};
	family_add_histogram(f, 0, NULL, NULL, 6, bounds, cum, 1);
	const struct mset *sets[] = {m};
	char *out = render(sets, 1, EXPO_TEXT);
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"1e-06\"} 0\n"), "%s", out);
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"0.25\"} 0\n"));
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"86400.0\"} 1\n"));
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"604800.0\"} 1\n"));
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"7.776e+06\"} 2\n"));
	cr_assert(strstr(out, "cs_ttv_seconds_bucket{le=\"+Inf\"} 2\n"));
	free(out);
	mset_free(m);
}

Test(expo_render, families_sorted_and_merged_in_set_order)
{
	struct mset *a = mset_new(), *b = mset_new();
	const char *n[] = {"k"};
	const char *v[3] = {"1", "2", "3"};
	family_add(mset_family(b, "cs_b", METRIC_GAUGE, "b", NULL), 1, n, &v[0], 1);
	family_add(mset_family(a, "cs_c", METRIC_GAUGE, "c", NULL), 1, n, &v[0], 1);
	family_add(mset_family(a, "cs_b", METRIC_GAUGE, "b", NULL), 1, n, &v[1], 2);
	family_add(mset_family(b, "cs_a", METRIC_GAUGE, "a", NULL), 1, n, &v[2], 3);
	const struct mset *sets[] = {a, b};
	char *out = render(sets, 2, EXPO_TEXT);
	const char *want = "# HELP cs_a a\n# TYPE cs_a gauge\ncs_a{k=\"3\"} 3\n"
			   "# HELP cs_b b\n# TYPE cs_b gauge\ncs_b{k=\"2\"} 2\ncs_b{k=\"1\"} 1\n"
			   "# HELP cs_c c\n# TYPE cs_c gauge\ncs_c{k=\"1\"} 1\n";
	cr_assert_str_eq(out, want);
	free(out);
	mset_free(a);
	mset_free(b);
}

Test(expo_render, untyped_and_empty_openmetrics)
{
	struct mset *m = mset_new();
	family_add(mset_family(m, "cs_u", METRIC_UNTYPED, "u", NULL), 0, NULL, NULL, 2);
	const struct mset *sets[] = {m};
	char *t = render(sets, 1, EXPO_TEXT);
	char *o = render(sets, 1, EXPO_OPENMETRICS);
	cr_assert_str_eq(t, "# HELP cs_u u\n# TYPE cs_u untyped\ncs_u 2\n");
	cr_assert_str_eq(o, "# HELP cs_u u\n# TYPE cs_u unknown\ncs_u 2\n# EOF\n");
	free(t);
	free(o);
	char *e = render(NULL, 0, EXPO_OPENMETRICS);
	cr_assert_str_eq(e, "# EOF\n");
	free(e);
	mset_free(m);
}

Test(expo_render, label_values_escaped_in_output)
{
	struct mset *m = mset_new();
	const char *n[] = {"name"};
	const char *v[] = {"a\"b\\c\nd\xFF"};
	family_add(mset_family(m, "cs_at_risk", METRIC_GAUGE, "h", NULL), 1, n, v, 1);
	const struct mset *sets[] = {m};
	char *out = render(sets, 1, EXPO_TEXT);
	cr_assert(strstr(out, "cs_at_risk{name=\"a\\\"b\\\\c\\nd\xEF\x9F\xBF\"} 1\n"), "%s", out);
	free(out);
	mset_free(m);
}

Test(expo_render, many_series_all_written)
{
	struct mset *m = mset_new();
	struct family *f = mset_family(m, "cs_big", METRIC_GAUGE, "h", NULL);
	const char *n[] = {"account", "plan"};
	char id[32];
	for (int i = 0; i < 50000; i++) {
		snprintf(id, sizeof(id), "acct-%d", i);
		const char *v[] = {id, (i % 2) ? "pro" : "basic"};
		family_add(f, 2, n, v, i);
	}
	cr_assert_eq(mset_series(m), 50000);
	const struct mset *sets[] = {m};
	char *out = render(sets, 1, EXPO_TEXT);
	size_t lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 50002);
	cr_assert(strstr(out, "cs_big{account=\"acct-49999\",plan=\"pro\"} 49999\n"));
	double got;
	const char *q[] = {"acct-1234", "basic"};
	cr_assert_eq(mset_lookup(m, "cs_big", 2, n, q, &got), 0);
	cr_assert_eq(got, 1234);
	free(out);
	mset_free(m);
}

/* The reference the formatter must agree with: the first of %.15g..%.17g that round-trips. */
static void reference_format(char *dst, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(dst, 40, "%.*g", prec, v);
		if (strtod(dst, NULL) == v)
			return;
	}
}

Test(expo_float, decimal_fast_path_matches_printf)
{
	srand(777);
	char want[40];
	for (int i = 0; i < 50000; i++) {
		double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7};
		double v = (double)(rand() % 100000000) / scale[rand() % 8];
		if (rand() % 2)
			v = -v;
		if (v == 0)
			continue;
		reference_format(want, v);
		cr_assert_str_eq(fmt(v), want, "value %.17g", v);
	}
}

static void collect_name(void *ctx, const char *name)
{
	struct buf *b = ctx;
	buf_adds(b, name);
	buf_addch(b, ';');
}

Test(expo_set, each_family_in_creation_order)
{
	struct mset *m = mset_new();
	mset_family(m, "cs_zeta", METRIC_GAUGE, "z", NULL);
	mset_family(m, "cs_alpha", METRIC_COUNTER, "a", NULL);
	mset_family(m, "cs_zeta", METRIC_GAUGE, "again", NULL);
	struct buf b = BUF_INIT;
	mset_each_family(m, collect_name, &b);
	cr_assert_str_eq(b.data, "cs_zeta;cs_alpha;");
	buf_release(&b);
	mset_free(m);
}

Test(expo_render, part_is_render_without_eof)
{
	struct mset *a = mset_new(), *b = mset_new();
	const char *names[1] = {"plan"}, *values[1] = {"pro"};
	family_add(mset_family(a, "cs_b", METRIC_GAUGE, "B.", NULL), 1, names, values, 1);
	family_add(mset_family(b, "cs_a_total", METRIC_COUNTER, "A.", NULL), 0, NULL, NULL, 2);
	const struct mset *sets[2] = {a, b};
	for (int f = 0; f < 2; f++) {
		struct buf part = BUF_INIT;
		char *whole = render(sets, 2, (enum expo_format)f);
		expo_render_part(sets, 2, (enum expo_format)f, &part);
		cr_assert(strstr(part.data, "# EOF") == NULL);
		if (f == EXPO_OPENMETRICS)
			buf_adds(&part, "# EOF\n");
		cr_assert_str_eq(part.data, whole);
		free(whole);
		buf_release(&part);
	}
	mset_free(a);
	mset_free(b);
}
