#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cstime.h"
#include "lib/log.h"
#include "negotiate.h"
#include "sdlisten.h"
#include "webcfg.h"

#define MAX_LISTEN 16
/* Connections in all, over every listener. Past it a new connection takes
 * the slot of the one that has waited longest for a request (a slowloris
 * trickling its headers, or an idle keep-alive), so a trickle from many
 * addresses cannot keep a scrape in the listen backlog. */
#define CONNECTION_LIMIT 1024
/* libmicrohttpd's own limit per listener is higher by CONNECTION_SPARE, so
 * that it keeps accepting while the connections over CONNECTION_LIMIT are
 * closed. */
#define CONNECTION_SPARE 128
#define CONNECTION_SLOTS (CONNECTION_LIMIT + CONNECTION_SPARE)
/* Connections from one address: a single client cannot take them all. */
#define PER_IP_LIMIT 128
/* Seconds a connection may stay silent. */
#define CONNECTION_TIMEOUT 10
/* Seconds from a connection's opening (or the end of its previous response)
 * to the end of the next response: a client that trickles its request, or
 * reads the answer, a byte at a time is cut off even though it is never
 * silent for CONNECTION_TIMEOUT. */
#define REQUEST_DEADLINE 15
#define THREADS		 2
/* Bytes of libmicrohttpd's memory pool per connection: the request line and
 * headers, and the response headers. 0.9.75 zeroes the whole pool after
 * every request: with its 32 kB default that memset was 4 % of the exporter's
 * CPU under gzip scrapes, 1.7 % at 16 kB (perf, docs/benchmarks.md). Request
 * headers up to about 7.5 kB still fit (a browser's cookies on the status
 * page; nginx's default limit for one header line is 8 kB); more get 431. */
#define CONNECTION_MEMORY 16384
/* How often the web config file is looked at; a change is taken once the
 * file has stayed the same for one interval. */
#define WEB_POLL_MS 250
/* Password checks waiting in a lane (see struct http); more get 503. */
#define AUTH_QUEUE 32
/* Of those, checks from one client address (an IPv6 /64); more get 429:
 * one address guessing cannot fill the queue. */
#define AUTH_PER_ADDR 4
/* Client addresses whose wrong guesses are counted, the counts halved every
 * AUTH_FAIL_HALF_MS: checks from the addresses with the fewest are made
 * first, and one of them takes the place of a queued check from an address
 * with more when the queue is full. Guesses from many addresses then still
 * leave room, and no wait, for a client that has not guessed wrong. */
#define AUTH_FAIL_TRACK	  256
#define AUTH_FAIL_HALF_MS 60000
/* Milliseconds (and up to a second more) a request refused with 429 or 503
 * waits before the answer: a client that retries at once would otherwise
 * spin, and a hundred such threads took the CPU that the checks of good
 * credentials need (a check took 0.3 to 1.9 s instead of 0.06). */
#define TARPIT_MS 1000
/* Successful checks remembered (by SHA-256 of user and password). */
#define AUTH_CACHE 64
/* Niceness added to the thread hashing unknown credentials: floods of
 * guesses yield the CPU to the threads that answer scrapes. */
#define HASHER_NICE 10

/* One accepted connection, watched for REQUEST_DEADLINE. */
struct watched {
	struct watched *prev, *next;
	int fd;		  /* a dup of the connection's socket, so it cannot be reused */
	int64_t since_ms; /* opening or end of the previous response (monotonic) */
	bool busy;	  /* a whole request arrived and is not answered yet */
	bool answered;	  /* a response was sent on it */
	bool cut;
};

/* A password check handed to a hashing thread; the request's connection is
 * suspended until it is done. */
struct auth_job {
	struct auth_job *next;
	struct http *h;
	struct MHD_Connection *conn;
	struct webcfg *web;	/* a reference */
	unsigned gen;		/* h->web_gen when the job was made */
	unsigned char addr[16]; /* the client's address (see client_key) */
	unsigned status;	/* 429 or 503: refused, answered at due_ms */
	int64_t due_ms;
	char user[WEBCFG_MAX_USER + 1];
	char pass[WEBCFG_MAX_PASSWORD + 1];
	bool done, ok;
};

struct http {
	struct http_opts opts;
	struct snapshot *snap;
	struct MHD_Daemon *d[MAX_LISTEN];
	size_t nd;

	/* The web config, followed by its own thread (webcfg.h): a request
	 * only takes a reference, never reads or parses the file. */
	struct webcfg_watch *web;
	struct webcfg *tls_web; /* TLS settings and headers in force: those at start-up */
	enum webcfg_client_auth client_auth; /* from tls_web, fixed */

