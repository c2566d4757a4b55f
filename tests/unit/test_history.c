#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "lib/expo.h"

/* A set with gauges b_x{s="1"}, b_x{s="2"} and a_y, at values base + 0, 1, 2. */
static struct mset *gauges(double base)
{
	struct mset *m = mset_new();
	struct family *b = mset_family(m, "b_x", METRIC_GAUGE, "B.", NULL);
	const char *names[] = {"s"};
	const char *one[] = {"1"}, *two[] = {"2"};
	family_add(b, 1, names, one, base);
	family_add(b, 1, names, two, base + 1);
	family_add(mset_family(m, "a_y", METRIC_GAUGE, "A.", NULL), 0, NULL, NULL, base + 2);
	return m;
}

static char *finish(struct expo_history *h)
{
	struct buf out = BUF_INIT;
	expo_history_finish(h, &out);
	expo_history_free(h);
	return buf_detach(&out, NULL);
}

Test(history, merges_instants_per_family_and_series)
{
	struct mset *m1 = gauges(1), *m2 = gauges(3);
	struct expo_history *h = expo_history_new();
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m1, 1, 1000000), 0);
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m2, 1, 61500000), 0);
	char *got = finish(h);
	/* Families by name, metadata once, each series' points together in time
	 * order, timestamps in seconds, one # EOF. */
	cr_assert_str_eq(got, "# HELP a_y A.\n# TYPE a_y gauge\na_y 3 1\na_y 5 61.5\n"
			      "# HELP b_x B.\n# TYPE b_x gauge\n"
			      "b_x{s=\"1\"} 1 1\nb_x{s=\"1\"} 3 61.5\n"
			      "b_x{s=\"2\"} 2 1\nb_x{s=\"2\"} 4 61.5\n# EOF\n");
	free(got);
	mset_free(m1);
	mset_free(m2);
}

/* Each instant's lines are those expo_render writes in OpenMetrics: one
 * instant merged is the render with a timestamp on every sample line. */
Test(history, one_instant_is_the_render_with_timestamps)
{
	struct mset *m = mset_new();
	family_add(mset_family(m, "c_runs_total", METRIC_COUNTER, "Runs \"q\".", NULL), 0, NULL,
		   NULL, 7);
	struct family *d = mset_family(m, "d_age_seconds", METRIC_GAUGE, "Age.", "seconds");
	const char *names[] = {"who"};
	const char *values[] = {"a\"b\\c\nd"};
	family_add(d, 1, names, values, 0.25);
	double bounds[] = {1, INFINITY};
	uint64_t cum[] = {1, 3};
	family_add_histogram(mset_family(m, "h", METRIC_GAUGEHISTOGRAM, "H.", NULL), 1, names,
			     values, 2, bounds, cum, 4.5);
	struct buf render = BUF_INIT;
	const struct mset *sets[] = {m};
	expo_render(sets, 1, EXPO_OPENMETRICS, &render);
	struct expo_history *h = expo_history_new();
	cr_assert_eq(expo_history_add(h, sets, 1, 5000000), 0);
	char *got = finish(h);

	struct buf want = BUF_INIT;
	for (const char *p = render.data; *p;) {
		const char *nl = strchr(p, '\n');
		buf_add(&want, p, (size_t)(nl - p));
		if (*p != '#')
			buf_adds(&want, " 5");
		buf_addch(&want, '\n');
		p = nl + 1;
	}
	cr_assert_str_eq(got, want.data);
	free(got);
	buf_release(&want);
	buf_release(&render);
	mset_free(m);
}

Test(history, keeps_a_gauge_histogram_point_together)
{
	struct mset *m = mset_new();
	double bounds[] = {1, INFINITY};
	uint64_t cum[] = {1, 2};
	family_add_histogram(mset_family(m, "h", METRIC_GAUGEHISTOGRAM, NULL, NULL), 0, NULL, NULL,
			     2, bounds, cum, 3);
	struct expo_history *h = expo_history_new();
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m, 1, 0), 0);
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m, 1, 10000000), 0);
	char *got = finish(h);
	const char *first = strstr(got, "h_gsum 3 0\n");
	const char *second = strstr(got, "h_bucket{le=\"1.0\"} 1 10\n");
	cr_assert(first && second, "missing points in:\n%s", got);
	cr_assert(first < second,
		  "the first instant's histogram is not complete before the second's:\n%s", got);
	cr_assert_eq(strstr(got, "# TYPE h gaugehistogram\n"), got);
	free(got);
	mset_free(m);
}

/* Families of the same name in several sets are one family, as in a render;
 * a family first seen at a later instant keeps its place by name. */
