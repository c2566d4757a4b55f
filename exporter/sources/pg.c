#include "pg.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cstime.h"
#include "lib/log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
/* How long past statement_timeout the client waits before giving up on a
 * server that no longer answers at all. */
#define CLIENT_MARGIN_MS 5000
/* Longest wait for a connection to open (TCP, TLS, authentication). */
#define CONNECT_DEADLINE_MS 10000
/* Kernel-level detection of a peer that vanished (host down, cable cut):
 * keepalive probes on an idle connection, and a bound on unacknowledged
 * data. A backend that is alive but stuck is caught by the client-side
 * deadline of each statement instead. */
#define KEEPALIVES_IDLE_S     "30"
#define KEEPALIVES_INTERVAL_S "10"
#define KEEPALIVES_COUNT      "3"
#define TCP_USER_TIMEOUT_MS   "30000"
/* First pause before running a query again after a "try again"
 * cancellation; it doubles at each retry. */
#define CONFLICT_BACKOFF_MS 250

struct pg_source {
	char *name;
	struct cs_source cfg; /* strings borrowed from the copies below */
	char *conninfo;
	char *password_file;
	char *password_env;

	pthread_mutex_t lock; /* serialises queries */
	PGconn *conn;
	int64_t next_attempt_ms; /* monotonic; 0: may connect now */
	int64_t backoff_ms;
	bool failing; /* an outage was logged and has not ended */
	/* What the session sends rows in: UTF8, or SQL_ASCII when the
	 * database declares no encoding (see connect_source). */
	const char *client_encoding;

	pthread_mutex_t cancel_lock; /* guards cancel only */
	PGcancel *cancel;
	/* Set by pg_source_cancel, never cleared: every wait below also
	 * watches wake_fd, so a stop never waits on the server. */
	atomic_bool cancelled;
	int wake_fd; /* eventfd, written by pg_source_cancel */
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct pg_source *pg_source_new(const struct cs_source *src)
{
	struct pg_source *s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(src->name);
	s->conninfo = xstrdup(src->conninfo);
	s->password_file = dup_or_null(src->password_file);
	s->password_env = dup_or_null(src->password_env);
	s->cfg.name = s->name;
	s->cfg.conninfo = s->conninfo;
	s->cfg.password_file = s->password_file;
	s->cfg.password_env = s->password_env;
	s->cfg.line = src->line;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->cancel_lock, NULL);
	atomic_init(&s->cancelled, false);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		fprintf(stderr, "cs_exporter: eventfd: %s\n", strerror(errno));
		abort();
	}
	return s;
}

static void set_cancel(struct pg_source *s, PGcancel *c)
{
	pthread_mutex_lock(&s->cancel_lock);
	if (s->cancel)
		PQfreeCancel(s->cancel);
	s->cancel = c;
	pthread_mutex_unlock(&s->cancel_lock);
}

static void disconnect(struct pg_source *s)
{
	set_cancel(s, NULL);
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

void pg_source_free(struct pg_source *s)
{
	if (!s)
		return;
	disconnect(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->cancel_lock);
	close(s->wake_fd);
	free(s->name);
	free(s->conninfo);
	free(s->password_file);
	free(s->password_env);
	free(s);
}

struct pg_source **pg_sources_open(const struct cs_config *cfg)
{
	struct pg_source **s = xcalloc(cfg->nsources ? cfg->nsources : 1, sizeof(*s));
	for (size_t i = 0; i < cfg->nsources; i++)
		s[i] = pg_source_new(&cfg->sources[i]);
	return s;
}

void pg_sources_close(struct pg_source **sources, size_t n)
{
	for (size_t i = 0; sources && i < n; i++)
		pg_source_free(sources[i]);
	free(sources);
}

/* PQcancel opens a connection to the server and waits for it: on a server
 * that does not answer it would block. It runs in a thread of its own that
 * nobody waits for. */
static void *cancel_thread(void *arg)
{
	PGcancel *c = arg;
	char msg[256];
	PQcancel(c, msg, sizeof(msg));
	PQfreeCancel(c);
	return NULL;
}

void pg_source_cancel(struct pg_source *s)
{
	atomic_store(&s->cancelled, true);
	uint64_t one = 1;
	ssize_t n = write(s->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter already wakes the waiter */
	pthread_mutex_lock(&s->cancel_lock);
	PGcancel *c = s->cancel;
	s->cancel = NULL;
	pthread_mutex_unlock(&s->cancel_lock);
	if (!c)
		return;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cancel_thread, c) != 0)
		PQfreeCancel(c);
	pthread_attr_destroy(&attr);
}