	pthread_mutex_t auth_lock; /* the lanes, the cache, addresses, job results */
	/* Two lanes, each with its thread: LANE_KNOWN for credentials that
	 * succeeded under an earlier web config (after a change, the scrapes
	 * that were let in before are checked ahead of any guess, at normal
	 * priority), LANE_OTHER for the rest (guesses, new users), at a lower
	 * priority, the addresses with the fewest wrong guesses first. */
	struct lane {
		struct http *h;
		pthread_cond_t cond;
		struct auth_job *head, *tail;
		size_t n;
		pthread_t thread;
		bool started;
	} lane[2];
	bool auth_stopping;
	/* Refused requests waiting for their answer (TARPIT_MS), oldest first,
	 * released by the watchdog thread. */
	struct auth_job *tarpit_head, *tarpit_tail;
	/* Client addresses with checks queued or under way in LANE_OTHER: the
	 * queue's, the one under way and a newcomer's. Then recent wrong
	 * guesses by address (AUTH_FAIL_TRACK). */
	struct {
		unsigned char addr[16];
		unsigned n;
	} addrs[AUTH_QUEUE + 2];
	struct {
		unsigned char addr[16];
		unsigned fails; /* wrong guesses, as of at_ms */
		int64_t at_ms;
	} fails[AUTH_FAIL_TRACK];
	struct {
		unsigned char key[32];
		unsigned gen;
		bool used;
	} cache[AUTH_CACHE];
	size_t cache_next;

	pthread_mutex_t watch_lock; /* the watched list */
	pthread_cond_t watch_cond;
	struct watched *watched;
	size_t nlive; /* watched and not cut */
	bool watch_stopping;
	pthread_t watchdog;
	bool watchdog_started;

	char *metrics_path, *web_config_file; /* owned copies */
	struct webcfg_pem pem;		      /* kept alive for MHD */

	pthread_mutex_t resp_lock;	 /* the cached responses below */
	const struct rendered *resp_of;	 /* the rendering they serve (identity only) */
	struct MHD_Response *resp[2][2]; /* [format][gzip], built on first use */
	bool tls;
};

/* A marker for requests whose headers the handler has already seen. */
static int headers_seen;

/* ---- the request deadline and the connection cap --------------------- */

/* Called with watch_lock held when a connection past CONNECTION_LIMIT
 * arrived: cuts the one, other than fresh, that has waited longest for a
 * request, preferring those never answered (a slowloris) to kept-alive ones
 * (a Prometheus between scrapes). Those answering a request are left alone,
 * so a scrape, which sends its request at once, is never the one cut. */
static void evict_slowest(struct http *h, const struct watched *fresh)
{
	struct watched *victim = NULL;
	for (struct watched *w = h->watched; w; w = w->next)
		if (w != fresh && !w->busy && !w->cut &&
		    (!victim || (victim->answered && !w->answered) ||
		     (victim->answered == w->answered && w->since_ms < victim->since_ms)))
			victim = w;
	if (!victim)
		return;
	shutdown(victim->fd, SHUT_RDWR);
	victim->cut = true;
	h->nlive--;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		int fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
		if (fd < 0)
			return; /* not watched: the idle timeout still applies */
		struct watched *w = xcalloc(1, sizeof(*w));
		w->fd = fd;
		w->since_ms = cs_mono_ms();
		pthread_mutex_lock(&h->watch_lock);
		w->next = h->watched;
		if (h->watched)
			h->watched->prev = w;
		h->watched = w;
		if (++h->nlive > CONNECTION_LIMIT)
			evict_slowest(h, w);
		pthread_mutex_unlock(&h->watch_lock);
		*socket_context = w;
		return;
	}
	struct watched *w = *socket_context;
	if (!w)
		return;
	pthread_mutex_lock(&h->watch_lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		h->watched = w->next;
	if (w->next)
		w->next->prev = w->prev;
	if (!w->cut)
		h->nlive--;
	pthread_mutex_unlock(&h->watch_lock);
	close(w->fd);
	free(w);
	*socket_context = NULL;
}

static bool tarpit_release(struct http *h, bool all);

/* Cuts connections past REQUEST_DEADLINE: shutting the socket down makes
 * libmicrohttpd see the end of the stream and close it in its own thread. */
static void *watchdog_main(void *arg)
{
	struct http *h = arg;
	pthread_mutex_lock(&h->watch_lock);
	while (!h->watch_stopping) {
		int64_t now = cs_mono_ms();
		for (struct watched *w = h->watched; w; w = w->next) {
			if (!w->cut && now - w->since_ms > REQUEST_DEADLINE * 1000) {
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
				h->nlive--;
			}
		}
		pthread_mutex_unlock(&h->watch_lock);
		bool more = tarpit_release(h, false);
		pthread_mutex_lock(&h->watch_lock);
		if (h->watch_stopping)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		if (more) {
			until.tv_nsec += 250000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
		} else {
			until.tv_sec += 1;
		}
		pthread_cond_timedwait(&h->watch_cond, &h->watch_lock, &until);
	}
	pthread_mutex_unlock(&h->watch_lock);
	return NULL;
}

static void auth_job_free(struct auth_job *j);

/* A response was sent (or the request abandoned): the next request on this
 * connection gets a deadline of its own. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	(void)toe;
	if (*req_cls && *req_cls != &headers_seen)
		auth_job_free(*req_cls);
	*req_cls = NULL;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watched *w = ci ? ci->socket_context : NULL;
	if (w) {
		pthread_mutex_lock(&h->watch_lock);
		w->since_ms = cs_mono_ms();
		w->busy = false;
		w->answered = true;
		pthread_mutex_unlock(&h->watch_lock);
	}
}

/* A whole request arrived on conn (busy): it is no longer a candidate for
 * evict_slowest until it is answered. A request held in the tarpit is one
 * again. */
