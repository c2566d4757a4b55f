/*
 * ds_activity: what the activity dataset (ds_activity.c) leaves for
 * compute: distinct active users per account, per segment, and per segment
 * and tracked feature, for each plan window and for health's usage window.
 * Owned and filled by ds_activity.c; adoption.c and health.c read it
 * through the accessors below.
 *
 * Activity is counted while it streams in and never stored row by row: at
 * ~20 rows per account it would dominate the memory of an evaluation. The
 * exporter wraps the query in ORDER BY account_key, user_key (byte order;
 * cs_dataset_query), so the rows of one user arrive together and a user is
 * complete when the next one starts. A user is an (account key, user key)
 * pair, for accounts no CRM account has as well. A user is active in a
 * window starting at s when the latest of its rows before t is at or after
 * s (for a feature: its latest row on that feature).
 *
 * Until the link, the last segment slot holds the users of unknown
 * accounts; activity_link_unknown (ds_activity.c) moves them to the unknown
 * segment, after which nseg is the number of segments.
 */
#ifndef CS_DS_ACTIVITY_H
#define CS_DS_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cstime.h"

/* Windows w < plan.nwindows are the plan's; the one after them health's
 * usage window (activity_usage_window). */
struct cs_activity_counts {
	size_t nwin;		     /* plan.nwindows + 1 */
	size_t nseg;		     /* segment slots; the segments once linked */
	size_t nfeat;		     /* tracked features (cfg->features) */
	uint32_t *account_users;     /* [account * nwin + w] */
	uint64_t *seg_users;	     /* [seg * nwin + w] */
	uint64_t *seg_feature_users; /* [(seg * nwin + w) * nfeat + f] */
	uint64_t users;		     /* distinct (account, user) pairs with a valid row */
};

/* The window index of health's usage window. */
static inline size_t activity_usage_window(const struct cs_activity_counts *a)
{
	return a->nwin - 1;
}

/* Distinct users of account i active in window w. */
static inline uint32_t activity_account_users(const struct cs_activity_counts *a, size_t i,
					      size_t w)
{
	return a->account_users[i * a->nwin + w];
}

/* Distinct users of segment seg active in window w. */
static inline uint64_t activity_seg_users(const struct cs_activity_counts *a, size_t seg, size_t w)
{
	return a->seg_users[seg * a->nwin + w];
}

/* Distinct users of segment seg active on tracked feature f in window w. */
static inline uint64_t activity_feature_users(const struct cs_activity_counts *a, size_t seg,
					      size_t w, size_t f)
{
	return a->seg_feature_users[(seg * a->nwin + w) * a->nfeat + f];
}

/*
 * A backfill's activity memory (ds_activity.c). A backfill evaluates one
 * instant t after the other. The activity query gives each (account, user,
 * feature) its last activity in [since, t) (plan.since: t minus the longest
 * window), so the rows of one evaluation are those of [previous t, t)
 * merged, taking the later instant, into those remembered from the
 * evaluations before, less the ones now older than since. With a memory
 * attached (before any dataset is read), the activity query of d need only
 * run from cs_data_activity_since(d); cs_data_activity_done(d, ok) then
 * merges that slice (when ok: the query ran to its end) and folds the whole
 * window. Rows the slice rejects are counted at this evaluation only. A
 * memory whose last instant is not before t starts again with a full read.
 */
struct cs_data;
struct cs_activity_memory;
struct cs_activity_memory *cs_activity_memory_new(void);
void cs_activity_memory_free(struct cs_activity_memory *m);
/* The next evaluation reads its whole window (a read failed or was cut). */
void cs_activity_memory_forget(struct cs_activity_memory *m);
void cs_data_remember_activity(struct cs_data *d, struct cs_activity_memory *m);
cs_time cs_data_activity_since(const struct cs_data *d);
void cs_data_activity_done(struct cs_data *d, bool ok);

/*
 * The daemon's use of the same memory (docs/configuration.md, "Incremental
 * reads"). Its evaluations come at the instants of its clock, with late rows
 * landing after their instant, and not every evaluation reads the same
 * window (collectors with other windows fall due at other ticks):
 *   keep_from  the memory keeps rows from this instant on, though this
 *              evaluation's window may start later (its fold skips them):
 *              the start of the longest window any collector reads
 *   lookback   a read from the memory binds since to its last instant less
 *              this, so rows that landed late by up to lookback are merged
 *   full       read the whole window; when the memory could have been used,
 *              count the entries it would have had wrong (the drift)
 */
struct cs_activity_live {
	cs_time keep_from;
	int64_t lookback; /* microseconds */
	bool full;
};
void cs_data_remember_activity_live(struct cs_data *d, struct cs_activity_memory *m,
				    const struct cs_activity_live *o);
/* After cs_data_activity_done: whether this evaluation read the whole
 * window, and, when it did and the memory could have been used instead,
 * *drift (true returned through *checked): the (account, user, feature)
 * entries the full read has that the merged memory lacked or had with
 * another instant, plus those the memory had that the read has not. */
bool cs_data_activity_full(const struct cs_data *d, bool *checked, uint64_t *drift);
/* The rows the activity query returned (with a memory, the slice's: d's
 * row counts are those of the whole window, as a full read gives). */
uint64_t cs_data_activity_read(const struct cs_data *d);

#endif
