/*
 * eval: one evaluation at one instant t of every collector due at t.
 *
 *   plan     the due collectors, the datasets they need, the union of their
 *            windows and the history to read (struct cs_plan)
 *   sources  each dataset the plan needs is read once for t, each outcome
 *            once per window; datasets of different sources are read in
 *            parallel, one thread per source, accounts first
 *   model    the rows stream into one per-account model (struct cs_data),
 *            one segment universe for all due families
 *   families every due collector's families are a pure function of that
 *            model (collectors/kpi.h)
 *
 * A dataset that fails fails only the collectors that need it; the others
 * still publish. Rejected rows are counted once per evaluation that reads
 * them. Knows SQL only as configured text and parameters, KPIs only through
 * the kind table. Returns its results as a value (collectors/result.h): a
 * command publishes them, the evaluation knows nothing of the snapshot.
 */
#ifndef CS_EVAL_H
#define CS_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "collectors/model.h"
#include "collectors/result.h"
#include "exporter/sources/pg.h"

/*
 * Evaluates the ndue collectors (of cfg, at most one per kind) at as_of.
 * sources is indexed like cfg->sources. res is always filled in (a failed
 * dataset fails the collectors that need it, in res); release it with
 * cs_result_release. Publishes nothing: the caller does.
 *
 * bands is the daemon's memory of health bands between evaluations (health
 * movement, collectors/kpi.h): *bands (NULL at start) is the previous
 * successful health evaluation's, replaced by this one's when health is due
 * and succeeds, kept otherwise; the caller frees it with
 * cs_band_memory_free. bands NULL: no memory (--once, backfill steps), the
 * transition counters are written as zeros.
 *
 * mem, when set, is what a backfill's evaluations hand on to the next, at a
 * later instant: see struct eval_memory. NULL: every dataset is read whole
 * (the daemon, --once).
 */
struct cs_band_memory;
struct eval_memory;
void eval_run(const struct cs_config *cfg, const struct cs_collector *const *due, size_t ndue,
	      struct pg_source *const *sources, cs_time as_of, struct cs_band_memory **bands,
	      struct eval_memory *mem, struct cs_result *res);

/*
 * A backfill's memory between its steps: the rows of each dataset whose
 * query binds no parameter (the same at every step: read once, replayed),
 * and, with activity true, the activity read so far (collectors/model.h:
 * each later step's activity query then reads only from the step before
 * on). Either gives every step the rows a read of its own would.
 */
struct eval_memory *eval_memory_new(bool activity);
/* NULL is fine. */
void eval_memory_free(struct eval_memory *m);

/*
 * The daemon's memory between its evaluations (docs/configuration.md,
 * "Incremental reads"): the activity read so far, as a backfill's, but each
 * read re-reads cfg's lookback before the previous instant (rows land late),
 * the whole window is read every full_every and after any failed read, and
 * every other dataset is read at every evaluation (accounts change). NULL
 * when activity is not configured or not incremental.
 */
struct eval_memory *eval_memory_live(const struct cs_config *cfg);
/* The next evaluation reads everything whole (an evaluation was cut). */
void eval_memory_forget(struct eval_memory *m);

/* eval_run of every collector of cfg at as_of, without health memory: what
 * --once and each backfill step evaluate. */
void eval_all(const struct cs_config *cfg, struct pg_source *const *sources, cs_time as_of,
	      struct eval_memory *mem, struct cs_result *res);

/* Whether a dataset's rejection summary ("reason=count ...", "" for none) is
 * due a log line at now (seconds, monotonic): it differs from the last line
 * logged for that dataset, or that line is an hour old; a dataset never
 * logged is due only when it rejected rows. Records it when due. Process-wide
 * (docs/operations.md, "Logs"). */
bool eval_reject_log_due(const char *dataset, const char *reasons, double now);

/* Parses a user-given instant: RFC 3339 ("2026-11-01T00:00:00Z", with Z or
 * an offset) or a date ("2026-11-01", midnight UTC). Returns 0 or -1. */
int eval_parse_instant(const char *s, cs_time *t);

#endif
