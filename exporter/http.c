#include "http.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../collectors/base/buf.h"
#include "../collectors/base/log.h"
#include "negotiate.h"
#include "webcfg.h"

#define MAX_LISTEN	 16
#define CONNECTION_LIMIT 1024
/* Seconds an idle or trickling client may hold a connection. */
#define CONNECTION_TIMEOUT 10
#define THREADS		   2

struct http {
	struct http_opts opts;
	struct snapshot *snap;
	struct MHD_Daemon *d[MAX_LISTEN];
	size_t nd;

	pthread_mutex_t web_lock; /* the web config and its mtime */
	struct webcfg *web;
	struct timespec web_mtime;
	char *metrics_path, *web_config_file; /* owned copies */
	struct webcfg_pem pem;		      /* kept alive for MHD */

	pthread_mutex_t resp_lock;	 /* the cached responses below */
	const struct rendered *resp_of;	 /* the rendering they serve (identity only) */
	struct MHD_Response *resp[2][2]; /* [format][gzip], built on first use */
	bool tls;
};

/* A marker for requests whose headers the handler has already seen. */
static int headers_seen;

/* Splits "host:port", "[v6]:port" or ":port" into a socket address. */
static int http_parse_listen(const char *addr, struct sockaddr_storage *ss, unsigned *socklen)
{
	memset(ss, 0, sizeof(*ss));
	const char *colon = strrchr(addr, ':');
	if (!colon || colon[1] == '\0')
		return -1;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	size_t hostlen = (size_t)(colon - addr);
	char host[256];
	if (hostlen >= sizeof(host))
		return -1;
	memcpy(host, addr, hostlen);
	host[hostlen] = '\0';
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 2 || host[n - 1] != ']')
			return -1;
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		*socklen = sizeof(*s6);
		return 0;
	}
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
		*socklen = sizeof(*s6);
		return 0;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -1;
	*socklen = sizeof(*s4);
	return 0;
}

static enum MHD_Result queue_text(struct MHD_Connection *conn, unsigned status, const char *text,
				  const char *allow)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void release_rendered(void *cls)
{
	snapshot_unref(cls);
}

/* The four responses (format × gzip) of one rendering, built once and
 * queued by every scrape until the next rendering: a scrape then allocates
 * nothing. Each response holds a reference to the rendering it points into,
 * dropped by libmicrohttpd when the last connection using it is done. */
static struct MHD_Response *make_response(const struct rendered *rd, int fmt, int gz)
{
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
	    rd->len[fmt][gz], rd->body[fmt][gz], release_rendered, (void *)rd);
	if (!r)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				negotiate_content_type((enum expo_format)fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return r;
}

static void drop_cached(struct http *h)
{
	for (int f = 0; f < 2; f++)
		for (int g = 0; g < 2; g++)
			if (h->resp[f][g])
				MHD_destroy_response(h->resp[f][g]);
	memset(h->resp, 0, sizeof(h->resp));
	h->resp_of = NULL;
}

static enum MHD_Result serve_metrics(struct http *h, struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
	int fmt = (int)negotiate_format(accept);
	int gz = negotiate_gzip(enc) ? 1 : 0;

	const struct rendered *rd = snapshot_ref(h->snap);
	pthread_mutex_lock(&h->resp_lock);
	if (rd != h->resp_of) {
		drop_cached(h);
		h->resp_of = rd;
	}
	if (!h->resp[fmt][gz]) {
		/* The response keeps the reference taken above. */
		h->resp[fmt][gz] = make_response(rd, fmt, gz);
		if (!h->resp[fmt][gz])
			snapshot_unref(rd);
	} else {
		snapshot_unref(rd);
	}
	struct MHD_Response *r = h->resp[fmt][gz];
	enum MHD_Result ret = r ? MHD_queue_response(conn, MHD_HTTP_OK, r) : MHD_NO;
	pthread_mutex_unlock(&h->resp_lock);
	return ret;
}