/* Waits until fd is ready for events, the deadline (monotonic ms) passes or
 * the source is cancelled. Returns 1 ready, 0 timed out, -1 cancelled, -2 a
 * poll error. */
static int wait_fd(struct pg_source *s, int fd, short events, int64_t deadline)
{
	for (;;) {
		if (atomic_load(&s->cancelled))
			return -1;
		int64_t left = deadline - cs_mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd[2] = {{.fd = fd, .events = events},
					{.fd = s->wake_fd, .events = POLLIN}};
		int r = poll(pfd, 2, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			return -2;
		if (r > 0 && pfd[1].revents)
			return -1;
		if (r > 0 && pfd[0].revents)
			return 1;
	}
}

/* libpq messages end with a newline and may span lines; keep one line. */
static void copy_message(char *dst, size_t len, const char *prefix, const char *msg)
{
	snprintf(dst, len, "%s%s", prefix, msg ? msg : "unknown error");
	for (char *p = dst; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = (p[1] == '\0') ? '\0' : ' ';
	size_t n = strlen(dst);
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

static void note_failure(struct pg_source *s, const char *err)
{
	if (!s->failing) {
		/* One line per outage, not one per retry. */
		logx(LOG_WARN, "source unavailable", "source", s->name, "err", err, NULL);
		s->failing = true;
	}
}

static void note_success(struct pg_source *s)
{
	if (s->failing)
		logx(LOG_INFO, "source recovered", "source", s->name, NULL);
	s->failing = false;
	s->backoff_ms = 0;
	s->next_attempt_ms = 0;
}

/* Server notices (a shutdown warning, say) go to the log, not raw stderr. */
static void on_notice(void *arg, const char *message)
{
	struct pg_source *s = arg;
	char msg[512];
	copy_message(msg, sizeof(msg), "", message);
	logx(LOG_DEBUG, "server notice", "source", s->name, "notice", msg, NULL);
}

static int connect_source(struct pg_source *s, char *err, size_t errlen)
{
	int64_t now = cs_mono_ms();
	if (s->next_attempt_ms && now < s->next_attempt_ms) {
		snprintf(err, errlen, "could not connect to \"%s\": backing off for %lld ms",
			 s->name, (long long)(s->next_attempt_ms - now));
		return -1;
	}
	bool failed = false;
	char perr[256] = "";
	char *password = config_source_password(&s->cfg, &failed, perr, sizeof(perr));
	if (failed) {
		snprintf(err, errlen, "could not read password of \"%s\": %s", s->name, perr);
		return -1;
	}
	/* Keywords before dbname are defaults the source's connection string
	 * may override; those after it are always in force. */
	const char *keys[16], *vals[16];
	size_t k = 0;
#define KV(key, val) (keys[k] = (key), vals[k++] = (val))
	KV("keepalives", "1");
	KV("keepalives_idle", KEEPALIVES_IDLE_S);
	KV("keepalives_interval", KEEPALIVES_INTERVAL_S);
	KV("keepalives_count", KEEPALIVES_COUNT);
	KV("tcp_user_timeout", TCP_USER_TIMEOUT_MS);
	KV("dbname", s->conninfo);
	if (password)
		KV("password", password);
	KV("application_name", "cs_exporter");
	/* Rows are text in the database's encoding unless asked otherwise;
	 * everything downstream (labels above all) is UTF-8. PgBouncer
	 * accepts this startup parameter (not `options`, which is left to
	 * the user); each transaction sets it again anyway (query_once). */
	KV("client_encoding", "UTF8");
	KV(NULL, NULL);
#undef KV
	/* Opened asynchronously: a server that accepts TCP but never answers
	 * cannot hold the collector, nor a stop. */
	s->conn = PQconnectStartParams(keys, vals, 1);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	const char *why = NULL;
	if (s->conn && PQstatus(s->conn) != CONNECTION_BAD) {
		int64_t deadline = cs_mono_ms() + CONNECT_DEADLINE_MS;
		PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
		while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
			int w = wait_fd(s, PQsocket(s->conn),
					ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
			if (w == 0) {
				why = "no answer within the connect deadline";
				break;
			}
			if (w < 0) {
				why = w == -1 ? "cancelled" : "poll failed";
				break;
			}
			ps = PQconnectPoll(s->conn);
		}
	}
	if (!s->conn || why || PQstatus(s->conn) != CONNECTION_OK) {
		char msg[512];
		copy_message(msg, sizeof(msg), "",
			     why       ? why
			     : s->conn ? PQerrorMessage(s->conn)
				       : "out of memory");
		snprintf(err, errlen, "could not connect to \"%s\": %s", s->name, msg);
		disconnect(s);
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		s->next_attempt_ms = cs_mono_ms() + s->backoff_ms;
		return -1;
	}
	PQsetNoticeProcessor(s->conn, on_notice, s);
	/* Sending never blocks either: a full socket buffer is waited on
	 * with the statement's deadline. */
	PQsetnonblocking(s->conn, 1);
	/* A SQL_ASCII database declares no encoding: the server would refuse
	 * to send a row with a byte that is not UTF-8, failing the whole
	 * query. Its bytes are taken as they are (labels escape invalid
	 * UTF-8 losslessly). */
	const char *se = PQparameterStatus(s->conn, "server_encoding");
	s->client_encoding = se && strcmp(se, "SQL_ASCII") == 0 ? "SQL_ASCII" : "UTF8";
	set_cancel(s, PQgetCancel(s->conn));
	return 0;
}

enum wait_outcome { PW_OK, PW_TIMEOUT, PW_CANCELLED, PW_BROKEN };

/* Pushes a sent statement out of libpq's buffer, deadline-bound. */
static enum wait_outcome flush(struct pg_source *s, int64_t deadline)
{
	for (;;) {
		int f = PQflush(s->conn);
		if (f == 0)
			return PW_OK;
		if (f < 0)
			return PW_BROKEN;
		int w = wait_fd(s, PQsocket(s->conn), POLLOUT | POLLIN, deadline);
		if (w == 0)
			return PW_TIMEOUT;
		if (w < 0)
			return w == -1 ? PW_CANCELLED : PW_BROKEN;
		/* Input must be read while waiting to write, or a server
		 * blocked on sending to us deadlocks with us. */
		if (!PQconsumeInput(s->conn))
			return PW_BROKEN;
	}
}

/* Waits for the next result without blocking past deadline (monotonic ms).
 * NULL with *out PW_OK: no more results. */
static PGresult *next_result(struct pg_source *s, int64_t deadline, enum wait_outcome *out)
{
	*out = PW_OK;
	while (PQisBusy(s->conn)) {
		int w = wait_fd(s, PQsocket(s->conn), POLLIN, deadline);
		if (w <= 0 || w == -2) {
			*out = w == 0 ? PW_TIMEOUT : w == -1 ? PW_CANCELLED : PW_BROKEN;
			return NULL;
		}
		if (!PQconsumeInput(s->conn)) {
			*out = PW_BROKEN;
			return NULL;
		}
	}
	return PQgetResult(s->conn);
}

static const char *outcome_text(struct pg_source *s, enum wait_outcome o)
{
	switch (o) {
	case PW_TIMEOUT:
		return "no answer within the timeout";
	case PW_CANCELLED:
		return "cancelled";
	case PW_OK:
	case PW_BROKEN:
		break;
	}
	return PQerrorMessage(s->conn);
}

/* The SQLSTATE of an error result, into state[6] (empty: none). */
static void copy_sqlstate(char state[6], const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(state, 6, "%s", st ? st : "");
}

/* Runs utility statements, each result checked, within the deadline.
 * Returns 0, -1 on an SQL error (its SQLSTATE in state when not NULL), -2
 * when the connection must be dropped (no answer, cancelled, broken). */
static int exec_simple(struct pg_source *s, const char *sql, int64_t deadline, char *err,
		       size_t errlen, char state[6])
{
	if (!PQsendQuery(s->conn, sql)) {
		copy_message(err, errlen, "", PQerrorMessage(s->conn));
		return -2;
	}
	enum wait_outcome o = flush(s, deadline);
	int rc = 0;
	while (o == PW_OK) {
		PGresult *r = next_result(s, deadline, &o);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == 0) {
			copy_message(err, errlen, "", PQresultErrorMessage(r));
			if (state)
				copy_sqlstate(state, r);
			rc = -1;
		}
		PQclear(r);
	}
	if (o != PW_OK) {
		copy_message(err, errlen, "", outcome_text(s, o));
		return -2;
	}
	return PQstatus(s->conn) == CONNECTION_OK ? rc : -2;
}

/* Reads the remaining results of a statement. */
static enum wait_outcome drain(struct pg_source *s, int64_t deadline)
{
	enum wait_outcome o;
	PGresult *r;
	while ((r = next_result(s, deadline, &o)) != NULL)
		PQclear(r);
	return o;
}

/* What one attempt left for pg_query to decide on a retry. */
struct attempt {
	char sqlstate[6]; /* of the first error; empty: none */
	bool delivered;	  /* the sink has seen the columns, maybe rows */
};

/* One attempt on an open connection. Returns 0, -1 on a query error (the
 * connection is still usable), -2 when the connection broke during the query,
 * -3 when it was found broken before anything was sent. */
static int query_once(struct pg_source *s, const char *sql, size_t nparams,
		      const char *const *params, int64_t timeout_s, const struct pg_sink *sink,
		      struct attempt *a, char *err, size_t errlen)
{
	/* Everything the text of a row depends on is set here, for this
	 * transaction only, whatever the role or database defaults (ALTER
	 * ROLE ... SET DateStyle = 'German' would make every timestamp
	 * unreadable): timestamps in ISO 8601 and UTC, intervals in the
	 * postgres style, floats with all their digits (PostgreSQL 12 and
	 * later: the shortest exact form), text in the session's encoding.
	 * DateStyle 'ISO' sets the output format only: the order the user's
	 * own literals are read in (DMY, MDY) is left alone. */
	char setup[320];
	snprintf(setup, sizeof(setup),
		 "BEGIN READ ONLY; SET LOCAL statement_timeout = %lld; "
		 "SET LOCAL DateStyle = 'ISO'; SET LOCAL TimeZone = 'UTC'; "
		 "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; "
		 "SET LOCAL client_encoding = '%s'",
		 (long long)(timeout_s * 1000), s->client_encoding);
	char msg[512];
	/* Every statement, BEGIN and COMMIT included, has the same client-side
	 * deadline: a backend that stopped answering fails the run. */
	int64_t budget = timeout_s * 1000 + CLIENT_MARGIN_MS;
	int erc = exec_simple(s, setup, cs_mono_ms() + budget, msg, sizeof(msg), a->sqlstate);
	if (erc < 0) {
		snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
		if (erc == -1)
			return -1;
		/* Broken before anything was sent: a restart between runs. */
		return PQstatus(s->conn) == CONNECTION_OK ? -2 : -3;
	}
	if (!PQsendQueryParams(s->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0)) {
		copy_message(msg, sizeof(msg), "", PQerrorMessage(s->conn));
		snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
		return -2;
	}
	PQsetSingleRowMode(s->conn);

	int64_t deadline = cs_mono_ms() + budget;
	enum wait_outcome fo = flush(s, deadline);
	if (fo != PW_OK) {
		copy_message(msg, sizeof(msg), "", outcome_text(s, fo));
		snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
		return -2;
	}
	int rc = 0;
	bool header_done = false;
	const char **values = NULL;
	int ncols = 0;
	for (;;) {
		enum wait_outcome o;
		PGresult *r = next_result(s, deadline, &o);
		if (!r) {
			if (o != PW_OK) {
				copy_message(msg, sizeof(msg), "", outcome_text(s, o));
				snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
				rc = -2;
			} else if (PQstatus(s->conn) != CONNECTION_OK) {
				copy_message(msg, sizeof(msg), "", PQerrorMessage(s->conn));
				snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
				rc = -2;
			}
			break;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE || (st == PGRES_TUPLES_OK && !header_done)) {
			if (!header_done && rc == 0) {
				a->delivered = true;
				ncols = PQnfields(r);
				const char **names = xcalloc((size_t)ncols + 1, sizeof(*names));
				for (int i = 0; i < ncols; i++)
					names[i] = PQfname(r, i);
				if (sink->types) {
					unsigned int *oids =
					    xcalloc((size_t)ncols + 1, sizeof(*oids));
					for (int i = 0; i < ncols; i++)
						oids[i] = (unsigned int)PQftype(r, i);
					sink->types(sink->ctx, ncols, oids);
					free(oids);
				}
				char cerr[512] = "";
				if (sink->columns(sink->ctx, ncols, names, cerr, sizeof(cerr)) !=
				    0) {
					snprintf(err, errlen, "%s", cerr);
					rc = -1;
				}
				free(names);
				values = xcalloc((size_t)ncols + 1, sizeof(*values));
				header_done = true;
			}
			if (st == PGRES_SINGLE_TUPLE && rc == 0) {
				for (int i = 0; i < ncols; i++)
					values[i] =
					    PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
				sink->row(sink->ctx, values);
			}
		} else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			if (rc == 0) {
				copy_message(msg, sizeof(msg), "", PQresultErrorMessage(r));
				snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
				copy_sqlstate(a->sqlstate, r);
				rc = -1;
			}
		}
		PQclear(r);
	}
	free(values);
	if (rc == -2)
		return -2;
	if (rc == -1 && !header_done && drain(s, deadline) != PW_OK)
		return -2;
	char cmsg[256];
	erc = exec_simple(s, rc == 0 ? "COMMIT" : "ROLLBACK", cs_mono_ms() + budget, cmsg,
			  sizeof(cmsg), NULL);
	if (erc < 0) {
		if (rc == 0)
			snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, cmsg);
		return erc;
	}
	return rc;
}

