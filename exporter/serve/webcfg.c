/*
 * webcfg: loading and using the exporter-toolkit style web configuration.
 */
#include "webcfg.h"

#include <crypt.h>
#include <errno.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "config/config.h"

struct user {
	char *name;
	char *hash;
};

struct header {
	char *name;
	char *value;
};

struct webcfg {
	atomic_int refs;
	char *cert_file;
	char *key_file;
	char *client_ca_file;
	enum webcfg_client_auth client_auth;
	enum webcfg_tls_version min_version, max_version;
	char *path;	  /* of the file, for relative names in it */
	char *priorities; /* GnuTLS: versions, cipher suites, curves */
	struct user *users;
	size_t nusers;
	struct header *headers; /* http_server_config.headers */
	size_t nheaders;
	char **excluded; /* basic_auth_excluded_paths */
	size_t nexcluded;
	/* bcrypt setting used for unknown users: same cost as the real hashes */
	char dummy[64];
};

/*
 * Salt of a throwaway bcrypt hash; with the cost digits replaced it makes a
 * setting that costs the same as the users' hashes but matches no password
 * anyone knows.
 */
static const char DUMMY_SALT[] = "hLyJ8sqiYviseYLgpUCniu";

static const char *const client_auth_names[] = {
    [WEBCFG_NO_CLIENT_CERT] = "NoClientCert",
    [WEBCFG_REQUIRE_ANY_CLIENT_CERT] = "RequireAnyClientCert",
    [WEBCFG_VERIFY_CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
    [WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT] = "RequireAndVerifyClientCert",
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Resolves a file named in the config against the config's own directory. */
static char *resolve(const char *cfgpath, const char *file)
{
	const char *slash = strrchr(cfgpath, '/');
	if (file[0] == '/' || !slash)
		return xstrdup(file);
	struct buf b = BUF_INIT;
	buf_add(&b, cfgpath, (size_t)(slash - cfgpath) + 1);
	buf_adds(&b, file);
	return buf_detach(&b, NULL);
}

/* PEM files are small; a bigger file is a misconfiguration, not a certificate. */
#define MAX_PEM_SIZE (16 * 1024 * 1024)

/* Reads a whole regular file of at most max bytes into a NUL-terminated
 * string; its length (which may count NUL bytes) into *len unless NULL. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO named by mistake must not hang the open */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: could not open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	struct buf b = BUF_INIT;
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "%s: could not read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t)n);
		if (b.len > max) {
			set_err(err, errlen, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	close(fd);
	return buf_detach(&b, len);
fail:
	close(fd);
	buf_release(&b);
	return NULL;
}

static bool readable(const char *path, char *why, size_t whylen)
{
	char *s = read_file(path, MAX_PEM_SIZE, NULL, why, whylen);
	if (!s)
		return false;
	free(s);
	return true;
}

/* "$2a$", "$2b$" or "$2y$", two cost digits 04..31, "$", 53 bcrypt base64 characters. */
static int bcrypt_cost(const char *h)
{
	static const char b64[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || !h[2] ||
	    h[3] != '$' || h[6] != '$')
		return -1;
	if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return -1;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return -1;
	for (size_t i = 7; i < 60; i++)
		if (!strchr(b64, h[i]))
			return -1;
	return cost;
}

/* ---- one tree for both syntaxes ----------------------------------------- */

/*
 * The file is read into this small tree whatever its syntax (libconfig or
 * YAML), so that both get the same checks and the same messages. Every node
 * knows its file and line.
 */
enum wkind { WN_MAP, WN_SEQ, WN_STR, WN_BOOL, WN_NULL, WN_OTHER };

struct wnode {
	enum wkind kind;
	char *key;  /* in the parent map, else NULL */
	char *text; /* WN_STR: the string; WN_BOOL: "true" or "false" */
	char *file;
	unsigned line;
	struct wnode *kids;
	size_t nkids, cap;
};

/*
 * Limits that keep a hostile file cheap to refuse: a real web config is a
 * few kilobytes and four levels deep (file, tls_server_config,
 * cipher_suites, a suite). Parsing stops at the 17th level, so the cost
 * of a file grows with its size, never with the square of its depth.
 */
#define MAX_DEPTH	16
#define MAX_WEBCFG_SIZE (1024 * 1024)

static void wnode_release(struct wnode *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		wnode_release(&n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->text);
	free(n->file);
}

static struct wnode *wnode_add(struct wnode *parent)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kids = xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	struct wnode *k = &parent->kids[parent->nkids++];
	memset(k, 0, sizeof(*k));
	return k;
}

static void node_err(char *err, size_t errlen, const struct wnode *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void node_err(char *err, size_t errlen, const struct wnode *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(err, errlen, "%s:%u: %s", n->file, n->line, msg);
}

static const char *const TOP_KEYS[] = {"tls_server_config", "http_server_config",
				       "basic_auth_users", "basic_auth_excluded_paths"};

static bool top_key_known(const char *name)
{
	for (size_t i = 0; i < sizeof(TOP_KEYS) / sizeof(TOP_KEYS[0]); i++)
		if (strcmp(name, TOP_KEYS[i]) == 0)
			return true;
	return false;
}

static void unknown_top_key(char *err, size_t errlen, const struct wnode *n)
{
	node_err(err, errlen, n,
		 "unknown key %s (expected tls_server_config, http_server_config, "
		 "basic_auth_users or basic_auth_excluded_paths)",
		 n->key);
}

struct keyref {
	const char *key;
	size_t at;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/*
 * A key given twice in one mapping is an error (YAML 1.2 says keys are
 * unique; libconfig refuses it too): which one wins is not obvious to
 * whoever edits the file. Reports the repetition nearest the top of the
 * file. Sorting keeps this O(n log n) in the number of keys.
 */
static bool check_dups(const struct wnode *map, char *err, size_t errlen)
{
	if (map->nkids < 2)
		return true;
	struct keyref *r = xcalloc(map->nkids, sizeof(*r));
	for (size_t i = 0; i < map->nkids; i++)
		r[i] = (struct keyref){map->kids[i].key ? map->kids[i].key : "", i};
	qsort(r, map->nkids, sizeof(*r), keyref_cmp);
	size_t first = 0, second = SIZE_MAX;
	for (size_t i = 1; i < map->nkids; i++) {
		/* r[i - 1] is the first of its key when the one before differs */
		if (strcmp(r[i].key, r[i - 1].key) == 0 &&
		    (i < 2 || strcmp(r[i - 2].key, r[i].key)) && r[i].at < second) {
			second = r[i].at;
			first = r[i - 1].at;
		}
	}
	free(r);
	if (second == SIZE_MAX)
		return true;
	node_err(err, errlen, &map->kids[second], "duplicate key %s (first at line %u)",
		 map->kids[second].key, map->kids[first].line);
	return false;
}

static bool from_libconfig(const config_setting_t *s, const char *path, struct wnode *n,
			   unsigned depth, char *err, size_t errlen)
{
	const char *file = config_setting_source_file(s);
	n->file = xstrdup(file ? file : path);
	n->line = config_setting_source_line(s);
	if (config_setting_name(s))
		n->key = xstrdup(config_setting_name(s));
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		n->kind = WN_MAP;
		break;
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		n->kind = WN_SEQ;
		break;
	case CONFIG_TYPE_STRING:
		n->kind = WN_STR;
		n->text = xstrdup(config_setting_get_string(s));
		return true;
	case CONFIG_TYPE_BOOL:
		n->kind = WN_BOOL;
		n->text = xstrdup(config_setting_get_bool(s) ? "true" : "false");
		return true;
	default:
		n->kind = WN_OTHER;
		return true;
	}
	if (depth > MAX_DEPTH) {
		node_err(err, errlen, n, "nested deeper than %d levels", MAX_DEPTH);
		return false;
	}
	for (int i = 0; i < config_setting_length(s); i++)
		if (!from_libconfig(config_setting_get_elem(s, (unsigned)i), path, wnode_add(n),
				    depth + 1, err, errlen))
			return false;
	return n->kind != WN_MAP || check_dups(n, err, errlen);
}

static bool read_libconfig(const char *path, struct wnode *root, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > MAX_WEBCFG_SIZE) {
		set_err(err, errlen, "%s:0: could not read web config: larger than %d bytes", path,
			MAX_WEBCFG_SIZE);
		return false;
	}
	config_t lc;
	config_init(&lc);
	/* @include paths are relative to this file's directory, as in the
	 * main configuration. */
	char *dir = NULL;
	const char *slash = strrchr(path, '/');
	if (slash) {
		dir = xstrdup(path);
		dir[slash == path ? 1 : (size_t)(slash - path)] = '\0';
		config_set_include_dir(&lc, dir);
	}
	bool ok = config_read_file(&lc, path);
	if (!ok) {
		/* A missing @include is a FILE_IO error too, but with the line
		 * of the directive: report that, not the (stale) errno. */
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO && config_error_line(&lc) == 0)
			set_err(err, errlen, "%s:0: could not read web config: %s", path,
				strerror(errno));
		else
			config_format_parse_error(
			    config_error_file(&lc) ? config_error_file(&lc) : path,
			    config_error_line(&lc), config_error_text(&lc), dir, err, errlen);
	} else {
		ok = from_libconfig(config_root_setting(&lc), path, root, 1, err, errlen);
		root->line = 1;
	}
	config_destroy(&lc);
	free(dir);
	return ok;
}

/*
 * YAML is read event by event, not with libyaml's document loader: the
 * loader would accept aliases (a 1 KB file of ten levels of ten aliases
 * expands to 10^10 nodes), and a tree is only checked once it is whole.
 * Here anchors and aliases are refused where they appear, nesting stops at
 * MAX_DEPTH, a top-level key is judged before its value is read, and keys
 * repeated in a mapping are refused.
 */
struct yreader {
	yaml_parser_t p;
	const char *path;
	char *err;
	size_t errlen;
};

static bool y_next(struct yreader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->p, ev))
		return true;
	set_err(r->err, r->errlen, "%s:%zu: %s%s%s", r->path, r->p.problem_mark.line + 1,
		r->p.problem ? r->p.problem : "YAML error", r->p.context ? " " : "",
		r->p.context ? r->p.context : "");
	return false;
}

