/*
 * dataset: what the dataset files (ds_*.c) share with the model and the
 * join, and nothing else includes. A dataset file holds one dataset's row
 * contract (its columns), validation and streaming fold side by side, as a
 * struct ds_contract; read.c dispatches each stream to its contract. What a
 * fold leaves for compute is in the dataset's header (ds_*.h).
 */
#ifndef CS_DATASET_H
#define CS_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/strtab.h"
#include "model.h"
#include "money.h"

#define COL_MAX 11 /* columns of the widest contract */

struct colspec {
	const char *name;
	bool optional;
	enum cs_col_type type; /* checked by --config.check --connect */
};

/* Activity in progress: the keys of the last valid row, and what the rows of
 * that user said so far (see struct cs_activity_counts). */
struct user_run {
	char *account_key, *user_key; /* copies; libpq reuses its buffers */
	size_t account_cap, user_cap;
	bool have_keys, open;
	uint64_t row;	  /* activity rows so far */
	uint64_t bad_row; /* the first row that came before its predecessor, 0: none */
	int32_t account;  /* CS_NO_ACCOUNT: unknown */
	uint32_t slot;	  /* segment slot, the unknown one for unknown accounts */
	cs_time latest;	  /* latest row before t, CS_TIME_NONE: none */
	uint64_t fmask;	  /* features with a row before t */
	cs_time flatest[CS_MAX_FEATURES];
};

/* An activity row as the memory holds it (ds_activity.c). */
struct act_row;

struct cs_data_private {
	struct arena arena;

	/* A backfill's activity memory (cs_data_remember_activity), and the
	 * rows of this evaluation's slice of the activity query. */
	struct cs_activity_memory *amem;
	cs_time slice_from;
	cs_time keep_from;  /* the memory keeps rows from it on (<= plan.since) */
	bool full;	    /* this read is the whole window */
	cs_time drift_from; /* full and live: the slice an incremental read would
			     * have bound, to count its drift; CS_TIME_NONE: none */
	bool drift_checked;
	uint64_t drift;
	uint64_t read_rows; /* rows the query returned (the slice's) */
	struct act_row *slice;
	size_t nslice, capslice;

	bool accounts_done;
	struct strtab accounts; /* account key -> account index, -1: rejected */
	struct strtab billing;	/* billing key -> winning account index */
	struct strtab orphans;	/* billing key no account names -> customer index */
	struct strtab dimvals[CS_MAX_DIMENSIONS];
	const char **acc_billing; /* per raw account row, NULL when none */
	const char **acc_dims;	  /* raw account row × ndims, interned */
	const char *unknown[CS_MAX_DIMENSIONS];
	bool need_unknown;

	size_t cap_accounts, cap_customers;
	struct strtab respondents; /* (account, type, respondent) -> index of its latest */
};

/*
 * One dataset being read: its column positions and what its fold keeps
 * between rows. Streams of different datasets may interleave (sources are
 * read in parallel); the caller serialises the calls on one struct cs_data.
 */
struct cs_stream {
	struct cs_data *d;
	int ds;
	const char *ds_name;
	size_t run; /* outcome run (o * plan.nwindows + w): where its rows go */
	int col[COL_MAX];
	int dimcol[CS_MAX_DIMENSIONS];

	/* the last billing customer and currency seen: billing exports come grouped */
	int32_t last_customer;
	struct cs_money_memo money;

	struct user_run user; /* the activity user whose rows are arriving */
	uint64_t rows;	      /* rows of this dataset so far */

	/* The query returns loaded_at (read.c): its load times, not the rows'
	 * business instants, define the dataset's freshness. */
	bool by_load;
	int loaded_col;
};

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? 2 * (cap) : 256;                                           \
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr)));                           \
		}                                                                                  \
	} while (0)

/* One dataset's contract and fold. Every hook but row is optional. */
struct ds_contract {
	const char *name;
	const struct colspec *cols;
	size_t ncols;
	/* Optional: called when a stream opens (columns found); prepares the
	 * sums the fold adds to. Returns 0, or -1 with a message. */
	int (*open)(struct cs_stream *in, int ncols, const char *const *names, char *err,
		    size_t errlen);
	void (*row)(struct cs_stream *in, const char *const *values);
	/* Optional: the stream ended. Returns 0, or -1 with a message when the
	 * dataset as a whole broke its contract. */
	int (*close)(struct cs_stream *in, char *err, size_t errlen);
	/* Optional: the SQL to send for the configured query (malloc'd), when
	 * the fold needs more than the query as written. */
	char *(*query)(const char *sql);

