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

struct cs_activity_memory {
	struct arena arena;
	struct strtab names;  /* account, user and feature strings, interned */
	struct act_row *rows; /* by (account, user) in byte order */
	size_t n, cap;
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

void cs_activity_memory_free(struct cs_activity_memory *m)
{
	if (!m)
		return;
	free(m->rows);
	strtab_release(&m->names);
	arena_release(&m->arena);
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

static const char *intern(struct cs_activity_memory *m, const char *s)
{
	bool added;
	return s ? strtab_put(&m->names, &m->arena, s, &added)->key : NULL;
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

static int row_cmp(const struct act_row *a, const struct act_row *b)
{
	int c = cmp_null_last(a->account, b->account);
	return c ? c : cmp_null_last(a->user, b->user);
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
	struct user_run *u = &in->user;
	const char *key = col(in, v, COL_Y_ACCOUNT);
	const char *user = col(in, v, COL_Y_USER);
	const char *when = col(in, v, COL_Y_AT);
	cs_time at;

	if (!when || cs_parse_time(when, &at)) {
		reject(in, !key ? "null_key" : !user || !when ? "null_value" : "bad_time");
		return;
	}
	struct act_row r = {intern(p->amem, key), intern(p->amem, user),
			    intern(p->amem, col(in, v, COL_Y_FEATURE)), at};
	if (p->nslice > 0 && !u->bad_row && row_cmp(&r, &p->slice[p->nslice - 1]) < 0)
		u->bad_row = u->row;
	if (at >= in->d->as_of)
		return;
	GROW(p->slice, p->nslice, p->capslice);
	p->slice[p->nslice++] = r;
}

/* The rows of a and b, both in the fold's order, merged: per (account,
 * user, feature) the later instant; rows of a older than since are dropped.
 * Returns a malloc'd array of *n rows. */
static struct act_row *merge_rows(const struct act_row *a, size_t na, const struct act_row *b,
				  size_t nb, cs_time since, size_t *nout)
{
	struct act_row *out = xmalloc((na + nb + 1) * sizeof(*out));
	size_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : row_cmp(&a[i], &b[j]);
		size_t group = n;

		if (c <= 0) {
			const struct act_row *first = &a[i];
			while (i < na && row_cmp(&a[i], first) == 0) {
				if (a[i].at >= since)
					out[n++] = a[i];
				i++;
			}
		}
		if (c >= 0) {
			const struct act_row *first = &b[j];
			while (j < nb && row_cmp(&b[j], first) == 0) {
				size_t k = group;
				while (k < n && out[k].feature != b[j].feature)
					k++;
				if (k == n)
					out[n++] = b[j];
				else if (b[j].at > out[k].at)
					out[k].at = b[j].at;
				j++;
			}
		}
	}
	*nout = n;
	return out;
}

/* Merges the slice into the memory: per (account, user, feature) the later
 * instant; rows older than since are dropped for good. */
static void memory_merge(struct cs_activity_memory *m, const struct act_row *s, size_t ns,
			 cs_time since)
{
	size_t n;
	struct act_row *out = merge_rows(m->rows, m->n, s, ns, since, &n);

	free(m->rows);
	m->rows = out;
	m->n = m->cap = n;
}

/* The entries of one (account, user) group of a (rows [ia, ea)) that b's
 * group (rows [ib, eb)) lacks or has with another instant. */
static uint64_t group_diff(const struct act_row *a, size_t ia, size_t ea, const struct act_row *b,
			   size_t ib, size_t eb)
{
	uint64_t n = 0;

	for (size_t i = ia; i < ea; i++) {
		size_t k = ib;
		while (k < eb && b[k].feature != a[i].feature)
			k++;
		if (k == eb || b[k].at != a[i].at)
			n++;
	}
	return n;
}

/*
 * What an incremental read at this instant would have had wrong: the memory
 * merged (from since on) with the slice from drift_from, against the full
 * read. Entries (account, user, feature) that differ in instant count once,
 * those present on one side only once each.
 */
static uint64_t memory_drift(const struct cs_activity_memory *m, const struct act_row *full,
			     size_t nfull, cs_time since, cs_time drift_from)
{
	struct act_row *late = xmalloc((nfull + 1) * sizeof(*late));
	size_t nlate = 0, ni, nf;

	for (size_t k = 0; k < nfull; k++)
		if (full[k].at >= drift_from)
			late[nlate++] = full[k];
	struct act_row *inc = merge_rows(m->rows, m->n, late, nlate, since, &ni);
	struct act_row *f = merge_rows(NULL, 0, full, nfull, since, &nf);
	uint64_t drift = 0;
	size_t i = 0, j = 0;

	while (i < ni || j < nf) {
		int c = i == ni ? 1 : j == nf ? -1 : row_cmp(&inc[i], &f[j]);
		size_t ei = i, ej = j;

		if (c <= 0)
			while (ei < ni && row_cmp(&inc[ei], &inc[i]) == 0)
				ei++;
		if (c >= 0)
			while (ej < nf && row_cmp(&f[ej], &f[j]) == 0)
				ej++;
		/* differing instants counted from the full read's side only */
		drift += group_diff(f, j, ej, inc, i, ei);
		for (size_t k = i; k < ei; k++) {
			size_t l = j;
			while (l < ej && f[l].feature != inc[k].feature)
				l++;
			if (l == ej)
				drift++;
		}
		i = ei;
		j = ej;
	}
	free(late);
	free(inc);
	free(f);
	return drift;
}

/* Interns the rows' strings afresh, so that those of users no longer held
 * (older than the window) are freed: a daemon's memory lives for weeks. */
static void memory_compact(struct cs_activity_memory *m)
{
	struct cs_activity_memory fresh = {0};

	for (size_t i = 0; i < m->n; i++) {
		struct act_row *r = &m->rows[i];
		r->account = intern(&fresh, r->account);
		r->user = intern(&fresh, r->user);
		r->feature = intern(&fresh, r->feature);
	}
	strtab_release(&m->names);
	arena_release(&m->arena);
	m->names = fresh.names;
	m->arena = fresh.arena;
}

/* The tracked feature an interned name is (-1: none), remembered by pointer. */
struct feature_memo {
	const char *name[32];
	int index[32];
	size_t n;
};

static int feature_index(struct feature_memo *fm, const struct cs_config *cfg, const char *name)
{
	if (!name)
		return -1;
	for (size_t k = 0; k < fm->n; k++)
		if (fm->name[k] == name)
			return fm->index[k];
	int f = tracked_feature(cfg, name);
	if (fm->n < sizeof(fm->name) / sizeof(fm->name[0])) {
		fm->name[fm->n] = name;
		fm->index[fm->n++] = f;
	}
	return f;
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
		m->n = 0;
		m->from = since;
	} else if (m->from < p->keep_from) {
		m->from = p->keep_from;
	}
	memory_merge(m, p->slice, p->nslice, p->keep_from);
	if (p->full)
		memory_compact(m);
	m->upto = d->as_of;
	p->nslice = 0;

	/* The whole window, folded as if the query had returned it: the rows
	 * are in the fold's order already, and equal strings are equal
	 * pointers, so a user's rows and an account are found by pointer.
	 * Rows the memory keeps from before since (the daemon's, for a longer
	 * window due at another tick) are not part of it. */
	struct cs_stream in = {.d = d, .ds = DS_ACTIVITY, .ds_name = ds_activity.name};
	struct user_run *u = &in.user;
	struct feature_memo fm = {0};
	const char *last_account = NULL;
	int32_t account = CS_NO_ACCOUNT;
	uint32_t slot = 0;

	activity_alloc(d);
	for (size_t i = 0; i < m->n;) {
		const struct act_row *first = &m->rows[i];
		size_t end = i;
		bool any = false;

		for (; end < m->n && row_cmp(&m->rows[end], first) == 0; end++)
			any = any || m->rows[end].at >= since;
		activity_flush(&in);
		if (!any) {
			i = end;
			continue;
		}
		if (!first->account || !first->user) {
			for (; i < end; i++) {
				if (m->rows[i].at < since)
					continue;
				in.rows++;
				reject(&in, first->account ? "null_value" : "null_key");
			}
			continue;
		}
		if (first->account != last_account) {
			last_account = first->account;
			account = account_of(d, last_account, &slot);
		}
		user_begin(d, u, account, slot);
		for (; i < end; i++) {
			const struct act_row *r = &m->rows[i];

			if (r->at < since)
				continue;
			in.rows++;
			seen(&in, r->at);
			user_saw(u, r->at, feature_index(&fm, d->cfg, r->feature));
		}
	}
	activity_flush(&in);
	/* Rows: the slice's rejected ones and the window's. */
	d->ds_rows[DS_ACTIVITY] = slice_rows - slice_kept + in.rows;
	d->rows_read = d->rows_read - slice_kept + in.rows;
}