static void mark_busy(struct http *h, struct MHD_Connection *conn, bool busy)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watched *w = ci ? ci->socket_context : NULL;
	if (w) {
		pthread_mutex_lock(&h->watch_lock);
		w->busy = busy;
		pthread_mutex_unlock(&h->watch_lock);
	}
}

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

/* http_server_config.headers of the web config read at start-up. */
static void add_headers(const struct http *h, struct MHD_Response *r)
{
	const char *v;
	const char *name;
	for (size_t i = 0; (name = webcfg_header(h->tls_web, i, &v)) != NULL; i++)
		MHD_add_response_header(r, name, v);
}

static enum MHD_Result queue_text(const struct http *h, struct MHD_Connection *conn,
				  unsigned status, const char *text, const char *allow)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	add_headers(h, r);
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
 * nothing. Each sends the rendering's pieces (snapshot.h) as they are,
 * without copying them, and holds a reference to the rendering (which holds
 * its KPI part), dropped by libmicrohttpd when the last connection using
 * the response is done. */
static struct MHD_Response *make_response(const struct http *h, const struct rendered *rd, int fmt,
					  int gz)
{
	struct body_piece piece[2];
	if (rendered_body(rd, (enum expo_format)fmt, gz, piece) != 0)
		return NULL;
	struct MHD_IoVec iov[2];
	unsigned n = 0;
	for (int i = 0; i < 2; i++)
		if (piece[i].len)
			iov[n++] = (struct MHD_IoVec){piece[i].data, piece[i].len};
	/* One piece as a buffer: libmicrohttpd sends it with the headers in
	 * one system call, an iovec after them in another. */
	struct MHD_Response *r =
	    n == 1 ? MHD_create_response_from_buffer_with_free_callback_cls(
			 iov[0].iov_len, (void *)(uintptr_t)iov[0].iov_base, release_rendered,
			 (void *)rd)
		   : MHD_create_response_from_iovec(iov, n, release_rendered, (void *)rd);
	if (!r)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				negotiate_content_type((enum expo_format)fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	add_headers(h, r);
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

struct joined {
	const char *name;
	struct buf b;
	size_t n;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct joined *j = cls;
	(void)kind;
	if (key && value && strcasecmp(key, j->name) == 0) {
		if (j->n++)
			buf_adds(&j->b, ", ");
		buf_adds(&j->b, value);
	}
	return MHD_YES;
}

/* A header that may be repeated, its values joined with ", " as RFC 9110
 * allows for list-valued fields (libmicrohttpd's lookup returns the first).
 * out is released by the caller. NULL when absent. */
static const char *list_header(struct MHD_Connection *conn, const char *name, struct buf *out)
{
	struct joined j = {.name = name, .b = BUF_INIT};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, join_header, &j);
	*out = j.b;
	return j.n ? (out->data ? out->data : "") : NULL;
}

static enum MHD_Result serve_metrics(struct http *h, struct MHD_Connection *conn)
{
	struct buf ab, eb;
	const char *accept = list_header(conn, MHD_HTTP_HEADER_ACCEPT, &ab);
	const char *enc = list_header(conn, MHD_HTTP_HEADER_ACCEPT_ENCODING, &eb);
	int fmt = (int)negotiate_format(accept);
	int gz = negotiate_gzip(enc) ? 1 : 0;
	buf_release(&ab);
	buf_release(&eb);

	const struct rendered *rd = snapshot_ref(h->snap);
	pthread_mutex_lock(&h->resp_lock);
	if (rd != h->resp_of) {
		drop_cached(h);
		h->resp_of = rd;
	}
	if (!h->resp[fmt][gz]) {
		/* The response keeps the reference taken above. */
		h->resp[fmt][gz] = make_response(h, rd, fmt, gz);
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
	add_headers(h, r);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- web config and authentication --------------------------------- */

static void cache_key(const char *user, const char *pass, unsigned char key[32])
{
	size_t ul = strlen(user), pl = strlen(pass);
	unsigned char buf[WEBCFG_MAX_USER + 1 + WEBCFG_MAX_PASSWORD];
	memcpy(buf, user, ul);
	buf[ul] = '\0'; /* user names hold no NUL: the split is unambiguous */
	memcpy(buf + ul + 1, pass, pl);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, ul + 1 + pl, key);
	explicit_bzero(buf, sizeof(buf));
}

enum cached { CACHE_MISS, CACHE_EARLIER, CACHE_HIT };

/* Called with auth_lock held. Looks at every entry, whatever matches.
 * CACHE_HIT: the credentials succeeded under the web config of generation
 * gen; CACHE_EARLIER: under an earlier one only (they go to LANE_KNOWN). */
static enum cached cache_lookup(struct http *h, const unsigned char key[32], unsigned gen)
{
	bool hit = false, earlier = false;
	for (size_t i = 0; i < AUTH_CACHE; i++) {
		unsigned char d = 0;
		for (size_t k = 0; k < 32; k++)
			d |= (unsigned char)(h->cache[i].key[k] ^ key[k]);
		bool same = h->cache[i].used && d == 0;
		hit |= same && h->cache[i].gen == gen;
		earlier |= same && h->cache[i].gen != gen;
	}
	return hit ? CACHE_HIT : earlier ? CACHE_EARLIER : CACHE_MISS;
}

/* Called with auth_lock held. The entry of the same credentials, if any, is
 * renewed rather than repeated: changes of the web config would otherwise
 * fill the cache with one user's generations. */
static void cache_add(struct http *h, const unsigned char key[32], unsigned gen)
{
	size_t i;
	for (i = 0; i < AUTH_CACHE; i++)
		if (h->cache[i].used && memcmp(h->cache[i].key, key, 32) == 0)
			break;
	if (i == AUTH_CACHE)
		i = h->cache_next++ % AUTH_CACHE;
	memcpy(h->cache[i].key, key, 32);
	h->cache[i].gen = gen;
	h->cache[i].used = true;
}

/* Called with auth_lock held: credentials that no longer succeed lose their
 * place in LANE_KNOWN. */
static void cache_forget(struct http *h, const unsigned char key[32])
{
	for (size_t i = 0; i < AUTH_CACHE; i++)
		if (h->cache[i].used && memcmp(h->cache[i].key, key, 32) == 0)
			memset(&h->cache[i], 0, sizeof(h->cache[i]));
}

/* What counts as one client when bounding checks: an IPv4 address, or the
 * /64 of an IPv6 one (a host is usually given a whole /64). */
static void client_key(struct MHD_Connection *conn, unsigned char key[16])
{
	memset(key, 0, 16);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			key[0] = 4;
			memcpy(key + 1, a->s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a->s6_addr, 8);
		}
	}
}