int pg_retryable(const char *sqlstate, const char **reason)
{
	/* A hot standby cancels a query that would see rows the primary has
	 * removed (or holds a buffer or lock recovery waits for) with these
	 * codes, as SERIALIZABLE transactions fail on the primary: the same
	 * query in a new transaction may well succeed. 57P04 (the database
	 * was dropped) is a recovery conflict too, but not one worth
	 * repeating. */
	static const struct {
		const char *state, *name;
	} codes[] = {
	    {"40001", "serialization_failure"},
	    {"40P01", "deadlock_detected"},
	};
	for (size_t i = 0; sqlstate && i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strcmp(sqlstate, codes[i].state) == 0) {
			if (reason)
				*reason = codes[i].name;
			return 1;
		}
	}
	return 0;
}

static pthread_mutex_t retry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pg_retry_count retry_counts[PG_RETRY_COUNTERS];
static size_t nretry_counts;

static void count_retry(const char *label, const char *reason)
{
	pthread_mutex_lock(&retry_lock);
	size_t i = 0;
	while (i < nretry_counts &&
	       (strcmp(retry_counts[i].label, label) || strcmp(retry_counts[i].reason, reason)))
		i++;
	if (i == nretry_counts && i < PG_RETRY_COUNTERS) {
		/* Labels outlive the configuration that named them: a counter
		 * keeps counting across reloads. */
		retry_counts[i].label = xstrdup(label);
		retry_counts[i].reason = reason; /* static, from pg_retryable */
		nretry_counts++;
	}
	if (i < nretry_counts)
		retry_counts[i].count++;
	pthread_mutex_unlock(&retry_lock);
}

