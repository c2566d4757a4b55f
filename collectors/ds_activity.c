/*
 * activity (CRM or product database): one row per (account, user, feature)
 * with its last activity in the longest window. Columns: account_key,
 * user_key, feature (NULL: any), last_active_at. Rejected: null_key,
 * null_value, bad_time.
 *
 * Counted while it streams in and never stored row by row: at ~20 rows per
 * account it would dominate the memory of an evaluation. The exporter wraps
 * the query in ORDER BY account_key, user_key (byte order; see
 * cs_dataset_query), so the rows of one user arrive together and a user
 * is complete when the next one starts; a stream out of that order fails.
 * What the fold holds, and how compute reads it: ds_activity.h.
 */
#include "dataset.h"
#include "ds_activity.h"

#include <ctype.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/hash.h"

enum {
	COL_Y_ACCOUNT,
	COL_Y_USER,
	COL_Y_FEATURE,
	COL_Y_AT,
};

static const struct colspec cols_activity[] = {
    {"account_key", false, CS_COL_TEXT},
    {"user_key", false, CS_COL_TEXT},
    {"feature", false, CS_COL_TEXT},
    {"last_active_at", false, CS_COL_TIMESTAMP},
};

static void activity_alloc(struct cs_data *d)
{
	struct cs_activity_counts *a = d->activity;

	if (a->seg_users)
		return;
	a->nwin = d->plan.nwindows + 1;
	a->nfeat = d->cfg->nfeatures;
	a->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	a->account_users = xcalloc(d->naccounts * a->nwin + 1, sizeof(*a->account_users));
	a->seg_users = xcalloc(a->nseg * a->nwin, sizeof(*a->seg_users));
	a->seg_feature_users =
	    xcalloc(a->nseg * a->nwin * a->nfeat + 1, sizeof(*a->seg_feature_users));
}

/* The start of window w (ds_activity.h): the plan's, then health's usage
 * window. */
static cs_time window_from(const struct cs_data *d, size_t w)
{
	return w < d->plan.nwindows ? d->plan.from[w] : d->plan.usage_from;
}

/* Counts the user whose rows just ended. */
static void activity_flush(struct cs_stream *in)
{
	struct cs_data *d = in->d;
	struct cs_activity_counts *a = d->activity;
	struct user_run *u = &in->user;
	size_t nfeat = a->nfeat;

	if (!u->open)
		return;
	u->open = false;
	a->users++;
	if (u->latest == CS_TIME_NONE)
		return;
	for (size_t w = 0; w < a->nwin; w++) {
		size_t sw = u->slot * a->nwin + w;
		cs_time from = window_from(d, w);

		if (u->latest < from)
			continue;
		a->seg_users[sw]++;
		if (u->account != CS_NO_ACCOUNT)
			a->account_users[(size_t)u->account * a->nwin + w]++;
		for (uint64_t m = u->fmask; m; m &= m - 1) {
			int f = __builtin_ctzll(m);

			if (u->flatest[f] >= from)
				a->seg_feature_users[sw * nfeat + (size_t)f]++;
		}
	}
}

static void keep_key(char **dst, size_t *cap, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > *cap) {
		*cap = n < 64 ? 64 : n;
		*dst = xrealloc(*dst, *cap);
	}
	memcpy(*dst, s, n);
}

/* The index of a tracked feature (cfg->features), -1 for any other name. */
static int tracked_feature(const struct cs_config *cfg, const char *name)
{
	for (size_t c = 0; name && c < cfg->nfeatures; c++)
		if (!strcmp(name, cfg->features[c]))
			return (int)c;
	return -1;
}

/* A new user's rows start: its account and segment slot (the unknown one
 * for an unknown account), nothing seen yet. */
static void user_begin(struct cs_data *d, struct user_run *u, int32_t account, uint32_t slot)
{
	u->account = account;
	u->slot = slot == CS_SEG_UNKNOWN ? (uint32_t)(d->activity->nseg - 1) : slot;
	u->latest = CS_TIME_NONE;
	u->fmask = 0;
	u->open = true;
}