/* Reads the node that starts with ev (deleted here) into n. */
static bool y_node(struct yreader *r, yaml_event_t *ev, struct wnode *n, unsigned depth)
{
	n->file = xstrdup(r->path);
	n->line = (unsigned)ev->start_mark.line + 1;
	const yaml_char_t *anchor = NULL;
	bool ok = false;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		node_err(r->err, r->errlen, n, "aliases (*%s) are not supported",
			 (const char *)ev->data.alias.anchor);
		goto out;
	case YAML_SCALAR_EVENT: {
		anchor = ev->data.scalar.anchor;
		const char *v = (const char *)ev->data.scalar.value;
		bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (plain && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
			n->kind = WN_BOOL;
		else if (plain && (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0))
			n->kind = WN_NULL;
		else
			n->kind = WN_STR;
		n->text = xstrdup(v);
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		n->kind = WN_SEQ;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		n->kind = WN_MAP;
		break;
	default:
		node_err(r->err, r->errlen, n, "unexpected YAML event");
		goto out;
	}
	if (anchor) {
		node_err(r->err, r->errlen, n, "anchors (&%s) are not supported",
			 (const char *)anchor);
		goto out;
	}
	if (n->kind != WN_SEQ && n->kind != WN_MAP) {
		ok = true;
		goto out;
	}
	if (depth > MAX_DEPTH) {
		node_err(r->err, r->errlen, n, "nested deeper than %d levels", MAX_DEPTH);
		goto out;
	}
	yaml_event_type_t end =
	    n->kind == WN_SEQ ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT;
	for (;;) {
		yaml_event_t kev;
		if (!y_next(r, &kev))
			goto out;
		if (kev.type == end) {
			yaml_event_delete(&kev);
			break;
		}
		if (n->kind == WN_SEQ) {
			if (!y_node(r, &kev, wnode_add(n), depth + 1))
				goto out;
			continue;
		}
		struct wnode *kid = wnode_add(n);
		kid->file = xstrdup(r->path);
		kid->line = (unsigned)kev.start_mark.line + 1; /* a value's line is its key's */
		if (kev.type != YAML_SCALAR_EVENT || kev.data.scalar.anchor) {
			node_err(r->err, r->errlen, kid, "keys must be strings");
			yaml_event_delete(&kev);
			goto out;
		}
		kid->key = xstrdup((const char *)kev.data.scalar.value);
		yaml_event_delete(&kev);
		if (depth == 1 && !top_key_known(kid->key)) {
			unknown_top_key(r->err, r->errlen, kid);
			goto out;
		}
		yaml_event_t vev;
		if (!y_next(r, &vev))
			goto out;
		unsigned line = kid->line;
		free(kid->file);
		kid->file = NULL;
		if (!y_node(r, &vev, kid, depth + 1))
			goto out;
		kid->line = line;
	}
	ok = n->kind != WN_MAP || check_dups(n, r->err, r->errlen);
out:
	yaml_event_delete(ev);
	return ok;
}

static bool read_yaml(const char *path, struct wnode *root, char *err, size_t errlen)
{
	char why[512];
	size_t len = 0;
	char *text = read_file(path, MAX_WEBCFG_SIZE, &len, why, sizeof(why));
	if (!text) {
		set_err(err, errlen, "%s:0: could not read web config: %s", path, why);
		return false;
	}
	struct yreader r = {.path = path, .err = err, .errlen = errlen};
	yaml_parser_initialize(&r.p);
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
	bool ok = false, have_root = false;
	yaml_event_t ev;
	while (y_next(&r, &ev)) {
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			ok = true;
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && have_root) {
			set_err(err, errlen, "%s:%zu: more than one YAML document", path,
				ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT ||
		    t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		have_root = true;
		if (!y_node(&r, &ev, root, 1))
			break;
	}
	if (ok && !have_root) { /* an empty file */
		root->kind = WN_MAP;
		root->file = xstrdup(path);
		root->line = 1;
	}
	yaml_parser_delete(&r.p);
	free(text);
	return ok;
}

/* ---- checks ------------------------------------------------------------ */

static const struct wnode *str_of(const struct wnode *n, const char *what, char *err, size_t errlen)
{
	if (n->kind != WN_STR) {
		node_err(err, errlen, n, "%s must be a string", what);
		return NULL;
	}
	return n;
}

static int tls_version(const struct wnode *n, const char *name, char *err, size_t errlen)
{
	const char *v = n->text;
	if (n->kind != WN_STR || strncmp(v, "TLS1", 4) != 0 || v[4] < '0' || v[4] > '3' || v[5]) {
		node_err(err, errlen, n,
			 "invalid %s \"%s\" (expected TLS10, TLS11, TLS12 or TLS13)", name,
			 n->text ? n->text : "");
		return -1;
	}
	return 10 + (v[4] - '0');
}

/* Go's names of the TLS 1.0-1.2 cipher suites, as GnuTLS key exchange,
 * cipher and MAC. */
static const struct {
	const char *go, *kx, *cipher, *mac;
} SUITES[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
};

static const struct {
	const char *go, *group;
} CURVES[] = {
    {"CurveP256", "SECP256R1"},
    {"CurveP384", "SECP384R1"},
    {"CurveP521", "SECP521R1"},
    {"X25519", "X25519"},
};

/* Appends "+item" to b unless it is there already. */
static void add_once(struct buf *b, const char *item)
{
	char tok[64];
	snprintf(tok, sizeof(tok), ":+%s:", item);
	struct buf probe = BUF_INIT;
	buf_addf(&probe, "%s:", b->data ? b->data : "");
	bool have = strstr(probe.data, tok) != NULL;
	buf_release(&probe);
	if (!have)
		buf_addf(b, ":+%s", item);
}

static bool load_tls_lists(struct webcfg *cfg, const struct wnode *suites,
			   const struct wnode *curves, char *err, size_t errlen)
{
	struct buf kx = BUF_INIT, ciph = BUF_INIT, mac = BUF_INIT, grp = BUF_INIT;
	bool ok = false;
	for (size_t i = 0; suites && i < suites->nkids; i++) {
		const struct wnode *s = &suites->kids[i];
		size_t k;
		for (k = 0; k < sizeof(SUITES) / sizeof(SUITES[0]); k++)
			if (s->kind == WN_STR && strcmp(s->text, SUITES[k].go) == 0)
				break;
		if (k == sizeof(SUITES) / sizeof(SUITES[0])) {
			/* TLS 1.3 suites are not configurable, in Go either */
			if (s->kind == WN_STR &&
			    (strcmp(s->text, "TLS_AES_128_GCM_SHA256") == 0 ||
			     strcmp(s->text, "TLS_AES_256_GCM_SHA384") == 0 ||
			     strcmp(s->text, "TLS_CHACHA20_POLY1305_SHA256") == 0))
				continue;
			node_err(err, errlen, s, "unknown or unsupported cipher suite \"%s\"",
				 s->text ? s->text : "");
			goto out;
		}
		add_once(&kx, SUITES[k].kx);
		add_once(&ciph, SUITES[k].cipher);
		add_once(&mac, SUITES[k].mac);
	}
	for (size_t i = 0; curves && i < curves->nkids; i++) {
		const struct wnode *c = &curves->kids[i];
		size_t k;
		for (k = 0; k < sizeof(CURVES) / sizeof(CURVES[0]); k++)
			if (c->kind == WN_STR && strcmp(c->text, CURVES[k].go) == 0)
				break;
		if (k == sizeof(CURVES) / sizeof(CURVES[0])) {
			node_err(
			    err, errlen, c,
			    "unknown curve \"%s\" (expected CurveP256, CurveP384, CurveP521 or "
			    "X25519)",
			    c->text ? c->text : "");
			goto out;
		}
		char g[32];
		snprintf(g, sizeof(g), "GROUP-%s", CURVES[k].group);
		add_once(&grp, g);
	}
	struct buf p = BUF_INIT;
	buf_adds(&p, "NORMAL:-VERS-ALL");
	for (int v = 13; v >= 10; v--)
		if (v >= (int)cfg->min_version && v <= (int)cfg->max_version)
			buf_addf(&p, ":+VERS-TLS1.%d", v - 10);
	if (kx.len) {
		/* TLS 1.3 needs its own AEAD ciphers whatever the 1.2 list says. */
		add_once(&ciph, "AES-128-GCM");
		add_once(&ciph, "AES-256-GCM");
		add_once(&ciph, "CHACHA20-POLY1305");
		add_once(&mac, "AEAD");
		buf_addf(&p, ":-KX-ALL%s:-CIPHER-ALL%s:-MAC-ALL%s", kx.data, ciph.data, mac.data);
	}
	if (grp.len)
		buf_addf(&p, ":-GROUP-ALL%s", grp.data);
	free(cfg->priorities);
	cfg->priorities = buf_detach(&p, NULL);
	ok = true;
out:
	buf_release(&kx);
	buf_release(&ciph);
	buf_release(&mac);
	buf_release(&grp);
	return ok;
}

static bool load_tls(struct webcfg *cfg, const struct wnode *g, char *err, size_t errlen)
{
	if (g->kind != WN_MAP) {
		node_err(err, errlen, g, "tls_server_config must be a group");
		return false;
	}
	const struct wnode *cert = NULL, *key = NULL, *ca = NULL, *auth = NULL, *minv = NULL,
			   *maxv = NULL, *suites = NULL, *curves = NULL;
	for (size_t i = 0; i < g->nkids; i++) {
		const struct wnode *s = &g->kids[i];
		const char *name = s->key;
		if (strcmp(name, "cipher_suites") == 0 || strcmp(name, "curve_preferences") == 0) {
			if (s->kind != WN_SEQ) {
				node_err(err, errlen, s, "tls_server_config.%s must be a list",
					 name);
				return false;
			}
			*(name[0] == 'c' && name[1] == 'i' ? &suites : &curves) = s;
			continue;
		}
		if (strcmp(name, "prefer_server_cipher_suites") == 0) {
			/* GnuTLS servers follow their own order, as Go's default */
			if (s->kind != WN_BOOL) {
				node_err(err, errlen, s,
					 "tls_server_config.%s must be true or false", name);
				return false;
			}
			continue;
		}
		if (strcmp(name, "cert") == 0 || strcmp(name, "key") == 0 ||
		    strcmp(name, "client_ca") == 0 || strcmp(name, "client_allowed_sans") == 0) {
			node_err(err, errlen, s,
				 "tls_server_config.%s is not supported by cs_exporter (use "
				 "cert_file, key_file, client_ca_file)",
				 name);
			return false;
		}
		const struct wnode **slot = strcmp(name, "cert_file") == 0	    ? &cert
					    : strcmp(name, "key_file") == 0	    ? &key
					    : strcmp(name, "client_ca_file") == 0   ? &ca
					    : strcmp(name, "client_auth_type") == 0 ? &auth
					    : strcmp(name, "min_version") == 0	    ? &minv
					    : strcmp(name, "max_version") == 0	    ? &maxv
										    : NULL;
		if (!slot) {
			node_err(err, errlen, s, "unknown key tls_server_config.%s", name);
			return false;
		}
		char what[64];
		snprintf(what, sizeof(what), "tls_server_config.%s", name);
		if (!str_of(s, what, err, errlen))
			return false;
		*slot = s;
	}
	if (auth) {
		size_t k;
		for (k = 0; k < 4; k++)
			if (strcmp(auth->text, client_auth_names[k]) == 0)
				break;
		if (k == 4) {
			node_err(err, errlen, auth,
				 "invalid client_auth_type \"%s\" (expected NoClientCert, "
				 "RequireAnyClientCert, VerifyClientCertIfGiven or "
				 "RequireAndVerifyClientCert)",
				 auth->text);
			return false;
		}
		cfg->client_auth = (enum webcfg_client_auth)k;
	}
	int v;
	if (minv && (v = tls_version(minv, "min_version", err, errlen)) < 0)
		return false;
	if (minv)
		cfg->min_version = (enum webcfg_tls_version)v;
	if (maxv && (v = tls_version(maxv, "max_version", err, errlen)) < 0)
		return false;
	if (maxv)
		cfg->max_version = (enum webcfg_tls_version)v;
	if (cfg->max_version < cfg->min_version) {
		node_err(err, errlen, maxv ? maxv : minv, "max_version is below min_version");
		return false;
	}
	if ((cert == NULL) != (key == NULL)) {
		node_err(err, errlen, cert ? cert : key,
			 "cert_file and key_file must both be set or both be unset");
		return false;
	}
	if (!cert && (ca || auth)) {
		node_err(err, errlen, ca ? ca : auth,
			 "client certificates need TLS: set cert_file and key_file");
		return false;
	}
	bool verify = cfg->client_auth == WEBCFG_VERIFY_CLIENT_CERT_IF_GIVEN ||
		      cfg->client_auth == WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT;
	if (verify && !ca) {
		node_err(err, errlen, auth, "client_auth_type %s needs client_ca_file",
			 client_auth_names[cfg->client_auth]);
		return false;
	}
	if (ca && cfg->client_auth == WEBCFG_NO_CLIENT_CERT) {
		node_err(err, errlen, ca,
			 "client_ca_file is set but client_auth_type is NoClientCert");
		return false;
	}
	if (!load_tls_lists(cfg, suites, curves, err, errlen))
		return false;
	const struct wnode *files[] = {cert, key, ca};
	char **dst[] = {&cfg->cert_file, &cfg->key_file, &cfg->client_ca_file};
	for (size_t i = 0; i < 3; i++) {
		if (!files[i])
			continue;
		*dst[i] = resolve(cfg->path, files[i]->text);
		char why[512];
		if (!readable(*dst[i], why, sizeof(why))) {
			node_err(err, errlen, files[i], "%s", why);
			return false;
		}
	}
	return true;
}

static bool load_users(struct webcfg *cfg, const struct wnode *g, char *err, size_t errlen)
{
	if (g->kind != WN_MAP) {
		node_err(err, errlen, g,
			 "basic_auth_users must be a group of user = \"bcrypt hash\"");
		return false;
	}
	cfg->users = xcalloc(g->nkids + 1, sizeof(*cfg->users));
	int maxcost = 0;
	for (size_t i = 0; i < g->nkids; i++) {
		const struct wnode *s = &g->kids[i];
		int cost = s->kind == WN_STR ? bcrypt_cost(s->text) : -1;
		if (cost < 0) {
			node_err(
			    err, errlen, s,
			    "password of user \"%s\" is not a bcrypt hash ($2a$, $2b$ or $2y$)",
			    s->key);
			return false;
		}
		if (strlen(s->key) > WEBCFG_MAX_USER || strchr(s->key, ':')) {
			node_err(err, errlen, s,
				 "user name \"%s\" has a colon or is longer than %d bytes", s->key,
				 WEBCFG_MAX_USER);
			return false;
		}
		if (cost > maxcost)
			maxcost = cost;
		cfg->users[cfg->nusers].name = xstrdup(s->key);
		cfg->users[cfg->nusers].hash = xstrdup(s->text);
		cfg->nusers++;
	}
	snprintf(cfg->dummy, sizeof(cfg->dummy), "$2b$%02d$%s", maxcost ? maxcost : 10, DUMMY_SALT);
	return true;
}

/* exporter-toolkit's security headers, with the values it accepts (NULL: any). */
static const struct {
	const char *name;
	const char *values[3];
} HEADERS[] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

static bool load_http(struct webcfg *cfg, const struct wnode *g, char *err, size_t errlen)
{
	if (g->kind != WN_MAP) {
		node_err(err, errlen, g, "http_server_config must be a group");
		return false;
	}
	for (size_t i = 0; i < g->nkids; i++) {
		const struct wnode *s = &g->kids[i];
		if (strcmp(s->key, "http2") == 0) {
			/* HTTP/1.1 only: accepted so that toolkit files load */
			if (s->kind != WN_BOOL) {
				node_err(err, errlen, s,
					 "http_server_config.http2 must be true or false");
				return false;
			}
			continue;
		}
		if (strcmp(s->key, "headers") != 0) {
			node_err(err, errlen, s, "unknown key http_server_config.%s", s->key);
			return false;
		}
		if (s->kind != WN_MAP) {
			node_err(err, errlen, s, "http_server_config.headers must be a group");
			return false;
		}
		cfg->headers = xcalloc(s->nkids + 1, sizeof(*cfg->headers));
		for (size_t k = 0; k < s->nkids; k++) {
			const struct wnode *h = &s->kids[k];
			size_t j;
			for (j = 0; j < sizeof(HEADERS) / sizeof(HEADERS[0]); j++)
				if (strcasecmp(h->key, HEADERS[j].name) == 0)
					break;
			if (j == sizeof(HEADERS) / sizeof(HEADERS[0])) {
				node_err(
				    err, errlen, h,
				    "header %s cannot be set (expected Strict-Transport-Security, "
				    "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection or "
				    "Content-Security-Policy)",
				    h->key);
				return false;
			}
			if (!str_of(h, h->key, err, errlen))
				return false;
			bool any = HEADERS[j].values[0] == NULL, fits = any;
			for (size_t v = 0; !any && HEADERS[j].values[v]; v++)
				fits |= strcasecmp(h->text, HEADERS[j].values[v]) == 0;
			if (!fits || strpbrk(h->text, "\r\n")) {
				node_err(err, errlen, h, "invalid value \"%s\" for header %s",
					 h->text, HEADERS[j].name);
				return false;
			}
			for (size_t k2 = 0; k2 < cfg->nheaders; k2++) {
				if (strcmp(cfg->headers[k2].name, HEADERS[j].name) == 0) {
					node_err(err, errlen, h, "header %s set twice",
						 HEADERS[j].name);
					return false;
				}
			}
			if (!h->text[0])
				continue; /* unset if blank */
			cfg->headers[cfg->nheaders].name = xstrdup(HEADERS[j].name);
			cfg->headers[cfg->nheaders].value = xstrdup(h->text);
			cfg->nheaders++;
		}
	}
	return true;
}

static bool load_excluded(struct webcfg *cfg, const struct wnode *g, char *err, size_t errlen)
{
	if (g->kind != WN_SEQ) {
		node_err(err, errlen, g, "basic_auth_excluded_paths must be a list of paths");
		return false;
	}
	cfg->excluded = xcalloc(g->nkids + 1, sizeof(*cfg->excluded));
	for (size_t i = 0; i < g->nkids; i++) {
		const struct wnode *s = &g->kids[i];
		if (s->kind != WN_STR || s->text[0] != '/') {
			node_err(err, errlen, s, "basic_auth_excluded_paths: \"%s\" is not a path",
				 s->text ? s->text : "");
			return false;
		}
		cfg->excluded[cfg->nexcluded++] = xstrdup(s->text);
	}
	return true;
}

static bool is_yaml(const char *path)
{
	size_t n = strlen(path);
	return (n > 4 && strcmp(path + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(path + n - 5, ".yaml") == 0);
}

struct webcfg *webcfg_load(const char *path, char *err, size_t errlen)
{
	struct webcfg *cfg = xcalloc(1, sizeof(*cfg));
	atomic_init(&cfg->refs, 1);
	cfg->path = xstrdup(path);
	cfg->client_auth = WEBCFG_NO_CLIENT_CERT;
	cfg->min_version = WEBCFG_TLS12;
	cfg->max_version = WEBCFG_TLS13;
	struct wnode root = {0};
	bool ok = is_yaml(path) ? read_yaml(path, &root, err, errlen)
				: read_libconfig(path, &root, err, errlen);
	if (!ok)
		goto fail;
	if (root.kind == WN_NULL)
		root.kind = WN_MAP; /* "---" alone */
	if (root.kind != WN_MAP) {
		node_err(err, errlen, &root, "the web config must be a mapping");
		goto fail;
	}
	for (size_t i = 0; i < root.nkids; i++) {
		const struct wnode *s = &root.kids[i];
		const char *name = s->key;
		if (!top_key_known(name)) {
			unknown_top_key(err, errlen, s);
			goto fail;
		}
		if (s->kind == WN_NULL) /* "key:" with nothing: empty */
			continue;
		if (strcmp(name, "tls_server_config") == 0)
			ok = load_tls(cfg, s, err, errlen);
		else if (strcmp(name, "basic_auth_users") == 0)
			ok = load_users(cfg, s, err, errlen);
		else if (strcmp(name, "http_server_config") == 0)
			ok = load_http(cfg, s, err, errlen);
		else
			ok = load_excluded(cfg, s, err, errlen);
		if (!ok)
			goto fail;
	}
	if (!cfg->priorities && !load_tls_lists(cfg, NULL, NULL, err, errlen))
		goto fail;
	wnode_release(&root);
	return cfg;
fail:
	wnode_release(&root);
	webcfg_free(cfg);
	return NULL;
}

struct webcfg *webcfg_ref(struct webcfg *cfg)
{
	atomic_fetch_add(&cfg->refs, 1);
	return cfg;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool webcfg_tls_equal(const struct webcfg *a, const struct webcfg *b)
{
	return same_str(a->cert_file, b->cert_file) && same_str(a->key_file, b->key_file) &&
	       same_str(a->client_ca_file, b->client_ca_file) && a->client_auth == b->client_auth &&
	       a->min_version == b->min_version;
}

void webcfg_free(struct webcfg *cfg)
{
	if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
		return;
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->client_ca_file);
	for (size_t i = 0; i < cfg->nusers; i++) {
		free(cfg->users[i].name);
		free(cfg->users[i].hash);
	}
	free(cfg->users);
	for (size_t i = 0; i < cfg->nheaders; i++) {
		free(cfg->headers[i].name);
		free(cfg->headers[i].value);
	}
	free(cfg->headers);
	for (size_t i = 0; i < cfg->nexcluded; i++)
		free(cfg->excluded[i]);
	free(cfg->excluded);
	free(cfg->path);
	free(cfg->priorities);
	free(cfg);
}

bool webcfg_has_tls(const struct webcfg *cfg)
{
	return cfg && cfg->cert_file;
}

const char *webcfg_cert_file(const struct webcfg *cfg)
{
	return cfg->cert_file;
}

const char *webcfg_key_file(const struct webcfg *cfg)
{
	return cfg->key_file;
}

const char *webcfg_client_ca_file(const struct webcfg *cfg)
{
	return cfg->client_ca_file;
}

enum webcfg_client_auth webcfg_client_auth(const struct webcfg *cfg)
{
	return cfg->client_auth;
}

enum webcfg_tls_version webcfg_min_version(const struct webcfg *cfg)
{
	return cfg->min_version;
}

const char *webcfg_gnutls_priorities(const struct webcfg *cfg)
{
	return cfg->priorities;
}

enum webcfg_tls_version webcfg_max_version(const struct webcfg *cfg)
{
	return cfg->max_version;
}

const char *webcfg_header(const struct webcfg *cfg, size_t i, const char **value)
{
	if (!cfg || i >= cfg->nheaders)
		return NULL;
	*value = cfg->headers[i].value;
	return cfg->headers[i].name;
}

bool webcfg_auth_excluded(const struct webcfg *cfg, const char *path)
{
	for (size_t i = 0; cfg && i < cfg->nexcluded; i++)
		if (strcmp(cfg->excluded[i], path) == 0)
			return true;
	return false;
}

int webcfg_read_pem(const struct webcfg *cfg, struct webcfg_pem *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!webcfg_has_tls(cfg)) {
		set_err(err, errlen, "no TLS configured");
		return -1;
	}
	if (!(out->cert = read_file(cfg->cert_file, MAX_PEM_SIZE, NULL, err, errlen)) ||
	    !(out->key = read_file(cfg->key_file, MAX_PEM_SIZE, NULL, err, errlen)) ||
	    (cfg->client_ca_file &&
	     !(out->ca = read_file(cfg->client_ca_file, MAX_PEM_SIZE, NULL, err, errlen)))) {
		webcfg_pem_release(out);
		return -1;
	}
	return 0;
}

void webcfg_pem_release(struct webcfg_pem *pem)
{
	if (pem->key) {
		/* volatile so the compiler cannot drop the wipe of memory about to be freed */
		volatile char *p = pem->key;
		while (*p)
			*p++ = '\0';
	}
	free(pem->cert);
	free(pem->key);
	free(pem->ca);
	memset(pem, 0, sizeof(*pem));
}

/* ---- the TLS files themselves ------------------------------------------- */

/* Imports every certificate of a PEM file; NULL with err when there is none
 * or one is malformed (a truncated file ends inside a certificate). */
static gnutls_x509_crt_t *import_certs(const char *file, const char *pem, unsigned *n, char *err,
				       size_t errlen)
{
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	gnutls_x509_crt_t *crts = NULL;
	*n = 0;
	int rc = gnutls_x509_crt_list_import2(&crts, n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || *n == 0) {
		set_err(err, errlen, "%s: not a PEM certificate (%s)", file,
			rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
		if (rc >= 0)
			gnutls_free(crts);
		*n = 0;
		return NULL;
	}
	return crts;
}

static void free_certs(gnutls_x509_crt_t *crts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

/* Whether a certificate may sign others: a version 3 one says so in its
 * basic constraints; a version 1 one is taken as a root, as GnuTLS does. */
static bool is_ca(gnutls_x509_crt_t crt)
{
	if (gnutls_x509_crt_get_version(crt) < 3)
		return true;
	unsigned critical = 0, ca = 0;
	int pathlen = 0;
	return gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) >= 0 && ca;
}

int webcfg_check_pem(const struct webcfg *cfg, const struct webcfg_pem *pem, int64_t *not_after,
		     char *err, size_t errlen)
{
	int ret = -1;
	unsigned ncrt = 0, nca = 0;
	gnutls_x509_crt_t *crts = NULL, *cas = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	if (!(crts = import_certs(cfg->cert_file, pem->cert, &ncrt, err, errlen)))
		goto out;
	gnutls_datum_t kd = {(unsigned char *)pem->key, (unsigned)strlen(pem->key)};
	int rc = gnutls_x509_privkey_init(&key);
	if (rc >= 0)
		rc = gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		set_err(err, errlen, "%s: not a PEM private key without a passphrase (%s)",
			cfg->key_file, gnutls_strerror(rc));
		goto out;
	}
	unsigned char id_crt[64], id_key[64];
	size_t lcrt = sizeof(id_crt), lkey = sizeof(id_key);
	if (gnutls_x509_crt_get_key_id(crts[0], 0, id_crt, &lcrt) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, id_key, &lkey) < 0 || lcrt != lkey ||
	    memcmp(id_crt, id_key, lcrt) != 0) {
		set_err(err, errlen, "%s: the private key in %s is not this certificate's",
			cfg->cert_file, cfg->key_file);
		goto out;
	}
	/* What libmicrohttpd will do with them, on a scratch credential. */
	gnutls_datum_t cd = {(unsigned char *)pem->cert, (unsigned)strlen(pem->cert)};
	if ((rc = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (rc = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL,
						       0)) < 0) {
		set_err(err, errlen, "%s, %s: %s", cfg->cert_file, cfg->key_file,
			gnutls_strerror(rc));
		goto out;
	}
	if (pem->ca) {
		if (!(cas = import_certs(cfg->client_ca_file, pem->ca, &nca, err, errlen)))
			goto out;
		for (unsigned i = 0; i < nca; i++) {
			if (is_ca(cas[i]))
				continue;
			gnutls_datum_t dn = {NULL, 0};
			gnutls_x509_crt_get_dn2(cas[i], &dn);
			set_err(err, errlen,
				"%s: certificate %u (%s) is not a CA certificate (its basic "
				"constraints do not say CA:TRUE)",
				cfg->client_ca_file, i + 1, dn.data ? (const char *)dn.data : "?");
			gnutls_free(dn.data);
			goto out;
		}
	}
	if (not_after)
		*not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crts[0]);
	ret = 0;
out:
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (key)
		gnutls_x509_privkey_deinit(key);
	free_certs(crts, ncrt);
	free_certs(cas, nca);
	return ret;
}

