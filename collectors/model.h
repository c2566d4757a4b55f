/*
 * model: one evaluation's account model: typed, validated dataset rows
 * folded per account and the join that attributes them to segments. This is
 * the boundary between SQL (text rows) and compute (the KPI families, kpi.h).
 *
 * Where things are:
 *   model.c        plan windows by length, rejects
 *   read.c         the model's lifecycle, each dataset's stream to its
 *                  contract, and the link
 *   ds_*.h         one header per dataset: its fold (what compute reads),
 *                  the invariants, and the accessors families read it by
 *   ds_*.c         one file per dataset: its row contract (columns),
 *                  validation, streaming fold and "unknown" relinking
 *   dataset.[ch]   what the dataset files share (the stream, value parsing)
 *   join.c         accounts <-> billing customers, the segment universe,
 *                  "unknown" and the cardinality fold
 *   money.c        currencies, rates, monthly normalisation
 *   lib/           below everything: buffer, log, time, string table, metric sets
 *
 * Lifecycle of one evaluation (every collector due at one instant t):
 *
 *   cs_plan_init(&plan, cfg, t);   plan.h: above the model, with the kinds
 *   cs_plan_add(&plan, collector)  ... for each due collector
 *   d = cs_data_new(&plan);
 *   for each dataset the plan needs, accounts first, each exactly once:
 *       in = cs_data_begin(d, ds, outcome, window, ncols, names, err, len);
 *       cs_data_row(in, values)  ... once per row, values[i] NULL = SQL NULL
 *       cs_data_end(in, err, len);
 *   cs_data_link(d);               segments; each fold moves its "unknown"
 *   kpi_xxx(d, collector, out);    pure compute into an mset, per collector
 *   cs_data_free(d);
 *
 * Streams of different datasets may be open at once (sources are read in
 * parallel once accounts have ended); the caller serialises the calls that
 * reach one struct cs_data.
 *
 * Rows are validated as they arrive; a row that breaks its dataset's
 * contract (the columns and rules at the top of its ds_*.c) is dropped and
 * counted in d->rejects (dataset, reason). Columns
 * are found by name (the documented column names); missing required columns
 * make cs_data_begin fail with one message naming them all
 * (cs_data_check_columns), which fails that dataset and the collectors that
 * need it. Billing rows are attributed to accounts as they arrive, which is
 * why accounts are loaded first.
 *
 * All strings reachable from a struct cs_data live in its arena and die with
 * cs_data_free. Everything below is single-threaded per cs_data.
 */
#ifndef CS_MODEL_H
#define CS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/cstime.h"
#include "money.h"
#include "settings.h"

/* An account index that names no account (the join, join.c). */
#define CS_NO_ACCOUNT (-1)

/* Each dataset's fold is declared by its own header (collectors/ds_*.h),
 * which the files that read it include: the model only holds them. */
struct cs_account;
struct cs_customer;
struct cs_mrr;
struct cs_trial_counts;
struct cs_survey_sums;
struct cs_latest_nps;
struct cs_activity_counts;
struct cs_tickets;
struct cs_outcome_runs;
struct cs_payments;

/* Collectors due in one evaluation (at most one per kind: plan.c checks
 * the kind table fits), and so the distinct windows of one evaluation. */
#define CS_PLAN_COLLECTORS 7
#define CS_PLAN_WINDOWS	   (CS_MAX_WINDOWS * CS_PLAN_COLLECTORS)

/*
 * What one evaluation reads, in the datasets' terms (plan.c fills it from
 * the kinds of the collectors due at as_of; nothing here names a kind): the
 * datasets to read, the union of the due collectors' windows (distinct
 * lengths, in the order first seen), and what each fold must keep. Each
 * family computes its own collector's windows from the shared sums via
 * cs_plan_window.
 *
 * Window bounds are computed here, once: a window of W seconds is
 * [as_of - W, as_of), and every fold and family reads its start from the
 * plan (from[w], and health's own windows below) instead of subtracting.
 */
struct cs_plan {
	const struct cs_config *cfg;
	cs_time as_of;
	unsigned datasets; /* bit per enum cs_dataset */
	size_t nwindows;
	int64_t windows[CS_PLAN_WINDOWS];     /* seconds */
	cs_time from[CS_PLAN_WINDOWS];	      /* window starts: as_of - windows[w] */
	bool outcome_window[CS_PLAN_WINDOWS]; /* outcomes are read for this window */
	bool outcomes;			      /* the outcome queries are read (outcome_window) */
	/* Starts of the health model's windows (health = { ... }), due or not. */
	cs_time usage_from, sentiment_from, support_from, billing_from;
	int64_t history; /* seconds: the longest window any family needs */
	cs_time since;	 /* as_of - history: the earliest instant any family reads */
	int64_t timeout; /* seconds per query: the longest of the collectors' */
	/* What the folds keep beyond the windows' sums (a kind's plan hook
	 * asks for them, kinds.h): */
	bool keep_names;      /* accounts: display names (health's at-risk list) */
	bool latest_nps;      /* surveys: each account's latest NPS (health) */
	bool survey_sums;     /* surveys: the per-segment tallies (surveys) */
	bool payment_risk;    /* subscriptions: risk, pending churn, reasons, drivers (revenue) */
	size_t cohort_months; /* subscriptions: MRR at the starts of that many months */
	/* subscriptions: the reason codes churn is counted under, with
	 * payment_risk (revenue's churn_reasons). */
	const struct cs_churn_reasons *churn_reasons;
};

