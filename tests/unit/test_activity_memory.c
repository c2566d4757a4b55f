/*
 * A backfill's activity memory (collectors/model.h): evaluations that read
 * only the activity since the previous instant, merged into what the
 * earlier ones read, give what a read of the whole window gives: the same
 * KPIs, rejected rows, row counts and freshness, at every instant.
 *
 * The "database" is an event log; a read of [lo, hi) is what the demo's
 * activity query returns: one row per (account, user, feature) with its
 * last event in the range, plus two rows without a usable instant that
 * every read returns.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/kpi.h"
#include "fixture.h"
#include "collectors/ds_activity.h"

static const char *const dims[] = {"plan"};
static const char *const acols[] = {"account_key", "billing_key", "plan",
				    "seats",	   "started_at",  "first_value_at"};
static const char *const accounts[] = {
    "a1", NULL, "pro",	 "10", NULL, NULL, /* */
    "a2", NULL, "pro",	 "5",  NULL, NULL, /* */
    "a3", NULL, "basic", "3",  NULL, NULL, /* */
    "a4", NULL, "basic", NULL, NULL, NULL,
};
static const char *const xcols[] = {"account_key", "user_key", "feature", "last_active_at"};

struct event {
	const char *account, *user, *feature; /* account or user NULL: a bad row */
	cs_time at;
};

#define NEVENTS 3000
static struct event events[NEVENTS];
/* The daemon's tests (live_*): an event is in the database only from
 * at + delay[i] on (it lands late); visible is the reading instant. */
static cs_time delay[NEVENTS];
static cs_time visible = CS_TIME_OPEN;
static char users[40][8];

/* A fixed pseudo-random log from 2024-01-01 to 2024-09-01: five accounts
 * (a5 is no account's), 40 users, features of the config and others. */
static void make_events(void)
{
	static const char *const acc[] = {"a1", "a2", "a3", "a4", "a5", NULL};
	static const char *const feat[] = {"api", "reports", "notebook", NULL};
	cs_time t0 = fixture_time("2024-01-01"), span = fixture_time("2024-09-01") - t0;
	uint64_t x = 42;

	for (size_t u = 0; u < 40; u++)
		snprintf(users[u], sizeof(users[u]), "u%02zu", u);
	for (size_t i = 0; i < NEVENTS; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		uint32_t r = (uint32_t)(x >> 33);
		size_t u = r % 41, a = (r / 41) % 6;
		if (a == 5 && r % 7) /* a NULL account now and then */
			a = 0;
		events[i].account = acc[a];
		events[i].user = u == 40 ? NULL : users[u];
		events[i].feature = feat[(r / 246) % 4];
		x = x * 6364136223846793005u + 1442695040888963407u;
		events[i].at = t0 + (cs_time)((x >> 20) % (uint64_t)span);
	}
}

struct read {
	char **cells; /* nrows * 4, owned */
	size_t nrows;
};

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The query's answer for [lo, hi). */
static struct read read_range(cs_time lo, cs_time hi)
{
	struct read r = {xcalloc((NEVENTS + 2) * 4, sizeof(char *)), 0};
	cs_time *latest = xcalloc(NEVENTS, sizeof(*latest));
	const struct event **key = xcalloc(NEVENTS, sizeof(*key));
	size_t nkeys = 0;

