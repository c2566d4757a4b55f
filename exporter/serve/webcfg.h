/*
 * webcfg: the web configuration file (TLS and basic authentication) with the
 * semantics of Prometheus' exporter-toolkit. A file named *.yml or *.yaml is
 * read as the toolkit's YAML (same keys, plus max_version, cipher_suites,
 * curve_preferences, prefer_server_cipher_suites, http_server_config with
 * http2 and headers, basic_auth_excluded_paths); any other in libconfig
 * syntax, with the same keys:
 *
 *   tls_server_config = {
 *     cert_file = "server.crt";          # relative paths: against this file's directory
 *     key_file = "server.key";
 *     client_auth_type = "RequireAndVerifyClientCert";   # default NoClientCert
 *     client_ca_file = "ca.crt";
 *     min_version = "TLS12";             # TLS10 .. TLS13, default TLS12
 *   };
 *   basic_auth_users = {
 *     alice = "$2y$10$...";              # bcrypt hashes ($2a$, $2b$, $2y$)
 *   };
 *
 * Both sections are optional; a file with neither serves plain HTTP without
 * authentication. Unknown keys are errors, so a typo never silently turns a
 * protection off; so are keys given twice in one mapping, YAML anchors and
 * aliases, nesting past 16 levels and files over 1 MiB, so that a hostile or
 * botched file is refused in time and memory that grow with its size alone.
 * User names are libconfig setting names (letters, digits, '-', '_' and '*',
 * starting with a letter or '*').
 *
 * A loaded struct webcfg is immutable, so one instance may serve concurrent
 * requests; reloading means loading a new one and swapping pointers. It is
 * reference-counted: a request takes a reference under the owner's lock and
 * may then use it after the owner swapped in a new one.
 */
#ifndef CS_WEBCFG_H
#define CS_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webcfg_client_auth {
	WEBCFG_NO_CLIENT_CERT,
	WEBCFG_REQUIRE_ANY_CLIENT_CERT,
	WEBCFG_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

enum webcfg_tls_version {
	WEBCFG_TLS10 = 10,
	WEBCFG_TLS11 = 11,
	WEBCFG_TLS12 = 12,
	WEBCFG_TLS13 = 13,
};

struct webcfg;

/*
 * Loads and validates path. On failure returns NULL and writes
 * "FILE:LINE: message" into err (errlen bytes, may be 0).
 * Checks: syntax, unknown keys, duplicate keys, anchors and aliases,
 * depth, size, value types, client_auth_type and
 * min_version spelling, cert_file and key_file both set or neither, a
 * client_ca_file for the Verify* client auth types and none without client
 * auth, client auth only with TLS, every named file readable, every password
 * a well-formed bcrypt hash.
 */
struct webcfg *webcfg_load(const char *path, char *err, size_t errlen);
/* Takes one more reference (thread-safe); returns cfg. */
struct webcfg *webcfg_ref(struct webcfg *cfg);
/* Drops a reference; the last one frees. NULL is ignored. */
void webcfg_free(struct webcfg *cfg);

/* Whether a and b have the same TLS settings (files, client auth, version). */
bool webcfg_tls_equal(const struct webcfg *a, const struct webcfg *b);

/* TLS settings. File paths are resolved (never relative to the CWD); NULL when unset. */
bool webcfg_has_tls(const struct webcfg *cfg);
const char *webcfg_cert_file(const struct webcfg *cfg);
const char *webcfg_key_file(const struct webcfg *cfg);
const char *webcfg_client_ca_file(const struct webcfg *cfg);
enum webcfg_client_auth webcfg_client_auth(const struct webcfg *cfg);
enum webcfg_tls_version webcfg_min_version(const struct webcfg *cfg);
enum webcfg_tls_version webcfg_max_version(const struct webcfg *cfg);
/* A GnuTLS priority string honouring min_version, max_version,
 * cipher_suites and curve_preferences (for MHD_OPTION_HTTPS_PRIORITIES). */
const char *webcfg_gnutls_priorities(const struct webcfg *cfg);

/* The i-th header of http_server_config.headers and its value, or NULL
 * past the last one. */
const char *webcfg_header(const struct webcfg *cfg, size_t i, const char **value);
/* Whether path is in basic_auth_excluded_paths (served without basic auth). */
bool webcfg_auth_excluded(const struct webcfg *cfg, const char *path);

/*
 * PEM contents of the TLS files, NUL-terminated (libmicrohttpd takes them as
 * strings); ca is NULL without client_ca_file. Read at call time so a
 * renewed certificate is picked up on the next load.
 */
