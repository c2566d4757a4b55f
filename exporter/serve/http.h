/*
 * http: the libmicrohttpd front. Serves the current snapshot rendering and
 * the small operational endpoints; never computes, never queries.
 *
 *   GET/HEAD <telemetry path>  exposition, negotiated (text 0.0.4 or
 *                              OpenMetrics 1.0.0), gzip when accepted
 *   GET /                      status page (HTML)
 *   GET /-/healthy             200 while the process serves
 *   GET /-/ready               200 once every collector succeeded once, else 503
 *   POST /-/reload             reload the config, when enabled
 *
 * With a web config file: TLS (read at start only: certificate, key, trust
 * list, client_auth_type and min_version are those of start-up) and basic
 * auth (users re-read when the file changes, by a thread of its own: see
 * webcfg_watch_start), exporter-toolkit
 * semantics. Passwords are checked in two threads of their own, never in a
 * thread that answers requests, with successful checks cached; a request
 * waiting for its check is suspended. After the web config changes, the
 * credentials that succeeded before are checked first, at normal priority;
 * the others (guesses, new users) at a low one, the client addresses with
 * the fewest recent wrong guesses first, at most 4 waiting from one address
 * (more: 429) and 32 in all (more: 503, unless a check from an address with
 * more wrong guesses gives up its place), those refusals answered after a
 * second.
 *
 * Limits: 1024 connections (past that, a new one takes the slot of the one
 * that has waited longest for a request), 128 per client address, 10 s of
 * silence, and 15 s from a connection's opening (or its previous response)
 * to the end of the response.
 */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"

struct http_opts {
	const char *const *listen; /* "host:port", ":port", "[v6]:port" */
	size_t nlisten;
	/* Listening sockets to serve instead of the listen addresses when
	 * nlisten_fds > 0 (--web.systemd-socket): inherited, never bound
	 * here; closed by http_stop. */
	const int *listen_fds;
	size_t nlisten_fds;
	const char *metrics_path;
	const char *web_config_file; /* may be NULL */
	bool enable_reload;
	/* Called by POST /-/reload; returns 0 when the new config is in force. */
	int (*reload)(void *ctx, char *err, size_t errlen);
	void *reload_ctx;
};

struct http;

/* Returns NULL with a message when a listener cannot be set up;
 * *bad_config is then true when the cause is the configuration (the web
 * config file, a malformed listen address) rather than the system (an
 * address in use). */
struct http *http_start(const struct http_opts *opts, struct snapshot *snap, bool *bad_config,
			char *err, size_t errlen);
/* Whether addr is a well-formed listen address (for --config.check). */
bool http_listen_address_valid(const char *addr);
/* The listeners live until here: a config reload does not touch them. */
void http_stop(struct http *h);

#endif