int webcfg_check_tls(const struct webcfg *cfg, int64_t *not_after, char *err, size_t errlen)
{
	if (!webcfg_has_tls(cfg))
		return 0;
	struct webcfg_pem pem;
	if (webcfg_read_pem(cfg, &pem, err, errlen) < 0)
		return -1;
	int rc = webcfg_check_pem(cfg, &pem, not_after, err, errlen);
	webcfg_pem_release(&pem);
	return rc;
}

void webcfg_log_expiry(const struct webcfg *cfg, int64_t not_after, int64_t now)
{
	char when[32], days[24];
	time_t t = (time_t)not_after;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (not_after <= now) {
		logx(LOG_ERROR, "the TLS server certificate has expired", "file", cfg->cert_file,
		     "not_after", when, NULL);
	} else if (not_after - now < WEBCFG_EXPIRY_WARN_DAYS * 86400) {
		snprintf(days, sizeof(days), "%.1f", (double)(not_after - now) / 86400.0);
		logx(LOG_WARN, "the TLS server certificate expires soon", "file", cfg->cert_file,
		     "not_after", when, "days_left", days, NULL);
	}
}

bool webcfg_has_auth(const struct webcfg *cfg)
{
	return cfg && cfg->nusers > 0;
}

/* Compares two strings in time that depends only on their lengths. */
static bool ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la > lb ? la : lb;
	unsigned char diff = la != lb;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < la ? (unsigned char)a[i] : 0;
		unsigned char y = i < lb ? (unsigned char)b[i] : 0;
		diff |= x ^ y;
	}
	return diff == 0;
}