/* The user was active at at, in tracked feature f (-1: none). */
static void user_saw(struct user_run *u, cs_time at, int f)
{
	if (at > u->latest)
		u->latest = at;
	if (f < 0)
		return;
	uint64_t bit = UINT64_C(1) << f;
	if (!(u->fmask & bit) || at > u->flatest[f])
		u->flatest[f] = at;
	u->fmask |= bit;
}

/* Folds one valid row (at parsed); rows must come grouped by user. */
static void fold_row(struct cs_stream *in, const char *key, const char *user, const char *feat,
		     cs_time at)
{
	struct cs_data *d = in->d;
	struct user_run *u = &in->user;
	int order = 1;

	if (u->have_keys) {
		order = strcmp(key, u->account_key);
		if (order == 0)
			order = strcmp(user, u->user_key);
	}
	if (order < 0) {
		if (!u->bad_row)
			u->bad_row = u->row;
		return;
	}
	if (order > 0) {
		activity_flush(in);
		keep_key(&u->account_key, &u->account_cap, key);
		keep_key(&u->user_key, &u->user_cap, user);
		u->have_keys = true;
		uint32_t slot;
		int32_t account = account_of(d, key, &slot);
		user_begin(d, u, account, slot);
	}
	if (at < d->as_of)
		user_saw(u, at, tracked_feature(d->cfg, feat));
}

static void slice_row(struct cs_stream *in, const char *const *v);

static void row_activity(struct cs_stream *in, const char *const *v)
{
	const char *key = col(in, v, COL_Y_ACCOUNT);
	const char *user = col(in, v, COL_Y_USER);
	cs_time at;

	in->user.row++;
	if (in->d->priv->amem) {
		slice_row(in, v);
		return;
	}
	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need(in, user))
		return;
	if (!need_time(in, col(in, v, COL_Y_AT), &at))
		return;
	seen(in, at);
	fold_row(in, key, user, col(in, v, COL_Y_FEATURE), at);
}

/*
 * The activity rows of one user must arrive together: the fold counts each
 * user when the next one starts and keeps no rows. The sort is PostgreSQL's,
 * in byte order whatever the key types and collations; the query goes on a
 * line of its own so that a trailing comment in it ends there, and a
 * trailing semicolon is dropped.
 */
static char *activity_query(const char *sql)
{
	size_t n = strlen(sql);
	struct buf b = BUF_INIT;

	while (n > 0 && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
		n--;
	buf_adds(&b, "SELECT * FROM (\n");
	buf_add(&b, sql, n);
	buf_adds(&b, "\n) AS cs_activity ORDER BY account_key::text COLLATE \"C\", "
		     "user_key::text COLLATE \"C\"");
	return buf_detach(&b, NULL);
}

static int activity_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			 size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	activity_alloc(in->d);
	return 0;
}

/* Users of unknown accounts were counted in the last slot; that slot
 * becomes the unknown segment unless an account combination is it. */
static void activity_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_activity_counts *a = d->activity;
	size_t slot = a->nseg - 1, nfeat = a->nfeat;

	if (a->seg_users && unknown != CS_SEG_UNKNOWN && unknown != slot) {
		for (size_t w = 0; w < a->nwin; w++) {
			a->seg_users[unknown * a->nwin + w] += a->seg_users[slot * a->nwin + w];
			a->seg_users[slot * a->nwin + w] = 0;
			for (size_t f = 0; f < nfeat; f++) {
				uint64_t *from =
				    &a->seg_feature_users[(slot * a->nwin + w) * nfeat + f];

				a->seg_feature_users[(unknown * a->nwin + w) * nfeat + f] += *from;
				*from = 0;
			}
		}
	}
	a->nseg = d->seg.n;
}

static void activity_release(struct cs_data *d)
{
	free(d->activity->account_users);
	free(d->activity->seg_users);
	free(d->activity->seg_feature_users);
	free(d->priv->slice);
}