/* Called with auth_lock held: the entry of addr in h->addrs, with
 * create, a free one when it has none (there is always one: see addrs). */
static unsigned *addr_count(struct http *h, const unsigned char addr[16], bool create)
{
	size_t spare = AUTH_QUEUE + 2;
	for (size_t i = 0; i < AUTH_QUEUE + 2; i++) {
		if (h->addrs[i].n && memcmp(h->addrs[i].addr, addr, 16) == 0)
			return &h->addrs[i].n;
		if (!h->addrs[i].n && spare == AUTH_QUEUE + 2)
			spare = i;
	}
	if (!create || spare == AUTH_QUEUE + 2)
		return NULL;
	memcpy(h->addrs[spare].addr, addr, 16);
	return &h->addrs[spare].n;
}

/* Called with auth_lock held: the wrong guesses of entry i of h->fails,
 * halved for every AUTH_FAIL_HALF_MS since they were counted. */
static unsigned fails_now(const struct http *h, size_t i, int64_t now)
{
	int64_t halvings = (now - h->fails[i].at_ms) / AUTH_FAIL_HALF_MS;
	return halvings >= 32 ? 0 : h->fails[i].fails >> halvings;
}

/* Called with auth_lock held: the recent wrong guesses from addr. */
static unsigned addr_fails(const struct http *h, const unsigned char addr[16], int64_t now)
{
	for (size_t i = 0; i < AUTH_FAIL_TRACK; i++)
		if (h->fails[i].fails && memcmp(h->fails[i].addr, addr, 16) == 0)
			return fails_now(h, i, now);
	return 0;
}

/* Called with auth_lock held: one more wrong guess from addr, in its entry
 * or else in that of the address with the fewest. */
static void note_failure(struct http *h, const unsigned char addr[16], int64_t now)
{
	size_t at = 0;
	unsigned least = UINT_MAX;
	for (size_t i = 0; i < AUTH_FAIL_TRACK; i++) {
		if (h->fails[i].fails && memcmp(h->fails[i].addr, addr, 16) == 0) {
			at = i;
			break;
		}
		unsigned f = h->fails[i].fails ? fails_now(h, i, now) : 0;
		if (f < least) {
			least = f;
			at = i;
		}
	}
	unsigned f = memcmp(h->fails[at].addr, addr, 16) == 0 ? fails_now(h, at, now) : 0;
	memcpy(h->fails[at].addr, addr, 16);
	h->fails[at].fails = f < UINT_MAX ? f + 1 : f;
	h->fails[at].at_ms = now;
}

