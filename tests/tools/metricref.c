/*
 * metricref: the metric reference, generated from the kind table
 * (collectors/kinds.c) and the family tables it points at, so that the
 * documents cannot drift from what the exporter emits.
 *
 *   metricref markdown      docs/metrics.md
 *   metricref metrics-txt   dashboards/metrics.txt (sample names and types)
 *   metricref labels        every label name the exposition can carry
 *                           besides the segment dimensions, one per line
 *   metricref families      every KPI family name, one per line
 *
 * `make metric-reference` rewrites the two documents;
 * tests/integration/test_metric_reference.sh fails when they are stale.
 */
#include <stdio.h>
#include <string.h>

#include "collectors/emit.h"
#include "collectors/kinds.h"

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGEHISTOGRAM:
		return "gaugehistogram";
	case METRIC_UNTYPED:
		break;
	}
	return "untyped";
}

#define EACH_FAMILY(k, f)                                                                          \
	for (const struct cs_family *const *t_ = (k)->families; *t_; t_++)                         \
		for (const struct cs_family *f = *t_; f->name; f++)

static void datasets_of(const struct collector_kind *k, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int d = 0; d < DS_COUNT; d++)
		if (k->datasets & (1u << d))
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
					      config_dataset_name((enum cs_dataset)d));
}

static void markdown(void)
{
	char ds[256];

	puts("# Metrics\n");
	puts("<!-- Generated from the kind table (collectors/kinds.c) by tests/tools/metricref.c:");
	puts(
	    "     run `make metric-reference` after changing a family; do not edit by hand. -->\n");
	puts("Every KPI family carries one label per segment dimension first "
	     "(`segments.dimensions`,");
	puts("in configured order), then its own labels, in the order listed here. The cohort");
	puts("families carry the cohort dimensions (`cohorts.dimensions`) instead of the segment");
	puts("dimensions. A segment dimension may not be named like any label below (the exporter");
	puts("refuses such a configuration).\n");
	puts("Windows: a family with a `window` label has one series per window of its collector");
	puts("(the collector's `windows`, by default the global `windows`, 30d and 90d); window W");
	puts("covers [t-W, t), t being the evaluation instant. The health model uses its own");
	puts("windows (`health`), renewals their `horizon`s. A ratio is absent where its "
	     "denominator");
	puts("is 0. Every family is recomputed each collector interval from the database, except");
	puts("`cs_health_band_transitions_total`, which counts since the exporter started.\n");
	for (int i = 0; i < KIND_COUNT; i++) {
		const struct collector_kind *k = &collector_kinds[i];

		datasets_of(k, ds, sizeof(ds));
		printf("## %s\n\n%s\n\n", k->name, k->about);
		printf("Datasets: %s.", ds);
		if (k->groups) {
			printf(" Settings:");
			for (const char *const *g = k->groups; *g; g++)
				printf("%s `%s`", g == k->groups ? "" : ",", *g);
			printf(".");
		}
		puts("\n");
		puts("| Family | Type | Unit | Labels | Help |");
		puts("|---|---|---|---|---|");
		EACH_FAMILY(k, f)
		{
			printf("| `%s` | %s | %s | ", f->name, type_name(f->type),
			       f->unit ? f->unit : "");
			if (f->prefix == PREFIX_COHORT)
				printf("*cohort dimensions*%s", f->labels[0] ? ", " : "");
			for (size_t l = 0; l < CS_FAMILY_LABELS && f->labels[l]; l++)
				printf("%s`%s`", l ? ", " : "", f->labels[l]);
			printf(" | ");
			for (const char *p = f->help; *p; p++)
				fputs(*p == '|' ? "\\|" : (char[]){*p, 0}, stdout);
			puts(" |");
		}
		puts("");
	}
	puts("## Labels\n");
	puts("Every label name a family above or the exporter itself (self-metrics, histogram");
	puts("buckets, what Prometheus attaches on scrape) writes:\n");
	const char *names[CS_MAX_LABEL_NAMES];
	size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES);
	for (size_t i = 0; i < n && i < CS_MAX_LABEL_NAMES; i++)
		printf("%s`%s`", i ? ", " : "", names[i]);
	puts(".");
}

static void metrics_txt(void)
{
	puts("# Every sample name cs_exporter exposes, one per line, with its type.");
	puts("# tests/scripts/check_dashboards.py checks that every metric a dashboard");
	puts("# queries is listed here (or is a recording rule), and that counters are only");
	puts("# read through rate() or increase(). Gauge histograms are listed by their sample");
	puts("# names (_bucket, _gcount, _gsum). Generated from the kind table");
	puts("# (collectors/kinds.c) by tests/tools/metricref.c: run `make metric-reference`.");
	for (int i = 0; i < KIND_COUNT; i++) {
		const struct collector_kind *k = &collector_kinds[i];

		printf("\n# %s\n", k->name);
		EACH_FAMILY(k, f)
		{
			if (f->type == METRIC_GAUGEHISTOGRAM) {
				static const char *const suffix[] = {"_bucket", "_gcount", "_gsum"};
				for (size_t s = 0; s < 3; s++)
					printf("%s%s gaugehistogram\n", f->name, suffix[s]);
			} else {
				printf("%s %s\n", f->name, type_name(f->type));
			}
		}
	}
	/* The exporter's own series (exporter/serve/snapshot.c) are not
	 * families of a kind: the dashboards read these. */
	puts("\n# exporter self-metrics (exporter/serve/snapshot.c)");
	static const char *const self[] = {
	    "cs_exporter_build_info gauge",
	    "cs_collector_up gauge",
	    "cs_collector_last_success_timestamp_seconds gauge",
	    "cs_collector_duration_seconds gauge",
	    "cs_collector_evaluation_timestamp_seconds gauge",
	    "cs_collector_runs_total counter",
	    "cs_collector_failures_total counter",
	    "cs_rows_rejected_total counter",
	    "cs_series_dropped_total counter",
	    "cs_config_last_reload_successful gauge",
	    "cs_config_last_reload_success_timestamp_seconds gauge",
	    "cs_dataset_rows gauge",
	    "cs_dataset_newest_timestamp_seconds gauge",
	    "cs_dataset_max_age_seconds gauge",
	    "",
	    "# process metrics (client_golang names)",
	    "process_cpu_seconds_total counter",
	    "process_resident_memory_bytes gauge",
	    "process_open_fds gauge",
	    "process_max_fds gauge",
	    "process_start_time_seconds gauge",
	    "",
	    "# written by Prometheus itself for every scrape target",
	    "up gauge",
	    NULL,
	};
	for (const char *const *l = self; *l; l++)
		puts(*l);
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";

	if (strcmp(mode, "markdown") == 0) {
		markdown();
	} else if (strcmp(mode, "metrics-txt") == 0) {
		metrics_txt();
	} else if (strcmp(mode, "labels") == 0) {
		const char *names[CS_MAX_LABEL_NAMES];
		size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES);
		for (size_t i = 0; i < n && i < CS_MAX_LABEL_NAMES; i++)
			puts(names[i]);
	} else if (strcmp(mode, "families") == 0) {
		for (int i = 0; i < KIND_COUNT; i++)
			EACH_FAMILY(&collector_kinds[i], f)
		puts(f->name);
	} else {
		fputs("usage: metricref markdown|metrics-txt|labels|families\n", stderr);
		return 2;
	}
	return 0;
}