/* Index of the window of that length in p->windows. */
size_t cs_plan_window(const struct cs_plan *p, int64_t seconds);
/* Segment values and display names are cut to at most this many bytes (at a
 * UTF-8 character boundary, ending in "…") before they become labels. */
#define CS_MAX_LABEL_BYTES 256

/* One (dataset, reason) rejection count. dataset is a dataset name or an
 * outcome name; reason a short snake_case word documented in the README. */
struct cs_reject {
	const char *dataset;
	const char *reason;
	uint64_t count;
};

/*
 * Segments: the distinct combinations of the accounts' dimension values,
 * plus "unknown" (every dimension "unknown") when a fact falls there, plus
 * "other" when the cardinality cap folded some. values[i * ndims + d] is the
 * value of dimension d in segment i. Segments are sorted by their values
 * (byte order) before folding, so indexes are deterministic.
 */
struct cs_segments {
	size_t ndims;
	size_t n;
	const char **values;
	uint64_t *accounts; /* accounts per segment */
	size_t folded;	    /* how many combinations the cap folded into "other" */
};

#define CS_SEG_UNKNOWN UINT32_MAX /* provisional index before cs_data_link */

struct cs_data {
	const struct cs_config *cfg;
	struct cs_plan plan;
	cs_time as_of;

	struct cs_account *accounts;
	size_t naccounts;
	struct cs_customer *customers;
	size_t ncustomers;
	/* Each dataset's fold: its header (ds_*.h) says what it holds and how
	 * to read it; its .c fills it. */
	struct cs_mrr *mrr;		     /* ds_subscriptions.h */
	struct cs_trial_counts *trials;	     /* ds_trials.h */
	struct cs_survey_sums *surveys;	     /* ds_surveys.h: for surveys only */
	struct cs_latest_nps *nps;	     /* ds_surveys.h: for health only */
	struct cs_activity_counts *activity; /* ds_activity.h */
	struct cs_tickets *tickets;	     /* ds_tickets.h */
	struct cs_outcome_runs *outcomes;    /* ds_outcomes.h */
	struct cs_payments *payments;	     /* ds_payments.h: when configured */

	struct cs_segments seg;

	struct cs_reject *rejects;
	size_t nrejects;
	uint64_t rows_read;
	uint64_t ds_rows[DS_COUNT]; /* rows read per dataset (outcomes not included) */
	/* Freshness (cs_dataset_newest_timestamp_seconds): per dataset, whether
	 * it was read and the newest instant among its valid rows (CS_TIME_NONE:
	 * none). */
	bool read[DS_COUNT];
	cs_time newest[DS_COUNT];

	struct cs_data_private *priv; /* loader state, hash tables, arena */
};

struct cs_data *cs_data_new(const struct cs_plan *plan);
void cs_data_free(struct cs_data *d);

/* One dataset being read; see cs_data_begin. */
struct cs_stream;

/* outcome and window (an index into plan.windows) are used for outcome
 * runs; see CS_DS_OUTCOME. Returns the stream, or NULL with a message
 * (missing column ...). */
#define CS_DS_OUTCOME DS_COUNT
struct cs_stream *cs_data_begin(struct cs_data *d, int dataset, size_t outcome, size_t window,
				int ncols, const char *const *names, char *err, size_t errlen);
/* The required columns of dataset (an outcome: CS_DS_OUTCOME), and for
 * accounts the segment dimensions, that names lacks: returns how many, and
 * when any, one message naming them all ("dataset \"subscriptions\": missing
 * columns \"billing_key\", \"amount_minor\""). dsname names the dataset in
 * the message. cs_data_begin fails with this message; --config.check
 * --connect runs it on every configured query. */
int cs_data_check_columns(const struct cs_config *cfg, int dataset, const char *dsname, int ncols,
			  const char *const *names, char *err, size_t errlen);

/* The optional column of every dataset whose newest value at or before t is
 * the dataset's freshness (docs/datasets.md, "Freshness"). */
#define CS_LOADED_AT "loaded_at"

/* What a column's values must be, by the contract (docs/datasets.md); text
 * takes any type, every value having a text form (keys are often integers
 * or UUIDs). */
enum cs_col_type {
	CS_COL_TEXT,
	CS_COL_NUMBER,
	CS_COL_INTEGER,
	CS_COL_BOOLEAN,
	CS_COL_TIMESTAMP,
};
const char *cs_col_type_name(enum cs_col_type t);
/* The type the contract of dataset (an outcome: CS_DS_OUTCOME) wants of
 * column name (loaded_at included, a segment dimension is text); false for
 * a column the contract does not name. --config.check --connect compares it
 * with the type the query returns. */
bool cs_data_column_type(const struct cs_config *cfg, int dataset, const char *name,
			 enum cs_col_type *type);
void cs_data_row(struct cs_stream *in, const char *const *values);
/* The SQL to send for a dataset's configured query (malloc'd, the caller
 * frees): activity is wrapped in ORDER BY account_key, user_key (byte order)
 * so that each user's rows arrive together; the others are sent as written. */
char *cs_dataset_query(int dataset, const char *sql);
/* Ends and frees the stream. Returns 0, or -1 with a message when the
 * dataset as a whole broke its contract (activity rows out of order). */
int cs_data_end(struct cs_stream *in, char *err, size_t errlen);
void cs_data_link(struct cs_data *d);

/* Count a rejected row (also used by compute for semantic rejects). */
void cs_data_reject(struct cs_data *d, const char *dataset, const char *reason);

#endif