static void auth_job_free(struct auth_job *j)
{
	webcfg_free(j->web);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

enum { LANE_KNOWN, LANE_OTHER };

/* Called with auth_lock held: takes the next check of a lane. LANE_OTHER
 * serves first the address with the fewest recent wrong guesses, then the
 * one with the fewest checks waiting, in order of arrival between equals: a
 * guesser keeping its AUTH_PER_ADDR checks queued does not make another
 * address wait for them. */
static struct auth_job *lane_take(struct http *h, struct lane *l)
{
	struct auth_job **best = l->head ? &l->head : NULL;
	if (l == &h->lane[LANE_OTHER]) {
		int64_t now = cs_mono_ms();
		unsigned best_f = UINT_MAX, best_n = UINT_MAX;
		for (struct auth_job **p = &l->head; *p; p = &(*p)->next) {
			unsigned f = addr_fails(h, (*p)->addr, now);
			unsigned *n = addr_count(h, (*p)->addr, false);
			unsigned k = n ? *n : 0;
			if (f < best_f || (f == best_f && k < best_n)) {
				best = p;
				best_f = f;
				best_n = k;
			}
		}
	}
	if (!best)
		return NULL;
	struct auth_job *j = *best;
	*best = j->next;
	if (l->tail == j) {
		l->tail = NULL;
		for (struct auth_job *q = l->head; q; q = q->next)
			l->tail = q;
	}
	l->n--;
	j->next = NULL;
	return j;
}

/* A hashing thread, one a lane: bcrypt runs here, never in a thread that
 * answers requests, one check at a time; LANE_OTHER's at a lower priority. */
static void *hasher_main(void *arg)
{
	struct lane *l = arg;
	struct http *h = l->h;
	bool other = l == &h->lane[LANE_OTHER];
	if (other)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			    getpriority(PRIO_PROCESS, 0) + HASHER_NICE);
	pthread_mutex_lock(&h->auth_lock);
	for (;;) {
		while (!l->head && !h->auth_stopping)
			pthread_cond_wait(&l->cond, &h->auth_lock);
		struct auth_job *j = lane_take(h, l);
		if (!j)
			break; /* stopping and nothing left */
		bool stopping = h->auth_stopping;
		pthread_mutex_unlock(&h->auth_lock);
		bool ok = !stopping && webcfg_check_basic(j->web, j->user, j->pass);
		unsigned char key[32];
		cache_key(j->user, j->pass, key);
		explicit_bzero(j->pass, sizeof(j->pass));
		pthread_mutex_lock(&h->auth_lock);
		if (ok)
			cache_add(h, key, j->gen);
		if (!ok && !stopping) {
			note_failure(h, j->addr, cs_mono_ms());
			if (!other)
				cache_forget(h, key);
		}
		explicit_bzero(key, sizeof(key));
		if (other) {
			unsigned *n = addr_count(h, j->addr, false);
			if (n)
				(*n)--;
		}
		j->ok = ok;
		j->done = true;
		/* j stays alive: it is freed when its request completes, which
		 * cannot happen before the connection is resumed. */
		struct MHD_Connection *conn = j->conn;
		pthread_mutex_unlock(&h->auth_lock);
		MHD_resume_connection(conn);
		pthread_mutex_lock(&h->auth_lock);
	}
	pthread_mutex_unlock(&h->auth_lock);
	return NULL;
}

enum auth_outcome { AUTH_OK, AUTH_DENIED, AUTH_PENDING, AUTH_BUSY, AUTH_LIMITED };

/* Resumes the requests of the tarpit that are due (all of them with all),
 * to be answered with their status; returns whether some are left. */
static bool tarpit_release(struct http *h, bool all)
{
	int64_t now = cs_mono_ms();
	pthread_mutex_lock(&h->auth_lock);
	struct auth_job *due = NULL, **tail = &due;
	while (h->tarpit_head && (all || h->tarpit_head->due_ms <= now)) {
		struct auth_job *j = h->tarpit_head;
		h->tarpit_head = j->next;
		j->next = NULL;
		j->done = true;
		*tail = j;
		tail = &j->next;
	}
	if (!h->tarpit_head)
		h->tarpit_tail = NULL;
	bool more = h->tarpit_head != NULL;
	pthread_mutex_unlock(&h->auth_lock);
	while (due) {
		/* read before the resume: the request may complete and free j */
		struct auth_job *next = due->next;
		MHD_resume_connection(due->conn);
		due = next;
	}
	return more;
}

/* The web config in force (a reference, NULL without one) and its
 * generation, which grows when the users may have changed. */
static struct webcfg *web_current(struct http *h, unsigned *gen)
{
	return h->web ? webcfg_watch_current(h->web, gen) : NULL;
}

/* Called with auth_lock held: moves to the tarpit, to be answered with
 * status, a request whose check is not queued (or no longer). */
static void tarpit_add(struct http *h, struct auth_job *j, unsigned status)
{
	explicit_bzero(j->pass, sizeof(j->pass));
	j->status = status;
	j->due_ms = cs_mono_ms() + TARPIT_MS;
	j->next = NULL;
	if (h->tarpit_tail)
		h->tarpit_tail->next = j;
	else
		h->tarpit_head = j;
	h->tarpit_tail = j;
}

/* Called with auth_lock held when LANE_OTHER is full and a check comes
 * from an address with fails recent wrong guesses and queued checks queued:
 * the newest check from the address with the most wrong guesses, or, with as
 * many, with at least two checks more queued, leaves the queue for the
 * tarpit (503). Returns whether there is room now. */
static bool make_room(struct http *h, unsigned fails, unsigned queued)
{
	struct lane *l = &h->lane[LANE_OTHER];
	int64_t now = cs_mono_ms();
	struct auth_job **victim = NULL;
	unsigned most_f = 0, most_n = 0;
	for (struct auth_job **p = &l->head; *p; p = &(*p)->next) {
		unsigned f = addr_fails(h, (*p)->addr, now);
		unsigned *np = addr_count(h, (*p)->addr, false);
		unsigned n = np ? *np : 0;
		if (f < fails || (f == fails && n < queued + 2))
			continue; /* no more than the newcomer's */
		if (!victim || f > most_f || (f == most_f && n >= most_n)) {
			victim = p;
			most_f = f;
			most_n = n;
		}
	}
	if (!victim)
		return false;
	struct auth_job *j = *victim;
	*victim = j->next;
	if (l->tail == j) {
		l->tail = NULL;
		for (struct auth_job *q = l->head; q; q = q->next)
			l->tail = q;
	}
	l->n--;
	unsigned *n = addr_count(h, j->addr, false);
	if (n)
		(*n)--;
	tarpit_add(h, j, MHD_HTTP_SERVICE_UNAVAILABLE);
	return true;
}

