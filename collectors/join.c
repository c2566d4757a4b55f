/*
 * join: accounts and billing customers, and the segment universe of one
 * evaluation.
 *
 * Join rules, decided once accounts are complete:
 *  - an account key seen twice keeps the first row; the second is rejected
 *    (duplicate_account_key);
 *  - two accounts naming one billing customer: the lowest account key (byte
 *    order) keeps it, the other is rejected (duplicate_billing_key) and
 *    removed, and its account key stays in the key table with no account, so
 *    its facts fall in "unknown" like those of any unknown account key;
 *  - a billing customer (seen in subscriptions or trials) with no account,
 *    and a fact whose account key has no account, are in "unknown".
 *
 * Segments and the cardinality fold are computed when accounts end, so fact
 * rows get their final segment as they arrive; only "unknown" is provisional
 * (CS_SEG_UNKNOWN) until cs_data_link, because it exists only when a fact
 * falls there. The join makes that segment and moves the billing customers
 * into it (link_unknown); each dataset moves what its fold counted for
 * unknown accounts itself (its ds_contract.link_unknown). Segment order: the kept account
 * combinations sorted by their values (byte order, dimension by dimension), then "other", then
 * "unknown" unless an account combination is itself all "unknown" (accounts whose every dimension
 * is NULL), which then is the unknown segment. "unknown" is never folded and does not count toward
 * the cap; a cap of 0 means none.
 */
#include "dataset.h"
#include "ds_accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ segments */

struct segsort {
	const struct cs_data *d;
	const char **vals; /* combination × ndims */
	const uint64_t *count;
};

/* qsort has no context argument in C11; several models may build their
 * segments at the same time in threads of their own. */
static _Thread_local struct segsort sort_ctx;

static int cmp_values(const char *const *a, const char *const *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (a[k] != b[k]) {
			int c = strcmp(a[k], b[k]);
			if (c)
				return c;
		}
	}
	return 0;
}

static int cmp_combo_by_values(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	size_t n = sort_ctx.d->cfg->ndims;
	return cmp_values(sort_ctx.vals + a * n, sort_ctx.vals + b * n, n);
}

static int cmp_combo_by_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (sort_ctx.count[a] != sort_ctx.count[b])
		return sort_ctx.count[a] > sort_ctx.count[b] ? -1 : 1;
	return cmp_combo_by_values(x, y);
}

static bool all_equal(const char *const *vals, size_t n, const char *word)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(vals[k], word))
			return false;
	return true;
}

/* Hash of a tuple of interned pointers: equal tuples are equal pointer arrays. */
static uint32_t hash_tuple(const char *const *vals, size_t n)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15);
	for (size_t k = 0; k < n; k++) {
		h ^= (uint64_t)(uintptr_t)vals[k];
		h *= UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 33;
	}
	return (uint32_t)h;
}