static enum MHD_Result serve_status(struct http *h, struct MHD_Connection *conn)
{
	struct buf b = BUF_INIT;
	snapshot_status_page(h->snap, h->opts.metrics_path, &b);
	size_t len;
	char *body = buf_detach(&b, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Re-reads the web config when its file changed, as exporter-toolkit does
 * per request; a broken edit keeps the previous settings. */
static void refresh_web(struct http *h)
{
	struct stat st;
	if (!h->opts.web_config_file || stat(h->opts.web_config_file, &st) != 0)
		return;
	if (st.st_mtim.tv_sec == h->web_mtime.tv_sec && st.st_mtim.tv_nsec == h->web_mtime.tv_nsec)
		return;
	char err[512];
	struct webcfg *w = webcfg_load(h->opts.web_config_file, err, sizeof(err));
	h->web_mtime = st.st_mtim;
	if (!w) {
		logx(LOG_ERROR, "could not reload web config, keeping the previous one", "err", err,
		     NULL);
		return;
	}
	webcfg_free(h->web);
	h->web = w;
}

static bool authorised(struct http *h, struct MHD_Connection *conn)
{
	if (!h->opts.web_config_file)
		return true;
	pthread_mutex_lock(&h->web_lock);
	refresh_web(h);
	bool ok = true;
	if (h->web && webcfg_has_auth(h->web)) {
		char *pass = NULL;
		char *user = MHD_basic_auth_get_username_password(conn, &pass);
		ok = user && pass && webcfg_check_basic(h->web, user, pass);
		if (pass) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (user)
			MHD_free(user);
	}
	pthread_mutex_unlock(&h->web_lock);
	return ok;
}

/* libmicrohttpd asks for a client certificate when given a trust list but
 * leaves judging it to us, as exporter-toolkit's client_auth_type does. */
static bool client_cert_ok(struct http *h, struct MHD_Connection *conn)
{
	if (!h->tls)
		return true;
	enum webcfg_client_auth mode = webcfg_client_auth(h->web);
	if (mode == WEBCFG_NO_CLIENT_CERT)
		return true;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	gnutls_session_t session = (gnutls_session_t)ci->tls_session;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || n == 0)
		return mode == WEBCFG_VERIFY_CLIENT_CERT_IF_GIVEN;
	if (mode == WEBCFG_REQUIRE_ANY_CLIENT_CERT)
		return true;
	unsigned status = 0;
	return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}

static enum MHD_Result deny(struct MHD_Connection *conn)
{
	static const char text[] = "Unauthorized\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	enum MHD_Result ret = MHD_queue_basic_auth_fail_response(conn, "cs_exporter", r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct http *h = cls;
	(void)version;
	(void)upload_data;
	/* A response queued on the first call, before libmicrohttpd (0.9.75)
	 * knows whether a body follows, makes it discard the rest of the
	 * stream and close the connection: every scrape would pay a TCP
	 * handshake. So each request is answered on a later call, once any
	 * body has been read (and discarded). */
	if (*req_cls == NULL) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!client_cert_ok(h, conn))
		return queue_text(conn, MHD_HTTP_FORBIDDEN, "Client certificate required\n", NULL);
	if (!authorised(h, conn))
		return deny(conn);

	if (strcmp(url, h->opts.metrics_path) == 0) {
		if (!get)
			return queue_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n",
					  "GET, HEAD");
		return serve_metrics(h, conn);
	}
	if (strcmp(url, "/-/reload") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_PUT) != 0)
			return queue_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "Only POST or PUT requests allowed\n", "POST, PUT");
		if (!h->opts.enable_reload || !h->opts.reload)
			return queue_text(conn, MHD_HTTP_FORBIDDEN,
					  "Reload endpoint disabled: start with "
					  "--web.enable-lifecycle\n",
					  NULL);
		char err[1024] = "";
		char msg[1100];
		if (h->opts.reload(h->opts.reload_ctx, err, sizeof(err)) == 0)
			return queue_text(conn, MHD_HTTP_OK, "config reloaded\n", NULL);
		snprintf(msg, sizeof(msg), "failed to reload config: %s\n", err);
		return queue_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg, NULL);
	}
	if (!get)
		return queue_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n",
				  "GET, HEAD");
	if (strcmp(url, "/") == 0)
		return serve_status(h, conn);
	if (strcmp(url, "/-/healthy") == 0)
		return queue_text(conn, MHD_HTTP_OK, "Healthy\n", NULL);
	if (strcmp(url, "/-/ready") == 0) {
		if (snapshot_ready(h->snap))
			return queue_text(conn, MHD_HTTP_OK, "Ready\n", NULL);
		return queue_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "Not ready: not every collector has succeeded yet\n", NULL);
	}
	return queue_text(conn, MHD_HTTP_NOT_FOUND, "Not Found\n", NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	struct buf b = BUF_INIT;
	buf_vaddf(&b, fmt, ap);
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	logx(LOG_DEBUG, "http", "detail", b.data, NULL);
	buf_release(&b);
}

