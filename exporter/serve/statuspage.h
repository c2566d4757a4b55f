/*
 * statuspage: the business half of the status page `/` (docs/design.md,
 * "Status page"): headline KPIs with their 30-day change, sparklines of
 * MRR and churn over the daemon's recent evaluations, the at-risk and
 * movement lists and renewals due, all read from the collectors' last good
 * metric sets. The plumbing half (collectors, datasets, rejections) is
 * snapshot.c's. Server-rendered HTML, every string escaped, no script and
 * nothing fetched from elsewhere.
 *
 * The history is a bounded ring of headline values per evaluation, kept by
 * the snapshot: the last STATUS_RECENT evaluations (the sparklines) and one
 * point an hour for STATUS_HOURLY hours (the 30-day change of the values the
 * data cannot tell, such as NPS). Restarting the daemon starts it again.
 */
#ifndef CS_STATUSPAGE_H
#define CS_STATUSPAGE_H

#include <stddef.h>

#include "collectors/kinds.h"
#include "lib/buf.h"
#include "lib/cstime.h"
#include "lib/expo.h"

#define STATUS_RECENT 240
#define STATUS_HOURLY 768 /* 32 days */

/* The collectors' last good sets by kind (NULL: none). */
struct status_sets {
	const struct mset *set[KIND_COUNT];
};

struct status_history;

struct status_history *status_history_new(void);
void status_history_free(struct status_history *h);
/* Records the headline values of sets as those at as_of. */
void status_history_add(struct status_history *h, cs_time as_of, const struct status_sets *v);

/* Appends the KPI sections of the page (headline, sparklines, lists,
 * renewals) to b. */
void status_page_kpis(struct buf *b, const struct status_sets *v, const struct status_history *h);

/* The page's style sheet (inside <style>). */
extern const char status_page_style[];

/* HTML text and attribute escaping of a UTF-8 string: & < > " '. */
void status_html_escape(struct buf *b, const char *s);
/* The same for a label value as the exposition writes it (expo.h): its
 * backslash escapes are undone first. */
void status_html_label(struct buf *b, const char *escaped);

#endif