static void build_segments(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	size_t nd = d->cfg->ndims, na = d->naccounts;

	/* distinct combinations, each account's combination index in comb_of */
	size_t ncomb = 0, capcomb = 0, tcap = 64;
	const char **cvals = NULL;
	uint64_t *ccount = NULL;
	uint32_t *comb_of = xcalloc(na ? na : 1, sizeof(*comb_of));
	while (tcap < 2 * na)
		tcap *= 2;
	int32_t *table = xmalloc(tcap * sizeof(*table));
	for (size_t i = 0; i < tcap; i++)
		table[i] = -1;
	for (size_t i = 0; i < na; i++) {
		const char **vals = p->acc_dims + i * nd;
		size_t j = hash_tuple(vals, nd) & (tcap - 1);
		while (table[j] >= 0 &&
		       (nd && memcmp(cvals + (size_t)table[j] * nd, vals, nd * sizeof(*vals))))
			j = (j + 1) & (tcap - 1);
		if (table[j] < 0) {
			if (ncomb == capcomb) {
				capcomb = capcomb ? 2 * capcomb : 64;
				cvals = xrealloc(cvals, capcomb * (nd ? nd : 1) * sizeof(*cvals));
				ccount = xrealloc(ccount, capcomb * sizeof(*ccount));
			}
			if (nd)
				memcpy(cvals + ncomb * nd, vals, nd * sizeof(*vals));
			ccount[ncomb] = 0;
			table[j] = (int32_t)ncomb++;
		}
		comb_of[i] = (uint32_t)table[j];
		ccount[table[j]]++;
	}
	free(table);

	sort_ctx.d = d;
	sort_ctx.vals = cvals;
	sort_ctx.count = ccount;

	/* the all-"unknown" combination is the unknown segment: never folded, not capped */
	size_t unknown_comb = SIZE_MAX;
	size_t *order = xmalloc((ncomb ? ncomb : 1) * sizeof(*order));
	size_t nord = 0;
	for (size_t c = 0; c < ncomb; c++) {
		if (all_equal(cvals + c * nd, nd, "unknown"))
			unknown_comb = c;
		else
			order[nord++] = c;
	}

	bool *kept = xcalloc(ncomb ? ncomb : 1, sizeof(*kept));
	size_t cap = d->cfg->max_segments;
	size_t nkeep = nord;
	d->seg.folded = 0;
	if (cap > 0 && nord > cap) {
		nkeep = cap - 1;
		qsort(order, nord, sizeof(*order), cmp_combo_by_size);
		d->seg.folded = nord - nkeep;
	}
	for (size_t i = 0; i < nkeep; i++)
		kept[order[i]] = true;
	if (unknown_comb != SIZE_MAX)
		kept[unknown_comb] = true;

	/* final order: kept (unknown included) by values, then "other" */
	size_t nfinal = 0;
	for (size_t c = 0; c < ncomb; c++)
		if (kept[c])
			order[nfinal++] = c;
	qsort(order, nfinal, sizeof(*order), cmp_combo_by_values);

	size_t nseg = nfinal + (d->seg.folded ? 1 : 0);
	uint32_t *final_of = xmalloc((ncomb ? ncomb : 1) * sizeof(*final_of));
	d->seg.values = xcalloc((nseg + 1) * (nd ? nd : 1), sizeof(*d->seg.values));
	d->seg.accounts = xcalloc(nseg + 1, sizeof(*d->seg.accounts));
	uint32_t other = UINT32_MAX;
	for (size_t s = 0; s < nfinal; s++) {
		size_t c = order[s];
		final_of[c] = (uint32_t)s;
		if (nd)
			memcpy(d->seg.values + s * nd, cvals + c * nd, nd * sizeof(*cvals));
		d->seg.accounts[s] = ccount[c];
		if (d->seg.folded && c != unknown_comb && all_equal(cvals + c * nd, nd, "other"))
			other = (uint32_t)s; /* a literal "other" combination absorbs the fold */
	}
	if (d->seg.folded && other == UINT32_MAX) {
		other = (uint32_t)nfinal;
		for (size_t k = 0; k < nd; k++)
			d->seg.values[nfinal * nd + k] = "other";
	} else {
		nseg = nfinal;
	}
	for (size_t c = 0; c < ncomb; c++) {
		if (!kept[c]) {
			final_of[c] = other;
			d->seg.accounts[other] += ccount[c];
		}
	}
	d->seg.n = nseg;
	for (size_t i = 0; i < na; i++)
		d->accounts[i].seg = final_of[comb_of[i]];

	free(final_of);
	free(kept);
	free(order);
	free(comb_of);
	free(cvals);
	free(ccount);
}

