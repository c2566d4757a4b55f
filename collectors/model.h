/*
 * model: one evaluation's account model: typed, validated dataset rows
 * folded per account and the join that attributes them to segments. This is
 * the boundary between SQL (text rows) and compute (the KPI families, kpi.h).
 *
 * Where things are:
 *   model.c        the plan, the model's lifecycle
 *   read.c         each dataset's stream to its contract, and the link
 *   ds_*.c         one file per dataset: its row contract (columns),
 *                  validation and streaming fold, side by side
 *   dataset.[ch]   what the dataset files share (the stream, value parsing)
 *   join.c         accounts <-> billing customers, the segment universe,
 *                  "unknown" and the cardinality fold
 *   money.c        currencies, rates, monthly normalisation
 *   base/          below everything: buffer, log, time, string table, metric sets
 *
 * Lifecycle of one evaluation (every collector due at one instant t):
 *
 *   cs_plan_init(&plan, cfg, t);
 *   cs_plan_add(&plan, collector)  ... for each due collector
 *   d = cs_data_new(&plan);
 *   for each dataset the plan needs, accounts first, each exactly once:
 *       in = cs_data_begin(d, ds, outcome, window, ncols, names, err, len);
 *       cs_data_row(in, values)  ... once per row, values[i] NULL = SQL NULL
 *       cs_data_end(in, err, len);
 *   cs_data_link(d);               segments, cardinality fold
 *   kpi_xxx(d, collector, out);    pure compute into an mset, per collector
 *   cs_data_free(d);
 *
 * Streams of different datasets may be open at once (sources are read in
 * parallel once accounts have ended); the caller serialises the calls that
 * reach one struct cs_data.
 *
 * Rows are validated as they arrive; a row that breaks the contract of SPEC
 * section 2 is dropped and counted in d->rejects (dataset, reason). Columns
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
#include "kinds.h"
#include "lib/cstime.h"
#include "money.h"

#define CS_NO_ACCOUNT (-1)

/* Distinct windows of one evaluation: every due collector's. */
#define CS_PLAN_WINDOWS (CS_MAX_WINDOWS * KIND_COUNT)

/*
 * What one evaluation reads and for whom: the collectors due at as_of (at
 * most one per kind), the datasets they need, and the union of their
 * windows (distinct lengths, in the order first seen). Each family computes
 * its own collector's windows from the shared sums via cs_plan_window.
 */
struct cs_plan {
	const struct cs_config *cfg;
	cs_time as_of;
	const struct cs_collector *by_kind[KIND_COUNT]; /* NULL: not due */
	unsigned kinds;					/* bit per enum cs_kind */
	unsigned datasets;				/* bit per enum cs_dataset */
	size_t nwindows;
	int64_t windows[CS_PLAN_WINDOWS];     /* seconds */
	bool outcome_window[CS_PLAN_WINDOWS]; /* outcomes are read for this window */
	int64_t history;		      /* seconds: the longest window any family needs */
	int64_t timeout; /* seconds per query: the longest of the collectors' */
};

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of);
/* Adds a due collector (a second one of the same kind is ignored). */
void cs_plan_add(struct cs_plan *p, const struct cs_collector *c);
bool cs_plan_has(const struct cs_plan *p, enum cs_kind kind);
/* Index of the window of that length in p->windows. */
size_t cs_plan_window(const struct cs_plan *p, int64_t seconds);
/* Bounds that keep every sum finite (no KPI is ever ±Inf or NaN): a
 * subscription row whose monthly amount in the reporting currency exceeds
 * CS_MAX_MONTHLY is rejected as amount_out_of_range, an outcome value beyond
 * ±CS_MAX_OUTCOME_VALUE as value_out_of_range. */
#define CS_MAX_MONTHLY	     1e12
#define CS_MAX_OUTCOME_VALUE 1e15
/* Segment values and display names are cut to at most this many bytes (at a
 * UTF-8 character boundary, ending in "…") before they become labels. */
#define CS_MAX_LABEL_BYTES 256

enum cs_status { SUB_TRIALING, SUB_ACTIVE, SUB_PAST_DUE, SUB_PAUSED, SUB_CANCELED };
enum cs_survey_type { SURVEY_NPS, SURVEY_CSAT, SURVEY_CES, SURVEY_TYPES };

struct cs_account {
	const char *key;
	const char *name;	/* display name, NULL when absent or not health's */
	int64_t seats;		/* NULL or 0: no seats (0) */
	cs_time started_at;	/* CS_TIME_NONE when NULL */
	cs_time first_value_at; /* CS_TIME_NONE: not reached */
	cs_time renewal_at;	/* CS_TIME_NONE: no date (NULL or no column) */
	bool ttv_rejected;	/* first_value_at < started_at: excluded from time to value */
	uint32_t seg;		/* segment index */
	int32_t customer;	/* index into customers, -1 when it names none or lost it */
};

