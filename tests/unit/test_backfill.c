#include <criterion/criterion.h>
#include <string.h>

#include "exporter/commands/backfill.h"

static char *merge(const char *const *renders, const int64_t *ts, size_t n)
{
	struct om_merge *m = om_merge_new();
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(om_merge_add(m, renders[i], strlen(renders[i]), ts[i]), 0);
	struct buf out = BUF_INIT;
	om_merge_finish(m, &out);
	om_merge_free(m);
	return buf_detach(&out, NULL);
}

Test(backfill, merges_instants_per_family_and_series)
{
	const char *r1 = "# HELP b_x B.\n# TYPE b_x gauge\nb_x{s=\"1\"} 1\nb_x{s=\"2\"} 2\n"
			 "# HELP a_y A.\n# TYPE a_y gauge\na_y 10\n# EOF\n";
	const char *r2 = "# HELP b_x B.\n# TYPE b_x gauge\nb_x{s=\"1\"} 3\nb_x{s=\"2\"} 4\n"
			 "# HELP a_y A.\n# TYPE a_y gauge\na_y 20\n# EOF\n";
	const char *renders[] = {r1, r2};
	const int64_t ts[] = {1000000, 61500000};
	char *got = merge(renders, ts, 2);
	/* Families by name, metadata once, each series' points together in time
	 * order, timestamps in seconds, one # EOF. */
	cr_assert_str_eq(got, "# HELP a_y A.\n# TYPE a_y gauge\na_y 10 1\na_y 20 61.5\n"
			      "# HELP b_x B.\n# TYPE b_x gauge\n"
			      "b_x{s=\"1\"} 1 1\nb_x{s=\"1\"} 3 61.5\n"
			      "b_x{s=\"2\"} 2 1\nb_x{s=\"2\"} 4 61.5\n# EOF\n");
	free(got);
}

Test(backfill, keeps_a_gauge_histogram_point_together)
{
	const char *r = "# TYPE h gaugehistogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
			"h_gcount 2\nh_gsum 3\n# EOF\n";
	const char *renders[] = {r, r};
	const int64_t ts[] = {0, 10000000};
	char *got = merge(renders, ts, 2);
	const char *first = strstr(got, "h_gsum 3 0\n");
	const char *second = strstr(got, "h_bucket{le=\"1.0\"} 1 10\n");
	cr_assert(first && second, "missing points in:\n%s", got);
	cr_assert(first < second,
		  "the first instant's histogram is not complete before the "
		  "second's:\n%s",
		  got);
	cr_assert_eq(strstr(got, "# TYPE h gaugehistogram\n"), got);
	free(got);
}

Test(backfill, rejects_samples_before_metadata)
{
	struct om_merge *m = om_merge_new();
	const char *bad = "x 1\n";
	cr_assert_eq(om_merge_add(m, bad, strlen(bad), 0), -1);
	om_merge_free(m);
}

Test(backfill, adds_the_labels_to_every_sample)
{
	struct om_merge *m = om_merge_new();
	om_merge_add_label(m, "job", "cs_exporter");
	om_merge_add_label(m, "instance", "db \"1\":9818");
	const char *r =
	    "# TYPE g gauge\ng 1\ng{s=\"a,}\"} 2\n"
	    "# TYPE h gaugehistogram\nh_bucket{s=\"x\",le=\"+Inf\"} 2\nh_gcount 2\n# EOF\n";
	cr_assert_eq(om_merge_add(m, r, strlen(r), 5000000), 0);
	struct buf out = BUF_INIT;
	om_merge_finish(m, &out);
	om_merge_free(m);
	char *got = buf_detach(&out, NULL);
	cr_assert_str_eq(got,
			 "# TYPE g gauge\n"
			 "g{job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 1 5\n"
			 "g{s=\"a,}\",job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 2 5\n"
			 "# TYPE h gaugehistogram\n"
			 "h_bucket{s=\"x\",le=\"+Inf\",job=\"cs_exporter\",instance=\"db "
			 "\\\"1\\\":9818\"} 2 5\n"
			 "h_gcount{job=\"cs_exporter\",instance=\"db \\\"1\\\":9818\"} 2 5\n"
			 "# EOF\n");
	free(got);
}

Test(backfill, refuses_a_label_a_family_already_has)
{
	struct om_merge *m = om_merge_new();
	om_merge_add_label(m, "window", "30d");
	const char *r = "# TYPE g gauge\ng 1\n# TYPE w gauge\nw{window=\"90d\"} 1\n# EOF\n";
	cr_assert_eq(om_merge_add(m, r, strlen(r), 0), -2);
	cr_assert(strstr(om_merge_conflict(m), "\"window\"") && strstr(om_merge_conflict(m), "w's"),
		  "%s", om_merge_conflict(m));
	om_merge_free(m);
}

Test(backfill, writes_to_a_file_what_finish_returns)
{
	const char *r = "# TYPE g gauge\ng{s=\"1\"} 1\ng{s=\"2\"} 2\n# TYPE a gauge\na 3\n# EOF\n";
	struct om_merge *m1 = om_merge_new(), *m2 = om_merge_new();
	for (int64_t t = 0; t < 3; t++) {
		cr_assert_eq(om_merge_add(m1, r, strlen(r), t * 1000000), 0);
		cr_assert_eq(om_merge_add(m2, r, strlen(r), t * 1000000), 0);
	}
	struct buf want = BUF_INIT;
	om_merge_finish(m1, &want);
	om_merge_free(m1);
	FILE *f = tmpfile();
	cr_assert(f);
	cr_assert_eq(om_merge_write(m2, f), 0);
	om_merge_free(m2);
	long len = ftell(f);
	cr_assert_eq((size_t)len, want.len);
	char *got = malloc((size_t)len + 1);
	rewind(f);
	cr_assert_eq(fread(got, 1, (size_t)len, f), (size_t)len);
	got[len] = '\0';
	fclose(f);
	cr_assert_str_eq(got, want.data);
	free(got);
	buf_release(&want);
}