	for (size_t i = 0; i < NEVENTS; i++) {
		const struct event *e = &events[i];
		if (e->at < lo || e->at >= hi ||
		    (visible != CS_TIME_OPEN && e->at + delay[i] > visible))
			continue;
		size_t k = 0;
		while (k < nkeys &&
		       !(same(key[k]->account, e->account) && same(key[k]->user, e->user) &&
			 same(key[k]->feature, e->feature)))
			k++;
		if (k == nkeys) {
			key[nkeys++] = e;
			latest[k] = e->at;
		} else if (e->at > latest[k]) {
			latest[k] = e->at;
		}
	}
	for (size_t k = 0; k < nkeys; k++) {
		char when[40];
		time_t secs = (time_t)(latest[k] / CS_SECOND);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S+00", &tm);
		char **c = &r.cells[r.nrows++ * 4];
		c[0] = key[k]->account ? xstrdup(key[k]->account) : NULL;
		c[1] = key[k]->user ? xstrdup(key[k]->user) : NULL;
		c[2] = key[k]->feature ? xstrdup(key[k]->feature) : NULL;
		c[3] = xstrdup(when);
	}
	/* In every read, whatever the range. */
	char **c = &r.cells[r.nrows++ * 4];
	c[0] = xstrdup("a1"), c[1] = xstrdup("nobody"), c[2] = NULL, c[3] = NULL;
	c = &r.cells[r.nrows++ * 4];
	c[0] = xstrdup("a2"), c[1] = xstrdup("u01"), c[2] = NULL, c[3] = xstrdup("yesterday");
	free(latest);
	free(key);
	return r;
}

static void read_free(struct read *r)
{
	for (size_t i = 0; i < r->nrows * 4; i++)
		free(r->cells[i]);
	free(r->cells);
}

/* Everything of an evaluation that may differ: the KPIs, rejected rows,
 * rows and freshness of activity. */
static char *outcome(struct cs_data *d, const struct cs_config *cfg)
{
	struct mset *m = mset_new();
	struct buf out = BUF_INIT;

	cs_data_link(d);
	kpi_adoption(d, &cfg->collectors[KIND_ADOPTION], m);
	const struct mset *sets[] = {m};
	expo_render(sets, 1, EXPO_TEXT, &out);
	buf_addf(&out, "rows %llu newest %lld\n", (unsigned long long)d->ds_rows[DS_ACTIVITY],
		 (long long)d->newest[DS_ACTIVITY]);
	static const char *const reasons[] = {"null_key", "null_value", "bad_time"};
	for (size_t i = 0; i < 3; i++)
		buf_addf(&out, "%s %llu\n", reasons[i],
			 (unsigned long long)fixture_rejects(d, "activity", reasons[i]));
	mset_free(m);
	return buf_detach(&out, NULL);
}

/* Full read of the window at t; no memory. */
static char *full(const struct cs_config *cfg, cs_time t)
{
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, t);
	struct read r = read_range(d->plan.since, t);

	fixture_load(d, DS_ACCOUNTS, acols, 6, accounts, 4);
	fixture_load(d, DS_ACTIVITY, xcols, 4, (const char *const *)r.cells, r.nrows);
	cs_data_activity_done(d, true); /* without a memory: nothing */
	char *s = outcome(d, cfg);
	read_free(&r);
	cs_data_free(d);
	return s;
}

/* With the memory: reads from cs_data_activity_since on. fail_after > 0:
 * the read breaks after that many rows, and the evaluation is not ok. */
static char *incremental(const struct cs_config *cfg, struct cs_activity_memory *mem, cs_time t,
			 size_t fail_after)
{
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, t);

	cs_data_remember_activity(d, mem);
	struct read r = read_range(cs_data_activity_since(d), t);
	fixture_load(d, DS_ACCOUNTS, acols, 6, accounts, 4);
	fixture_load(d, DS_ACTIVITY, xcols, 4, (const char *const *)r.cells,
		     fail_after ? fail_after : r.nrows);
	cs_data_activity_done(d, fail_after == 0);
	char *s = fail_after ? NULL : outcome(d, cfg);
	read_free(&r);
	cs_data_free(d);
	return s;
}

static void agree(const struct cs_config *cfg, struct cs_activity_memory *mem, cs_time t)
{
	char *want = full(cfg, t);
	char *got = incremental(cfg, mem, t, 0);
	cr_assert_str_eq(got, want, "at %lld: merged reads differ from a full read",
			 (long long)(t / CS_SECOND));
	free(want);
	free(got);
}