/* Decides on a request's credentials: at once when no users are configured,
 * the header is malformed, or the same credentials succeeded under this web
 * config; else the connection is suspended (AUTH_PENDING) and the check
 * queued: in LANE_KNOWN when they succeeded under an earlier one, else in
 * LANE_OTHER. When LANE_OTHER holds AUTH_PER_ADDR checks of the client's
 * address (429), or the lane is full (503; for LANE_OTHER, unless a check
 * from an address with more wrong guesses gives up its place), the request
 * goes to the tarpit instead; while stopping it is refused at once
 * (AUTH_BUSY). Known and unknown users take the same path. Takes over the
 * reference web. */
static enum auth_outcome authorise(struct http *h, struct MHD_Connection *conn, void **req_cls,
				   const char *url, struct webcfg *web, unsigned gen)
{
	if (!web || !webcfg_has_auth(web) || webcfg_auth_excluded(web, url)) {
		webcfg_free(web);
		return AUTH_OK;
	}
	struct auth_job *j = xcalloc(1, sizeof(*j));
	j->h = h;
	j->conn = conn;
	j->web = web;
	j->gen = gen;
	const char *hdr =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (webcfg_parse_basic(hdr, j->user, j->pass) < 0) {
		auth_job_free(j);
		return AUTH_DENIED;
	}
	client_key(conn, j->addr);
	unsigned char key[32];
	cache_key(j->user, j->pass, key);
	pthread_mutex_lock(&h->auth_lock);
	enum cached c = cache_lookup(h, key, gen);
	explicit_bzero(key, sizeof(key));
	if (c == CACHE_HIT) {
		pthread_mutex_unlock(&h->auth_lock);
		auth_job_free(j);
		return AUTH_OK;
	}
	struct lane *l = &h->lane[c == CACHE_EARLIER ? LANE_KNOWN : LANE_OTHER];
	unsigned *per_addr = NULL;
	enum auth_outcome refused = AUTH_OK;
	if (h->auth_stopping) {
		refused = AUTH_BUSY;
	} else if (c == CACHE_EARLIER) {
		if (l->n >= AUTH_QUEUE)
			refused = AUTH_BUSY;
	} else {
		per_addr = addr_count(h, j->addr, true);
		if (!per_addr)
			refused = AUTH_BUSY; /* not reached: see addrs */
		else if (*per_addr >= AUTH_PER_ADDR)
			refused = AUTH_LIMITED;
		else if (l->n >= AUTH_QUEUE &&
			 !make_room(h, addr_fails(h, j->addr, cs_mono_ms()), *per_addr))
			refused = AUTH_BUSY;
	}
	if (refused != AUTH_OK && h->auth_stopping) {
		pthread_mutex_unlock(&h->auth_lock);
		auth_job_free(j);
		return refused;
	}
	if (refused != AUTH_OK) {
		MHD_suspend_connection(conn);
		tarpit_add(h, j,
			   refused == AUTH_LIMITED ? MHD_HTTP_TOO_MANY_REQUESTS
						   : MHD_HTTP_SERVICE_UNAVAILABLE);
		*req_cls = j;
		pthread_mutex_unlock(&h->auth_lock);
		mark_busy(h, conn, false);
		return AUTH_PENDING;
	}
	if (per_addr)
		(*per_addr)++;
	MHD_suspend_connection(conn);
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
	*req_cls = j;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&h->auth_lock);
	return AUTH_PENDING;
}

/* libmicrohttpd asks for a client certificate when given a trust list but
 * leaves judging it to us, as exporter-toolkit's client_auth_type does. The
 * mode is the start-up one, like the trust list it goes with. */
