/*
 * Collectors run in threads of their own and load their data at the same
 * time: nothing in the data layer may be shared between two cs_data. Two
 * threads build segments from different accounts over and over; each must
 * always get exactly its own, in order. (A file-level qsort context once
 * made them read each other's values and crash.)
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

#define ACCOUNTS 400
#define ROUNDS	 150

static const char *const dims[] = {"plan", "region"};
static const char *const cols[] = {"account_key", "billing_key", "plan",	  "region",
				   "seats",	  "started_at",	 "first_value_at"};
static atomic_int wrong;

struct worker {
	const struct cs_config *cfg;
	char prefix;
};

static void *work(void *arg)
{
	const struct worker *w = arg;
	static _Thread_local char text[ACCOUNTS][4][16];
	const char *rows[ACCOUNTS * 7];
	for (int i = 0; i < ACCOUNTS; i++) {
		snprintf(text[i][0], sizeof(text[i][0]), "%c%03d", w->prefix, i);
		snprintf(text[i][1], sizeof(text[i][1]), "b%c%03d", w->prefix, i);
		/* Reverse order of keys, so sorting has work to do. */
		snprintf(text[i][2], sizeof(text[i][2]), "%c-plan-%03d", w->prefix, ACCOUNTS - i);
		snprintf(text[i][3], sizeof(text[i][3]), "%c-r%d", w->prefix, i % 3);
		const char *row[7] = {text[i][0], text[i][1],	text[i][2], text[i][3],
				      "1",	  "2026-01-01", NULL};
		memcpy(&rows[i * 7], row, sizeof(row));
	}
	for (int r = 0; r < ROUNDS; r++) {
		struct cs_data *d = fixture_data(w->cfg, KIND_ADOPTION, fixture_time("2026-11-01"));
		fixture_load(d, DS_ACCOUNTS, cols, 7, rows, ACCOUNTS);
		cs_data_link(d);
		for (size_t s = 0; s < d->seg.n; s++) {
			const char *plan = d->seg.values[s * 2];
			if (plan[0] != w->prefix)
				atomic_fetch_add(&wrong, 1);
			if (s > 0 && strcmp(d->seg.values[(s - 1) * 2], plan) > 0)
				atomic_fetch_add(&wrong, 1);
		}
		cs_data_free(d);
	}
	return NULL;
}

Test(model_threads, concurrent_loads_do_not_share_state)
{
	struct cs_config *cfg = fixture_config(dims, 2);
	struct worker a = {cfg, 'a'}, b = {cfg, 'b'};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, work, &a);
	pthread_create(&tb, NULL, work, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	cr_assert_eq(atomic_load(&wrong), 0, "%d segments from the other thread or out of order",
		     atomic_load(&wrong));
	fixture_free_config(cfg);
}