struct webcfg_pem {
	char *cert;
	char *key;
	char *ca;
};

/* Returns 0, or -1 with "FILE: message" in err. out is zeroed first. */
int webcfg_read_pem(const struct webcfg *cfg, struct webcfg_pem *out, char *err, size_t errlen);
/* Frees the contents; the key is wiped before it is freed. */
void webcfg_pem_release(struct webcfg_pem *pem);

/*
 * Checks the TLS files as GnuTLS will use them, so that a mistake is told
 * at --config.check and at start-up with the file named, rather than as a
 * server that does not start or a client refused with nothing logged: the
 * certificate file holds certificates (a truncated one fails), the key file
 * an unencrypted private key that is the first certificate's, and every
 * certificate of client_ca_file is a CA (basic constraints CA:TRUE, or a
 * version 1 root). Returns 0 with the first certificate's expiry (Unix
 * seconds) in *not_after unless NULL, or -1 with "FILE: message" in err.
 */
int webcfg_check_pem(const struct webcfg *cfg, const struct webcfg_pem *pem, int64_t *not_after,
		     char *err, size_t errlen);
/* webcfg_read_pem then webcfg_check_pem; 0 without TLS. */
int webcfg_check_tls(const struct webcfg *cfg, int64_t *not_after, char *err, size_t errlen);

/* A certificate expiring within this many days is logged at start-up. */
#define WEBCFG_EXPIRY_WARN_DAYS 14
/* Logs an expired certificate (error) or one expiring within
 * WEBCFG_EXPIRY_WARN_DAYS of now (warning); nothing otherwise. */
void webcfg_log_expiry(const struct webcfg *cfg, int64_t not_after, int64_t now);

/* Whether basic auth is required (at least one user). */
bool webcfg_has_auth(const struct webcfg *cfg);

/*
 * Checks a user name and password against the bcrypt hashes. Takes about the
 * same time whether or not the user exists (an unknown user is checked
 * against a dummy hash of the same cost). Returns false for NULL arguments
 * and when no users are configured. Thread-safe.
 */
bool webcfg_check_basic(const struct webcfg *cfg, const char *user, const char *password);

/* bcrypt reads at most 72 bytes of a password; a longer one is refused
 * rather than silently truncated. */
#define WEBCFG_MAX_PASSWORD 72
#define WEBCFG_MAX_USER	    256

/*
 * Parses an Authorization header value of the Basic scheme (RFC 7617; the
 * scheme name is case-insensitive, RFC 9110). On success returns 0 with the
 * user name and password copied, NUL-terminated, into user (at least
 * WEBCFG_MAX_USER + 1 bytes) and password (at least WEBCFG_MAX_PASSWORD + 1
 * bytes). Returns -1 for another scheme, malformed base64, no colon, a NUL
 * byte in the credentials, a user name over WEBCFG_MAX_USER bytes or a
 * password over WEBCFG_MAX_PASSWORD bytes. NULL header: -1.
 */
int webcfg_parse_basic(const char *header, char *user, char *password);

/*
 * Following the file while the exporter runs, off the request path: a
 * thread looks at the file's identity (inode, size, modification and change
 * times) every poll_ms and reads a new version only once it has stayed the
 * same for a whole poll, so a file being rewritten in place (`cat new >
 * web.yml`) is never read half-written. A version that does not load is
 * logged and the running config kept; so is one without basic_auth_users
 * when the running one has users: a reload never removes authentication
 * (an empty or truncated file would otherwise open the metrics to anyone).
 * Requests only take a reference to the current config under a lock held
 * for that alone. The safe way to edit is still to write a new file and
 * rename it over the old one.
 */
struct webcfg_watch;

/* Loads path (NULL with "FILE:LINE: message" in err if it does not load)
 * and, when poll_ms > 0, starts the thread that follows it. */
struct webcfg_watch *webcfg_watch_start(const char *path, unsigned poll_ms, char *err,
					size_t errlen);
/* A reference to the config in force (webcfg_free it), and its generation,
 * which grows with each change taken. */
struct webcfg *webcfg_watch_current(struct webcfg_watch *w, unsigned *gen);
/* One look at the file, as the thread does it: 1 a new version was taken,
 * 0 nothing to take (unchanged, or changed since the previous look), -1 a
 * new version was refused (logged). For tests, with poll_ms 0. */
int webcfg_watch_poll(struct webcfg_watch *w);
/* Stops the thread and drops the watch's references. NULL is ignored. */
void webcfg_watch_stop(struct webcfg_watch *w);

#endif
