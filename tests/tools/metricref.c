/*
 * metricref: the metric reference, generated from the kind table
 * (collectors/kinds.c), the family tables it points at and the exporter's
 * own table (collectors/self.h), so that the
 * documents cannot drift from what the exporter emits.
 *
 *   metricref markdown      docs/metrics.md
 *   metricref metrics-txt   dashboards/metrics.txt (sample names and types):
 *                           the kinds' families, then the exporter's own
 *                           (collectors/self.h) and Prometheus' up
 *   metricref labels        every label name the exposition can carry
 *                           besides the segment dimensions, one per line
 *   metricref families      every KPI family name, one per line
 *   metricref kinds         every collector kind, one per line
 *
 * `make metric-reference` rewrites the two documents;
 * tests/integration/test_metric_reference.sh fails when they are stale.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "collectors/emit.h"
#include "collectors/kinds.h"
#include "collectors/self.h"

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
	for (int d = 0; d < DS_COUNT; d++)
		if (k->optional_datasets & (1u << d))
			n += (size_t)snprintf(
			    out + n, n < len ? len - n : 0, "%s%s (optional: read when configured)",
			    n ? ", " : "", config_dataset_name((enum cs_dataset)d));
}

static void family_row(const struct cs_family *f)
{
	printf("| `%s` | %s | %s | ", f->name, type_name(f->type), f->unit ? f->unit : "");
	if (f->prefix == PREFIX_COHORT)
		printf("*cohort dimensions*%s", f->labels[0] ? ", " : "");
	for (size_t l = 0; l < CS_FAMILY_LABELS && f->labels[l]; l++)
		printf("%s`%s`", l ? ", " : "", f->labels[l]);
	printf(" | ");
	for (const char *p = f->help; *p; p++)
		fputs(*p == '|' ? "\\|" : (char[]){*p, 0}, stdout);
	puts(" |");
}

static void markdown(void)
{
	char ds[256];

	puts("# Metrics\n");
	puts("<!-- Generated from the kind table (collectors/kinds.c) and collectors/self.h by "
	     "tests/tools/metricref.c:");
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
		family_row(f);
		puts("");
	}
	puts("## exporter\n");
	puts("The exporter's own series: how each collector ran, what each dataset returned, the");
	puts(
	    "configuration, the web server's certificate and the process (client_golang's names).");
	puts("They carry no segment labels. `cs_dataset_retries_total` appears from the first");
	puts("retry, the reload and certificate series once there is something to say.\n");
	puts("| Family | Type | Unit | Labels | Help |");
	puts("|---|---|---|---|---|");
	for (const struct cs_family *f = self_families; f->name; f++)
		family_row(f);
	puts("");
	puts("## Labels\n");
	puts("Every label name a family above or the exporter itself (self-metrics, histogram");
	puts("buckets, what Prometheus attaches on scrape) writes:\n");
	const char *names[CS_MAX_LABEL_NAMES];
	size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES);
	for (size_t i = 0; i < n && i < CS_MAX_LABEL_NAMES; i++)
		printf("%s`%s`", i ? ", " : "", names[i]);
	puts(".");
}

static void sample_names(const struct cs_family *f)
{
	if (f->type == METRIC_GAUGEHISTOGRAM) {
		static const char *const suffix[] = {"_bucket", "_gcount", "_gsum"};
		for (size_t s = 0; s < 3; s++)
			printf("%s%s gaugehistogram\n", f->name, suffix[s]);
	} else {
		printf("%s %s\n", f->name, type_name(f->type));
	}
}

static void metrics_txt(void)
{
	puts("# Every sample name cs_exporter exposes, one per line, with its type.");
	puts("# tests/scripts/check_dashboards.py checks that every metric a dashboard");
	puts("# queries is listed here (or is a recording rule), and that counters are only");
	puts("# read through rate() or increase(). Gauge histograms are listed by their sample");
	puts("# names (_bucket, _gcount, _gsum). Generated from the kind table");
	puts("# (collectors/kinds.c) and the exporter's own table (collectors/self.h) by");
	puts("# tests/tools/metricref.c: run `make metric-reference`.");
	for (int i = 0; i < KIND_COUNT; i++) {
		const struct collector_kind *k = &collector_kinds[i];

		printf("\n# %s\n", k->name);
		EACH_FAMILY(k, f)
		sample_names(f);
	}
	puts("\n# exporter (collectors/self.h)");
	for (const struct cs_family *f = self_families; f->name; f++)
		sample_names(f);
	puts("\n# written by Prometheus itself for every scrape target");
	puts("up gauge");
}

int main(int argc, char **argv)
{
	const char *mode = argc >= 2 ? argv[1] : "";

	if (strcmp(mode, "markdown") == 0) {
		markdown();
	} else if (strcmp(mode, "metrics-txt") == 0) {
		metrics_txt();
	} else if (strcmp(mode, "labels") == 0) {
		const char *names[CS_MAX_LABEL_NAMES];
		size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES);
		for (size_t i = 0; i < n && i < CS_MAX_LABEL_NAMES; i++)
			puts(names[i]);
	} else if (strcmp(mode, "kinds") == 0) {
		for (int i = 0; i < KIND_COUNT; i++)
			puts(collector_kinds[i].name);
	} else if (strcmp(mode, "families") == 0) {
		for (int i = 0; i < KIND_COUNT; i++)
			EACH_FAMILY(&collector_kinds[i], f)
		puts(f->name);
	} else {
		fputs("usage: metricref markdown|metrics-txt|labels|families|kinds\n", stderr);
		return 2;
	}
	return 0;
}
