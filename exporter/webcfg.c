/*
 * webcfg: loading and using the exporter-toolkit style web configuration.
 */
#include "webcfg.h"

#include <crypt.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../collectors/base/buf.h"

struct user {
	char *name;
	char *hash;
};

struct webcfg {
	char *cert_file;
	char *key_file;
	char *client_ca_file;
	enum webcfg_client_auth client_auth;
	enum webcfg_tls_version min_version;
	struct user *users;
	size_t nusers;
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

/* Reports an error at setting s (its own file and line, for @include'd parts). */
static void setting_err(char *err, size_t errlen, const char *path, const config_setting_t *s,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void setting_err(char *err, size_t errlen, const char *path, const config_setting_t *s,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *file = s ? config_setting_source_file(s) : NULL;
	unsigned line = s ? config_setting_source_line(s) : 0;
	set_err(err, errlen, "%s:%u: %s", file ? file : path, line, msg);
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

/* Reads a whole regular file into a NUL-terminated string. */
static char *read_file(const char *path, char *err, size_t errlen)
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
		if (b.len > MAX_PEM_SIZE) {
			set_err(err, errlen, "%s: larger than %d bytes", path, MAX_PEM_SIZE);
			goto fail;
		}
	}
	close(fd);
	return buf_detach(&b, NULL);
fail:
	close(fd);
	buf_release(&b);
	return NULL;
}

static bool readable(const char *path, char *why, size_t whylen)
{
	char *s = read_file(path, why, whylen);
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

static const char *string_of(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
}

static bool load_tls(struct webcfg *cfg, const char *path, const config_setting_t *g, char *err,
		     size_t errlen)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		setting_err(err, errlen, path, g, "tls_server_config must be a group");
		return false;
	}
	const config_setting_t *cert = NULL, *key = NULL, *ca = NULL, *auth = NULL;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *val = string_of(s);
		if (strcmp(name, "cert_file") != 0 && strcmp(name, "key_file") != 0 &&
		    strcmp(name, "client_ca_file") != 0 && strcmp(name, "client_auth_type") != 0 &&
		    strcmp(name, "min_version") != 0) {
			setting_err(err, errlen, path, s, "unknown key tls_server_config.%s", name);
			return false;
		}
		if (!val) {
			setting_err(err, errlen, path, s, "tls_server_config.%s must be a string",
				    name);
			return false;
		}
		if (strcmp(name, "cert_file") == 0) {
			cert = s;
		} else if (strcmp(name, "key_file") == 0) {
			key = s;
		} else if (strcmp(name, "client_ca_file") == 0) {
			ca = s;
		} else if (strcmp(name, "client_auth_type") == 0) {
			auth = s;
			size_t k;
			for (k = 0; k < 4; k++)
				if (strcmp(val, client_auth_names[k]) == 0)
					break;
			if (k == 4) {
				setting_err(
				    err, errlen, path, s,
				    "invalid client_auth_type \"%s\" (expected NoClientCert, "
				    "RequireAnyClientCert, VerifyClientCertIfGiven or "
				    "RequireAndVerifyClientCert)",
				    val);
				return false;
			}
			cfg->client_auth = (enum webcfg_client_auth)k;
		} else {
			if (strncmp(val, "TLS1", 4) != 0 || val[4] < '0' || val[4] > '3' ||
			    val[5]) {
				setting_err(err, errlen, path, s,
					    "invalid min_version \"%s\" (expected TLS10, TLS11, "
					    "TLS12 or TLS13)",
					    val);
				return false;
			}
			cfg->min_version = (enum webcfg_tls_version)(10 + (val[4] - '0'));
		}
	}
	if ((cert == NULL) != (key == NULL)) {
		setting_err(err, errlen, path, cert ? cert : key,
			    "cert_file and key_file must both be set or both be unset");
		return false;
	}
	if (!cert && (ca || auth)) {
		setting_err(err, errlen, path, ca ? ca : auth,
			    "client certificates need TLS: set cert_file and key_file");
		return false;
	}
	bool verify = cfg->client_auth == WEBCFG_VERIFY_CLIENT_CERT_IF_GIVEN ||
		      cfg->client_auth == WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT;
	if (verify && !ca) {
		setting_err(err, errlen, path, auth, "client_auth_type %s needs client_ca_file",
			    client_auth_names[cfg->client_auth]);
		return false;
	}
	if (ca && cfg->client_auth == WEBCFG_NO_CLIENT_CERT) {
		setting_err(err, errlen, path, ca,
			    "client_ca_file is set but client_auth_type is NoClientCert");
		return false;
	}
	const config_setting_t *files[] = {cert, key, ca};
	char **dst[] = {&cfg->cert_file, &cfg->key_file, &cfg->client_ca_file};
	for (size_t i = 0; i < 3; i++) {
		if (!files[i])
			continue;
		*dst[i] = resolve(path, config_setting_get_string(files[i]));
		char why[512];
		if (!readable(*dst[i], why, sizeof(why))) {
			setting_err(err, errlen, path, files[i], "%s", why);
			return false;
		}
	}
	return true;
}

