/*
 * pg: PostgreSQL sources. The SQL runner knows nothing of what rows mean: it
 * runs a query and streams text rows into a sink.
 *
 * One connection per source, opened lazily on first use and shared by the
 * collectors through a mutex (queries on one source are serialised). Every
 * query runs in its own READ ONLY transaction with a statement_timeout, the
 * session time zone is UTC, parameters are bound (never pasted into SQL), and
 * rows are consumed one by one in libpq's single-row mode, so a result is
 * never held in memory as a whole.
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
 * between cycles) is reopened once, transparently. The password is read at
 * each connection attempt (so a rotated file takes effect) and never appears
 * in any message.
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

#endif
