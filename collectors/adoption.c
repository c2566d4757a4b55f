/*
 * adoption: active users, seats and their utilisation, feature adoption and
 * time to value per segment and window (SPEC section 3).
 *
 * A user is identified by (account, user key): the same key under two
 * accounts is two users. Activity rows of accounts no CRM account has share
 * one pseudo-account, since the loader keeps no key for them. The dataset
 * holds one row per (account, user, feature), so a user is deduplicated by
 * hashing (account, user); (user, feature) pairs are deduplicated too, in
 * case a query returns a feature twice. Every step is linear in the rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kpi.h"

_Static_assert(CS_MAX_FEATURES <= 64, "feature masks are 64 bits");

/* ------------------------------------------------------------------ */
/* Distinct users and their features                                   */

/*
 * One entry per (account, user) with the latest activity before t, and a
 * chain of (feature, latest activity) nodes. Everything is aggregated in
 * one pass over the rows: with ~10M rows in random order, every extra pass
 * that touches rows by index costs a cache miss per row.
 */
struct user {
	int32_t account;
	uint32_t seg;
	const char *key;
	cs_time latest;	   /* CS_TIME_NONE: no activity before t */
	uint64_t fmask;	   /* features with a node (CS_MAX_FEATURES is 64) */
	uint32_t features; /* first node + 1; 0: none */
};

struct feature_node {
	cs_time latest;
	uint32_t next; /* node + 1; 0: end */
	int32_t feature;
};

struct user_table {
	uint64_t *slots; /* hash tag << 32 | (user id + 1); 0 is empty */
	size_t mask;
	struct user *users;
	size_t n, cap;
	struct feature_node *nodes;
	size_t nnodes, nodecap;
};