bool webcfg_check_basic(const struct webcfg *cfg, const char *user, const char *password)
{
	if (!cfg || !user || !password || !cfg->nusers)
		return false;
	/* Refused before hashing: bcrypt would compare only the first 72 bytes. */
	if (strlen(password) > WEBCFG_MAX_PASSWORD)
		return false;
	/* Scan every user without stopping early: where it matches is not leaked. */
	const char *hash = NULL;
	for (size_t i = 0; i < cfg->nusers; i++) {
		bool eq = ct_equal(cfg->users[i].name, user);
		if (eq && !hash)
			hash = cfg->users[i].hash;
	}
	bool known = hash != NULL;
	const char *setting = known ? hash : cfg->dummy;

	/* struct crypt_data is 32 KiB: too big for small thread stacks. */
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *res = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	bool ok = res && ct_equal(res, setting);
	/* the result holds a hash of the password: don't leave it in freed memory */
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok && known;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int webcfg_parse_basic(const char *header, char *user, char *password)
{
	if (!header)
		return -1;
	while (*header == ' ' || *header == '\t')
		header++;
	if (strncasecmp(header, "basic", 5) != 0 || (header[5] != ' ' && header[5] != '\t'))
		return -1;
	const char *p = header + 5;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, " \t");
	for (const char *q = p + n; *q; q++)
		if (*q != ' ' && *q != '\t')
			return -1; /* a second token */
	if (n == 0 || n % 4 != 0)
		return -1;
	/* Decoded: user ':' password, at most both limits plus the colon. */
	enum { CAP = WEBCFG_MAX_USER + 1 + WEBCFG_MAX_PASSWORD };
	if (n / 4 * 3 > CAP + 2)
		return -1;
	unsigned char dec[CAP + 3];
	size_t len = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)p[i + (size_t)k];
			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after padding */
				return -1;
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
				(unsigned)v[3];
		dec[len++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			dec[len++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			dec[len++] = (unsigned char)bits;
	}
	int rc = -1;
	unsigned char *colon = memchr(dec, ':', len);
	if (!colon || memchr(dec, '\0', len))
		goto out;
	size_t ulen = (size_t)(colon - dec), plen = len - ulen - 1;
	if (ulen > WEBCFG_MAX_USER || plen > WEBCFG_MAX_PASSWORD)
		goto out;
	memcpy(user, dec, ulen);
	user[ulen] = '\0';
	memcpy(password, colon + 1, plen);
	password[plen] = '\0';
	rc = 0;
out:
	explicit_bzero(dec, sizeof(dec));
	return rc;
}