static int activity_close(struct cs_stream *in, char *err, size_t errlen)
{
	activity_flush(in);
	free(in->user.account_key);
	free(in->user.user_key);
	in->user.account_key = in->user.user_key = NULL;
	if (in->user.bad_row) {
		snprintf(err, errlen,
			 "dataset \"activity\": row %llu is out of order (rows must come "
			 "ordered by account_key, user_key in byte order)",
			 (unsigned long long)in->user.bad_row);
		return -1;
	}
	return 0;
}

const struct ds_contract ds_activity = {
    .name = "activity",
    .cols = cols_activity,
    .ncols = sizeof(cols_activity) / sizeof(cols_activity[0]),
    .open = activity_open,
    .row = row_activity,
    .close = activity_close,
    .query = activity_query,
    .prepare = activity_alloc,
    .link_unknown = activity_link_unknown,
    .release = activity_release,
};

/* ---- a backfill's memory (model.h) ----------------------------------------- */

/*
 * The memory holds one entry per (account, user, feature) of the longest
 * window: millions of them in a daemon at 100,000 accounts
 * (docs/benchmarks.md), so an entry is 16 bytes. Its (account, user) pair
 * is an index into a table of pairs, each held once with its user key; its
 * feature an index into the feature names. Account keys and feature names
 * are held once each. Equal pairs are equal indices.
 */
#define NO_NAME UINT32_MAX /* a NULL account key or feature */

struct act_row {
	uint32_t pair;	  /* index in m->pairs */
	uint32_t feature; /* index in m->features, NO_NAME: NULL (any) */
	cs_time at;
};

struct act_pair {
	uint32_t user;	  /* in m->users (user_key), NO_NAME: NULL */
	uint32_t account; /* index in m->accounts, NO_NAME: NULL */
};

/* User keys, one per pair, packed end to end in blocks of POOL_BLOCK
 * bytes: a key is (block << POOL_SHIFT) + offset (4,095 blocks, 4 GB). */
#define POOL_SHIFT 20
#define POOL_BLOCK ((size_t)1 << POOL_SHIFT)

struct user_pool {
	char **block;
	size_t nblocks, capblocks;
	size_t used, size; /* of the last block */
};

/* Names held once each, by index. */
struct name_table {
	struct strtab tab; /* name -> index */
	const char **name;
	size_t n, cap;
};

struct cs_activity_memory {
	struct arena arena; /* account keys and feature names */
	struct name_table accounts, features;
	struct user_pool users;
	struct act_pair *pairs;
	size_t npairs, cappairs;
	uint32_t *slots; /* pair index + 1 by hash, 0: empty; a power of two */
	size_t nslots;
	uint32_t last;	      /* the pair of the previous slice row + 1, 0: none */
	struct act_row *rows; /* by (account, user) in byte order */
	size_t n, cap;
	struct act_row *group; /* scratch: one (account, user) pair's rows */
	size_t capgroup;
	cs_time upto; /* as_of of the last slice merged, CS_TIME_NONE: none */
	cs_time from; /* the rows held are those from this instant on */
};

struct cs_activity_memory *cs_activity_memory_new(void)
{
	struct cs_activity_memory *m = xcalloc(1, sizeof(*m));
	m->upto = CS_TIME_NONE;
	m->from = CS_TIME_NONE;
	return m;
}