static bool load_users(struct webcfg *cfg, const char *path, const config_setting_t *g, char *err,
		       size_t errlen)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		setting_err(err, errlen, path, g,
			    "basic_auth_users must be a group of user = \"bcrypt hash\"");
		return false;
	}
	int n = config_setting_length(g);
	cfg->users = xcalloc((size_t)n + 1, sizeof(*cfg->users));
	int maxcost = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *hash = string_of(s);
		int cost = hash ? bcrypt_cost(hash) : -1;
		if (cost < 0) {
			setting_err(err, errlen, path, s,
				    "password of user \"%s\" is not a bcrypt hash ($2a$, $2b$ or "
				    "$2y$)",
				    config_setting_name(s));
			return false;
		}
		if (cost > maxcost)
			maxcost = cost;
		cfg->users[cfg->nusers].name = xstrdup(config_setting_name(s));
		cfg->users[cfg->nusers].hash = xstrdup(hash);
		cfg->nusers++;
	}
	snprintf(cfg->dummy, sizeof(cfg->dummy), "$2b$%02d$%s", maxcost ? maxcost : 10, DUMMY_SALT);
	return true;
}

struct webcfg *webcfg_load(const char *path, char *err, size_t errlen)
{
	config_t lc;
	config_init(&lc);
	struct webcfg *cfg = xcalloc(1, sizeof(*cfg));
	cfg->client_auth = WEBCFG_NO_CLIENT_CERT;
	cfg->min_version = WEBCFG_TLS12;

	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			set_err(err, errlen, "%s:0: could not read web config: %s", path,
				strerror(errno));
		else
			set_err(err, errlen, "%s:%d: %s",
				config_error_file(&lc) ? config_error_file(&lc) : path,
				config_error_line(&lc), config_error_text(&lc));
		goto fail;
	}
	const config_setting_t *root = config_root_setting(&lc);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		if (strcmp(name, "tls_server_config") == 0) {
			if (!load_tls(cfg, path, s, err, errlen))
				goto fail;
		} else if (strcmp(name, "basic_auth_users") == 0) {
			if (!load_users(cfg, path, s, err, errlen))
				goto fail;
		} else {
			setting_err(err, errlen, path, s,
				    "unknown key %s (expected tls_server_config or "
				    "basic_auth_users)",
				    name);
			goto fail;
		}
	}
	config_destroy(&lc);
	return cfg;
fail:
	config_destroy(&lc);
	webcfg_free(cfg);
	return NULL;
}

void webcfg_free(struct webcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->client_ca_file);
	for (size_t i = 0; i < cfg->nusers; i++) {
		free(cfg->users[i].name);
		free(cfg->users[i].hash);
	}
	free(cfg->users);
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
	switch (cfg->min_version) {
	case WEBCFG_TLS10:
		return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0";
	case WEBCFG_TLS11:
		return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1";
	case WEBCFG_TLS12:
		break;
	case WEBCFG_TLS13:
		return "NORMAL:-VERS-ALL:+VERS-TLS1.3";
	}
	return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
}

int webcfg_read_pem(const struct webcfg *cfg, struct webcfg_pem *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!webcfg_has_tls(cfg)) {
		set_err(err, errlen, "no TLS configured");
		return -1;
	}
	if (!(out->cert = read_file(cfg->cert_file, err, errlen)) ||
	    !(out->key = read_file(cfg->key_file, err, errlen)) ||
	    (cfg->client_ca_file && !(out->ca = read_file(cfg->client_ca_file, err, errlen)))) {
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