static uint64_t user_hash(int32_t account, const char *key)
{
	uint64_t h = UINT64_C(1469598103934665603) ^ (uint64_t)(uint32_t)account;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	/* FNV mixes the high bits poorly for short keys; finish like splitmix. */
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

static void user_table_grow(struct user_table *t)
{
	size_t nslots = t->mask ? (t->mask + 1) * 2 : 1024;
	uint64_t *old = t->slots;
	size_t oldn = t->mask ? t->mask + 1 : 0;

	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->mask = nslots - 1;
	for (size_t i = 0; i < oldn; i++) {
		/* The tag holds the hash's high half; the slot is found from it,
		 * so users need not be rehashed (or touched) when growing. */
		size_t s;

		if (!old[i])
			continue;
		s = (size_t)(old[i] >> 32) & t->mask;
		while (t->slots[s])
			s = (s + 1) & t->mask;
		t->slots[s] = old[i];
	}
	free(old);
}

static struct user *user_find(struct user_table *t, const struct cs_activity *a)
{
	uint64_t tag = user_hash(a->account, a->user) >> 32;
	size_t s;

	if ((t->n + 1) * 2 > t->mask + 1)
		user_table_grow(t);
	for (s = (size_t)tag & t->mask; t->slots[s]; s = (s + 1) & t->mask) {
		struct user *u;

		if (t->slots[s] >> 32 != tag)
			continue;
		u = &t->users[(uint32_t)t->slots[s] - 1];
		if (u->account == a->account && strcmp(u->key, a->user) == 0)
			return u;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->users = xrealloc(t->users, t->cap * sizeof(*t->users));
	}
	t->users[t->n] = (struct user){a->account, a->seg, a->user, CS_TIME_NONE, 0, 0};
	t->slots[s] = tag << 32 | (uint64_t)(t->n + 1);
	return &t->users[t->n++];
}

static void user_feature(struct user_table *t, struct user *u, int32_t feature, cs_time at)
{
	uint64_t bit = UINT64_C(1) << feature;

	/* The chain is walked only for a repeated (user, feature), which the
	 * dataset contract rules out; new features are prepended blindly. */
	if (u->fmask & bit) {
		for (uint32_t n = u->features; n; n = t->nodes[n - 1].next) {
			struct feature_node *node = &t->nodes[n - 1];

			if (node->feature == feature) {
				if (at > node->latest)
					node->latest = at;
				return;
			}
		}
	}
	if (t->nnodes == t->nodecap) {
		t->nodecap = t->nodecap ? t->nodecap * 2 : 1024;
		t->nodes = xrealloc(t->nodes, t->nodecap * sizeof(*t->nodes));
	}
	t->nodes[t->nnodes++] = (struct feature_node){at, u->features, feature};
	u->features = (uint32_t)t->nnodes;
	u->fmask |= bit;
}

/* ------------------------------------------------------------------ */
/* Counting                                                            */

struct adoption {
	size_t nseg, nwin, nfeat;
	uint64_t *active;   /* [seg][win] */
	uint64_t *used;	    /* [seg][win], accounts with seats only */
	uint64_t *featured; /* [seg][win][feat] */
	uint64_t *seats;    /* [seg] */
};

static bool has_seats(const struct cs_data *d, int32_t account)
{
	return account >= 0 && (size_t)account < d->naccounts && d->accounts[account].seats > 0;
}

/* The latest activity before t decides every window, since all windows end
 * at t: a user is active in [t - W, t) iff that instant is >= t - W. */
static void count_users(const struct cs_data *d, struct adoption *a)
{
	const struct cs_collector *col = d->collector;
	struct user_table t = {0};
	size_t most = d->nactivity ? d->nactivity : 1;
	cs_time from[CS_MAX_WINDOWS];

	for (size_t w = 0; w < a->nwin; w++)
		from[w] = d->as_of - col->windows[w].seconds * CS_SECOND;
	/* Sized for the worst case up front: untouched pages of a large
	 * allocation cost nothing, while growing would copy hundreds of MB. */
	t.cap = t.nodecap = most;
	t.users = xmalloc(most * sizeof(*t.users));
	t.nodes = xmalloc(most * sizeof(*t.nodes));

	for (size_t i = 0; i < d->nactivity; i++) {
		const struct cs_activity *r = &d->activity[i];
		struct user *u;

		if (!r->user || r->last_active_at == CS_TIME_NONE || r->last_active_at >= d->as_of)
			continue;
		u = user_find(&t, r);
		if (r->last_active_at > u->latest)
			u->latest = r->last_active_at;
		if (r->feature >= 0 && (size_t)r->feature < a->nfeat)
			user_feature(&t, u, r->feature, r->last_active_at);
	}

	for (size_t k = 0; k < t.n; k++) {
		const struct user *u = &t.users[k];
		bool seated = has_seats(d, u->account);

		if (u->seg >= a->nseg)
			continue;
		for (size_t w = 0; w < a->nwin; w++) {
			size_t sw = u->seg * a->nwin + w;

			if (u->latest < from[w])
				continue;
			a->active[sw]++;
			if (seated)
				a->used[sw]++;
			for (uint32_t n = u->features; n; n = t.nodes[n - 1].next)
				if (t.nodes[n - 1].latest >= from[w])
					a->featured[sw * a->nfeat +
						    (size_t)t.nodes[n - 1].feature]++;
		}
	}

	free(t.nodes);
	free(t.users);
	free(t.slots);
}

/* ------------------------------------------------------------------ */
/* Time to value                                                       */

#define TTV_BUCKETS 8

static const double ttv_bounds[TTV_BUCKETS] = {
    1 * 86400.0,  3 * 86400.0,	7 * 86400.0,  14 * 86400.0,
    30 * 86400.0, 60 * 86400.0, 90 * 86400.0, INFINITY,
};

struct ttv {
	uint64_t buckets[TTV_BUCKETS]; /* not cumulative until emitted */
	double sum;
	uint64_t pending;
};

static void count_ttv(const struct cs_data *d, cs_time from, struct ttv *per_seg)
{
	for (size_t i = 0; i < d->naccounts; i++) {
		const struct cs_account *acc = &d->accounts[i];
		struct ttv *t;
		double secs;
		size_t b = 0;

		if (acc->ttv_rejected || acc->started_at == CS_TIME_NONE ||
		    acc->started_at < from || acc->started_at >= d->as_of || acc->seg >= d->seg.n)
			continue;
		t = &per_seg[acc->seg];
		if (acc->first_value_at == CS_TIME_NONE || acc->first_value_at >= d->as_of) {
			t->pending++;
			continue;
		}
		secs = (double)(acc->first_value_at - acc->started_at) / (double)CS_SECOND;
		while (b + 1 < TTV_BUCKETS && cs_cmp(secs, ttv_bounds[b]) > 0)
			b++;
		t->buckets[b]++;
		t->sum += secs;
	}
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void emit_adoption(const struct cs_data *d, struct mset *out, const struct adoption *a)
{
	const struct cs_collector *col = d->collector;
	const struct cs_config *cfg = d->cfg;
	struct family *active = mset_family(
	    out, "cs_active_users", METRIC_GAUGE,
	    "Distinct users (per account) active in the window, all accounts; recomputed from the "
	    "database each collector interval",
	    NULL);
	struct family *seats = mset_family(
	    out, "cs_seats", METRIC_GAUGE,
	    "Seats purchased, summed over accounts with seats; recomputed from the database each "
	    "collector interval",
	    NULL);
	struct family *used = mset_family(
	    out, "cs_seats_used", METRIC_GAUGE,
	    "Distinct users active in the window of accounts with seats (numerator of "
	    "cs_license_utilization_ratio); recomputed from the database each collector interval",
	    NULL);
	struct family *util = mset_family(
	    out, "cs_license_utilization_ratio", METRIC_GAUGE,
	    "Seats used / seats purchased over accounts with seats; recomputed from the database "
	    "each collector interval",
	    NULL);
	struct family *fusers = mset_family(
	    out, "cs_feature_active_users", METRIC_GAUGE,
	    "Distinct users active on the feature in the window; recomputed from the database each "
	    "collector interval",
	    NULL);
	struct family *fratio = mset_family(
	    out, "cs_feature_adoption_ratio", METRIC_GAUGE,
	    "Users active on the feature / active users in the window; recomputed from the "
	    "database each collector interval",
	    NULL);

	for (uint32_t seg = 0; seg < a->nseg; seg++)
		emit(seats, d, seg, (double)a->seats[seg], NULL);
	for (size_t w = 0; w < a->nwin; w++) {
		const char *label = col->windows[w].label;

		for (uint32_t seg = 0; seg < a->nseg; seg++) {
			size_t sw = seg * a->nwin + w;

			emit(active, d, seg, (double)a->active[sw], "window", label, NULL);
			emit(used, d, seg, (double)a->used[sw], "window", label, NULL);
			if (a->seats[seg])
				emit(util, d, seg, (double)a->used[sw] / (double)a->seats[seg],
				     "window", label, NULL);
			for (size_t f = 0; f < a->nfeat; f++)
				emit(fusers, d, seg, (double)a->featured[sw * a->nfeat + f],
				     "window", label, "feature", cfg->features[f], NULL);
			for (size_t f = 0; f < a->nfeat && a->active[sw]; f++)
				emit(fratio, d, seg,
				     (double)a->featured[sw * a->nfeat + f] / (double)a->active[sw],
				     "window", label, "feature", cfg->features[f], NULL);
		}
	}
}

static void emit_ttv(const struct cs_data *d, struct mset *out)
{
	const struct cs_collector *col = d->collector;
	size_t nseg = d->seg.n;
	struct ttv *per_seg = xcalloc(nseg ? nseg : 1, sizeof(*per_seg));
	struct family *hist = mset_family(
	    out, "cs_time_to_value_seconds", METRIC_GAUGEHISTOGRAM,
	    "Seconds from start to first value of accounts started in the window that reached "
	    "value; recomputed from the database each collector interval",
	    "seconds");
	struct family *pending = mset_family(
	    out, "cs_time_to_value_pending_accounts", METRIC_GAUGE,
	    "Accounts started in the window that have not reached first value; recomputed from "
	    "the database each collector interval",
	    NULL);

	for (size_t w = 0; w < col->nwindows; w++) {
		const char *label = col->windows[w].label;

		memset(per_seg, 0, (nseg ? nseg : 1) * sizeof(*per_seg));
		count_ttv(d, d->as_of - col->windows[w].seconds * CS_SECOND, per_seg);
		for (uint32_t seg = 0; seg < nseg; seg++) {
			uint64_t cum[TTV_BUCKETS];
			uint64_t run = 0;

			for (size_t b = 0; b < TTV_BUCKETS; b++)
				cum[b] = run += per_seg[seg].buckets[b];
			emit_histogram(hist, d, seg, TTV_BUCKETS, ttv_bounds, cum, per_seg[seg].sum,
				       "window", label, NULL);
			emit(pending, d, seg, (double)per_seg[seg].pending, "window", label, NULL);
		}
	}
	free(per_seg);
}

void kpi_adoption(const struct cs_data *d, struct mset *out)
{
	struct adoption a;

	a.nseg = d->seg.n;
	a.nwin = d->collector->nwindows;
	a.nfeat = d->cfg->nfeatures;
	a.active = xcalloc(a.nseg * a.nwin + 1, sizeof(*a.active));
	a.used = xcalloc(a.nseg * a.nwin + 1, sizeof(*a.used));
	a.featured = xcalloc(a.nseg * a.nwin * a.nfeat + 1, sizeof(*a.featured));
	a.seats = xcalloc(a.nseg + 1, sizeof(*a.seats));

	for (size_t i = 0; i < d->naccounts; i++)
		if (d->accounts[i].seats > 0 && d->accounts[i].seg < a.nseg)
			a.seats[d->accounts[i].seg] += (uint64_t)d->accounts[i].seats;
	count_users(d, &a);
	emit_adoption(d, out, &a);
	emit_ttv(d, out);

	free(a.active);
	free(a.used);
	free(a.featured);
	free(a.seats);
}