static void names_release(struct name_table *t)
{
	strtab_release(&t->tab);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* The keys: names, pairs and their strings. */
static void keys_release(struct cs_activity_memory *m)
{
	names_release(&m->accounts);
	names_release(&m->features);
	free(m->pairs);
	free(m->slots);
	arena_release(&m->arena);
	for (size_t b = 0; b < m->users.nblocks; b++)
		free(m->users.block[b]);
	free(m->users.block);
	memset(&m->users, 0, sizeof(m->users));
	m->pairs = NULL;
	m->slots = NULL;
	m->npairs = m->cappairs = m->nslots = 0;
	m->last = 0;
}

void cs_activity_memory_free(struct cs_activity_memory *m)
{
	if (!m)
		return;
	keys_release(m);
	free(m->rows);
	free(m->group);
	free(m);
}

void cs_activity_memory_forget(struct cs_activity_memory *m)
{
	if (!m)
		return;
	m->n = 0;
	m->upto = CS_TIME_NONE;
	m->from = CS_TIME_NONE;
}

static uint32_t name_put(struct cs_activity_memory *m, struct name_table *t, const char *s)
{
	bool added;

	if (!s)
		return NO_NAME;
	struct strent *e = strtab_put(&t->tab, &m->arena, s, &added);
	if (added) {
		GROW(t->name, t->n, t->cap);
		t->name[t->n] = e->key;
		e->val = (int32_t)t->n++;
	}
	return (uint32_t)e->val;
}

static const char *name_of(const struct name_table *t, uint32_t i)
{
	return i == NO_NAME ? NULL : t->name[i];
}

static uint32_t user_put(struct user_pool *u, const char *s)
{
	size_t n = strlen(s) + 1;

	if (u->nblocks == 0 || u->used + n > u->size) {
		/* the last block's last byte would be NO_NAME */
		if (u->nblocks == ((size_t)1 << (32 - POOL_SHIFT)) - 1) {
			fprintf(stderr, "fatal: activity memory: more than 4 GB of user keys\n");
			abort();
		}
		GROW(u->block, u->nblocks, u->capblocks);
		u->size = n > POOL_BLOCK ? n : POOL_BLOCK;
		u->block[u->nblocks++] = xmalloc(u->size);
		u->used = 0;
	}
	uint32_t ref = (uint32_t)(((u->nblocks - 1) << POOL_SHIFT) + u->used);
	memcpy(u->block[u->nblocks - 1] + u->used, s, n);
	u->used += n;
	return ref;
}

static const char *user_of(const struct cs_activity_memory *m, const struct act_pair *q)
{
	if (q->user == NO_NAME)
		return NULL;
	return m->users.block[q->user >> POOL_SHIFT] + (q->user & (POOL_BLOCK - 1));
}

static bool same_key(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static uint32_t pair_hash(uint32_t account, const char *user)
{
	uint64_t h = (user ? hash_fnv1a(user, strlen(user)) : ~UINT64_C(0)) ^
		     ((uint64_t)account + 1) * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(h ^ (h >> 32));
}

/* Room for n pairs: the pairs array and slots at a load below 0.7. */
static void pairs_reserve(struct cs_activity_memory *m, size_t n)
{
	if (n > m->cappairs) {
		m->cappairs = n;
		m->pairs = xrealloc(m->pairs, n * sizeof(*m->pairs));
	}
	if (n * 10 <= m->nslots * 7)
		return;
	size_t cap = m->nslots ? m->nslots : 1024;
	while (n * 10 > cap * 7)
		cap *= 2;
	free(m->slots);
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->nslots = cap;
	for (size_t i = 0; i < m->npairs; i++) {
		const struct act_pair *q = &m->pairs[i];
		size_t j = pair_hash(q->account, user_of(m, q)) & (cap - 1);
		while (m->slots[j])
			j = (j + 1) & (cap - 1);
		m->slots[j] = (uint32_t)i + 1;
	}
}

/* The index of the pair (key, user), added when new. */
static uint32_t pair_put(struct cs_activity_memory *m, const char *key, const char *user)
{
	if (m->last) {
		const struct act_pair *q = &m->pairs[m->last - 1];
		if (same_key(name_of(&m->accounts, q->account), key) &&
		    same_key(user_of(m, q), user))
			return m->last - 1; /* a user's rows come together */
	}
	uint32_t account = name_put(m, &m->accounts, key);
	uint32_t h = pair_hash(account, user);

	if (m->npairs + 1 > m->cappairs || (m->npairs + 1) * 10 > m->nslots * 7)
		pairs_reserve(m, m->npairs + 1 + m->npairs / 8 + 256);
	size_t mask = m->nslots - 1, j = h & mask;
	for (uint32_t s; (s = m->slots[j]) != 0; j = (j + 1) & mask) {
		const struct act_pair *q = &m->pairs[s - 1];
		if (q->account == account && same_key(user_of(m, q), user)) {
			m->last = s;
			return s - 1;
		}
	}
	m->pairs[m->npairs] =
	    (struct act_pair){user ? user_put(&m->users, user) : NO_NAME, account};
	m->slots[j] = (uint32_t)m->npairs + 1;
	m->last = m->slots[j];
	return (uint32_t)m->npairs++;
}

/* Whether the memory holds the window of d up to its last instant: only
 * then can a read from that instant on complete it. */
static bool memory_usable(const struct cs_activity_memory *m, const struct cs_data *d)
{
	cs_time since = d->plan.since;
	return m->upto != CS_TIME_NONE && m->upto < d->as_of && m->upto > since && m->from <= since;
}

void cs_data_remember_activity(struct cs_data *d, struct cs_activity_memory *m)
{
	struct cs_data_private *p = d->priv;
	cs_time since = d->plan.since;

	p->amem = m;
	p->keep_from = since;
	p->drift_from = CS_TIME_NONE;
	p->full = !memory_usable(m, d);
	if (p->full) {
		m->n = 0; /* nothing to keep: a full read */
		p->slice_from = since;
	} else {
		p->slice_from = m->upto;
	}
}

void cs_data_remember_activity_live(struct cs_data *d, struct cs_activity_memory *m,
				    const struct cs_activity_live *o)
{
	struct cs_data_private *p = d->priv;
	cs_time since = d->plan.since;
	bool usable = memory_usable(m, d);
	cs_time from = usable ? m->upto - o->lookback : since;

	if (from < since)
		from = since;
	p->amem = m;
	p->keep_from = o->keep_from < since ? o->keep_from : since;
	p->full = !usable || o->full;
	/* A full read replaces the memory once it has ended (the drift is
	 * counted against it); one that fails leaves it to the caller. */
	p->drift_from = usable && o->full ? from : CS_TIME_NONE;
	p->slice_from = p->full ? since : from;
}

uint64_t cs_data_activity_read(const struct cs_data *d)
{
	return d->priv->amem ? d->priv->read_rows : d->ds_rows[DS_ACTIVITY];
}

bool cs_data_activity_full(const struct cs_data *d, bool *checked, uint64_t *drift)
{
	*checked = d->priv->drift_checked;
	*drift = d->priv->drift;
	return d->priv->amem ? d->priv->full : true;
}

cs_time cs_data_activity_since(const struct cs_data *d)
{
	return d->priv->amem ? d->priv->slice_from : d->plan.since;
}

/* Byte order with NULL after every string, as PostgreSQL sorts ascending. */
static int cmp_null_last(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? -1 : 1;
	return strcmp(a, b);
}

/* The order of two pairs: by account key, then user key. */
static int pair_cmp(const struct cs_activity_memory *m, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	const struct act_pair *x = &m->pairs[a], *y = &m->pairs[b];
	int c = x->account == y->account ? 0
					 : cmp_null_last(name_of(&m->accounts, x->account),
							 name_of(&m->accounts, y->account));
	return c ? c : cmp_null_last(user_of(m, x), user_of(m, y));
}

/*
 * A row of the slice. One with an instant is kept, even with a NULL key or
 * user: the window it falls in decides at which evaluations it is rejected,
 * as a read of that window would. One without (NULL or malformed) would be
 * in every window: it is rejected now. Rows come in the fold's order (see
 * activity_query).
 */
static void slice_row(struct cs_stream *in, const char *const *v)
{
	struct cs_data_private *p = in->d->priv;
	struct cs_activity_memory *m = p->amem;
	struct user_run *u = &in->user;
	const char *key = col(in, v, COL_Y_ACCOUNT);
	const char *user = col(in, v, COL_Y_USER);
	const char *when = col(in, v, COL_Y_AT);
	cs_time at;

	if (!when || cs_parse_time(when, &at)) {
		reject(in, !key ? "null_key" : !user || !when ? "null_value" : "bad_time");
		return;
	}
	struct act_row r = {pair_put(m, key, user),
			    name_put(m, &m->features, col(in, v, COL_Y_FEATURE)), at};
	if (p->nslice > 0 && !u->bad_row && pair_cmp(m, r.pair, p->slice[p->nslice - 1].pair) < 0)
		u->bad_row = u->row;
	if (at >= in->d->as_of)
		return;
	GROW(p->slice, p->nslice, p->capslice);
	p->slice[p->nslice++] = r;
}

/* *g with room for n rows (*cap of them). */
static struct act_row *room(struct act_row **g, size_t *cap, size_t n)
{
	if (n > *cap) {
		*cap = n < 64 ? 64 : 2 * n;
		*g = xrealloc(*g, *cap * sizeof(**g));
	}
	return *g;
}

/* Adds the nb rows of b, of one pair, to that pair's n rows g (room
 * enough): per feature the later instant. Returns the rows g has. */
static size_t group_add(struct act_row *g, size_t n, const struct act_row *b, size_t nb)
{
	for (size_t j = 0; j < nb; j++) {
		size_t k = 0;
		while (k < n && g[k].feature != b[j].feature)
			k++;
		if (k == n)
			g[n++] = b[j];
		else if (b[j].at > g[k].at)
			g[k].at = b[j].at;
	}
	return n;
}

/* The rows r, in the fold's order, with one per (account, user, feature):
 * the latest. Returns how many are left (at the start of r). */
static size_t rows_dedupe(struct act_row *r, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && r[e].pair == r[i].pair)
			e++;
		/* out <= i: the group's rows are read before they are overwritten */
		size_t g = out;
		for (; i < e; i++) {
			size_t k = g;
			while (k < out && r[k].feature != r[i].feature)
				k++;
			if (k == out)
				r[out++] = r[i];
			else if (r[i].at > r[k].at)
				r[k].at = r[i].at;
		}
	}
	return out;
}

