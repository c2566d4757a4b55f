/*
 * Tests of config/config.c. They run from the repository root, where the
 * fixture files live (tests/configs/{good,bad}, config/example.conf).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/kinds.h"
#include "config/config.h"
#include "lib/buf.h"

#define BAD_DIR	 "tests/configs/bad"
#define GOOD_DIR "tests/configs/good"

static struct cs_config *load_ok(const char *path)
{
	char err[1024] = "";
	struct cs_config *cfg = cs_settings_load(path, err, sizeof(err));

	cr_assert_not_null(cfg, "%s should load, got: %s", path, err);
	return cfg;
}

static const struct cs_source *source_named(const struct cs_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	cr_assert_fail("no source '%s'", name);
	return NULL;
}

static const struct cs_collector *collector_of(const struct cs_config *cfg, enum cs_kind kind)
{
	for (size_t i = 0; i < cfg->ncollectors; i++)
		if (strcmp(cfg->collectors[i].kind, collector_kinds[kind].name) == 0)
			return &cfg->collectors[i];
	cr_assert_fail("no collector of kind %s", collector_kinds[kind].name);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Broken configurations                                                     */
/* ------------------------------------------------------------------------ */

struct expectation {
	char *file;
	char *substring;
	bool used;
};

static size_t read_expected(struct expectation *out, size_t max)
{
	FILE *f = fopen(BAD_DIR "/EXPECTED", "r");
	char line[1024];
	size_t n = 0;

	cr_assert_not_null(f, "cannot open " BAD_DIR "/EXPECTED");
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, ": ");
		size_t len = strlen(line);

		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		cr_assert_not_null(sep, "malformed EXPECTED line: %s", line);
		cr_assert_lt(n, max, "too many EXPECTED lines");
		out[n].file = xstrndup(line, (size_t)(sep - line));
		out[n].substring = xstrdup(sep + 2);
		out[n].used = false;
		n++;
	}
	fclose(f);
	return n;
}

Test(config_bad, every_file_fails_with_its_expected_message)
{
	struct expectation exp[256];
	size_t nexp = read_expected(exp, 256), nfiles = 0;
	DIR *d = opendir(BAD_DIR);
	struct dirent *de;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct expectation *e = NULL;
		char path[512], err[1024] = "";
		struct cs_config *cfg;

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		nfiles++;
		for (size_t i = 0; i < nexp; i++)
			if (strcmp(exp[i].file, de->d_name) == 0)
				e = &exp[i];
		cr_expect_not_null(e, "%s has no line in EXPECTED", de->d_name);
		snprintf(path, sizeof(path), BAD_DIR "/%s", de->d_name);
		cfg = cs_settings_load(path, err, sizeof(err));
		cr_expect_null(cfg, "%s loaded but should have failed", de->d_name);
		config_free(cfg);
		if (!e)
			continue;
		e->used = true;
		cr_expect_not_null(strstr(err, e->substring), "%s: expected \"%s\" in \"%s\"",
				   de->d_name, e->substring, err);
		/* Every message starts with the path and a line number. */
		cr_expect_eq(strncmp(err, path, strlen(path)), 0, "%s: no file prefix in \"%s\"",
			     de->d_name, err);
		cr_expect(err[strlen(path)] == ':' && err[strlen(path) + 1] >= '1' &&
			      err[strlen(path) + 1] <= '9',
			  "%s: no line number in \"%s\"", de->d_name, err);
	}
	closedir(d);
	cr_expect_geq(nfiles, 32, "only %zu broken configs", nfiles);
	for (size_t i = 0; i < nexp; i++) {
		cr_expect(exp[i].used, "EXPECTED names %s, which does not exist", exp[i].file);
		free(exp[i].file);
		free(exp[i].substring);
	}
}

Test(config_bad, expected_substrings_carry_a_line_number)
{
	struct expectation exp[256];
	size_t n = read_expected(exp, 256);

	for (size_t i = 0; i < n; i++) {
		size_t flen = strlen(exp[i].file);
		const char *p = exp[i].substring;
		cr_expect_eq(strncmp(p, exp[i].file, flen), 0, "%s", p);
		cr_expect(p[flen] == ':' && p[flen + 1] >= '1' && p[flen + 1] <= '9', "%s", p);
		free(exp[i].file);
		free(exp[i].substring);
	}
}

Test(config_bad, missing_file_names_the_file_and_the_reason)
{
	char err[256] = "";

	cr_assert_null(cs_settings_load(BAD_DIR "/no-such-file.conf", err, sizeof(err)));
	cr_expect_not_null(strstr(err, "no-such-file.conf"), "%s", err);
	cr_expect_not_null(strstr(err, "No such file or directory"), "%s", err);
	cr_assert_null(cs_settings_load(BAD_DIR, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "Is a directory"), "%s", err);
}

Test(config_bad, short_error_buffer_is_truncated_not_overrun)
{
	char err[16];

	memset(err, 'x', sizeof(err));
	cr_assert_null(cs_settings_load(BAD_DIR "/unknown_top_level.conf", err, 8));
	cr_expect_eq(strlen(err), 7);
	cr_expect_eq(err[8], 'x');
	cr_assert_null(cs_settings_load(BAD_DIR "/unknown_top_level.conf", NULL, 0));
}

