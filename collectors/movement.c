/*
 * movement: health band transitions between consecutive successful health
 * evaluations (docs/metrics.md), cs_health_band_transitions_total{<segment>,
 * from, to}. The only family with memory: the daemon keeps what
 * kpi_health_movement returns and hands it back at the next evaluation
 * (exporter/eval/eval.c), so the compute itself stays a function of its inputs.
 *
 * An account is identified by its account key. It is "unscored" in an
 * evaluation where it is not scored (no MRR > 0 at t, or no longer an
 * account). Its segment is its segment at the newer evaluation; an account
 * that is gone keeps the segment it had. Counts are kept per segment label
 * values, not per segment index: the universe may change between
 * evaluations, and a segment that disappears keeps its series (a counter
 * does not vanish and come back at 0 while the process runs).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "emit.h"
#include "kpi.h"
#include "ds_accounts.h"

const struct cs_family movement_families[] = {
    {.name = "cs_health_band_transitions_total",
     .type = METRIC_COUNTER,
     .labels = {"from", "to"},
     .help = "Accounts whose health band changed between two consecutive successful health "
	     "evaluations (unscored: scored in only one of them), counted since the exporter "
	     "started; segment of the account at the newer evaluation"},
    CS_FAMILIES_END,
};

static const char *const band_names[CS_BANDS] = {"green", "yellow", "red", "unknown", "unscored"};

struct seg_counts {
	char **vals; /* one per dimension, owned */
	uint64_t n[CS_BANDS][CS_BANDS];
};

struct remembered {
	char *key;
	unsigned char band;
	uint32_t seg; /* index into segs */
};

struct cs_band_memory {
	char *collector;
	size_t ndims;
	char *dims[CS_MAX_DIMENSIONS];
	struct seg_counts *segs;
	size_t nsegs, capsegs;
	struct remembered *acc; /* scored accounts, sorted by key (byte order) */
	size_t nacc;
};

void cs_band_memory_free(struct cs_band_memory *m)
{
	if (!m)
		return;
	free(m->collector);
	for (size_t i = 0; i < m->ndims; i++)
		free(m->dims[i]);
	for (size_t s = 0; s < m->nsegs; s++) {
		for (size_t i = 0; i < m->ndims; i++)
			free(m->segs[s].vals[i]);
		free(m->segs[s].vals);
	}
	free(m->segs);
	for (size_t i = 0; i < m->nacc; i++)
		free(m->acc[i].key);
	free(m->acc);
	free(m);
}

size_t cs_band_memory_accounts(const struct cs_band_memory *m)
{
	return m ? m->nacc : 0;
}

/* prev counts for this collector and these dimensions. */
static bool same_setup(const struct cs_band_memory *prev, const struct cs_data *d,
		       const struct cs_collector *c)
{
	if (!prev || strcmp(prev->collector, c->name) != 0 || prev->ndims != d->cfg->ndims)
		return false;
	for (size_t i = 0; i < prev->ndims; i++)
		if (strcmp(prev->dims[i], d->cfg->dims[i]) != 0)
			return false;
	return true;
}

static uint32_t seg_add(struct cs_band_memory *m, const char *const *vals, const uint64_t *counts)
{
	if (m->nsegs == m->capsegs) {
		m->capsegs = m->capsegs ? 2 * m->capsegs : 16;
		m->segs = xrealloc(m->segs, m->capsegs * sizeof(*m->segs));
	}
	struct seg_counts *s = &m->segs[m->nsegs];
	s->vals = xcalloc(m->ndims + 1, sizeof(*s->vals));
	for (size_t i = 0; i < m->ndims; i++)
		s->vals[i] = xstrdup(vals[i]);
	if (counts)
		memcpy(s->n, counts, sizeof(s->n));
	else
		memset(s->n, 0, sizeof(s->n));
	return (uint32_t)m->nsegs++;
}