/*
 * Merges the slice b into the memory, both in the fold's order: per
 * (account, user, feature) the later instant; rows of the memory older than
 * since are dropped for good. In place, from the end: the rows array grows
 * to hold both, and the merged rows are written from its end down, never
 * past the memory's rows not yet read (each pair's rows go through a small
 * scratch), so a merge never holds a second copy of the memory.
 */
static void memory_merge(struct cs_activity_memory *m, const struct act_row *b, size_t nb,
			 cs_time since)
{
	size_t na = m->n, end = na + nb, k = end, ea = na, eb = nb;

	if (end == 0)
		return;
	if (end > m->cap) {
		m->cap = end + end / 16;
		m->rows = xrealloc(m->rows, (m->cap + 1) * sizeof(*m->rows));
	}
	struct act_row *r = m->rows;
	while (ea > 0 || eb > 0) {
		int c = ea == 0 ? -1 : eb == 0 ? 1 : pair_cmp(m, r[ea - 1].pair, b[eb - 1].pair);
		size_t sa = ea, sb = eb, g = 0;

		if (c >= 0)
			while (sa > 0 && r[sa - 1].pair == r[ea - 1].pair)
				sa--;
		if (c <= 0)
			while (sb > 0 && b[sb - 1].pair == b[eb - 1].pair)
				sb--;
		struct act_row *grp = room(&m->group, &m->capgroup, (ea - sa) + (eb - sb));
		for (size_t i = sa; i < ea; i++)
			if (r[i].at >= since)
				grp[g++] = r[i];
		if (eb > sb)
			g = group_add(grp, g, b + sb, eb - sb);
		/* k - g >= sa + sb: what was written is not what is left to read */
		k -= g;
		memcpy(r + k, grp, g * sizeof(*grp));
		ea = sa;
		eb = sb;
	}
	m->n = end - k;
	memmove(r, r + k, m->n * sizeof(*r));
}

