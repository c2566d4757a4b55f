/*
 * Tests of collectors/kinds.c: the kind table and the checks run against it
 * after a configuration is loaded (cs_settings_load).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/emit.h"
#include "collectors/kinds.h"

/* A configuration whose segment dimensions are on line 3 and cohort
 * dimensions on line 9; returns its path (static). */
static const char *write_config(const char *seg, const char *cohort)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/cs_kinds_test.%ld.conf", (long)getpid());
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"sources = ( { name = \"crm\"; } );\n"
		"segments = {\n"
		"  dimensions = [%s];\n"
		"};\n"
		"datasets = {\n"
		"  accounts = { source = \"crm\"; query = \"SELECT 1\"; };\n"
		"  subscriptions = { source = \"crm\"; query = \"SELECT 1\"; };\n"
		"};\n"
		"cohorts = { dimensions = [%s]; };\n"
		"collectors = ( { kind = \"revenue\"; } );\n",
		seg, cohort);
	fclose(f);
	return path;
}

static void expect_refused(const char *seg, const char *cohort, const char *want)
{
	char err[512] = "";
	const char *path = write_config(seg, cohort);
	struct cs_config *cfg = cs_settings_load(path, err, sizeof(err));

	cr_expect_null(cfg, "accepted: segments [%s], cohorts [%s]", seg, cohort);
	config_free(cfg);
	cr_expect_str_eq(err, want);
	unlink(path);
}

Test(kinds, every_family_label_is_refused_as_a_dimension)
{
	const char *names[CS_MAX_LABEL_NAMES];
	size_t n = cs_label_names(names, CS_MAX_LABEL_NAMES), checked = 0;
	char seg[128], cohort[128], want[512];

	cr_assert_lt(n, CS_MAX_LABEL_NAMES);
	/* every label of every family of the table is among the names */
	for (int k = 0; k < KIND_COUNT; k++)
		for (const struct cs_family *const *t = collector_kinds[k].families; *t; t++)
			for (const struct cs_family *f = *t; f->name; f++)
				for (size_t l = 0; l < CS_FAMILY_LABELS && f->labels[l]; l++) {
					cr_expect(cs_label_reserved(f->labels[l]), "%s of %s",
						  f->labels[l], f->name);
					checked++;
				}
	cr_expect_gt(checked, 50);
	for (size_t i = 0; i < n; i++) {
		const char *path = write_config("", "");

		snprintf(seg, sizeof(seg), "\"plan\", \"%s\"", names[i]);
		snprintf(want, sizeof(want),
			 "%s:3: dimension '%s' is a reserved label name of the exporter", path,
			 names[i]);
		expect_refused(seg, "\"plan\"", want);
		snprintf(cohort, sizeof(cohort), "\"%s\"", names[i]);
		snprintf(want, sizeof(want),
			 "%s:9: cohort dimension \"%s\" is a reserved label name of the exporter",
			 path, names[i]);
		expect_refused("\"plan\"", cohort, want);
	}
}

Test(kinds, the_drifted_names_are_reserved)
{
	static const char *const names[] = {"cohort", "age_months", "horizon",
					    "from",   "to",	    "renewal_at",
					    "le",     "collector",  "instance"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect(cs_label_reserved(names[i]), "%s", names[i]);
	cr_expect_not(cs_label_reserved("plan"));
	cr_expect_not(cs_label_reserved("region"));
}

Test(kinds, a_good_configuration_loads_with_its_settings)
{
	char err[512] = "";
	const char *path = write_config("\"plan\", \"region\"", "\"region\"");
	struct cs_config *cfg = cs_settings_load(path, err, sizeof(err));

	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(cfg->kinds->cohorts.ndims, 1);
	cr_expect_eq(cfg->kinds->cohorts.dims[0], 1, "region");
	cr_expect_eq(cfg->kinds->health.at_risk, 10, "health keeps its defaults");
	cr_expect_eq(cs_kind_of(&cfg->collectors[0]), KIND_REVENUE);
	cr_expect_eq(cs_collector_kind(&cfg->collectors[0])->compute,
		     collector_kinds[KIND_REVENUE].compute);
	config_free(cfg);
	unlink(path);
}

Test(kinds, names_and_datasets_come_from_the_table)
{
	for (int k = 0; k < KIND_COUNT; k++) {
		cr_expect_eq(cs_kind_named(collector_kinds[k].name), &collector_kinds[k]);
		cr_expect(collector_kinds[k].datasets & (1u << DS_ACCOUNTS), "%s",
			  collector_kinds[k].name);
		cr_expect_not_null(collector_kinds[k].families[0], "%s emits families",
				   collector_kinds[k].name);
		cr_expect_eq(!collector_kinds[k].remember, !collector_kinds[k].forget);
	}
	cr_expect_null(cs_kind_named("revenue "));
	cr_expect_null(cs_kind_named(NULL));
}