/* ---- following the file ------------------------------------------------ */

/* What identifies one version of the file without reading it. */
struct stamp {
	bool ok; /* stat succeeded */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static struct stamp stamp_of(const char *path)
{
	struct stamp s = {0};
	struct stat st;
	if (stat(path, &st) != 0)
		return s;
	s.ok = true;
	s.dev = st.st_dev;
	s.ino = st.st_ino;
	s.size = st.st_size;
	s.mtime = st.st_mtim;
	s.ctime = st.st_ctim;
	return s;
}

static bool stamp_eq(const struct stamp *a, const struct stamp *b)
{
	return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

struct webcfg_watch {
	char *path;
	pthread_mutex_t lock; /* cur and gen: held only to swap or take a reference */
	struct webcfg *cur;
	unsigned gen;
	/* Below: the polling thread's alone (or the caller of webcfg_watch_poll). */
	struct webcfg *first; /* of start-up: its TLS settings stay in force */
	struct stamp loaded;  /* the version last read, taken or refused */
	struct stamp seen;    /* at the previous poll */
	bool tls_warned;
	unsigned poll_ms;
	pthread_t thread;
	bool started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;
};

int webcfg_watch_poll(struct webcfg_watch *w)
{
	struct stamp s = stamp_of(w->path);
	if (!s.ok || stamp_eq(&s, &w->loaded) || !stamp_eq(&s, &w->seen)) {
		/* gone (being replaced), unchanged, or changed since the previous
		 * poll: a file still being written is not read */
		w->seen = s;
		return 0;
	}
	char err[512];
	struct webcfg *cfg = webcfg_load(w->path, err, sizeof(err));
	struct stamp after = stamp_of(w->path);
	if (!stamp_eq(&after, &s)) { /* written to while read: read it when it settles */
		webcfg_free(cfg);
		w->seen = after;
		return 0;
	}
	w->loaded = s; /* a refused version is not read again */
	if (!cfg) {
		logx(LOG_ERROR, "could not reload web config, keeping the previous one", "err", err,
		     NULL);
		return -1;
	}
	if (webcfg_has_auth(w->cur) && !webcfg_has_auth(cfg)) {
		logx(LOG_ERROR,
		     "web config refused: it has no basic_auth_users but the running one has; a "
		     "reload never removes authentication (restart to remove it)",
		     "file", w->path, NULL);
		webcfg_free(cfg);
		return -1;
	}
	bool same_tls = webcfg_tls_equal(cfg, w->first);
	if (!same_tls && !w->tls_warned)
		logx(LOG_WARN,
		     "web config: TLS settings changed (or headers); they apply at the next "
		     "restart, the start-up ones stay in force",
		     "file", w->path, NULL);
	w->tls_warned = !same_tls;
	char users[24];
	snprintf(users, sizeof(users), "%zu", cfg->nusers);
	pthread_mutex_lock(&w->lock);
	struct webcfg *old = w->cur;
	w->cur = cfg;
	w->gen++;
	pthread_mutex_unlock(&w->lock);
	webcfg_free(old);
	logx(LOG_INFO, "web config reloaded", "file", w->path, "users", users, NULL);
	return 1;
}

static void *watch_main(void *arg)
{
	struct webcfg_watch *w = arg;
	pthread_mutex_lock(&w->stop_lock);
	while (!w->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += w->poll_ms / 1000;
		until.tv_nsec += (long)(w->poll_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->stop_cond, &w->stop_lock, &until);
		if (w->stopping)
			break;
		pthread_mutex_unlock(&w->stop_lock);
		webcfg_watch_poll(w);
		pthread_mutex_lock(&w->stop_lock);
	}
	pthread_mutex_unlock(&w->stop_lock);
	return NULL;
}

struct webcfg_watch *webcfg_watch_start(const char *path, unsigned poll_ms, char *err,
					size_t errlen)
{
	struct stamp s = stamp_of(path);
	struct webcfg *cfg = webcfg_load(path, err, errlen);
	if (!cfg)
		return NULL;
	struct webcfg_watch *w = xcalloc(1, sizeof(*w));
	w->path = xstrdup(path);
	w->cur = cfg;
	w->first = webcfg_ref(cfg);
	w->loaded = w->seen = s; /* changed while loaded: the first polls read it again */
	w->poll_ms = poll_ms;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->stop_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (poll_ms > 0) {
		if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
			set_err(err, errlen, "%s:0: could not start a thread to follow it", path);
			webcfg_watch_stop(w);
			return NULL;
		}
		w->started = true;
	}
	return w;
}

struct webcfg *webcfg_watch_current(struct webcfg_watch *w, unsigned *gen)
{
	pthread_mutex_lock(&w->lock);
	struct webcfg *cfg = webcfg_ref(w->cur);
	if (gen)
		*gen = w->gen;
	pthread_mutex_unlock(&w->lock);
	return cfg;
}

void webcfg_watch_stop(struct webcfg_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->stop_lock);
		w->stopping = true;
		pthread_cond_signal(&w->stop_cond);
		pthread_mutex_unlock(&w->stop_lock);
		pthread_join(w->thread, NULL);
	}
	webcfg_free(w->cur);
	webcfg_free(w->first);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->stop_lock);
	pthread_cond_destroy(&w->stop_cond);
	free(w->path);
	free(w);
}
