/*
 * support: tickets opened, escalated and resolved per segment and window,
 * the escalation rate and the resolution time (docs/metrics.md).
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

enum { F_TICKETS, F_ESCALATION, F_RESOLUTION, F_RESOLUTION_SUM, F_COUNT };

const struct cs_family support_families[] = {
    [F_TICKETS] = {.name = "cs_tickets",
		   .type = METRIC_GAUGE,
		   .labels = {"window", "state"},
		   .help = "Support tickets in the window: opened, escalated (of those opened) and "
			   "resolved; recomputed from the database each collector interval"},
    [F_ESCALATION] = {.name = "cs_ticket_escalation_ratio",
		      .type = METRIC_GAUGE,
		      .labels = {"window"},
		      .help = "Escalated / opened tickets, over tickets opened in the window; "
			      "recomputed from the database each collector interval"},
    [F_RESOLUTION] = {.name = "cs_ticket_resolution_seconds",
		      .type = METRIC_GAUGE,
		      .labels = {"window"},
		      .unit = "seconds",
		      .help = "Mean seconds from opening to resolution of tickets resolved in the "
			      "window; recomputed from the database each collector interval"},
    [F_RESOLUTION_SUM] = {.name = "cs_ticket_resolution_time_seconds",
			  .type = METRIC_GAUGE,
			  .labels = {"window"},
			  .unit = "seconds",
			  .help =
			      "Sum of seconds from opening to resolution of tickets resolved in "
			      "the window (numerator of cs_ticket_resolution_seconds); "
			      "recomputed from the database each collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

void kpi_support(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_tickets *k = d->tickets; /* ds_tickets.h */
	size_t nseg = d->seg.n;
	struct cs_emitter tickets = family_of(out, d, &support_families[F_TICKETS]);
	struct cs_emitter ratio = family_of(out, d, &support_families[F_ESCALATION]);
	struct cs_emitter mean = family_of(out, d, &support_families[F_RESOLUTION]);
	struct cs_emitter sum = family_of(out, d, &support_families[F_RESOLUTION_SUM]);

	for (size_t w = 0; w < col->nwindows; w++) {
		const char *label = col->windows[w].label;
		size_t kw = cs_plan_window(&d->plan, col->windows[w].seconds);

		for (uint32_t seg = 0; seg < nseg; seg++) {
			const struct cs_ticket_counts *c = ticket_counts(k, seg, kw);

			emit(&tickets, seg, (double)c->opened, label, "opened", NULL);
			emit(&tickets, seg, (double)c->escalated, label, "escalated", NULL);
			emit(&tickets, seg, (double)c->resolved, label, "resolved", NULL);
			if (c->opened)
				emit(&ratio, seg, (double)c->escalated / (double)c->opened, label,
				     NULL);
			if (c->resolved)
				emit(&mean, seg, c->resolution_seconds / (double)c->resolved, label,
				     NULL);
			emit(&sum, seg, c->resolution_seconds, label, NULL);
		}
	}
}