/* ------------------------------------------------------------------------ */
/* Valid configurations                                                      */
/* ------------------------------------------------------------------------ */

Test(config_good, minimal_takes_every_default)
{
	struct cs_config *cfg = load_ok(GOOD_DIR "/minimal.conf");
	const struct cs_health *h = &cfg->kinds->health;
	const struct cs_collector *c;

	cr_expect_eq(cfg->nsources, 1);
	cr_expect_str_eq(cfg->sources[0].conninfo,
			 "connect_timeout='10' application_name='cs_exporter'");
	cr_expect_null(cfg->sources[0].password_file);
	cr_expect_null(cfg->sources[0].password_env);
	cr_expect_eq(cfg->ndims, 0);
	cr_expect_eq(cfg->max_segments, 500);
	cr_expect_str_eq(cfg->currency, "USD");
	cr_expect_eq(cfg->nrates, 0);
	cr_expect_float_eq(cfg->gross_margin, 1.0, 1e-12);
	cr_expect_eq(cfg->nwindows, 2);
	cr_expect_str_eq(cfg->windows[0].label, "30d");
	cr_expect_eq(cfg->windows[0].seconds, 30 * 86400);
	cr_expect_str_eq(cfg->windows[1].label, "90d");
	cr_expect_eq(cfg->windows[1].seconds, 90 * 86400);
	cr_expect_eq(cfg->nfeatures, 0);
	cr_expect(cfg->has_dataset[DS_ACCOUNTS]);
	for (int d = DS_SUBSCRIPTIONS; d < DS_COUNT; d++)
		cr_expect_not(cfg->has_dataset[d], "%s", config_dataset_name((enum cs_dataset)d));
	cr_expect_eq(cfg->datasets[DS_ACCOUNTS].nparams, 0);

	cr_expect_float_eq(h->w_usage, 40, 1e-12);
	cr_expect_float_eq(h->w_sentiment, 25, 1e-12);
	cr_expect_float_eq(h->w_support, 15, 1e-12);
	cr_expect_float_eq(h->w_billing, 20, 1e-12);
	cr_expect_eq(h->usage_window, 30 * 86400);
	cr_expect_eq(h->sentiment_window, 90 * 86400);
	cr_expect_eq(h->support_window, 30 * 86400);
	cr_expect_eq(h->billing_window, 90 * 86400);
	cr_expect_float_eq(h->usage_target, 0.8, 1e-12);
	cr_expect_float_eq(h->red_below, 50, 1e-12);
	cr_expect_float_eq(h->green_from, 75, 1e-12);
	cr_expect_eq(h->at_risk, 10);
	cr_expect_not(h->at_risk_by_mrr, "ranked by score unless told");
	cr_expect_not(h->at_risk_per_segment);
	cr_expect_eq(cfg->kinds->movers.top, 10);
	cr_expect_not(cfg->kinds->movers.per_segment);
	cr_expect_eq(cfg->kinds->cohorts.months, 12);
	cr_expect_eq(cfg->kinds->cohorts.ndims, 0, "every dimension: there are none");
	cr_assert_eq(cfg->kinds->renewals.nhorizons, 3);
	cr_expect_str_eq(cfg->kinds->renewals.horizons[0].label, "30d");
	cr_expect_eq(cfg->kinds->renewals.horizons[1].seconds, 60 * 86400);
	cr_expect_str_eq(cfg->kinds->renewals.horizons[2].label, "90d");

	cr_assert_eq(cfg->noutcomes, 1);
	cr_expect_eq(cfg->outcomes[0].direction, OUTCOME_AT_LEAST);
	cr_expect_float_eq(cfg->outcomes[0].target, 3.0, 1e-12);

	cr_assert_eq(cfg->ncollectors, 1);
	c = &cfg->collectors[0];
	cr_expect_str_eq(c->name, "outcomes", "the name defaults to the kind");
	cr_expect_eq(c->interval, 300);
	cr_expect_eq(c->timeout, 30);
	cr_expect_eq(c->nwindows, 2);
	cr_expect_str_eq(c->windows[1].label, "90d");

	cr_assert_eq(cfg->web.nlisten, 1);
	cr_expect_str_eq(cfg->web.listen[0], ":9818");
	cr_expect_str_eq(cfg->web.telemetry_path, "/metrics");
	cr_expect_null(cfg->web.config_file);
	cr_expect_not(cfg->web.enable_reload_endpoint);
	cr_expect_eq(cfg->web.stale_after, 3 * 300);
	cr_expect_eq(cfg->web.nexpected, 0);
	cr_expect_str_eq(cfg->path, GOOD_DIR "/minimal.conf");
	config_free(cfg);
}