/* Gives back the room of a rows array much larger than its rows (the
 * slice of a full read grew by doubling). */
static void memory_fit(struct cs_activity_memory *m)
{
	if (m->cap <= m->n + m->n / 8 + 1024)
		return;
	m->cap = m->n + m->n / 16;
	m->rows = xrealloc(m->rows, (m->cap + 1) * sizeof(*m->rows));
}

/* The entries of one (account, user) group a that group b lacks or has
 * with another instant. */
static uint64_t group_diff(const struct act_row *a, size_t na, const struct act_row *b, size_t nb)
{
	uint64_t n = 0;

	for (size_t i = 0; i < na; i++) {
		size_t k = 0;
		while (k < nb && b[k].feature != a[i].feature)
			k++;
		if (k == nb || b[k].at != a[i].at)
			n++;
	}
	return n;
}

/*
 * What an incremental read at this instant would have had wrong: the memory
 * (from since on) merged with the full read's rows from drift_from on,
 * against the full read, pair by pair. Entries (account, user, feature)
 * that differ in instant count once, those present on one side only once
 * each.
 */
static uint64_t memory_drift(struct cs_activity_memory *m, const struct act_row *full, size_t nfull,
			     cs_time since, cs_time drift_from)
{
	const struct act_row *a = m->rows;
	struct act_row *inc = NULL, *f = NULL;
	size_t na = m->n, capinc = 0, capf = 0, i = 0, j = 0;
	uint64_t drift = 0;

	while (i < na || j < nfull) {
		int c = i == na ? 1 : j == nfull ? -1 : pair_cmp(m, a[i].pair, full[j].pair);
		size_t ei = i, ej = j, ni = 0, nf = 0;

		if (c <= 0)
			while (ei < na && a[ei].pair == a[i].pair)
				ei++;
		if (c >= 0)
			while (ej < nfull && full[ej].pair == full[j].pair)
				ej++;
		room(&inc, &capinc, (ei - i) + (ej - j));
		room(&f, &capf, ej - j);
		for (size_t k = i; k < ei; k++)
			if (a[k].at >= since)
				inc[ni++] = a[k];
		for (size_t k = j; k < ej; k++)
			if (full[k].at >= drift_from)
				ni = group_add(inc, ni, &full[k], 1);
		if (ej > j)
			nf = group_add(f, 0, full + j, ej - j);
		/* differing instants counted from the full read's side only */
		drift += group_diff(f, nf, inc, ni);
		for (size_t k = 0; k < ni; k++) {
			size_t l = 0;
			while (l < nf && f[l].feature != inc[k].feature)
				l++;
			if (l == nf)
				drift++;
		}
		i = ei;
		j = ej;
	}
	free(inc);
	free(f);
	return drift;
}

