/*
 * support: tickets opened, escalated and resolved per segment and window,
 * the escalation rate and the resolution time (SPEC section 3).
 *
 * Opened and escalated count tickets opened in the window; resolved counts
 * tickets resolved in the window whenever they were opened, which is what a
 * support lead reads as "what did we close this month".
 */
#include <stdlib.h>
#include <string.h>

#include "ds_tickets.h"
#include "emit.h"
#include "kpi.h"

void kpi_support(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_tickets *k = &d->tickets; /* ds_tickets.h */
	size_t nseg = d->seg.n;
	struct family *tickets = mset_family(
	    out, "cs_tickets", METRIC_GAUGE,
	    "Support tickets in the window: opened, escalated (of those opened) and resolved; "
	    "recomputed from the database each collector interval",
	    NULL);
	struct family *ratio = mset_family(
	    out, "cs_ticket_escalation_ratio", METRIC_GAUGE,
	    "Escalated / opened tickets, over tickets opened in the window; recomputed from the "
	    "database each collector interval",
	    NULL);
	struct family *mean = mset_family(
	    out, "cs_ticket_resolution_seconds", METRIC_GAUGE,
	    "Mean seconds from opening to resolution of tickets resolved in the window; "
	    "recomputed from the database each collector interval",
	    "seconds");
	struct family *sum = mset_family(
	    out, "cs_ticket_resolution_time_seconds", METRIC_GAUGE,
	    "Sum of seconds from opening to resolution of tickets resolved in the window "
	    "(numerator of cs_ticket_resolution_seconds); recomputed from the database each "
	    "collector interval",
	    "seconds");

	for (size_t w = 0; w < col->nwindows; w++) {
		const char *label = col->windows[w].label;
		size_t kw = cs_plan_window(&d->plan, col->windows[w].seconds);

		for (uint32_t seg = 0; seg < nseg; seg++) {
			const struct cs_ticket_counts *c = ticket_counts(k, seg, kw);

			emit(tickets, d, seg, (double)c->opened, "window", label, "state", "opened",
			     NULL);
			emit(tickets, d, seg, (double)c->escalated, "window", label, "state",
			     "escalated", NULL);
			emit(tickets, d, seg, (double)c->resolved, "window", label, "state",
			     "resolved", NULL);
			if (c->opened)
				emit(ratio, d, seg, (double)c->escalated / (double)c->opened,
				     "window", label, NULL);
			if (c->resolved)
				emit(mean, d, seg, c->resolution_seconds / (double)c->resolved,
				     "window", label, NULL);
			emit(sum, d, seg, c->resolution_seconds, "window", label, NULL);
		}
	}
}
