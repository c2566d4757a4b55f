/*
 * tickets (CRM): one row per support ticket. Columns: account_key,
 * opened_at, resolved_at (NULL: open), escalated. Rejected: null_key,
 * null_value, bad_time, bad_bool, bad_resolution (resolved before opened).
 *
 * Counted as they stream in and never stored (struct cs_tickets,
 * ds_tickets.h): per
 * segment and window the tickets opened (and escalated) and resolved, and
 * per account the escalations in health's support window.
 */
#include "dataset.h"
#include "ds_tickets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_K_ACCOUNT,
	COL_K_OPENED,
	COL_K_RESOLVED,
	COL_K_ESCALATED,
};

static const struct colspec cols_tickets[] = {
    {"account_key", false, CS_COL_TEXT},
    {"opened_at", false, CS_COL_TIMESTAMP},
    {"resolved_at", false, CS_COL_TIMESTAMP},
    {"escalated", false, CS_COL_BOOLEAN},
};

static void tickets_alloc(struct cs_data *d)
{
	struct cs_tickets *k = d->tickets;

	if (k->seg)
		return;
	k->nwin = d->plan.nwindows;
	k->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	k->seg = xcalloc(k->nseg * k->nwin + 1, sizeof(*k->seg));
	k->account_escalations = xcalloc(d->naccounts + 1, sizeof(*k->account_escalations));
}

static void row_ticket(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *key = col(in, v, COL_K_ACCOUNT);
	cs_time opened, resolved;
	bool escalated;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need_time(in, col(in, v, COL_K_OPENED), &opened))
		return;
	if (opt_time(col(in, v, COL_K_RESOLVED), &resolved)) {
		reject(in, "bad_time");
		return;
	}
	if (resolved != CS_TIME_NONE && resolved < opened) {
		reject(in, "bad_resolution");
		return;
	}
	if (!need_bool(in, col(in, v, COL_K_ESCALATED), &escalated))
		return;

	struct cs_tickets *k = d->tickets;
	uint32_t seg;
	int32_t account = account_of(d, key, &seg);
	seen(in, opened);
	seen(in, resolved);
	if (seg == CS_SEG_UNKNOWN)
		seg = (uint32_t)(k->nseg - 1);
	k->rows++;
	for (size_t w = 0; w < k->nwin; w++) {
		struct cs_ticket_counts *c = &k->seg[seg * k->nwin + w];
		cs_time from = d->plan.from[w];

		if (opened >= from && opened < d->as_of) {
			c->opened++;
			c->escalated += escalated;
		}
		if (resolved != CS_TIME_NONE && resolved >= from && resolved < d->as_of) {
			c->resolved++;
			c->resolution_seconds += (double)(resolved - opened) / (double)CS_SECOND;
		}
	}
	if (escalated && account != CS_NO_ACCOUNT && opened >= d->plan.support_from &&
	    opened < d->as_of)
		k->account_escalations[account]++;
}

/* Tickets of unknown accounts were counted in the last slot; that slot
 * becomes the unknown segment unless an account combination is it. */
static void tickets_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_tickets *k = d->tickets;
	size_t slot = k->nseg - 1;

	if (k->seg && unknown != CS_SEG_UNKNOWN && unknown != slot) {
		for (size_t w = 0; w < k->nwin; w++) {
			struct cs_ticket_counts *to = &k->seg[unknown * k->nwin + w];
			struct cs_ticket_counts *from = &k->seg[slot * k->nwin + w];

			to->opened += from->opened;
			to->escalated += from->escalated;
			to->resolved += from->resolved;
			to->resolution_seconds += from->resolution_seconds;
			*from = (struct cs_ticket_counts){0};
		}
	}
	k->nseg = d->seg.n;
}

static void tickets_release(struct cs_data *d)
{
	free(d->tickets->seg);
	free(d->tickets->account_escalations);
}

static int tickets_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	tickets_alloc(in->d);
	return 0;
}

const struct ds_contract ds_tickets = {
    .name = "tickets",
    .cols = cols_tickets,
    .ncols = sizeof(cols_tickets) / sizeof(cols_tickets[0]),
    .open = tickets_open,
    .row = row_ticket,
    .prepare = tickets_alloc,
    .link_unknown = tickets_link_unknown,
    .release = tickets_release,
};