Test(config_good, full_reads_every_setting)
{
	struct cs_config *cfg = load_ok(GOOD_DIR "/full.conf");
	const struct cs_source *billing = source_named(cfg, "billing");
	const struct cs_source *crm = source_named(cfg, "crm");
	const struct cs_health *h = &cfg->kinds->health;
	const struct cs_collector *c;
	const struct cs_query *q;

	cr_expect_str_eq(
	    billing->conninfo,
	    "host='db.example.com' port='6432' dbname='billing' user='cs_reader' "
	    "sslmode='verify-full' connect_timeout='60' application_name='cs_exporter'");
	cr_expect_str_eq(billing->password_file, GOOD_DIR "/secrets/billing.pass",
			 "relative to the config file");
	cr_expect_null(billing->password_env);
	/* ' and \ are backslash-escaped inside single quotes; spaces need the quotes. */
	cr_expect_str_eq(crm->conninfo,
			 "host='/var/run/postgresql' dbname='my crm' user='o\\'brien\\\\x' "
			 "connect_timeout='10' application_name='cs_exporter'");
	cr_expect_str_eq(crm->password_env, "CS_CRM_PASSWORD");
	cr_expect_null(crm->password_file);

	cr_assert_eq(cfg->ndims, 3);
	cr_expect_str_eq(cfg->dims[0], "plan");
	cr_expect_str_eq(cfg->dims[2], "_tier");
	cr_expect_eq(cfg->max_segments, 42);

	cr_expect_str_eq(cfg->currency, "EUR");
	cr_expect_float_eq(cfg->gross_margin, 0.75, 1e-12);
	cr_assert_eq(cfg->nrates, 2);
	cr_expect_str_eq(cfg->rates[0].code, "USD");
	cr_expect_float_eq(cfg->rates[0].rate, 0.92, 1e-12);
	cr_expect_str_eq(cfg->rates[1].code, "GBP");
	cr_expect_float_eq(cfg->rates[1].rate, 1.0, 1e-12, "integer rates are numbers too");

	cr_assert_eq(cfg->nwindows, 3);
	cr_expect_str_eq(cfg->windows[1].label, "4w");
	cr_expect_eq(cfg->windows[1].seconds, 28 * 86400);
	cr_expect_str_eq(cfg->windows[2].label, "2160h");
	cr_expect_eq(cfg->windows[2].seconds, 90 * 86400);

	cr_assert_eq(cfg->nfeatures, 4);
	cr_expect_str_eq(cfg->features[3], "Süß");

	for (int d = 0; d < DS_COUNT; d++)
		cr_expect(cfg->has_dataset[d], "%s", config_dataset_name((enum cs_dataset)d));
	q = &cfg->datasets[DS_SUBSCRIPTIONS];
	cr_expect_str_eq(cfg->sources[q->source].name, "billing");
	cr_assert_eq(q->nparams, 2);
	cr_expect_eq(q->params[0], PARAM_AS_OF);
	cr_expect_eq(q->params[1], PARAM_SINCE);
	cr_expect_eq(q->line, 16, "line of the query setting");
	cr_expect_str_eq(cfg->sources[cfg->datasets[DS_TICKETS].source].name, "crm");
	cr_expect_eq(cfg->datasets[DS_PAYMENTS].nparams, 2);
	cr_expect_str_eq(cfg->sources[cfg->datasets[DS_PAYMENTS].source].name, "billing");

	cr_assert_eq(cfg->noutcomes, 2);
	cr_expect_str_eq(cfg->outcomes[0].name, "invoices processed");
	cr_expect_eq(cfg->outcomes[0].direction, OUTCOME_AT_LEAST);
	cr_assert_eq(cfg->outcomes[0].query.nparams, 3);
	cr_expect_eq(cfg->outcomes[0].query.params[0], PARAM_WINDOW_START);
	cr_expect_eq(cfg->outcomes[0].query.params[1], PARAM_WINDOW_END);
	cr_expect_eq(cfg->outcomes[0].query.params[2], PARAM_AS_OF);
	cr_expect_eq(cfg->outcomes[1].direction, OUTCOME_AT_MOST);
	cr_expect_float_eq(cfg->outcomes[1].target, 2.5, 1e-12);
	cr_expect_str_eq(cfg->sources[cfg->outcomes[1].query.source].name, "crm");

	cr_expect_float_eq(h->w_usage, 50, 1e-12);
	cr_expect_float_eq(h->w_sentiment, 0, 1e-12);
	cr_expect_float_eq(h->w_support, 25.5, 1e-12);
	cr_expect_float_eq(h->w_billing, 24.5, 1e-12);
	cr_expect_eq(h->usage_window, 14 * 86400);
	cr_expect_eq(h->sentiment_window, 180 * 86400);
	cr_expect_eq(h->support_window, 7 * 86400);
	cr_expect_eq(h->billing_window, 60 * 86400);
	cr_expect_float_eq(h->usage_target, 0.5, 1e-12);
	cr_expect_float_eq(h->red_below, 40, 1e-12);
	cr_expect_float_eq(h->green_from, 40, 1e-12);
	cr_expect_eq(h->at_risk, 0);
	cr_expect(h->at_risk_by_mrr);
	cr_expect(h->at_risk_per_segment);
	cr_expect_eq(cfg->kinds->movers.top, 3);
	cr_expect(cfg->kinds->movers.per_segment);

	cr_expect_eq(cfg->kinds->cohorts.months, 36);
	cr_assert_eq(cfg->kinds->cohorts.ndims, 2);
	cr_expect_eq(cfg->kinds->cohorts.dims[0], 2, "_tier");
	cr_expect_eq(cfg->kinds->cohorts.dims[1], 0, "plan");
	cr_assert_eq(cfg->kinds->renewals.nhorizons, 2);
	cr_expect_str_eq(cfg->kinds->renewals.horizons[0].label, "2w");
	cr_expect_eq(cfg->kinds->renewals.horizons[0].seconds, 14 * 86400);
	cr_expect_eq(cfg->kinds->renewals.horizons[1].seconds, 86400);

	cr_assert_eq(cfg->ncollectors, 7);
	c = collector_of(cfg, KIND_REVENUE);
	cr_expect_str_eq(c->name, "rev");
	cr_expect_eq(c->interval, 90);
	cr_expect_eq(c->timeout, 60);
	cr_assert_eq(c->nwindows, 2);
	cr_expect_str_eq(c->windows[0].label, "1d");
	cr_expect_eq(c->windows[0].seconds, 86400);
	c = collector_of(cfg, KIND_TRIALS);
	cr_expect_str_eq(c->name, "trials");
	cr_expect_eq(c->interval, 10);
	cr_expect_eq(c->timeout, 10, "the default timeout never exceeds the interval");
	cr_expect_eq(c->nwindows, 3, "global windows by default");
	c = collector_of(cfg, KIND_OUTCOMES);
	cr_expect_eq(c->interval, 7200);
	cr_expect_eq(c->line, 43);

	cr_assert_eq(cfg->web.nlisten, 3);
	cr_expect_str_eq(cfg->web.listen[2], "[::1]:9818");
	cr_expect_str_eq(cfg->web.telemetry_path, "/kpi");
	/* relative to the config file's directory */
	const char *wc = cfg->web.config_file;
	const char *want = "configs/good/web.yml";
	cr_expect(strlen(wc) >= strlen(want) && strcmp(wc + strlen(wc) - strlen(want), want) == 0,
		  "%s", wc);
	cr_expect(cfg->web.enable_reload_endpoint);
	cr_expect_eq(cfg->web.stale_after, 86400);
	cr_assert_eq(cfg->web.nexpected, 2);
	cr_expect_str_eq(cfg->web.expected_rejections[0], "surveys/null_key");
	cr_expect_str_eq(cfg->web.expected_rejections[1], "urgent cases/bad_number");
	config_free(cfg);
}