static bool client_cert_ok(struct http *h, struct MHD_Connection *conn)
{
	if (!h->tls)
		return true;
	enum webcfg_client_auth mode = h->client_auth;
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

static enum MHD_Result deny(const struct http *h, struct MHD_Connection *conn)
{
	static const char text[] = "Unauthorized\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	add_headers(h, r);
	enum MHD_Result ret = MHD_queue_basic_auth_fail_response(conn, "cs_exporter", r);
	MHD_destroy_response(r);
	return ret;
}

/* 503 when the queue of checks is full, 429 when the client's address has
 * AUTH_PER_ADDR checks in it. */
static enum MHD_Result busy(const struct http *h, struct MHD_Connection *conn, unsigned status)
{
	static const char text[] = "Too many authentication attempts, retry later\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	add_headers(h, r);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
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
		mark_busy(h, conn, true);
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (*req_cls != &headers_seen) {
		/* Resumed after a hashing thread checked the credentials, or from
		 * the tarpit. */
		struct auth_job *j = *req_cls;
		pthread_mutex_lock(&h->auth_lock);
		bool ok = j->done && j->ok;
		unsigned status = j->status;
		pthread_mutex_unlock(&h->auth_lock);
		if (status)
			return busy(h, conn, status);
		if (!ok)
			return deny(h, conn);
	} else {
		unsigned gen = 0;
		struct webcfg *web = web_current(h, &gen);
		if (!client_cert_ok(h, conn)) {
			webcfg_free(web);
			return queue_text(h, conn, MHD_HTTP_FORBIDDEN,
					  "Client certificate required\n", NULL);
		}
		switch (authorise(h, conn, req_cls, url, web, gen)) {
		case AUTH_OK:
			break;
		case AUTH_PENDING:
			return MHD_YES;
		case AUTH_DENIED:
			return deny(h, conn);
		case AUTH_BUSY:
			return busy(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE);
		case AUTH_LIMITED:
			return busy(h, conn, MHD_HTTP_TOO_MANY_REQUESTS);
		}
	}

	if (strcmp(url, h->opts.metrics_path) == 0) {
		if (!get)
			return queue_text(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "Method Not Allowed\n", "GET, HEAD");
		return serve_metrics(h, conn);
	}
	if (strcmp(url, "/-/reload") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_PUT) != 0)
			return queue_text(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "Only POST or PUT requests allowed\n", "POST, PUT");
		if (!h->opts.enable_reload || !h->opts.reload)
			return queue_text(h, conn, MHD_HTTP_FORBIDDEN,
					  "Reload endpoint disabled: start with "
					  "--web.enable-lifecycle\n",
					  NULL);
		char err[1024] = "";
		char msg[1100];
		if (h->opts.reload(h->opts.reload_ctx, err, sizeof(err)) == 0)
			return queue_text(h, conn, MHD_HTTP_OK, "config reloaded\n", NULL);
		snprintf(msg, sizeof(msg), "failed to reload config: %s\n", err);
		return queue_text(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg, NULL);
	}
	if (!get)
		return queue_text(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n",
				  "GET, HEAD");
	if (strcmp(url, "/") == 0)
		return serve_status(h, conn);
	if (strcmp(url, "/-/healthy") == 0)
		return queue_text(h, conn, MHD_HTTP_OK, "Healthy\n", NULL);
	if (strcmp(url, "/-/ready") == 0) {
		if (snapshot_ready(h->snap))
			return queue_text(h, conn, MHD_HTTP_OK, "Ready\n", NULL);
		return queue_text(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "Not ready: not every collector has succeeded yet\n", NULL);
	}
	return queue_text(h, conn, MHD_HTTP_NOT_FOUND, "Not Found\n", NULL);
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
	if (!h->tls_web || !webcfg_has_tls(h->tls_web))
		return 0;
	if (webcfg_read_pem(h->tls_web, &h->pem, err, errlen) < 0)
		return -1;
	/* the very bytes libmicrohttpd gets, matched before it does */
	int64_t not_after = 0;
	if (webcfg_check_pem(h->tls_web, &h->pem, &not_after, err, errlen) < 0)
		return -1;
	webcfg_log_expiry(h->tls_web, not_after, (int64_t)time(NULL));
	snapshot_tls_expiry(h->snap, (double)not_after);
	return 1;
}

bool http_listen_address_valid(const char *addr)
{
	struct sockaddr_storage ss;
	unsigned len;
	return http_parse_listen(addr, &ss, &len) == 0;
}

/* Opens a listening socket, so that a failure says why (libmicrohttpd only
 * says that it failed). An IPv6 wildcard also takes IPv4 and falls back to
 * IPv4 alone on a host without IPv6. */
static int open_listener(struct sockaddr_storage *ss, unsigned len, char *why, size_t whylen)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && ss->ss_family == AF_INET6 && errno == EAFNOSUPPORT &&
	    memcmp(&((struct sockaddr_in6 *)ss)->sin6_addr, &in6addr_any, sizeof(in6addr_any)) ==
		0) {
		uint16_t port = ((struct sockaddr_in6 *)ss)->sin6_port;
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		memset(ss, 0, sizeof(*ss));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*s4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)ss, len) != 0 || listen(fd, 128) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Each connection costs a descriptor for its socket and one for the
 * deadline watch: raise the soft limit when it is lower than that. */
static void raise_fd_limit(size_t nlisten)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)(CONNECTION_LIMIT + CONNECTION_SPARE * nlisten) * 2 + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

