// fuzz-libs: -lconfig -lm
/*
 * Row validation, the join and every KPI on arbitrary rows. The first byte
 * picks the dataset the rest feeds (after two fixed accounts, so facts have
 * something to join to); lines are rows, tabs separate columns, "\N" is SQL
 * NULL. Every kind is computed and the result rendered in both formats: a
 * crash, a sanitizer report or an exposition with a raw newline inside a
 * label value is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/kpi.h"
#include "collectors/plan.h"
#include "config/config.h"
#include "lib/expo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_text[] =
    "sources = ( { name = \"db\"; host = \"127.0.0.1\"; } );\n"
    "segments = { dimensions = [\"plan\", \"region\"]; max_combinations = 3; };\n"
    "reporting = { rates = { EUR = 1.1; JPY = 0.007; }; };\n"
    "features = [\"api\", \"reports\"];\n"
    "datasets = {\n"
    "  accounts = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  subscriptions = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  trials = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  surveys = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  activity = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  tickets = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "  payments = { source = \"db\"; query = \"SELECT 1\"; };\n"
    "};\n"
    "outcomes = ( { name = \"o\"; source = \"db\"; target = 5.0; query = \"SELECT 1\"; } );\n"
    "collectors = ( { kind = \"health\"; }, { kind = \"outcomes\"; }, { kind = \"revenue\"; } "
    ");\n";

static const char *const cols[DS_COUNT + 1][12] = {
    [DS_ACCOUNTS] = {"account_key", "billing_key", "plan", "region", "seats", "started_at",
		     "first_value_at", "name", NULL},
    [DS_SUBSCRIPTIONS] = {"billing_key", "amount_minor", "currency", "interval_unit",
			  "interval_count", "quantity", "status", "valid_from", "valid_to",
			  "cancel_requested_at", "churn_reason", NULL},
    [DS_TRIALS] = {"billing_key", "started_at", "ended_at", "converted", NULL},
    [DS_SURVEYS] = {"account_key", "respondent_key", "type", "score", "responded_at", NULL},
    [DS_ACTIVITY] = {"account_key", "user_key", "feature", "last_active_at", NULL},
    [DS_TICKETS] = {"account_key", "opened_at", "resolved_at", "escalated", NULL},
    [DS_PAYMENTS] = {"billing_key", "amount_minor", "currency", "issued_at", "due_at", "paid_at",
		     "first_failed_at", NULL},
    [DS_COUNT] = {"account_key", "value", NULL},
};

static struct cs_config *cfg;

static struct cs_config *load_config(void)
{
	char path[] = "/tmp/fuzz_rows_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, config_text, sizeof(config_text) - 1) < 0)
		abort();
	close(fd);
	char err[512];
	struct cs_config *c = cs_settings_load(path, err, sizeof(err));
	unlink(path);
	if (!c) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return c;
}

static size_t ncols(int ds)
{
	size_t n = 0;
	while (cols[ds][n])
		n++;
	return n;
}

/* Feeds the text as rows of dataset ds (cs_data_begin has been called). */
static void feed(struct cs_stream *in, int ds, char *text)
{
	size_t n = ncols(ds);
	const char *values[12];
	for (char *line = text; line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t i = 0;
		for (char *f = line; i < n; i++) {
			char *tab = f ? strchr(f, '\t') : NULL;
			if (tab)
				*tab = '\0';
			values[i] = (!f || strcmp(f, "\\N") == 0) ? NULL : f;
			f = tab ? tab + 1 : NULL;
		}
		cs_data_row(in, values);
		line = next;
	}
}

/* An activity stream out of order fails the run in the exporter; compute
 * still runs here, since it must stay memory-safe on any counts. */
static void end(struct cs_stream *in)
{
	char err[256];
	(void)cs_data_end(in, err, sizeof(err));
}

static struct cs_stream *begin(struct cs_data *d, int ds, size_t window)
{
	char err[256];
	struct cs_stream *in =
	    cs_data_begin(d, ds, 0, window, (int)ncols(ds), cols[ds], err, sizeof(err));
	if (!in)
		abort();
	return in;
}

static void run_kind(const struct cs_collector *c, int ds, const char *text, size_t len)
{
	struct cs_plan plan;
	cs_plan_init(&plan, cfg, INT64_C(1793491200) * 1000000);
	cs_plan_add(&plan, c);
	struct cs_data *d = cs_data_new(&plan);
	char fixed[] = "a1\tb1\tpro\teu\t10\t2026-09-01\t2026-09-05\tAcme\n"
		       "a2\tb2\t\\N\tus\t\\N\t2026-10-01 12:00:00+00\t\\N\t\\N";
	struct cs_stream *acc = begin(d, DS_ACCOUNTS, 0);
	feed(acc, DS_ACCOUNTS, fixed);
	char *copy = malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (ds == DS_ACCOUNTS) {
		feed(acc, DS_ACCOUNTS, copy);
		end(acc);
	} else {
		end(acc);
		if (ds == DS_COUNT) {
			for (size_t w = 0; w < c->nwindows; w++) {
				char *again = strdup(copy);
				struct cs_stream *in = begin(d, CS_DS_OUTCOME, w);
				feed(in, DS_COUNT, again);
				end(in);
				free(again);
			}
		} else if (cs_kind_datasets(cs_collector_kind(c), cfg) & (1u << ds)) {
			struct cs_stream *in = begin(d, ds, 0);
			feed(in, ds, copy);
			end(in);
		}
	}
	free(copy);
	cs_data_link(d);
	struct mset *m = mset_new();
	cs_collector_kind(c)->compute(d, c, m);
	for (int f = 0; f < 2; f++) {
		struct buf out = BUF_INIT;
		const struct mset *sets[1] = {m};
		expo_render(sets, 1, (enum expo_format)f, &out);
		/* Every line is a comment or a sample; a raw newline inside a
		 * label value would start a line with neither. */
		for (char *line = out.data; line && *line;) {
			if (!(line[0] == '#' || (line[0] >= 'a' && line[0] <= 'z')))
				abort();
			char *nl = strchr(line, '\n');
			line = nl ? nl + 1 : NULL;
		}
		buf_release(&out);
	}
	mset_free(m);
	cs_data_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cfg)
		cfg = load_config();
	if (size < 1)
		return 0;
	int ds = data[0] % (DS_COUNT + 1);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (memchr(text, '\0', len))
		return 0; /* libpq never hands over a value with a NUL byte */
	for (size_t k = 0; k < cfg->ncollectors; k++)
		run_kind(&cfg->collectors[k], ds, text, len);
	return 0;
}
