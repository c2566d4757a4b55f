/*
 * outcomes: per configured business outcome and window, the sum of the
 * accounts' values and how many accounts met the target (docs/metrics.md).
 *
 * Several rows of one account are summed before comparing with the target;
 * an account without a row has no value and is neither met nor missed. Rows
 * whose account key no CRM account has are still one account per key: they
 * are summed per key and judged per key, in the "unknown" segment.
 */
#include <stdlib.h>
#include <string.h>

#include "ds_outcomes.h"
#include "emit.h"
#include "kpi.h"
#include "ds_accounts.h"

struct outcome_counts {
	double value;
	uint64_t met, missed;
};

/* Sums per account, reused across runs; touched lists what to reset. */
struct sums {
	double *value;	   /* [naccounts]: per account */
	bool *has;	   /* same indexing */
	uint32_t *touched; /* indexes with has set */
	size_t ntouched;
	const struct cs_outcome_value **unknown; /* rows of unknown accounts, one run */
};

static bool meets(const struct cs_outcome *o, double v)
{
	if (o->direction == OUTCOME_AT_MOST)
		return cs_cmp(v, o->target) <= 0;
	return cs_cmp(v, o->target) >= 0;
}

static void judge(const struct cs_outcome *o, double v, struct outcome_counts *c)
{
	c->value += v;
	if (meets(o, v))
		c->met++;
	else
		c->missed++;
}

static int by_key(const void *a, const void *b)
{
	const struct cs_outcome_value *const *x = a;
	const struct cs_outcome_value *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static void count_run(const struct cs_data *d, const struct cs_outcome *o,
		      const struct cs_outcome_value *rows, size_t nrows, struct sums *s,
		      struct outcome_counts *per_seg)
{
	size_t nacc = d->naccounts;

	size_t nunknown = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct cs_outcome_value *r = &rows[i];
		size_t slot;

		if (r->account >= 0 && (size_t)r->account < nacc) {
			slot = (size_t)r->account;
		} else {
			if (r->key && r->seg < d->seg.n)
				s->unknown[nunknown++] = r;
			continue;
		}
		if (!s->has[slot]) {
			s->has[slot] = true;
			s->value[slot] = 0;
			s->touched[s->ntouched++] = (uint32_t)slot;
		}
		s->value[slot] += r->value;
	}
	for (size_t k = 0; k < s->ntouched; k++) {
		size_t slot = s->touched[k];
		uint32_t seg = slot < nacc ? d->accounts[slot].seg : (uint32_t)(slot - nacc);
		double v = s->value[slot];

		s->has[slot] = false;
		if (seg >= d->seg.n)
			continue;
		judge(o, v, &per_seg[seg]);
	}
	s->ntouched = 0;

	/* Unknown accounts: group the rows by key, then sum and judge each. */
	qsort(s->unknown, nunknown, sizeof(*s->unknown), by_key);
	for (size_t i = 0; i < nunknown;) {
		double v = 0;
		size_t j = i;
		for (; j < nunknown && strcmp(s->unknown[j]->key, s->unknown[i]->key) == 0; j++)
			v += s->unknown[j]->value;
		judge(o, v, &per_seg[s->unknown[i]->seg]);
		i = j;
	}
}

enum { F_VALUE, F_ACCOUNTS, F_ATTAINMENT, F_COUNT };

const struct cs_family outcome_families[] = {
    [F_VALUE] = {.name = "cs_outcome_value",
		 .type = METRIC_GAUGE,
		 .labels = {"window", "outcome"},
		 .help = "Sum of the accounts' values of the business outcome in the window; "
			 "recomputed from the database each collector interval"},
    [F_ACCOUNTS] = {.name = "cs_outcome_accounts",
		    .type = METRIC_GAUGE,
		    .labels = {"window", "outcome", "target"},
		    .help = "Accounts with a value of the outcome in the window, by whether the "
			    "value met the configured target; recomputed from the database each "
			    "collector interval"},
    [F_ATTAINMENT] = {.name = "cs_outcome_attainment_ratio",
		      .type = METRIC_GAUGE,
		      .labels = {"window", "outcome"},
		      .help = "Accounts meeting the outcome target / accounts with a value in the "
			      "window; recomputed from the database each collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

void kpi_outcomes(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_config *cfg = d->cfg;
	size_t nseg = d->seg.n;
	size_t nslots = d->naccounts + nseg + 1;
	struct outcome_counts *per_seg = xcalloc(nseg + 1, sizeof(*per_seg));
	struct sums s;
	struct cs_emitter value = family_of(out, d, &outcome_families[F_VALUE]);
	struct cs_emitter accounts = family_of(out, d, &outcome_families[F_ACCOUNTS]);
	struct cs_emitter ratio = family_of(out, d, &outcome_families[F_ATTAINMENT]);

	s.value = xmalloc(nslots * sizeof(*s.value));
	s.has = xcalloc(nslots, sizeof(*s.has));
	s.touched = xmalloc(nslots * sizeof(*s.touched));
	size_t maxrows = 1;
	for (size_t o = 0; o < cfg->noutcomes; o++) {
		for (size_t w = 0; w < d->plan.nwindows; w++) {
			size_t n;

			outcome_values(d->outcomes, o, w, &n);
			if (n > maxrows)
				maxrows = n;
		}
	}
	s.unknown = xmalloc(maxrows * sizeof(*s.unknown));
	s.ntouched = 0;

	for (size_t o = 0; o < cfg->noutcomes; o++) {
		const struct cs_outcome *oc = &cfg->outcomes[o];

		for (size_t w = 0; w < col->nwindows; w++) {
			size_t ow = cs_plan_window(&d->plan, col->windows[w].seconds), nrows;
			const struct cs_outcome_value *rows =
			    outcome_values(d->outcomes, o, ow, &nrows); /* ds_outcomes.h */
			const char *label = col->windows[w].label;

			memset(per_seg, 0, (nseg + 1) * sizeof(*per_seg));
			count_run(d, oc, rows, nrows, &s, per_seg);
			for (uint32_t seg = 0; seg < nseg; seg++) {
				const struct outcome_counts *c = &per_seg[seg];

				emit(&value, seg, c->value, label, oc->name, NULL);
				emit(&accounts, seg, (double)c->met, label, oc->name, "met", NULL);
				emit(&accounts, seg, (double)c->missed, label, oc->name, "missed",
				     NULL);
				if (c->met + c->missed)
					emit(&ratio, seg,
					     (double)c->met / (double)(c->met + c->missed), label,
					     oc->name, NULL);
			}
		}
	}
	free(s.value);
	free(s.has);
	free(s.touched);
	free(s.unknown);
	free(per_seg);
}