/* A billing customer: everything billing is keyed by. */
struct cs_customer {
	const char *billing_key;
	int32_t account; /* CS_NO_ACCOUNT when no CRM account names it */
	uint32_t seg;
};

/*
 * Subscriptions are summed per billing customer as they stream in and never
 * stored: a customer's MRR at each instant a kind asks about, and the
 * earliest valid_from of a counting row (active, past_due) with a positive
 * monthly amount, which decides revenue's reactivation rule. Rows are added
 * in the order they arrive, as a loop over stored rows would add them.
 *
 * Instants: k < plan.nwindows is t - W_k (window starts), k == nwindows
 * is t, k == nwindows + 1 is t minus health's billing window, and when
 * revenue is due with cohorts on, k == nwindows + 2 + j (j < cohorts) is
 * the start of the month j + 1 - cohorts months from the month of t (the
 * cohort age instants; the last is the start of t's month). Those cost
 * 8 bytes per billing customer and cohort month during an evaluation.
 *
 * Payment risk (revenue only, SPEC section 6): the part of MRR at t from
 * past_due rows, and per customer and plan window the instant of its last
 * drop: the latest valid_to in (t - W, t] among counting rows with a
 * positive monthly amount, and whether every such row ending exactly there
 * is past_due. A row with valid_to in (t - W, t] starts before t, so rows
 * arriving in any order settle both; when m0 > 0 and m1 = 0 that instant is
 * where MRR last fell to 0 (a row covering it would end later, still by t).
 */
struct cs_mrr {
	size_t ninstants;
	cs_time at[CS_PLAN_WINDOWS + 2 + CS_MAX_COHORT_MONTHS];
	size_t cohorts;		 /* cohort months with instants here (0: none) */
	double *mrr;		 /* [customer * ninstants + k], monthly, reporting currency */
	cs_time *first_positive; /* [customer]; CS_TIME_OPEN: none */
	bool risk;		 /* the payment-risk sums below are kept (revenue is due) */
	double *past_due;	 /* [customer]: MRR at t from past_due rows */
	cs_time *last_drop;	 /* [customer * plan.nwindows + w]; CS_TIME_NONE: none */
	bool *drop_past_due;	 /* [customer * plan.nwindows + w] */
	size_t cap;		 /* customers the arrays hold; all of them once linked */
	uint64_t rows;		 /* valid subscription rows */
};

/*
 * Trials are counted as they stream in and never stored: per segment and
 * plan window, the trials that ended in [t - W, t), converted or not. They
 * attribute to segments through their billing customer.
 */
struct cs_trial_counts {
	size_t nwin;   /* plan.nwindows */
	size_t nseg;   /* segment slots; d->seg.n once linked */
	uint64_t *n;   /* [(seg * nwin + w) * 2 + (converted ? 0 : 1)] */
	uint64_t rows; /* valid trial rows */
};

/*
 * Survey responses are folded as they stream in, never kept row by row
 * (only when surveys is evaluated). Responses before t with a respondent key:
 * per (account, type, respondent) only the latest counts in any window, so
 * only it is kept (later row wins a tie of instant and score, the higher
 * score a tie of instant); responses of unknown accounts share one
 * pseudo-account. Responses without one: per segment slot, plan window and
 * type, how many gave each distinct score (scores come from a short scale).
 */
struct cs_score_count {
	double score;
	uint64_t n;
};

struct cs_score_tally {
	struct cs_score_count *v; /* distinct scores, in order of first arrival */
	size_t n, cap;
};

struct cs_latest_response {
	uint32_t seg;
	enum cs_survey_type type;
	double score;
	cs_time at;
};

struct cs_survey_sums {
	size_t nwin;			   /* plan.nwindows */
	size_t nseg;			   /* segment slots; d->seg.n once linked */
	size_t nanon;			   /* tallies allocated */
	struct cs_score_tally *anon;	   /* [(seg * nwin + w) * SURVEY_TYPES + type] */
	struct cs_latest_response *latest; /* one per (account, type, respondent) */
	size_t nlatest, cap;
	uint64_t rows; /* valid survey rows */
};

/*
 * Activity is counted while it streams in and never stored row by row: at
 * ~20 rows per account it would dominate the memory of a cycle. The exporter
 * wraps the activity query in ORDER BY account_key, user_key (byte order;
 * cs_dataset_query), so the rows of one user arrive together and a user
 * is complete when the next one starts. A user is an (account key, user key)
 * pair, for accounts no CRM account has as well.
 *
 * Windows: w < plan.nwindows are the plan's, w == nwindows is the health
 * model's usage window. A user is active in window w when the
 * latest of its rows before t is at or after t - W.
 */
