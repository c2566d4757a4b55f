/*
 * pg: PostgreSQL sources. The SQL runner knows nothing of what rows mean: it
 * runs a query and streams text rows into a sink.
 *
 * One connection per source, opened lazily on first use and shared by the
 * collectors through a mutex (queries on one source are serialised). Every
 * query runs in its own READ ONLY transaction that first sets, with SET
 * LOCAL, statement_timeout and every setting the text of a row depends on
 * (DateStyle ISO, TimeZone UTC, IntervalStyle postgres, extra_float_digits 3,
 * client_encoding), whatever the role, the database or the server say.
 * Nothing is forced through the `options` startup parameter: poolers such as
 * PgBouncer refuse it, and a user's own options (PGOPTIONS, a service file)
 * reach the server untouched; SET LOCAL lasts one transaction, so it holds
 * through a pooler in transaction mode too. Parameters are bound (never
 * pasted into SQL), and rows are consumed one by one in libpq's single-row
 * mode, so a result is never held in memory as a whole.
 *
 * Deadlines: opening a connection (at most 10 s) and every statement (BEGIN,
 * the query, COMMIT or ROLLBACK) wait on the client side with a deadline of
 * the query's timeout plus 5 s, so a backend that stops answering fails the
 * run instead of freezing it; the connection is then dropped. The session
 * uses TCP keepalives and tcp_user_timeout against peers that vanish, and
 * client_encoding UTF8 whatever the database's encoding (but SQL_ASCII, which
 * declares none: its bytes are passed through as they are).
 *
 * Failures: a connection that cannot be opened is retried with exponential
 * backoff (1 s doubling to 60 s); while backing off, queries fail at once.
 * A connection found broken when a query starts (the server restarted
 * between cycles) is reopened once, transparently. A query the server
 * cancelled with a "try again" SQLSTATE (40001 serialization_failure: a hot
 * standby replaying changes the query's snapshot still needed; 40P01
 * deadlock_detected: a buffer deadlock with recovery) before any row reached
 * the sink is run again, at most PG_CONFLICT_RETRIES times with a short
 * backoff, each retry logged and counted (pg_retries). Once rows have reached
 * the sink the query is not retried: they were folded already.
 *
 * The password is read at each connection attempt (so a rotated file takes
 * effect) and never appears in any message.
 */
#ifndef CS_PG_H
#define CS_PG_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct pg_source;

struct pg_sink {
	/* Called once with the result's column names before any row; a
	 * non-zero return aborts the query with the message in err. */
	int (*columns)(void *ctx, int ncols, const char *const *names, char *err, size_t errlen);
	/* Called per row; values[i] is NULL for SQL NULL. */
	void (*row)(void *ctx, const char *const *values);
	void *ctx;
	/* What is read (a dataset's name), for the retry log and counter;
	 * NULL: "query". */
	const char *label;
	/* Optional: called before columns with each column's type OID
	 * (pg_type.oid), for --config.check --connect. */
	void (*types)(void *ctx, int ncols, const unsigned int *oids);
};

struct pg_source *pg_source_new(const struct cs_source *src);
void pg_source_free(struct pg_source *s);

/*
 * Runs sql with nparams text parameters ($1 …). timeout_s bounds the
 * statement on the server (statement_timeout) and, with a margin, the wait
 * on the client. Returns 0, or -1 with a message in err.
 */
int pg_query(struct pg_source *s, const char *sql, size_t nparams, const char *const *params,
	     int64_t timeout_s, const struct pg_sink *sink, char *err, size_t errlen);

/* One source per cfg->sources entry, in the same order (not connected yet),
 * and their release. */
struct pg_source **pg_sources_open(const struct cs_config *cfg);
void pg_sources_close(struct pg_source **sources, size_t n);

/*
 * For stop and reload (thread-safe, never blocks): the query or connection
 * attempt in flight returns at once with an error, and so does every later
 * pg_query on this source, which is then only good for pg_source_free. The
 * server is asked to cancel the statement from a detached thread, so a
 * server that does not answer cannot hold the caller.
 */
void pg_source_cancel(struct pg_source *s);

/* Retries after a "try again" cancellation, beyond the first attempt. */
#define PG_CONFLICT_RETRIES 3

/*
 * Whether an error with this SQLSTATE (NULL: none) is worth running the query
 * again for; *reason (may be NULL) gets the condition's name, the "reason"
 * label of the retry counter.
 */
int pg_retryable(const char *sqlstate, const char **reason);

/* Retries since the process started, by label and reason (a counter); at
 * most PG_RETRY_COUNTERS pairs are told apart. */
#define PG_RETRY_COUNTERS 64

struct pg_retry_count {
	const char *label; /* valid until the process ends */
	const char *reason;
	uint64_t count;
};

/* Copies up to max counters into out, in the order they first happened, and
 * returns how many it copied (thread-safe). */
size_t pg_retries(struct pg_retry_count *out, size_t max);

#endif