struct http *http_start(const struct http_opts *opts, struct snapshot *snap, bool *bad_config,
			char *err, size_t errlen)
{
	struct http *h = xcalloc(1, sizeof(*h));
	*bad_config = false;
	h->opts = *opts;
	/* The config these may point into is replaced on reload. */
	h->opts.metrics_path = h->metrics_path = xstrdup(opts->metrics_path);
	h->opts.web_config_file = h->web_config_file =
	    opts->web_config_file ? xstrdup(opts->web_config_file) : NULL;
	h->opts.listen = NULL;
	h->opts.listen_fds = NULL;
	h->snap = snap;
	pthread_mutex_init(&h->resp_lock, NULL);
	pthread_mutex_init(&h->auth_lock, NULL);
	for (int i = 0; i < 2; i++) {
		h->lane[i].h = h;
		pthread_cond_init(&h->lane[i].cond, NULL);
	}
	pthread_mutex_init(&h->watch_lock, NULL);
	pthread_cond_init(&h->watch_cond, NULL);
	if (opts->web_config_file) {
		h->web = webcfg_watch_start(opts->web_config_file, WEB_POLL_MS, err, errlen);
		if (!h->web) {
			*bad_config = true;
			http_stop(h);
			return NULL;
		}
		h->tls_web = webcfg_watch_current(h->web, NULL);
	}
	int tls = setup_tls(h, err, errlen);
	if (tls < 0) {
		*bad_config = true;
		http_stop(h);
		return NULL;
	}
	h->tls = tls > 0;
	if (h->tls)
		h->client_auth = webcfg_client_auth(h->tls_web);
	for (size_t i = 0; i < opts->nlisten && i < MAX_LISTEN; i++) {
		if (!http_listen_address_valid(opts->listen[i])) {
			snprintf(err, errlen,
				 "invalid listen address \"%s\" (expected host:port, [v6]:port or "
				 ":port, port 0-65535)",
				 opts->listen[i]);
			*bad_config = true;
			http_stop(h);
			return NULL;
		}
	}
	bool inherited = opts->nlisten_fds > 0;
	size_t nlisten = inherited ? opts->nlisten_fds : opts->nlisten;
	if (nlisten > MAX_LISTEN)
		nlisten = MAX_LISTEN;
	raise_fd_limit(nlisten);
	for (int i = 0; i < 2; i++)
		h->lane[i].started =
		    pthread_create(&h->lane[i].thread, NULL, hasher_main, &h->lane[i]) == 0;
	if (pthread_create(&h->watchdog, NULL, watchdog_main, h) == 0)
		h->watchdog_started = true;
	if (!h->lane[LANE_KNOWN].started || !h->lane[LANE_OTHER].started || !h->watchdog_started) {
		snprintf(err, errlen, "could not start a thread");
		http_stop(h);
		return NULL;
	}
	for (size_t i = 0; i < nlisten; i++) {
		/* what the logs and errors call this listener */
		char label[300];
		int fd;
		if (inherited) {
			fd = opts->listen_fds[i];
			sdlisten_describe(fd, label, sizeof(label));
		} else {
			struct sockaddr_storage ss;
			unsigned len;
			http_parse_listen(opts->listen[i], &ss, &len);
			char why[256];
			fd = open_listener(&ss, len, why, sizeof(why));
			if (fd < 0) {
				snprintf(err, errlen, "could not listen on \"%s\": %s",
					 opts->listen[i], why);
				http_stop(h);
				return NULL;
			}
			snprintf(label, sizeof(label), "%s", opts->listen[i]);
		}
		unsigned flags =
		    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
		/* Packed without gaps: libmicrohttpd stops at the first
		 * MHD_OPTION_END, so an unset trust list must not leave one
		 * in front of the priorities. */
		struct MHD_OptionItem tls_opts[5];
		size_t nt = 0;
		if (tls > 0) {
			tls_opts[nt++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->pem.cert};
			tls_opts[nt++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->pem.key};
			if (h->pem.ca)
				tls_opts[nt++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST,
									 0, h->pem.ca};
			tls_opts[nt++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
						    (void *)webcfg_gnutls_priorities(h->tls_web)};
			flags |= MHD_USE_TLS;
		}
		tls_opts[nt] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
		h->d[h->nd] = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_SLOTS,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
		    on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY,
		    tls_opts, MHD_OPTION_END);
		if (!h->d[h->nd]) {
			/* fd is left open: whether libmicrohttpd closed it is not known */
			snprintf(err, errlen,
				 "could not listen on \"%s\": the HTTP server did not start",
				 label);
			http_stop(h);
			return NULL;
		}
		h->nd++;
		char fdstr[16];
		snprintf(fdstr, sizeof(fdstr), "%d", fd);
		if (inherited)
			logx(LOG_INFO, "listening", "address", label, "tls",
			     tls > 0 ? "true" : "false", "systemd_socket_fd", fdstr, NULL);
		else
			logx(LOG_INFO, "listening", "address", label, "tls",
			     tls > 0 ? "true" : "false", NULL);
	}
	return h;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	/* Checks still queued are refused and their connections resumed before
	 * the daemons stop: libmicrohttpd must not be left with suspended
	 * connections. */
	pthread_mutex_lock(&h->auth_lock);
	h->auth_stopping = true;
	for (int i = 0; i < 2; i++)
		pthread_cond_broadcast(&h->lane[i].cond);
	pthread_mutex_unlock(&h->auth_lock);
	for (int i = 0; i < 2; i++)
		if (h->lane[i].started)
			pthread_join(h->lane[i].thread, NULL);
	/* The watchdog resumes tarpitted connections: it ends before the rest
	 * of the tarpit is resumed here, and both before the daemons stop. */
	pthread_mutex_lock(&h->watch_lock);
	h->watch_stopping = true;
	pthread_cond_broadcast(&h->watch_cond);
	pthread_mutex_unlock(&h->watch_lock);
	if (h->watchdog_started)
		pthread_join(h->watchdog, NULL);
	tarpit_release(h, true);
	for (size_t i = 0; i < h->nd; i++)
		MHD_stop_daemon(h->d[i]);
	drop_cached(h);
	pthread_mutex_destroy(&h->resp_lock);
	webcfg_watch_stop(h->web);
	webcfg_free(h->tls_web);
	webcfg_pem_release(&h->pem);
	free(h->metrics_path);
	free(h->web_config_file);
	pthread_mutex_destroy(&h->auth_lock);
	for (int i = 0; i < 2; i++)
		pthread_cond_destroy(&h->lane[i].cond);
	pthread_mutex_destroy(&h->watch_lock);
	pthread_cond_destroy(&h->watch_cond);
	free(h);
}