/*
 * The health collector needs one thing from survey answers: per account,
 * the latest NPS answer before t in its sentiment window (the higher score
 * when two share the instant). It gets that folded in as the rows stream,
 * instead of the rows; the surveys KPIs get theirs (struct cs_survey_sums).
 */
struct cs_latest_nps {
	cs_time *at;   /* [account]; CS_TIME_NONE: none */
	double *score; /* [account] */
};

struct cs_activity_counts {
	size_t nwin;
	size_t nseg;			   /* segment slots; d->seg.n once linked */
	uint32_t *account_users;	   /* [account * nwin + w]: its distinct active users */
	uint64_t *seg_users;		   /* [seg * nwin + w] */
	uint64_t *seg_feature_users;	   /* [(seg * nwin + w) * cfg->nfeatures + f] */
	uint64_t users;			   /* distinct (account, user) pairs with a valid row */
	cs_time from[CS_PLAN_WINDOWS + 1]; /* window starts */
};

/*
 * Tickets are counted as they stream in and never stored: per segment and
 * collector window, the tickets opened in the window (and how many of those
 * were escalated) and the tickets resolved in the window whenever opened,
 * with the sum of their resolution seconds; per account, the escalated
 * tickets opened in health's support window.
 */
struct cs_ticket_counts {
	uint64_t opened, escalated, resolved;
	double resolution_seconds;
};

struct cs_tickets {
	size_t nwin;		       /* plan.nwindows */
	cs_time from[CS_PLAN_WINDOWS]; /* window starts */
	cs_time support_from;	       /* start of health's support window */
	size_t nseg;		       /* segment slots; d->seg.n once linked */
	struct cs_ticket_counts *seg;  /* [seg * nwin + w] */
	uint32_t *account_escalations; /* [account] */
	uint64_t rows;		       /* valid ticket rows */
};

struct cs_outcome_value {
	int32_t account;
	uint32_t seg;
	double value;
	const char *key; /* the account key when account is CS_NO_ACCOUNT, else NULL */
};

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
	struct cs_mrr mrr;
	struct cs_trial_counts trials;
	struct cs_survey_sums surveys; /* for surveys only: see struct cs_latest_nps */
	struct cs_latest_nps nps;      /* health only */
	struct cs_activity_counts activity;
	struct cs_tickets tickets;
	/* outcomes[o * plan.nwindows + w]: values of outcome o for plan window w */
	struct cs_outcome_value **outcomes;
	size_t *noutcome_values;

	struct cs_segments seg;

	struct cs_reject *rejects;
	size_t nrejects;
	uint64_t rows_read;
	uint64_t ds_rows[DS_COUNT]; /* rows read per dataset (outcomes not included) */
	/* Freshness (SPEC section 6): per dataset, whether it was read and the
	 * newest instant among its valid rows (CS_TIME_NONE: none). */
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
void cs_data_row(struct cs_stream *in, const char *const *values);
/* The SQL to send for a dataset's configured query (malloc'd, the caller
 * frees): activity is wrapped in ORDER BY account_key, user_key (byte order)
 * so that each user's rows arrive together; the others are sent as written. */
char *cs_dataset_query(int dataset, const char *sql);
/* Ends and frees the stream. Returns 0, or -1 with a message when the
 * dataset as a whole broke its contract (activity rows out of order). */
int cs_data_end(struct cs_stream *in, char *err, size_t errlen);
void cs_data_link(struct cs_data *d);

/*
 * A backfill evaluates one instant after the other. The activity query gives
 * each (account, user, feature) its last activity in [since, as_of), so the
 * rows of [t - history, t) are those of [previous t, t) merged, taking the
 * later instant, into those remembered from the evaluations before, less
 * the ones now older than t - history. With a memory attached (before any
 * dataset is read), the activity query of d need only run from
 * cs_data_activity_since(d); cs_data_activity_done(d, ok) then merges that
 * slice (when ok: the query ran to its end) and folds the whole window.
 * Rows the slice rejects are counted at this evaluation only. A memory whose
 * last instant is not before as_of starts again with a full read.
 */
struct cs_activity_memory;
struct cs_activity_memory *cs_activity_memory_new(void);
void cs_activity_memory_free(struct cs_activity_memory *m);
void cs_data_remember_activity(struct cs_data *d, struct cs_activity_memory *m);
cs_time cs_data_activity_since(const struct cs_data *d);
void cs_data_activity_done(struct cs_data *d, bool ok);

/* Count a rejected row (also used by compute for semantic rejects). */
void cs_data_reject(struct cs_data *d, const char *dataset, const char *reason);

#endif