/* Holds the keys of the rows afresh, so that those of users no longer held
 * (older than the window) are freed: a daemon's memory lives for weeks. */
static void memory_compact(struct cs_activity_memory *m)
{
	struct cs_activity_memory fresh = {0};
	uint32_t *feature = xmalloc((m->features.n + 1) * sizeof(*feature));
	uint32_t old = NO_NAME, pair = 0;

	size_t npairs = 0;

	for (size_t f = 0; f < m->features.n; f++)
		feature[f] = NO_NAME;
	for (size_t i = 0; i < m->n; i++)
		npairs += i == 0 || m->rows[i].pair != m->rows[i - 1].pair;
	pairs_reserve(&fresh, npairs + npairs / 16);
	for (size_t i = 0; i < m->n; i++) {
		struct act_row *r = &m->rows[i];

		if (i == 0 || r->pair != old) {
			const struct act_pair *q = &m->pairs[r->pair];
			old = r->pair;
			pair = pair_put(&fresh, name_of(&m->accounts, q->account), user_of(m, q));
		}
		r->pair = pair;
		if (r->feature == NO_NAME)
			continue;
		if (feature[r->feature] == NO_NAME)
			feature[r->feature] =
			    name_put(&fresh, &fresh.features, name_of(&m->features, r->feature));
		r->feature = feature[r->feature];
	}
	free(feature);
	keys_release(m);
	m->arena = fresh.arena;
	m->accounts = fresh.accounts;
	m->features = fresh.features;
	m->users = fresh.users;
	m->pairs = fresh.pairs;
	m->npairs = fresh.npairs;
	m->cappairs = fresh.cappairs;
	m->slots = fresh.slots;
	m->nslots = fresh.nslots;
}