	/* The model is made (cs_data_new): what the fold needs to know from
	 * the plan before any row. */
	void (*init)(struct cs_data *d);
	/* The link (cs_data_link), for a dataset the plan reads: the sums a
	 * kind reads exist even when the dataset returned no row. */
	void (*prepare)(struct cs_data *d);
	/* The link, after every prepare: moves what was counted for unknown
	 * accounts and customers to segment unknown (CS_SEG_UNKNOWN when no
	 * fact fell there), after which the fold has d->seg.n segments. */
	void (*link_unknown)(struct cs_data *d, uint32_t unknown);
	/* The model is freed (cs_data_free). */
	void (*release)(struct cs_data *d);
};

extern const struct ds_contract ds_accounts, ds_subscriptions, ds_trials, ds_surveys, ds_activity,
    ds_tickets, ds_payments, ds_outcomes;

/* ---- row values (dataset.c) ----------------------------------------------- */

int parse_number(const char *s, double *v);
int parse_bool(const char *s, bool *b);
/* s, or a copy in tmp cut to CS_MAX_LABEL_BYTES (see dataset.c). */
const char *label_cut(const char *s, char tmp[CS_MAX_LABEL_BYTES + 1]);

/* A valid row of the dataset being read carries instant t (freshness): the
 * newest one at or before the evaluation instant counts, so that a contract
 * starting next week does not make a feed look fresh and a backfill step
 * sees the freshness it had then (docs/datasets.md, "Freshness"). A query
 * that returns loaded_at measures the feed instead (read.c). */
static inline void seen(struct cs_stream *in, cs_time t)
{
	cs_time *newest = &in->d->newest[in->ds];
	if (!in->by_load && t != CS_TIME_NONE && t <= in->d->as_of && t > *newest)
		*newest = t;
}

static inline void reject(struct cs_stream *in, const char *reason)
{
	cs_data_reject(in->d, in->ds_name, reason);
}

static inline const char *col(const struct cs_stream *in, const char *const *values, int c)
{
	int i = in->col[c];
	return i < 0 ? NULL : values[i];
}

/* Optional time: NULL is CS_TIME_NONE. */
static inline int opt_time(const char *s, cs_time *t)
{
	if (!s) {
		*t = CS_TIME_NONE;
		return 0;
	}
	return cs_parse_time(s, t);
}

/* Required value: NULL rejects as null_value, a malformed one as bad_reason. */
static inline bool need(struct cs_stream *in, const char *s)
{
	if (!s) {
		reject(in, "null_value");
		return false;
	}
	return true;
}

static inline bool need_time(struct cs_stream *in, const char *s, cs_time *t)
{
	if (!need(in, s))
		return false;
	if (cs_parse_time(s, t)) {
		reject(in, "bad_time");
		return false;
	}
	return true;
}

static inline bool need_number(struct cs_stream *in, const char *s, double *v)
{
	if (!need(in, s))
		return false;
	if (parse_number(s, v)) {
		reject(in, "bad_number");
		return false;
	}
	return true;
}

static inline bool need_bool(struct cs_stream *in, const char *s, bool *b)
{
	if (!need(in, s))
		return false;
	if (parse_bool(s, b)) {
		reject(in, "bad_bool");
		return false;
	}
	return true;
}

/* ---- the join (join.c) ---------------------------------------------------- */

/* Account index of key (CS_NO_ACCOUNT: unknown) and its segment slot
 * (CS_SEG_UNKNOWN until linked). */
int32_t account_of(struct cs_data *d, const char *key, uint32_t *seg);
/* Customer index of a billing key, added when new. */
uint32_t customer_of(struct cs_stream *in, const char *billing_key);
/* Decides duplicate billing keys, compacts accounts and builds the segments. */
void finish_accounts(struct cs_data *d);
/* Once every dataset is read (read.c's cs_data_link): the unknown segment,
 * made when a fact fell there, and the billing customers in it. Returns its
 * index, CS_SEG_UNKNOWN when no fact fell there; each dataset then moves its
 * own (ds_contract.link_unknown). */
uint32_t link_unknown(struct cs_data *d);

#endif
