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
 * With a web config file: TLS (read at start and on reload) and basic auth
 * (users re-read whenever the file changes), exporter-toolkit semantics.
 */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"

struct http_opts {
	const char *const *listen; /* "host:port", ":port", "[v6]:port" */
	size_t nlisten;
	const char *metrics_path;
	const char *web_config_file; /* may be NULL */
	bool enable_reload;
	/* Called by POST /-/reload; returns 0 when the new config is in force. */
	int (*reload)(void *ctx, char *err, size_t errlen);
	void *reload_ctx;
};

struct http;

/* Returns NULL with a message when a listener cannot be set up. */
struct http *http_start(const struct http_opts *opts, struct snapshot *snap, char *err,
			size_t errlen);
void http_stop(struct http *h);

#endif