Test(history, merges_sets_and_late_families)
{
	struct mset *a = gauges(1), *b = mset_new(), *late = mset_new();
	const char *names[] = {"s"};
	const char *three[] = {"3"};
	family_add(mset_family(b, "b_x", METRIC_GAUGE, "other help", NULL), 1, names, three, 9);
	family_add(mset_family(late, "a_a", METRIC_GAUGE, "Late.", NULL), 0, NULL, NULL, 1);
	const struct mset *first[] = {a, b};
	const struct mset *second[] = {a, b, late};
	struct expo_history *h = expo_history_new();
	cr_assert_eq(expo_history_add(h, first, 2, 0), 0);
	cr_assert_eq(expo_history_add(h, second, 3, 1000000), 0);
	char *got = finish(h);
	cr_assert_str_eq(got, "# HELP a_a Late.\n# TYPE a_a gauge\na_a 1 1\n"
			      "# HELP a_y A.\n# TYPE a_y gauge\na_y 3 0\na_y 3 1\n"
			      "# HELP b_x B.\n# TYPE b_x gauge\n"
			      "b_x{s=\"1\"} 1 0\nb_x{s=\"1\"} 1 1\n"
			      "b_x{s=\"2\"} 2 0\nb_x{s=\"2\"} 2 1\n"
			      "b_x{s=\"3\"} 9 0\nb_x{s=\"3\"} 9 1\n# EOF\n");
	free(got);
	mset_free(a);
	mset_free(b);
	mset_free(late);
}

Test(history, adds_the_labels_to_every_sample)
{
	struct mset *m = mset_new();
	const char *s[] = {"s"};
	const char *odd[] = {"a,}"}, *x[] = {"x"};
	struct family *g = mset_family(m, "g", METRIC_GAUGE, NULL, NULL);
	family_add(g, 0, NULL, NULL, 1);
	family_add(g, 1, s, odd, 2);
	double bounds[] = {INFINITY};
	uint64_t cum[] = {2};
	family_add_histogram(mset_family(m, "h", METRIC_GAUGEHISTOGRAM, NULL, NULL), 1, s, x, 1,
			     bounds, cum, 0);
	struct expo_history *h = expo_history_new();
	expo_history_add_label(h, "job", "cs_exporter");
	expo_history_add_label(h, "instance", "db \"1\":9818");
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m, 1, 5000000), 0);
	char *got = finish(h);
	cr_assert_str_eq(
	    got, "# TYPE g gauge\n"
		 "g{job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 1 5\n"
		 "g{s=\"a,}\",job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 2 5\n"
		 "# TYPE h gaugehistogram\n"
		 "h_bucket{s=\"x\",le=\"+Inf\",job=\"cs_exporter\",instance=\"db "
		 "\\\"1\\\":9818\"} 2 5\n"
		 "h_gcount{s=\"x\",job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 2 5\n"
		 "h_gsum{s=\"x\",job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 0 5\n"
		 "# EOF\n");
	free(got);
	mset_free(m);
}

Test(history, refuses_a_label_a_family_already_has)
{
	struct mset *m = mset_new();
	family_add(mset_family(m, "g", METRIC_GAUGE, NULL, NULL), 0, NULL, NULL, 1);
	const char *names[] = {"window"};
	const char *values[] = {"90d"};
	family_add(mset_family(m, "w", METRIC_GAUGE, NULL, NULL), 1, names, values, 1);
	struct expo_history *h = expo_history_new();
	expo_history_add_label(h, "window", "30d");
	cr_assert_eq(expo_history_add(h, (const struct mset *const *)&m, 1, 0), -1);
	const char *why = expo_history_conflict(h);
	cr_assert(strstr(why, "\"window\"") && strstr(why, "w's"), "%s", why);
	expo_history_free(h);
	mset_free(m);
}

Test(history, writes_to_a_file_what_finish_returns)
{
	struct mset *m = gauges(1);
	struct expo_history *h1 = expo_history_new(), *h2 = expo_history_new();
	for (int64_t t = 0; t < 3; t++) {
		cr_assert_eq(expo_history_add(h1, (const struct mset *const *)&m, 1, t * 1000000),
			     0);
		cr_assert_eq(expo_history_add(h2, (const struct mset *const *)&m, 1, t * 1000000),
			     0);
	}
	char *want = finish(h1);
	FILE *f = tmpfile();
	cr_assert(f);
	cr_assert_eq(expo_history_write(h2, f), 0);
	expo_history_free(h2);
	long len = ftell(f);
	cr_assert_eq((size_t)len, strlen(want));
	char *got = malloc((size_t)len + 1);
	rewind(f);
	cr_assert_eq(fread(got, 1, (size_t)len, f), (size_t)len);
	got[len] = '\0';
	fclose(f);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	mset_free(m);
}