size_t pg_retries(struct pg_retry_count *out, size_t max)
{
	pthread_mutex_lock(&retry_lock);
	size_t n = nretry_counts < max ? nretry_counts : max;
	for (size_t i = 0; i < n; i++)
		out[i] = retry_counts[i];
	pthread_mutex_unlock(&retry_lock);
	return n;
}

int pg_query(struct pg_source *s, const char *sql, size_t nparams, const char *const *params,
	     int64_t timeout_s, const struct pg_sink *sink, char *err, size_t errlen)
{
	const char *label = sink->label ? sink->label : "query";
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	bool reopened = false, retry_after_rows = false;
	int retries = 0;
	for (;;) {
		if (atomic_load(&s->cancelled)) {
			/* Stopping: not an outage, nothing to log. */
			snprintf(err, errlen, "query on \"%s\" cancelled", s->name);
			disconnect(s);
			rc = -1;
			break;
		}
		bool was_open = s->conn != NULL;
		if (!s->conn && connect_source(s, err, errlen) < 0) {
			if (!atomic_load(&s->cancelled))
				note_failure(s, err);
			break;
		}
		struct attempt a = {.sqlstate = "", .delivered = false};
		rc = query_once(s, sql, nparams, params, timeout_s, sink, &a, err, errlen);
		const char *reason = NULL;
		bool retryable = rc < 0 && pg_retryable(a.sqlstate, &reason);
		retry_after_rows = retryable && a.delivered;
		if (retryable && !a.delivered && retries < PG_CONFLICT_RETRIES &&
		    !atomic_load(&s->cancelled)) {
			/* Nothing reached the sink: the query can start over. A
			 * FATAL conflict closes the session as well. */
			if (rc <= -2 || PQstatus(s->conn) != CONNECTION_OK)
				disconnect(s);
			retries++;
			count_retry(label, reason);
			char n[16];
			snprintf(n, sizeof(n), "%d", retries);
			logx(LOG_WARN, "query cancelled by the server, retrying", "source", s->name,
			     "dataset", label, "reason", reason, "retry", n, "err", err, NULL);
			/* A stop ends the pause (and the loop, at its top). */
			int64_t pause = (int64_t)CONFLICT_BACKOFF_MS << (retries - 1);
			(void)wait_fd(s, -1, 0, cs_mono_ms() + pause);
			continue;
		}
		if (rc <= -2) {
			disconnect(s);
			/* A connection that broke while idle (server restart) is
			 * reopened once; one that broke mid-query is not retried,
			 * rows may already have reached the sink. */
			if (rc == -3 && was_open && !reopened) {
				reopened = true;
				continue;
			}
			if (!atomic_load(&s->cancelled))
				note_failure(s, err);
			rc = -1;
			break;
		}
		note_success(s);
		break;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0 && retry_after_rows) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (not retried: rows had been read)");
	}
	if (rc < 0 && retries > 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (retried %d time%s)", retries,
			 retries > 1 ? "s" : "");
	}
	return rc;
}
