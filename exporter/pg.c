#include "pg.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../collectors/base/buf.h"
#include "../collectors/base/log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
/* How long past statement_timeout the client waits before giving up on a
 * server that no longer answers at all. */
#define CLIENT_MARGIN_MS 5000

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

	pthread_mutex_t cancel_lock; /* guards cancel only */
	PGcancel *cancel;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

void pg_source_cancel(struct pg_source *s)
{
	char msg[256];
	pthread_mutex_lock(&s->cancel_lock);
	if (s->cancel)
		PQcancel(s->cancel, msg, sizeof(msg));
	pthread_mutex_unlock(&s->cancel_lock);
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
	int64_t now = now_ms();
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
	const char *keys[] = {"dbname", "password", "application_name", "options", NULL};
	const char *vals[] = {s->conninfo, password, "cs_exporter", "-c TimeZone=UTC", NULL};
	if (!password) {
		keys[1] = "application_name";
		vals[1] = "cs_exporter";
		keys[2] = "options";
		vals[2] = "-c TimeZone=UTC";
		keys[3] = NULL;
		vals[3] = NULL;
	}
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
		char msg[512];
		copy_message(msg, sizeof(msg), "",
			     s->conn ? PQerrorMessage(s->conn) : "out of memory");
		snprintf(err, errlen, "could not connect to \"%s\": %s", s->name, msg);
		disconnect(s);
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		s->next_attempt_ms = now_ms() + s->backoff_ms;
		return -1;
	}
	PQsetNoticeProcessor(s->conn, on_notice, s);
	set_cancel(s, PQgetCancel(s->conn));
	return 0;
}

/* Waits for the next result without blocking past deadline (monotonic ms). */
static PGresult *next_result(struct pg_source *s, int64_t deadline, bool *timed_out)
{
	while (PQisBusy(s->conn)) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			*timed_out = true;
			return NULL;
		}
		struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
		int r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			return NULL;
		if (r > 0 && !PQconsumeInput(s->conn))
			return NULL;
	}
	return PQgetResult(s->conn);
}

/* Runs a utility statement and checks it succeeded. */
static int exec_simple(struct pg_source *s, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		copy_message(err, errlen, "", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static void drain(struct pg_source *s)
{
	PGresult *r;
	while ((r = PQgetResult(s->conn)) != NULL)
		PQclear(r);
}

/* One attempt on an open connection. Returns 0, -1 on a query error (the
 * connection is still usable), -2 when the connection broke during the query,
 * -3 when it was found broken before anything was sent. */
static int query_once(struct pg_source *s, const char *sql, size_t nparams,
		      const char *const *params, int64_t timeout_s, const struct pg_sink *sink,
		      char *err, size_t errlen)
{
	char setup[128];
	snprintf(setup, sizeof(setup), "BEGIN READ ONLY; SET LOCAL statement_timeout = %lld",
		 (long long)(timeout_s * 1000));
	char msg[512];
	if (exec_simple(s, setup, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
		return PQstatus(s->conn) == CONNECTION_OK ? -1 : -3;
	}
	if (!PQsendQueryParams(s->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0)) {
		copy_message(msg, sizeof(msg), "", PQerrorMessage(s->conn));
		snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, msg);
		return PQstatus(s->conn) == CONNECTION_OK ? -1 : -2;
	}
	PQsetSingleRowMode(s->conn);

	int64_t deadline = now_ms() + timeout_s * 1000 + CLIENT_MARGIN_MS;
	int rc = 0;
	bool header_done = false;
	const char **values = NULL;
	int ncols = 0;
	for (;;) {
		bool timed_out = false;
		PGresult *r = next_result(s, deadline, &timed_out);
		if (!r) {
			if (timed_out) {
				snprintf(err, errlen,
					 "query on \"%s\" failed: no answer within the timeout",
					 s->name);
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
				ncols = PQnfields(r);
				const char **names = xcalloc((size_t)ncols + 1, sizeof(*names));
				for (int i = 0; i < ncols; i++)
					names[i] = PQfname(r, i);
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
				rc = -1;
			}
		}
		PQclear(r);
	}
	free(values);
	if (rc == -2)
		return -2;
	if (rc == -1 && !header_done)
		drain(s);
	char cmsg[256];
	if (exec_simple(s, rc == 0 ? "COMMIT" : "ROLLBACK", cmsg, sizeof(cmsg)) < 0) {
		if (rc == 0)
			snprintf(err, errlen, "query on \"%s\" failed: %s", s->name, cmsg);
		return PQstatus(s->conn) == CONNECTION_OK ? -1 : -2;
	}
	return rc;
}

int pg_query(struct pg_source *s, const char *sql, size_t nparams, const char *const *params,
	     int64_t timeout_s, const struct pg_sink *sink, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool was_open = s->conn != NULL;
		if (!s->conn && connect_source(s, err, errlen) < 0) {
			note_failure(s, err);
			break;
		}
		rc = query_once(s, sql, nparams, params, timeout_s, sink, err, errlen);
		if (rc <= -2) {
			disconnect(s);
			/* A connection that broke while idle (server restart) is
			 * reopened once; one that broke mid-query is not retried,
			 * rows may already have reached the sink. */
			if (rc == -3 && was_open && attempt == 0)
				continue;
			note_failure(s, err);
			rc = -1;
			break;
		}
		note_success(s);
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