/* The entry of current segment seg, added at 0 when new. */
static uint32_t seg_find(struct cs_band_memory *m, const struct cs_data *d, uint32_t seg)
{
	const char *const *vals = d->seg.values + (size_t)seg * d->seg.ndims;

	for (size_t s = 0; s < m->nsegs; s++) {
		size_t i = 0;
		while (i < m->ndims && !strcmp(m->segs[s].vals[i], vals[i]))
			i++;
		if (i == m->ndims)
			return (uint32_t)s;
	}
	return seg_add(m, vals, NULL);
}

static _Thread_local const struct cs_data *sort_data;

static int by_key(const void *a, const void *b)
{
	const struct cs_account *acc = sort_data->accounts;
	return strcmp(acc[*(const uint32_t *)a].key, acc[*(const uint32_t *)b].key);
}

struct cs_band_memory *kpi_health_movement(const struct cs_data *d, const struct cs_collector *c,
					   const struct cs_band_memory *prev, struct mset *out)
{
	struct cs_band_memory *next = xcalloc(1, sizeof(*next));
	size_t na = d->naccounts, nseg = d->seg.n;

	next->collector = xstrdup(c->name);
	next->ndims = d->cfg->ndims;
	for (size_t i = 0; i < next->ndims; i++)
		next->dims[i] = xstrdup(d->cfg->dims[i]);
	if (!same_setup(prev, d, c))
		prev = NULL;
	/* prev's segments first, at the same indexes, with their counts */
	for (size_t s = 0; prev && s < prev->nsegs; s++)
		seg_add(next, (const char *const *)prev->segs[s].vals, &prev->segs[s].n[0][0]);
	uint32_t *entry = xcalloc(nseg + 1, sizeof(*entry));
	for (uint32_t s = 0; s < nseg; s++)
		entry[s] = seg_find(next, d, s);

	unsigned char *band = xcalloc(na + 1, 1);
	uint32_t *order = xcalloc(na + 1, sizeof(*order));
	health_bands(d, band);
	for (size_t i = 0; i < na; i++)
		order[i] = (uint32_t)i;
	sort_data = d;
	qsort(order, na, sizeof(*order), by_key);
	sort_data = NULL;

	next->acc = xcalloc(na + 1, sizeof(*next->acc));
	size_t p = 0, np = prev ? prev->nacc : 0;
	for (size_t k = 0; k <= na; k++) {
		const struct cs_account *a = k < na ? &d->accounts[order[k]] : NULL;
		unsigned char now = a ? band[order[k]] : CS_BAND_UNSCORED;
		bool placed = a && a->seg < nseg;

		/* remembered accounts before this key are gone: to unscored */
		while (p < np && (!a || strcmp(prev->acc[p].key, a->key) < 0)) {
			next->segs[prev->acc[p].seg].n[prev->acc[p].band][CS_BAND_UNSCORED]++;
			p++;
		}
		if (!a)
			break;
		unsigned char before = CS_BAND_UNSCORED;
		if (p < np && !strcmp(prev->acc[p].key, a->key))
			before = prev->acc[p++].band;
		if (!placed)
			continue;
		if (prev && before != now)
			next->segs[entry[a->seg]].n[before][now]++;
		if (now != CS_BAND_UNSCORED) {
			struct remembered *r = &next->acc[next->nacc++];
			r->key = xstrdup(a->key);
			r->band = now;
			r->seg = entry[a->seg];
		}
	}

	struct cs_emitter f = family_of(out, d, &movement_families[0]);
	const char *values[CS_MAX_DIMENSIONS], *fromto[2];
	for (size_t s = 0; s < next->nsegs; s++) {
		for (size_t i = 0; i < next->ndims; i++)
			values[i] = next->segs[s].vals[i];
		for (int from = 0; from < CS_BANDS; from++) {
			for (int to = 0; to < CS_BANDS; to++) {
				if (from == to)
					continue;
				fromto[0] = band_names[from];
				fromto[1] = band_names[to];
				emit_labels(&f, next->ndims, (const char *const *)next->dims,
					    values, fromto, (double)next->segs[s].n[from][to]);
			}
		}
	}
	free(order);
	free(band);
	free(entry);
	return next;
}
