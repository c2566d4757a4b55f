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
 */
#include "dataset.h"

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
    {"account_key", false},
    {"user_key", false},
    {"feature", false},
    {"last_active_at", false},
};

void activity_alloc(struct cs_data *d)
{
	struct cs_activity_counts *a = &d->activity;
	size_t ncw = d->plan.nwindows;
	size_t nfeat = d->cfg->nfeatures;

	if (a->seg_users)
		return;
	a->nwin = ncw + 1;
	a->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	a->account_users = xcalloc(d->naccounts * a->nwin + 1, sizeof(*a->account_users));
	a->seg_users = xcalloc(a->nseg * a->nwin, sizeof(*a->seg_users));
	a->seg_feature_users =
	    xcalloc(a->nseg * a->nwin * nfeat + 1, sizeof(*a->seg_feature_users));
	for (size_t w = 0; w < ncw; w++)
		a->from[w] = d->as_of - d->plan.windows[w] * CS_SECOND;
	a->from[ncw] = d->as_of - d->cfg->health.usage_window * CS_SECOND;
}

/* Counts the user whose rows just ended. */
static void activity_flush(struct cs_stream *in)
{
	struct cs_data *d = in->d;
	struct cs_activity_counts *a = &d->activity;
	struct user_run *u = &in->user;
	size_t nfeat = d->cfg->nfeatures;

	if (!u->open)
		return;
	u->open = false;
	a->users++;
	if (u->latest == CS_TIME_NONE)
		return;
	for (size_t w = 0; w < a->nwin; w++) {
		size_t sw = u->slot * a->nwin + w;

		if (u->latest < a->from[w])
			continue;
		a->seg_users[sw]++;
		if (u->account != CS_NO_ACCOUNT)
			a->account_users[(size_t)u->account * a->nwin + w]++;
		for (uint64_t m = u->fmask; m; m &= m - 1) {
			int f = __builtin_ctzll(m);

			if (u->flatest[f] >= a->from[w])
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

static void row_activity(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct user_run *u = &in->user;
	const char *key = col(in, v, COL_Y_ACCOUNT);
	const char *user = col(in, v, COL_Y_USER);
	cs_time at;
	int order = 1;

	u->row++;
	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need(in, user))
		return;
	if (!need_time(in, col(in, v, COL_Y_AT), &at))
		return;
	seen(in, at);
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
		u->account = account_of(d, key, &u->slot);
		if (u->slot == CS_SEG_UNKNOWN)
			u->slot = (uint32_t)(d->activity.nseg - 1);
		u->latest = CS_TIME_NONE;
		u->fmask = 0;
		u->open = true;
	}
	if (at >= d->as_of)
		return;
	if (at > u->latest)
		u->latest = at;

	const char *feat = col(in, v, COL_Y_FEATURE);
	for (size_t i = 0; feat && i < d->cfg->nfeatures; i++) {
		if (!strcmp(feat, d->cfg->features[i])) {
			uint64_t bit = UINT64_C(1) << i;

			if (!(u->fmask & bit) || at > u->flatest[i])
				u->flatest[i] = at;
			u->fmask |= bit;
			break;
		}
	}
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
};