/* Decides duplicate billing keys, compacts accounts and builds the segments. */
void finish_accounts(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	size_t na = d->naccounts, nd = d->cfg->ndims;
	bool *loser = xcalloc(na ? na : 1, sizeof(*loser));

	for (size_t i = 0; i < na; i++) {
		if (!p->acc_billing[i])
			continue;
		bool added;
		struct strent *e = strtab_put(&p->billing, NULL, p->acc_billing[i], &added);
		if (added) {
			e->val = (int32_t)i;
			continue;
		}
		size_t j = (size_t)e->val;
		if (strcmp(d->accounts[i].key, d->accounts[j].key) < 0) {
			loser[j] = true;
			e->val = (int32_t)i;
		} else {
			loser[i] = true;
		}
	}

	int32_t *remap = xmalloc((na ? na : 1) * sizeof(*remap));
	size_t n = 0;
	for (size_t i = 0; i < na; i++) {
		if (loser[i]) {
			remap[i] = -1;
			cs_data_reject(d, "accounts", "duplicate_billing_key");
			continue;
		}
		remap[i] = (int32_t)n;
		if (n != i) {
			d->accounts[n] = d->accounts[i];
			if (nd)
				memmove(p->acc_dims + n * nd, p->acc_dims + i * nd,
					nd * sizeof(*p->acc_dims));
		}
		struct cs_account *a = &d->accounts[n];
		if (a->started_at != CS_TIME_NONE && a->first_value_at != CS_TIME_NONE &&
		    a->first_value_at < a->started_at) {
			a->ttv_rejected = true;
			cs_data_reject(d, "accounts", "value_before_start");
		}
		n++;
	}
	d->naccounts = n;
	for (size_t i = 0; i < p->accounts.cap; i++)
		if (p->accounts.e[i].key && p->accounts.e[i].val >= 0)
			p->accounts.e[i].val = remap[p->accounts.e[i].val];
	for (size_t i = 0; i < p->billing.cap; i++)
		if (p->billing.e[i].key)
			p->billing.e[i].val = remap[p->billing.e[i].val];
	free(remap);
	free(loser);

	build_segments(d);
	free(p->acc_dims);
	p->acc_dims = NULL;
	free(p->acc_billing);
	p->acc_billing = NULL;
	p->accounts_done = true;
}

/* ------------------------------------------------------------ the join */

/* --------------------------------------------------------------- facts */

int32_t account_of(struct cs_data *d, const char *key, uint32_t *seg)
{
	struct strent *e = strtab_find(&d->priv->accounts, key);
	if (!e || e->val < 0) {
		*seg = CS_SEG_UNKNOWN;
		d->priv->need_unknown = true;
		return CS_NO_ACCOUNT;
	}
	*seg = d->accounts[e->val].seg;
	return e->val;
}

uint32_t customer_of(struct cs_stream *in, const char *billing_key)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	int32_t last = in->last_customer;
	if (last >= 0 && !strcmp(d->customers[last].billing_key, billing_key))
		return (uint32_t)last;

	/* A customer an account names is found through the billing table and
	 * the account; only the others need a table (and a key copy) here. */
	struct strent *b = strtab_find(&p->billing, billing_key);
	int32_t id;
	if (b && b->val >= 0) {
		struct cs_account *acc = &d->accounts[b->val];
		if (acc->customer < 0) {
			GROW(d->customers, d->ncustomers, p->cap_customers);
			acc->customer = (int32_t)d->ncustomers;
			d->customers[d->ncustomers++] =
			    (struct cs_customer){b->key, b->val, acc->seg};
		}
		id = acc->customer;
	} else {
		bool added;
		struct strent *e = strtab_put(&p->orphans, &p->arena, billing_key, &added);
		if (added) {
			GROW(d->customers, d->ncustomers, p->cap_customers);
			e->val = (int32_t)d->ncustomers;
			d->customers[d->ncustomers++] =
			    (struct cs_customer){e->key, CS_NO_ACCOUNT, CS_SEG_UNKNOWN};
			p->need_unknown = true;
		}
		id = e->val;
	}
	in->last_customer = id;
	return (uint32_t)id;
}

/* ---------------------------------------------------------------- link */

/* Once every dataset is read: the unknown segment, when a fact fell there. */
uint32_t link_unknown(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;

	if (!p->need_unknown)
		return CS_SEG_UNKNOWN;

	size_t nd = d->seg.ndims;
	uint32_t unknown = UINT32_MAX;
	for (size_t s = 0; s < d->seg.n && unknown == UINT32_MAX; s++)
		if (all_equal(d->seg.values + s * nd, nd, "unknown"))
			unknown = (uint32_t)s;
	if (unknown == UINT32_MAX) {
		/* build_segments left room for one more segment */
		unknown = (uint32_t)d->seg.n++;
		for (size_t k = 0; k < nd; k++)
			d->seg.values[unknown * nd + k] = "unknown";
		d->seg.accounts[unknown] = 0;
	}
	for (size_t i = 0; i < d->ncustomers; i++)
		if (d->customers[i].seg == CS_SEG_UNKNOWN)
			d->customers[i].seg = unknown;
	p->need_unknown = false;
	return unknown;
}