static int setup_tls(struct http *h, char *err, size_t errlen)
{
	if (!h->web || !webcfg_has_tls(h->web))
		return 0;
	if (webcfg_read_pem(h->web, &h->pem, err, errlen) < 0)
		return -1;
	return 1;
}

struct http *http_start(const struct http_opts *opts, struct snapshot *snap, char *err,
			size_t errlen)
{
	struct http *h = xcalloc(1, sizeof(*h));
	h->opts = *opts;
	/* The config these may point into is replaced on reload. */
	h->opts.metrics_path = h->metrics_path = xstrdup(opts->metrics_path);
	h->opts.web_config_file = h->web_config_file =
	    opts->web_config_file ? xstrdup(opts->web_config_file) : NULL;
	h->opts.listen = NULL;
	h->snap = snap;
	pthread_mutex_init(&h->web_lock, NULL);
	pthread_mutex_init(&h->resp_lock, NULL);
	if (opts->web_config_file) {
		h->web = webcfg_load(opts->web_config_file, err, errlen);
		if (!h->web) {
			http_stop(h);
			return NULL;
		}
		struct stat st;
		if (stat(opts->web_config_file, &st) == 0)
			h->web_mtime = st.st_mtim;
	}
	int tls = setup_tls(h, err, errlen);
	if (tls < 0) {
		http_stop(h);
		return NULL;
	}
	h->tls = tls > 0;
	for (size_t i = 0; i < opts->nlisten && i < MAX_LISTEN; i++) {
		struct sockaddr_storage ss;
		unsigned len;
		if (http_parse_listen(opts->listen[i], &ss, &len) < 0) {
			snprintf(err, errlen, "invalid listen address \"%s\"", opts->listen[i]);
			http_stop(h);
			return NULL;
		}
		unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
		if (ss.ss_family == AF_INET6)
			flags |= MHD_USE_DUAL_STACK;
		struct MHD_OptionItem tls_opts[] = {
		    {MHD_OPTION_HTTPS_MEM_CERT, 0, h->pem.cert},
		    {MHD_OPTION_HTTPS_MEM_KEY, 0, h->pem.key},
		    {h->pem.ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, h->pem.ca},
		    {h->web && tls > 0 ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0,
		     (void *)(tls > 0 ? webcfg_gnutls_priorities(h->web) : NULL)},
		    {MHD_OPTION_END, 0, NULL},
		};
		if (tls > 0)
			flags |= MHD_USE_TLS;
		h->d[h->nd] = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)CONNECTION_TIMEOUT, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    tls > 0 ? MHD_OPTION_ARRAY : MHD_OPTION_END, tls_opts, MHD_OPTION_END);
		if (!h->d[h->nd] && ss.ss_family == AF_INET6 &&
		    memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &in6addr_any,
			   sizeof(in6addr_any)) == 0) {
			/* No IPv6 on this host: fall back to all IPv4 addresses. */
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;
			memset(&ss, 0, sizeof(ss));
			s4->sin_family = AF_INET;
			s4->sin_port = port;
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
			flags &= ~(unsigned)MHD_USE_DUAL_STACK;
			h->d[h->nd] = MHD_start_daemon(
			    flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
			    (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
			    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
			    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
			    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			    tls > 0 ? MHD_OPTION_ARRAY : MHD_OPTION_END, tls_opts, MHD_OPTION_END);
		}
		if (!h->d[h->nd]) {
			snprintf(err, errlen, "could not listen on \"%s\"", opts->listen[i]);
			http_stop(h);
			return NULL;
		}
		h->nd++;
		logx(LOG_INFO, "listening", "address", opts->listen[i], "tls",
		     tls > 0 ? "true" : "false", NULL);
	}
	return h;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nd; i++)
		MHD_stop_daemon(h->d[i]);
	drop_cached(h);
	pthread_mutex_destroy(&h->resp_lock);
	webcfg_free(h->web);
	webcfg_pem_release(&h->pem);
	free(h->metrics_path);
	free(h->web_config_file);
	pthread_mutex_destroy(&h->web_lock);
	free(h);
}