Test(config_good, placeholders_inside_literals_and_comments_are_ignored)
{
	struct cs_config *cfg = load_ok(GOOD_DIR "/sql_lexing.conf");

	cr_expect_eq(cfg->datasets[DS_ACCOUNTS].nparams, 1);
	cr_expect_not_null(strstr(cfg->datasets[DS_ACCOUNTS].sql, "$tag$ $10 $tag$"));
	cr_expect_eq(cfg->outcomes[0].query.params[0], PARAM_WINDOW_START);
	/* stored as written: what is sent is the activity dataset's business */
	cr_expect_str_eq(cfg->datasets[DS_ACTIVITY].sql,
			 "SELECT a AS account_key, u AS user_key, f AS feature, t AS last_active_at"
			 " FROM e WHERE t >= $1 -- $2 ;\n ; \n");
	config_free(cfg);
}

Test(config_good, example_conf_documents_a_working_setup)
{
	struct cs_config *cfg = load_ok("config/example.conf");
	const struct cs_source *billing = source_named(cfg, "billing");

	cr_expect_eq(cfg->nsources, 2);
	cr_expect_str_eq(billing->password_file, "config/secrets/billing.pass");
	cr_expect_str_eq(source_named(cfg, "crm")->password_env, "CS_CRM_PASSWORD");
	cr_expect_not_null(strstr(billing->conninfo, "connect_timeout='5'"));
	cr_expect_eq(cfg->ndims, 2);
	cr_expect_str_eq(cfg->dims[1], "region");
	cr_expect_eq(cfg->nrates, 2);
	cr_expect_eq(cfg->nfeatures, 3);
	for (int d = 0; d < DS_COUNT; d++)
		cr_expect(cfg->has_dataset[d], "%s", config_dataset_name((enum cs_dataset)d));
	cr_expect_eq(cfg->noutcomes, 1);
	cr_expect_eq(cfg->ncollectors, KIND_COUNT, "one collector of every kind");
	for (int k = 0; k < KIND_COUNT; k++)
		collector_of(cfg, (enum cs_kind)k);
	cr_expect_eq(collector_of(cfg, KIND_ADOPTION)->windows[0].seconds, 7 * 86400);
	cr_expect_eq(cfg->web.stale_after, 3 * 3600);
	config_free(cfg);
}

