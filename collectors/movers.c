/*
 * movers: the customers behind revenue's MRR movements (docs/metrics.md,
 * revenue): for each collector window and movement type, the movers.top
 * billing customers with the largest amounts, overall or per segment
 * (movers.per_segment), as cs_mrr_mover{<segment>, currency, window, type,
 * account, name, billing_key}. A bounded list, like health's at-risk list:
 * at most top x 5 types x windows series (x segments when per segment).
 *
 * Customers are named as on the at-risk list: their CRM account's key and
 * display name (both empty for a billing customer no account names), plus
 * the billing key, which tells such customers apart. The movement of each
 * customer is the one revenue.c sums (cs_movement_of, kpi.h); amounts equal within
 * cs_cmp's tolerance fall to the account key's byte order, then the billing
 * key's, so the list does not depend on row order.
 */
#include <stdlib.h>
#include <string.h>

#include "ds_accounts.h"
#include "emit.h"
#include "kpi.h"
#include "lib/topn.h"
#include "ds_subscriptions.h"

static const char *const type_names[MV_COUNT] = {
    "new", "reactivation", "expansion", "contraction", "churn",
};

const struct cs_family mover_families[] = {
    {.name = "cs_mrr_mover",
     .type = METRIC_GAUGE,
     .labels = {"currency", "window", "type", "account", "name", "billing_key"},
     .help = "MRR movement amount of the customers with the largest movements over the window "
	     "(movers.top per window and type, overall or per segment; types as "
	     "cs_mrr_movement; account and name as on the at-risk list, empty when no account "
	     "names the billing customer), in the reporting currency; recomputed every "
	     "collector interval"},
    CS_FAMILIES_END,
};

/* ------------------------------------------------------------------ */
/* Settings                                                             */

/* movers = { top = 10; per_segment = false; } (docs/configuration.md). */
bool movers_settings(struct config_reader *L, struct cs_kind_settings *k)
{
	static const char *const keys[] = {"top", "per_segment", NULL};
	const struct config_setting_t *g =
	    config_get_group(L, config_root(L->cfg), "movers", false, keys);
	long long top = k->movers.top;

	if (!g)
		return !L->failed;
	config_get_int(L, g, "top", false, 0, 100, &top);
	k->movers.top = (int)top;
	config_get_bool(L, g, "per_segment", false, &k->movers.per_segment);
	return !L->failed;
}

/* ------------------------------------------------------------------ */
/* Lists                                                                */

struct mover {
	double amount;
	uint32_t customer;
};

static const char *account_key(const struct cs_data *d, uint32_t c)
{
	int32_t a = d->customers[c].account;

	return a >= 0 && (size_t)a < d->naccounts ? d->accounts[a].key : "";
}

/* Larger amount first; then account key, then billing key (byte order). */
static bool mover_before(const struct cs_data *d, const struct mover *a, const struct mover *b)
{
	int c = cs_cmp(b->amount, a->amount);

	if (c)
		return c < 0;
	c = strcmp(account_key(d, a->customer), account_key(d, b->customer));
	if (c)
		return c < 0;
	return strcmp(d->customers[a->customer].billing_key,
		      d->customers[b->customer].billing_key) < 0;
}

/* mover_before for topn_offer (lib/topn.h); ctx is the model. */
static bool mover_first(const void *a, const void *b, const void *ctx)
{
	return mover_before(ctx, a, b);
}

void kpi_movers(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_movers *cfg = &d->cfg->kinds->movers;
	size_t n = (size_t)(cfg->top > 0 ? cfg->top : 0), ns = d->seg.n, nw = col->nwindows;
	size_t nlists = (cfg->per_segment ? ns : 1) * nw * MV_COUNT;
	struct cs_emitter f = family_of(out, d, &mover_families[0]);
	size_t wi[CS_MAX_WINDOWS]; /* the collector's windows among the plan's */

	if (!n || !nlists)
		return;
	for (size_t w = 0; w < nw; w++)
		wi[w] = cs_plan_window(&d->plan, col->windows[w].seconds);

	/* list (segment or 0, window, type) */
	struct mover *lists = xcalloc(nlists * n + 1, sizeof(*lists));
	size_t *len = xcalloc(nlists + 1, sizeof(*len));
	for (size_t c = 0; c < d->ncustomers; c++) {
		uint32_t seg = d->customers[c].seg;

		if (seg >= ns)
			continue;
		for (size_t w = 0; w < nw; w++) {
			double m0 = mrr_at(d->mrr, c, mrr_window_start(wi[w]));
			double m1 = mrr_at(d->mrr, c, MRR_T);
			bool before = mrr_first_positive(d->mrr, c) < d->plan.from[wi[w]];
			int mv = cs_movement_of(m0, m1, before);
			size_t l;

			if (mv == MV_NONE)
				continue;
			l = ((cfg->per_segment ? seg : 0) * nw + w) * MV_COUNT + (size_t)mv;
			double amount = cs_movement_amount(mv, m0, m1);
			struct mover m = {amount, (uint32_t)c};
			topn_offer(&lists[l * n], &len[l], n, sizeof(m), &m, mover_first, d);
		}
	}
	for (size_t l = 0; l < nlists; l++) {
		size_t w = l / MV_COUNT % nw, mv = l % MV_COUNT;

		for (size_t k = 0; k < len[l]; k++) {
			const struct mover *m = &lists[l * n + k];
			const struct cs_customer *cu = &d->customers[m->customer];
			const char *name = cu->account >= 0 && (size_t)cu->account < d->naccounts &&
						   d->accounts[cu->account].name
					       ? d->accounts[cu->account].name
					       : "";

			emit(&f, cu->seg, m->amount, d->cfg->currency, col->windows[w].label,
			     type_names[mv], account_key(d, m->customer), name, cu->billing_key,
			     NULL);
		}
	}
	free(len);
	free(lists);
}