Test(activity_memory, merged_slices_equal_full_reads)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_activity_memory *mem = cs_activity_memory_new();
	const cs_time day = 86400 * CS_SECOND;
	cs_time t = fixture_time("2024-03-01");

	make_events();
	/* daily for two months, with a read that breaks half-way */
	for (int i = 0; i < 60; i++, t += day) {
		if (i == 20) {
			cr_assert_null(incremental(cfg, mem, t, 30));
			continue;
		}
		agree(cfg, mem, t);
	}
	/* weekly, hourly, a step longer than the window, and back in time */
	for (int i = 0; i < 6; i++, t += 7 * day)
		agree(cfg, mem, t);
	for (int i = 0; i < 5; i++, t += 3600 * CS_SECOND)
		agree(cfg, mem, t);
	t += 120 * day;
	agree(cfg, mem, t);
	agree(cfg, mem, t);
	agree(cfg, mem, fixture_time("2024-02-10"));
	agree(cfg, mem, fixture_time("2024-02-11"));
	cs_activity_memory_free(mem);
	fixture_free_config(cfg);
}

Test(activity_memory, reads_only_since_the_last_instant)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_activity_memory *mem = cs_activity_memory_new();
	cs_time t1 = fixture_time("2024-04-01"), t2 = fixture_time("2024-04-02");
	cs_time window = 90 * 86400 * CS_SECOND;

	make_events();
	free(incremental(cfg, mem, t1, 0));
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, t2);
	cs_data_remember_activity(d, mem);
	cr_assert_eq(cs_data_activity_since(d), t1, "the second read starts at the first instant");
	cs_data_free(d);

	/* after a broken read, from the last instant that was merged */
	cr_assert_null(incremental(cfg, mem, t2, 5));
	d = fixture_data(cfg, KIND_ADOPTION, t2 + 86400 * CS_SECOND);
	cs_data_remember_activity(d, mem);
	cr_assert_eq(cs_data_activity_since(d), t1);
	cs_data_free(d);

	/* no memory, or one ahead of as_of: the whole window */
	d = fixture_data(cfg, KIND_ADOPTION, t1);
	cr_assert_eq(cs_data_activity_since(d), t1 - window);
	cs_data_remember_activity(d, mem);
	cr_assert_eq(cs_data_activity_since(d), t1 - window);
	cs_data_free(d);
	cs_activity_memory_free(mem);
	fixture_free_config(cfg);
}

/* ---- the daemon's use (cs_data_remember_activity_live) ------------------- */

/* Up to max late, pseudo-random: most events land within a minute, some
 * up to max. */
static void make_delays(cs_time max)
{
	uint64_t x = 7;
	for (size_t i = 0; i < NEVENTS; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		delay[i] = (x >> 33) % 4 ? 0 : (cs_time)((x >> 20) % (uint64_t)max);
	}
}

/* One tick of the daemon at t: reads what has landed by t. */
static char *live_tick(const struct cs_config *cfg, struct cs_activity_memory *mem, cs_time t,
		       const struct cs_activity_live *o, bool *checked, uint64_t *drift)
{
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, t);

	visible = t;
	cs_data_remember_activity_live(d, mem, o);
	struct read r = read_range(cs_data_activity_since(d), t);
	fixture_load(d, DS_ACCOUNTS, acols, 6, accounts, 4);
	fixture_load(d, DS_ACTIVITY, xcols, 4, (const char *const *)r.cells, r.nrows);
	cs_data_activity_done(d, true);
	bool full = cs_data_activity_full(d, checked, drift);
	if (o->full)
		cr_assert(full, "asked for a full read, got an incremental one");
	char *s = outcome(d, cfg);
	read_free(&r);
	cs_data_free(d);
	return s;
}

static char *live_full(const struct cs_config *cfg, cs_time t)
{
	visible = t;
	char *s = full(cfg, t);
	visible = CS_TIME_OPEN;
	return s;
}

/*
 * Ticks every 20 minutes for three days, with a memory that keeps 200 days
 * (a longer window due at other ticks) and a full read every 6 hours:
 * with a lookback longer than any delay every tick equals a full read and
 * no drift is counted; with a shorter one, ticks miss late events, the full
 * reads count them, and those ticks equal a full read again.
 */