/* Each construct gets its own file so a scanner bug shows which one broke. */
static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cs_config_test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static char *write_file(const char *name, const char *text)
{
	struct buf b = BUF_INIT;
	FILE *f;

	buf_addf(&b, "%s/%s", tmpdir, name);
	f = fopen(b.data, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* A config whose accounts query is sql (a libconfig string body) with params. */
static struct cs_config *load_query(const char *params, const char *sql, char *err, size_t len)
{
	struct buf b = BUF_INIT;
	struct cs_config *cfg;
	char *path;

	buf_addf(&b,
		 "sources = ( { name = \"crm\"; } );\n"
		 "segments = { dimensions = []; };\n"
		 "datasets = { accounts = { source = \"crm\"; params = [%s];\n"
		 "  query = \"%s\"; }; };\n"
		 "collectors = ( { kind = \"outcomes\"; } );\n"
		 "outcomes = ( { name = \"o\"; source = \"crm\"; target = 1; query = \"S\"; } );\n",
		 params, sql);
	path = write_file("q.conf", b.data);
	cfg = cs_settings_load(path, err, len);
	free(path);
	buf_release(&b);
	return cfg;
}

/* A minimal revenue config with a cohorts and renewals text of its own. */
static struct cs_config *load_beyond(const char *text, char *err, size_t len)
{
	struct buf b = BUF_INIT;
	struct cs_config *cfg;
	char *path;

	buf_addf(&b,
		 "sources = ( { name = \"db\"; } );\n"
		 "segments = { dimensions = [\"plan\", \"region\"]; };\n"
		 "datasets = { accounts = { source = \"db\"; query = \"A\"; };\n"
		 "  subscriptions = { source = \"db\"; query = \"S\"; }; };\n"
		 "collectors = ( { kind = \"revenue\"; } );\n%s\n",
		 text);
	path = write_file("beyond.conf", b.data);
	cfg = cs_settings_load(path, err, len);
	free(path);
	buf_release(&b);
	return cfg;
}

Test(config_beyond, cohorts_and_renewals, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char err[512] = "";
	struct cs_config *cfg = load_beyond("", err, sizeof(err));

	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(cfg->kinds->cohorts.months, 12);
	cr_assert_eq(cfg->kinds->cohorts.ndims, 2, "every segment dimension by default");
	cr_expect_eq(cfg->kinds->cohorts.dims[1], 1);
	config_free(cfg);

	cfg = load_beyond("cohorts = { months = 0; dimensions = []; };", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(cfg->kinds->cohorts.months, 0);
	cr_expect_eq(cfg->kinds->cohorts.ndims, 0, "[]: one table over all accounts");
	config_free(cfg);

	cfg = load_beyond("renewals = { horizons = [\"1d\",\"2d\",\"3d\",\"4d\",\"5d\",\"6d\","
			  "\"7d\",\"8d\"]; };",
			  err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(cfg->kinds->renewals.nhorizons, 8);
	config_free(cfg);

	static const struct {
		const char *text, *message;
	} bad[] = {
	    {"cohorts = { months = 37; };", "'months' must be between 0 and 36"},
	    {"cohorts = { months = -1; };", "'months' must be between 0 and 36"},
	    {"cohorts = { dimensions = [\"tier\"]; };",
	     "cohort dimension \"tier\" is not a segment dimension"},
	    {"cohorts = { dimensions = [\"plan\", \"plan\"]; };",
	     "duplicate cohort dimension \"plan\""},
	    {"cohorts = { weeks = 3; };", "weeks"},
	    {"renewals = { horizons = []; };", "'horizons' must list at least one window"},
	    {"renewals = { horizons = [\"1d\",\"2d\",\"3d\",\"4d\",\"5d\",\"6d\",\"7d\",\"8d\","
	     "\"9d\"]; };",
	     "at most 8"},
	    {"renewals = { horizons = [\"30d\", \"720h\"]; };", "repeats"},
	    {"renewals = { horizons = [\"soon\"]; };", "invalid duration"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cfg = load_beyond(bad[i].text, err, sizeof(err));
		cr_expect_null(cfg, "%s should fail", bad[i].text);
		cr_expect(strstr(err, bad[i].message) != NULL, "%s: got \"%s\"", bad[i].text, err);
		cr_expect(strstr(err, "beyond.conf:6: ") != NULL, "%s: line 6 in \"%s\"",
			  bad[i].text, err);
		config_free(cfg);
	}
}

Test(config_beyond, churn_reasons, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char err[512] = "", codes[33 * 8 + 1] = "";
	struct cs_config *cfg = load_beyond("", err, sizeof(err));

	cr_assert_not_null(cfg, "%s", err);
	cr_assert_eq(cfg->kinds->churn_reasons.n, 8, "Stripe's eight by default");
	cr_expect_str_eq(cfg->kinds->churn_reasons.codes[0], "customer_service");
	cr_expect_str_eq(cfg->kinds->churn_reasons.codes[3], "other");
	cr_expect_str_eq(cfg->kinds->churn_reasons.codes[7], "unused");
	config_free(cfg);

	cfg = load_beyond("churn_reasons = [\"price\", \"bugs_2\"];", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_eq(cfg->kinds->churn_reasons.n, 2);
	cr_expect_str_eq(cfg->kinds->churn_reasons.codes[0], "price");
	cr_expect_str_eq(cfg->kinds->churn_reasons.codes[1], "bugs_2");
	config_free(cfg);

	/* 32 codes are allowed, 33 are not */
	strcpy(codes, "churn_reasons = [");
	for (int i = 0; i < 32; i++)
		snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s\"c%d\"",
			 i ? "," : "", i);
	strcat(codes, "];");
	cfg = load_beyond(codes, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_eq(cfg->kinds->churn_reasons.n, 32);
	config_free(cfg);
	codes[strlen(codes) - 2] = '\0';
	strcat(codes, ",\"c32\"];");

	const struct {
		const char *text, *message;
	} bad[] = {
	    {codes, "at most 32"},
	    {"churn_reasons = [];", "'churn_reasons' must list at least one reason code"},
	    {"churn_reasons = [\"unknown\"];", "churn reason \"unknown\" is not a code"},
	    {"churn_reasons = [\"Price\"];", "churn reason \"Price\" must be snake_case"},
	    {"churn_reasons = [\"2fast\"];", "churn reason \"2fast\" must be snake_case"},
	    {"churn_reasons = [\"too-expensive\"];", "must be snake_case"},
	    {"churn_reasons = [\"\"];", "must be snake_case"},
	    {"churn_reasons = "
	     "[\"a2345678901234567890123456789012345678901234567890123456789012345\"];",
	     "at most 64 bytes"},
	    {"churn_reasons = [\"price\", \"price\"];", "duplicate churn reason \"price\""},
	    {"churn_reasons = \"price\";", "'churn_reasons' must be a list of strings"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cfg = load_beyond(bad[i].text, err, sizeof(err));
		cr_expect_null(cfg, "%s should fail", bad[i].text);
		cr_expect(strstr(err, bad[i].message) != NULL, "%s: got \"%s\"", bad[i].text, err);
		cr_expect(strstr(err, "beyond.conf:6: ") != NULL, "%s: line 6 in \"%s\"",
			  bad[i].text, err);
		config_free(cfg);
	}
}

Test(config_sql, placeholder_table, .init = make_tmpdir, .fini = remove_tmpdir)
{
	static const struct {
		const char *params;
		const char *sql;
		const char *error; /* NULL: loads */
		int line;	   /* of the error: the query (4) or the params (3) */
	} cases[] = {
	    {"\"as_of\"", "SELECT $1", NULL, 0},
	    {"\"as_of\", \"since\"", "SELECT $2, $1", NULL, 0},
	    {"\"as_of\"", "SELECT $1, $1::date", NULL, 0},
	    {"\"as_of\"", "SELECT $1, '$2'", NULL, 0},
	    {"\"as_of\"", "SELECT $1, 'a''$2'", NULL, 0},
	    {"\"as_of\"", "SELECT $1, E'\\\\'$2'", NULL, 0},
	    {"\"as_of\"", "SELECT $1, \\\"x$2\\\"", NULL, 0},
	    {"\"as_of\"", "SELECT $1 -- $2", NULL, 0},
	    {"\"as_of\"", "SELECT $1 /* $2 /* $3 */ $4 */", NULL, 0},
	    {"\"as_of\"", "SELECT $1, $q$ $2 $q$", NULL, 0},
	    {"\"as_of\"", "SELECT $1, $$ $2 $$", NULL, 0},
	    {"\"as_of\"", "SELECT $1, x$2 FROM t", NULL, 0},
	    {"\"as_of\"", "SELECT $1 /* $2 */ , $3", "query references $3", 4},
	    {"\"as_of\"", "SELECT $1 -- $2\\n, $2", "query references $2", 4},
	    {"\"as_of\"", "SELECT '$1'", "never uses $1", 4},
	    {"\"as_of\"", "SELECT $10", "query references $10", 4},
	    {"\"as_of\"", "SELECT $99999999999999999999", "query references $", 4},
	    {"", "SELECT 1", NULL, 0},
	    {"", "", "'query' must not be empty", 4},
	    {"\"since\", \"as_of\"", "SELECT $2", "parameter 'since' is listed as $1", 4},
	    {"\"window_end\"", "SELECT $1", "unknown parameter 'window_end'", 3},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct cs_config *cfg = load_query(cases[i].params, cases[i].sql, err, sizeof(err));

		if (!cases[i].error) {
			cr_expect_not_null(cfg, "[%s] should load: %s", cases[i].sql, err);
		} else {
			cr_expect_null(cfg, "[%s] should fail", cases[i].sql);
			cr_expect_not_null(strstr(err, cases[i].error), "[%s]: got \"%s\"",
					   cases[i].sql, err);
			char at[32];
			snprintf(at, sizeof(at), "q.conf:%d: ", cases[i].line);
			cr_expect_not_null(strstr(err, at), "error at line %d: %s", cases[i].line,
					   err);
		}
		config_free(cfg);
	}
}

Test(config_sql, include_is_relative_to_the_config, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char *main_path, *inc, err[512] = "";
	struct cs_config *cfg;

	inc = write_file("sources.inc", "sources = ( { name = \"crm\"; port = \"x\"; } );\n");
	main_path = write_file("main.conf", "@include \"sources.inc\"\n"
					    "segments = { dimensions = []; };\n");
	cfg = cs_settings_load(main_path, err, sizeof(err));
	cr_expect_null(cfg);
	/* The error names the included file, where the mistake is. */
	cr_expect_not_null(strstr(err, "sources.inc:1: 'port' must be an integer"), "%s", err);
	free(inc);
	free(main_path);
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                 */
/* ------------------------------------------------------------------------ */

Test(config_duration, table)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} cases[] = {
	    {"1s", 1},
	    {"90s", 90},
	    {"5m", 300},
	    {"2h", 7200},
	    {"30d", 2592000},
	    {"1w", 604800},
	    {"007m", 420},
	    {"36500d", INT64_C(36500) * 86400},
	    {"5214w", INT64_C(5214) * 604800},
	    {"0s", -1},
	    {"0w", -1},
	    {"-5m", -1},
	    {"+5m", -1},
	    {"300", -1},
	    {"5", -1},
	    {"m", -1},
	    {"", -1},
	    {"5y", -1},
	    {"5M", -1},
	    {"5ms", -1},
	    {"5 m", -1},
	    {" 5m", -1},
	    {"5m ", -1},
	    {"1.5h", -1},
	    {"1h30m", -1},
	    {"36501d", -1},
	    {"5215w", -1},
	    {"99999999999999999999s", -1},
	    {"9223372036854775807s", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(config_parse_duration(cases[i].text), cases[i].seconds,
			     "\"%s\": got %lld, want %lld", cases[i].text,
			     (long long)config_parse_duration(cases[i].text),
			     (long long)cases[i].seconds);
	cr_expect_eq(config_parse_duration(NULL), -1);
}

/* ------------------------------------------------------------------------ */
/* Passwords                                                                 */
/* ------------------------------------------------------------------------ */

static char *password(const struct cs_source *src, bool *failed, char *err, size_t len)
{
	err[0] = '\0';
	return config_source_password(src, failed, err, len);
}

Test(config_password, from_file_strips_one_newline, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct cs_source src = {.name = (char *)"billing"};
	char err[512];
	bool failed = true;
	char *pw;

	src.password_file = write_file("a.pass", "s3cr'et\n");
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_not(failed);
	cr_expect_str_eq(pw, "s3cr'et");
	free(pw);
	free(src.password_file);

	src.password_file = write_file("b.pass", "two\n\n");
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_str_eq(pw, "two\n", "only one trailing newline is dropped");
	free(pw);
	free(src.password_file);

	src.password_file = write_file("c.pass", "crlf\r\n");
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_str_eq(pw, "crlf");
	free(pw);
	free(src.password_file);

	src.password_file = write_file("d.pass", "no newline");
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_str_eq(pw, "no newline");
	free(pw);
	free(src.password_file);
}

Test(config_password, file_errors_never_show_the_content, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	struct cs_source src = {.name = (char *)"billing"};
	char err[512];
	bool failed = false;
	char *pw;

	src.password_file = (char *)"/nonexistent/billing.pass";
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_null(pw);
	cr_expect(failed);
	cr_expect_not_null(strstr(err, "/nonexistent/billing.pass"), "%s", err);
	cr_expect_not_null(strstr(err, "billing"), "%s", err);

	src.password_file = write_file("empty.pass", "\n");
	failed = false;
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_null(pw);
	cr_expect(failed);
	cr_expect_not_null(strstr(err, "empty.pass"), "%s", err);
	free(src.password_file);

	src.password_file = write_file("nul.pass", "");
	{
		/* A NUL inside would silently truncate the password libpq sees. */
		FILE *f = fopen(src.password_file, "w");
		fwrite("topsecret\0x", 1, 11, f);
		fclose(f);
	}
	failed = false;
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_null(pw);
	cr_expect(failed);
	cr_expect_null(strstr(err, "topsecret"), "%s", err);
	free(src.password_file);
}

Test(config_password, from_environment)
{
	struct cs_source src = {.name = (char *)"crm", .password_env = (char *)"CS_TEST_PW_X"};
	char err[512];
	bool failed = false;
	char *pw;

	unsetenv("CS_TEST_PW_X");
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_null(pw);
	cr_expect(failed);
	cr_expect_not_null(strstr(err, "CS_TEST_PW_X"), "%s", err);

	setenv("CS_TEST_PW_X", "pa ss\\word", 1);
	failed = true;
	pw = password(&src, &failed, err, sizeof(err));
	cr_expect_not(failed);
	cr_expect_str_eq(pw, "pa ss\\word");
	free(pw);
	unsetenv("CS_TEST_PW_X");
}

Test(config_password, neither_means_pgpass)
{
	struct cs_source src = {.name = (char *)"crm"};
	char err[64];
	bool failed = true;

	cr_expect_null(password(&src, &failed, err, sizeof(err)));
	cr_expect_not(failed);
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                    */
/* ------------------------------------------------------------------------ */

Test(config_tables, kinds_need_accounts_and_their_own_datasets)
{
	const unsigned acc = 1u << DS_ACCOUNTS;

	for (int k = 0; k < KIND_COUNT; k++)
		cr_expect(collector_kinds[k].datasets & acc, "%s", collector_kinds[k].name);
	cr_expect_eq(collector_kinds[KIND_REVENUE].datasets, acc | 1u << DS_SUBSCRIPTIONS);
	cr_expect_eq(collector_kinds[KIND_TRIALS].datasets, acc | 1u << DS_TRIALS);
	cr_expect_eq(collector_kinds[KIND_SURVEYS].datasets, acc | 1u << DS_SURVEYS);
	cr_expect_eq(collector_kinds[KIND_ADOPTION].datasets, acc | 1u << DS_ACTIVITY);
	cr_expect_eq(collector_kinds[KIND_SUPPORT].datasets, acc | 1u << DS_TICKETS);
	cr_expect_eq(collector_kinds[KIND_OUTCOMES].datasets, acc);
	cr_expect_eq(collector_kinds[KIND_HEALTH].datasets,
		     (1u << DS_COUNT) - 1 - (1u << DS_TRIALS) - (1u << DS_PAYMENTS) -
			 (1u << DS_ACTIVITY));
	/* activity is optional: without it health's usage is undefined */
	cr_expect_eq(collector_kinds[KIND_HEALTH].optional_datasets, 1u << DS_ACTIVITY);
	/* payments is optional: revenue reads it when it is configured */
	cr_expect_eq(collector_kinds[KIND_REVENUE].optional_datasets, 1u << DS_PAYMENTS);
	for (int k = 0; k < KIND_COUNT; k++)
		cr_expect_not(collector_kinds[k].datasets & 1u << DS_PAYMENTS, "%s",
			      collector_kinds[k].name);
	cr_expect_null(cs_kind_named("unknown"), "no such kind, no datasets");
}

Test(config_tables, names)
{
	cr_expect_str_eq(collector_kinds[KIND_ADOPTION].name, "adoption");
	cr_expect_str_eq(collector_kinds[KIND_HEALTH].name, "health");
	cr_expect_null(cs_kind_named("unknown"));
	cr_expect_eq(cs_kind_named("health"), &collector_kinds[KIND_HEALTH]);
	cr_expect_str_eq(config_dataset_name(DS_SUBSCRIPTIONS), "subscriptions");
	cr_expect_str_eq(config_dataset_name(DS_TICKETS), "tickets");
	cr_expect_str_eq(config_dataset_name(DS_PAYMENTS), "payments");
	cr_expect_str_eq(config_dataset_name(DS_COUNT), "unknown");
}

/* A config with an activity dataset of these params and incremental text. */
static struct cs_config *load_incremental(const char *params, const char *inc, char *err,
					  size_t len)
{
	struct buf b = BUF_INIT;
	struct cs_config *cfg;
	char *path;

	buf_addf(&b,
		 "sources = ( { name = \"crm\"; } );\n"
		 "segments = { dimensions = []; };\n"
		 "datasets = { accounts = { source = \"crm\"; query = \"S\"; };\n"
		 "  activity = { source = \"crm\"; params = [%s];\n"
		 "    query = \"SELECT $1%s\"; %s }; };\n"
		 "collectors = ( { kind = \"adoption\"; } );\n",
		 params, strstr(params, "since") ? ", $2" : "", inc);
	path = write_file("inc.conf", b.data);
	cfg = cs_settings_load(path, err, len);
	free(path);
	buf_release(&b);
	return cfg;
}

Test(config_good, incremental_defaults_and_settings, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char err[512] = "";
	struct cs_config *cfg = load_incremental("\"as_of\", \"since\"", "", err, sizeof(err));
	const struct cs_incremental *inc;

	cr_assert_not_null(cfg, "%s", err);
	inc = &cfg->incremental[DS_ACTIVITY];
	cr_expect(inc->enabled, "activity binding since is incremental by default");
	cr_expect_eq(inc->lookback, 2 * 3600);
	cr_expect_eq(inc->full_every, 86400);
	cr_expect_not(cfg->incremental[DS_ACCOUNTS].enabled);
	config_free(cfg);

	cfg = load_incremental("\"as_of\"", "", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_not(cfg->incremental[DS_ACTIVITY].enabled, "no since: every read is whole");
	config_free(cfg);

	cfg = load_incremental("\"as_of\", \"since\"",
			       "incremental = { lookback = \"30m\"; full_every = \"6h\"; };", err,
			       sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	inc = &cfg->incremental[DS_ACTIVITY];
	cr_expect(inc->enabled);
	cr_expect_eq(inc->lookback, 1800);
	cr_expect_eq(inc->full_every, 6 * 3600);
	config_free(cfg);

	cfg = load_incremental("\"as_of\", \"since\"", "incremental = { enabled = false; };", err,
			       sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_expect_not(cfg->incremental[DS_ACTIVITY].enabled, "the switch turns it off");
	config_free(cfg);
}