void cs_data_activity_done(struct cs_data *d, bool ok)
{
	struct cs_data_private *p = d->priv;
	struct cs_activity_memory *m = p->amem;
	cs_time since = d->plan.since;

	if (!m)
		return;
	uint64_t slice_rows = d->ds_rows[DS_ACTIVITY];
	uint64_t slice_kept = p->nslice;

	p->read_rows = slice_rows;
	if (!ok) {
		p->nslice = 0; /* the window would miss a part: merge nothing */
		return;
	}
	if (p->full) {
		if (p->drift_from != CS_TIME_NONE) {
			p->drift = memory_drift(m, p->slice, p->nslice, since, p->drift_from);
			p->drift_checked = true;
		}
		/* The slice is the window: it becomes the memory, not a copy. */
		free(m->rows);
		m->rows = p->slice;
		m->cap = p->capslice;
		m->n = rows_dedupe(m->rows, p->nslice);
		p->slice = NULL;
		p->capslice = 0;
		m->from = since;
		memory_compact(m);
	} else {
		if (m->from < p->keep_from)
			m->from = p->keep_from;
		memory_merge(m, p->slice, p->nslice, p->keep_from);
	}
	memory_fit(m);
	m->upto = d->as_of;
	p->nslice = 0;

	/* The whole window, folded as if the query had returned it: the rows
	 * are in the fold's order already, and equal keys are equal indices,
	 * so a user's rows and an account are found by index. Rows the memory
	 * keeps from before since (the daemon's, for a longer window due at
	 * another tick) are not part of it. */
	struct cs_stream in = {.d = d, .ds = DS_ACTIVITY, .ds_name = ds_activity.name};
	struct user_run *u = &in.user;
	int *tracked = xmalloc((m->features.n + 1) * sizeof(*tracked));
	uint32_t last_account = NO_NAME;
	int32_t account = CS_NO_ACCOUNT;
	uint32_t slot = 0;

	for (size_t f = 0; f < m->features.n; f++)
		tracked[f] = tracked_feature(d->cfg, m->features.name[f]);
	activity_alloc(d);
	for (size_t i = 0; i < m->n;) {
		const struct act_pair *q = &m->pairs[m->rows[i].pair];
		size_t end = i;
		bool any = false;

		for (; end < m->n && m->rows[end].pair == m->rows[i].pair; end++)
			any = any || m->rows[end].at >= since;
		activity_flush(&in);
		if (!any) {
			i = end;
			continue;
		}
		if (q->account == NO_NAME || q->user == NO_NAME) {
			for (; i < end; i++) {
				if (m->rows[i].at < since)
					continue;
				in.rows++;
				reject(&in, q->account != NO_NAME ? "null_value" : "null_key");
			}
			continue;
		}
		if (q->account != last_account) {
			last_account = q->account;
			account = account_of(d, m->accounts.name[last_account], &slot);
		}
		user_begin(d, u, account, slot);
		for (; i < end; i++) {
			const struct act_row *r = &m->rows[i];

			if (r->at < since)
				continue;
			in.rows++;
			seen(&in, r->at);
			user_saw(u, r->at, r->feature == NO_NAME ? -1 : tracked[r->feature]);
		}
	}
	activity_flush(&in);
	free(tracked);
	/* Rows: the slice's rejected ones and the window's. */
	d->ds_rows[DS_ACTIVITY] = slice_rows - slice_kept + in.rows;
	d->rows_read = d->rows_read - slice_kept + in.rows;
}