static uint64_t live_run(cs_time lookback, bool *all_equal, size_t *nchecked)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_activity_memory *mem = cs_activity_memory_new();
	const cs_time minute = 60 * CS_SECOND;
	cs_time t = fixture_time("2024-05-01"), last_full = CS_TIME_NONE;
	uint64_t drift_total = 0;

	make_events();
	make_delays(3 * 60 * minute);
	*all_equal = true;
	*nchecked = 0;
	for (int i = 0; i < 3 * 72; i++, t += 20 * minute) {
		struct cs_activity_live o = {
		    .keep_from = t - 200 * 86400 * CS_SECOND,
		    .lookback = lookback,
		    .full = last_full == CS_TIME_NONE || t - last_full >= 6 * 60 * minute,
		};
		bool checked;
		uint64_t drift;
		char *got = live_tick(cfg, mem, t, &o, &checked, &drift);
		char *want = live_full(cfg, t);
		bool eq = strcmp(got, want) == 0;

		if (o.full) {
			cr_assert(eq, "a full read at tick %d differs from a full evaluation", i);
			cr_assert_eq(checked, last_full != CS_TIME_NONE);
			last_full = t;
		}
		if (checked) {
			drift_total += drift;
			(*nchecked)++;
		}
		*all_equal = *all_equal && eq;
		free(got);
		free(want);
	}
	visible = CS_TIME_OPEN;
	cs_activity_memory_free(mem);
	fixture_free_config(cfg);
	return drift_total;
}

Test(activity_memory, live_lookback_longer_than_delays_equals_full_reads)
{
	bool all_equal;
	size_t nchecked;
	uint64_t drift = live_run(4 * 3600 * CS_SECOND, &all_equal, &nchecked);

	cr_assert(all_equal, "a tick differs from a full evaluation");
	cr_assert_eq(nchecked, 11, "full re-reads that counted drift: %zu", nchecked);
	cr_assert_eq(drift, 0);
}

Test(activity_memory, live_short_lookback_is_seen_as_drift)
{
	bool all_equal;
	size_t nchecked;
	uint64_t drift = live_run(30 * 60 * CS_SECOND, &all_equal, &nchecked);

	cr_assert_not(all_equal, "late events were missed, yet every tick equals a full read");
	cr_assert_gt(drift, 0, "the full re-reads counted no drift");
}

Test(activity_memory, live_reads_from_the_previous_instant_less_lookback)
{
	struct cs_config *cfg = fixture_config(dims, 1);
	struct cs_activity_memory *mem = cs_activity_memory_new();
	cs_time t1 = fixture_time("2024-04-01"), t2 = t1 + 300 * CS_SECOND;
	struct cs_activity_live o = {t1 - 200 * 86400 * CS_SECOND, 3600 * CS_SECOND, false};
	bool checked;
	uint64_t drift;

	make_events();
	free(live_tick(cfg, mem, t1, &o, &checked, &drift));
	struct cs_data *d = fixture_data(cfg, KIND_ADOPTION, t2);
	cs_data_remember_activity_live(d, mem, &o);
	cr_assert_eq(cs_data_activity_since(d), t1 - 3600 * CS_SECOND);
	cs_data_free(d);

	/* asked for a full read: the whole window */
	o.full = true;
	d = fixture_data(cfg, KIND_ADOPTION, t2);
	cs_data_remember_activity_live(d, mem, &o);
	cr_assert_eq(cs_data_activity_since(d), d->plan.since);
	cs_data_free(d);

	/* forgotten (a failed tick): the whole window */
	o.full = false;
	cs_activity_memory_forget(mem);
	d = fixture_data(cfg, KIND_ADOPTION, t2);
	cs_data_remember_activity_live(d, mem, &o);
	cr_assert_eq(cs_data_activity_since(d), d->plan.since);
	cs_data_free(d);
	visible = CS_TIME_OPEN;
	cs_activity_memory_free(mem);
	fixture_free_config(cfg);
}
