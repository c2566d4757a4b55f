/*
 * ds_tickets: what the tickets dataset (ds_tickets.c) leaves for compute:
 * per segment and plan window, the tickets opened in [t - W, t) (and how
 * many of those were escalated) and the tickets resolved in it whenever
 * opened, with the sum of their resolution seconds; per account, the
 * escalated tickets opened in health's support window. Owned and filled by
 * ds_tickets.c (rows counted as they stream in, never stored); support.c
 * and health.c read it through the accessors below.
 *
 * Until the link, the last segment slot holds the tickets of unknown
 * accounts; tickets_link_unknown (ds_tickets.c) moves them to the unknown
 * segment, after which nseg is the number of segments.
 */
#ifndef CS_DS_TICKETS_H
#define CS_DS_TICKETS_H

#include <stddef.h>
#include <stdint.h>

struct cs_ticket_counts {
	uint64_t opened, escalated, resolved;
	double resolution_seconds;
};

struct cs_tickets {
	size_t nwin;		       /* plan.nwindows */
	size_t nseg;		       /* segment slots; the segments once linked */
	struct cs_ticket_counts *seg;  /* [seg * nwin + w] */
	uint32_t *account_escalations; /* [account] */
	uint64_t rows;		       /* valid ticket rows */
};

/* The tickets of segment seg in plan window w. */
static inline const struct cs_ticket_counts *ticket_counts(const struct cs_tickets *k, size_t seg,
							   size_t w)
{
	return &k->seg[seg * k->nwin + w];
}

/* Escalated tickets of account i opened in health's support window. */
static inline uint32_t ticket_escalations(const struct cs_tickets *k, size_t i)
{
	return k->account_escalations[i];
}

#endif
