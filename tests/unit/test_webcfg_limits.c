/*
 * The web config parser against hostile files: duplicate keys, YAML aliases
 * and anchors, deep nesting, oversized files; and the seeds of the web
 * config fuzzer, replayed here so that the sanitizer build of the unit
 * tests runs them (tests/integration/test_sanitizers.sh).
 */
#include <criterion/criterion.h>

#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "exporter/serve/webcfg.h"

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/cs_webcfg_lim_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	static const char *const files[] = {"web.conf", "web.yml", "server.crt", "server.key"};
	char p[192];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void put_n(const char *name, const char *content, size_t n)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(content, 1, n, fp), n);
	fclose(fp);
}

static void put(const char *name, const char *content)
{
	put_n(name, content, strlen(content));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads content as NAME (web.yml or web.conf) and expects an error
 * "DIR/NAME:LINE: ...needle..." within a second. */
static void expect_error_n(const char *name, const char *content, size_t n, int line,
			   const char *needle)
{
	char err[512] = "";
	put_n(name, content, n);
	char path[192];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	double t0 = now_s();
	struct webcfg *cfg = webcfg_load(path, err, sizeof(err));
	double took = now_s() - t0;
	cr_assert_null(cfg, "loaded although \"%s\" expected", needle);
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "error \"%s\" lacks \"%s\"", err,
		     prefix);
	cr_assert_not_null(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle);
	cr_assert_lt(took, 1.0, "refusing took %.3f s", took);
}

static void expect_error(const char *name, const char *content, int line, const char *needle)
{
	expect_error_n(name, content, strlen(content), line, needle);
}

static char *make_hash(const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	cr_assert_not_null(crypt_gensalt_rn("$2y$", 4, NULL, 0, salt, sizeof(salt)));
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = crypt_rn(password, salt, cd, (int)sizeof(*cd));
	cr_assert_not_null(h);
	char *out = strdup(h);
	free(cd);
	return out;
}

TestSuite(webcfg_limits, .init = mkdir_tmp, .fini = rm_tmp);

/* Each section, a user, a header and a TLS key given twice: refused at the
 * second one. Before, a second basic_auth_users wrote past the users array
 * (a heap overflow under AddressSanitizer) and a credentialed request then
 * crashed the exporter. */
Test(webcfg_limits, duplicate_keys_are_refused)
{
	char *h = make_hash("pw");
	put("server.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
	put("server.key", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
	char c[2048];
	snprintf(c, sizeof(c),
		 "basic_auth_users:\n  alice: %s\n  bob: %s\n  carol: %s\nbasic_auth_users:\n"
		 "  dave: %s\n",
		 h, h, h, h);
	expect_error("web.yml", c, 5, "duplicate key basic_auth_users (first at line 1)");
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: %s\n  bob: %s\n  alice: %s\n", h, h, h);
	expect_error("web.yml", c, 4, "duplicate key alice (first at line 2)");
	expect_error("web.yml",
		     "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
		     "http_server_config:\n  http2: false\n",
		     4, "duplicate key http_server_config");
	expect_error("web.yml",
		     "basic_auth_excluded_paths: [/-/healthy]\n"
		     "basic_auth_excluded_paths:\n  - /-/ready\n  - /metrics\n",
		     2, "duplicate key basic_auth_excluded_paths");
	expect_error("web.yml",
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
		     4, "duplicate key tls_server_config");
	expect_error("web.yml", "tls_server_config:\n  cert_file: server.crt\n  cert_file: x\n", 3,
		     "duplicate key cert_file");
	/* header names are case-insensitive: the same header twice */
	expect_error("web.yml",
		     "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
		     "    x-frame-options: sameorigin\n",
		     4, "header X-Frame-Options set twice");
	/* libconfig refuses a repeated setting itself */
	snprintf(c, sizeof(c),
		 "basic_auth_users = {\n  alice = \"%s\";\n};\nbasic_auth_users = {\n  bob = "
		 "\"%s\";\n};\n",
		 h, h);
	expect_error("web.conf", c, 4, "duplicate setting name");
	free(h);
}

/* A 1 KB "billion laughs": ten levels of ten aliases. Before, loading it
 * expanded 10^10 strings (11.6 GB of memory before the unknown key was
 * noticed); aliases and anchors are refused at the first anchor. */
Test(webcfg_limits, alias_bomb_is_refused_at_once)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "basic_auth_excluded_paths: &a [\"/lol\",\"/lol\",\"/lol\",\"/lol\","
		     "\"/lol\",\"/lol\",\"/lol\",\"/lol\",\"/lol\",\"/lol\"]\n");
	char prev = 'a';
	for (char k = 'b'; k <= 'j'; k++) {
		buf_addf(&b, "http_server_config_%c: &%c [", k, k);
		for (int i = 0; i < 10; i++)
			buf_addf(&b, "%s*%c", i ? "," : "", prev);
		buf_adds(&b, "]\n");
		prev = k;
	}
	cr_assert_lt(b.len, 1024);
	expect_error("web.yml", b.data, 1, "anchors (&a) are not supported");
	buf_release(&b);
	/* the classic bomb under an unknown key: the key is refused first */
	expect_error("web.yml", "lol: &a [x, x]\nlol2: &b [*a, *a]\n", 1, "unknown key lol");
}

Test(webcfg_limits, aliases_and_anchors_are_refused)
{
	char *h = make_hash("pw");
	char c[1024];
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: &pw %s\n  bob: *pw\n", h);
	expect_error("web.yml", c, 2, "anchors (&pw) are not supported");
	/* an alias without its anchor: libyaml or we refuse it, with a line */
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: %s\n  bob: *pw\n", h);
	expect_error("web.yml", c, 3, "");
	/* a merge key is an unknown key */
	expect_error("web.yml", "tls_server_config:\n  <<: {cert_file: a}\n", 2,
		     "unknown key tls_server_config.<<");
	free(h);
}

/* Before, 100k nested '[' (a 200 KB file) took 28 s (quadratic in libyaml's
 * scanner); now the 17th level is refused. */
Test(webcfg_limits, deep_nesting_is_refused_in_milliseconds)
{
	size_t n = 200000;
	char *s = malloc(n + 64);
	strcpy(s, "basic_auth_excluded_paths: ");
	size_t at = strlen(s);
	memset(s + at, '[', n - at);
	s[n - 1] = '\n';
	expect_error_n("web.yml", s, n, 1, "nested deeper than 16 levels");
	/* the same with block mappings, one a line: the line of the 17th */
	struct buf b = BUF_INIT;
	for (int i = 0; i < 40; i++)
		buf_addf(&b, "%*sk%d:\n", i * 2, "", i);
	expect_error("web.yml", b.data, 1, "unknown key k0");
	buf_reset(&b);
	buf_adds(&b, "tls_server_config:\n");
	for (int i = 1; i < 40; i++)
		buf_addf(&b, "%*sk%d:\n", i * 2, "", i);
	expect_error("web.yml", b.data, 17, "nested deeper than 16 levels");
	/* 15 lists in the list of paths (16 levels with the file's mapping)
	 * are read, and then refused for what they are */
	buf_reset(&b);
	buf_adds(&b, "basic_auth_excluded_paths: ");
	for (int i = 0; i < 15; i++)
		buf_adds(&b, "[");
	for (int i = 0; i < 15; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "\n");
	expect_error("web.yml", b.data, 1, "is not a path");
	buf_reset(&b);
	buf_adds(&b, "basic_auth_excluded_paths = ");
	for (int i = 0; i < 15; i++)
		buf_adds(&b, "(");
	for (int i = 0; i < 15; i++)
		buf_adds(&b, ")");
	buf_adds(&b, ";\n");
	expect_error("web.conf", b.data, 1, "is not a path");
	buf_reset(&b);
	buf_adds(&b, "basic_auth_excluded_paths = ");
	for (int i = 0; i < 16; i++)
		buf_adds(&b, "(");
	for (int i = 0; i < 16; i++)
		buf_adds(&b, ")");
	buf_adds(&b, ";\n");
	expect_error("web.conf", b.data, 1, "nested deeper than 16 levels");
	/* libconfig, 100k deep */
	strcpy(s, "basic_auth_excluded_paths = ");
	at = strlen(s);
	memset(s + at, '(', n - at);
	s[n - 1] = '\n';
	expect_error_n("web.conf", s, n, 1, "");
	buf_release(&b);
	free(s);
}

/* A web config is a few kilobytes; a file over 1 MiB is refused unread. */
Test(webcfg_limits, oversized_file_is_refused)
{
	size_t n = 2 * 1024 * 1024;
	char *s = malloc(n);
	for (size_t i = 0; i < n; i += 64) {
		memset(s + i, ' ', 64);
		s[i] = '#';
		s[i + 63] = '\n';
	}
	expect_error_n("web.yml", s, n, 0, "larger than 1048576 bytes");
	expect_error_n("web.conf", s, n, 0, "larger than 1048576 bytes");
	free(s);
}

Test(webcfg_limits, second_yaml_document_is_refused)
{
	expect_error("web.yml", "---\nbasic_auth_excluded_paths: [/a]\n---\nbasic_auth_users: {}\n",
		     3, "more than one YAML document");
}

Test(webcfg_limits, non_scalar_keys_are_refused)
{
	expect_error("web.yml", "? [a, b]\n: c\n", 1, "keys must be strings");
}

/* ---- the fuzzer's seeds ---------------------------------------------------- */

static const char CORPUS[] = "tests/fuzz/corpus/fuzz_webcfg";

/* As tests/fuzz/fuzz_webcfg.c: each seed as web.conf and as web.yml, next to
 * a server.pem; a load either succeeds or fails with "FILE:LINE: ...". */
Test(webcfg_limits, fuzz_seeds_replayed)
{
	put("server.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
	DIR *d = opendir(CORPUS);
	cr_assert_not_null(d, "%s: run the unit tests from the repository root", CORPUS);
	int seeds = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char src[512];
		snprintf(src, sizeof(src), "%s/%s", CORPUS, e->d_name);
		FILE *fp = fopen(src, "rb");
		cr_assert_not_null(fp, "%s", src);
		struct buf b = BUF_INIT;
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			buf_add(&b, chunk, got);
		fclose(fp);
		for (int y = 0; y < 2; y++) {
			const char *name = y ? "web.yml" : "web.conf";
			put_n(name, b.data ? b.data : "", b.len);
			char path[192], err[512] = "";
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			double t0 = now_s();
			struct webcfg *cfg = webcfg_load(path, err, sizeof(err));
			cr_assert_lt(now_s() - t0, 2.0, "%s as %s: slow", src, name);
			if (cfg) {
				if (webcfg_has_tls(cfg)) {
					struct webcfg_pem pem;
					if (webcfg_read_pem(cfg, &pem, err, sizeof(err)) == 0)
						webcfg_pem_release(&pem);
				}
				webcfg_free(cfg);
				continue;
			}
			const char *colon = strchr(err, ':');
			cr_assert(colon && colon[1] >= '0' && colon[1] <= '9',
				  "%s as %s: error without FILE:LINE: \"%s\"", src, name, err);
		}
		buf_release(&b);
		seeds++;
	}
	closedir(d);
	char p[192];
	snprintf(p, sizeof(p), "%s/server.pem", dir);
	unlink(p);
	cr_assert_geq(seeds, 12, "only %d seeds in %s", seeds, CORPUS);
}

/* ---- following the file ------------------------------------------------------ */

/* The watch logs what it refuses; each test is a process of its own, so
 * its log can go nowhere without hiding another test's. */
static void quiet(void)
{
	int fd = open("/dev/null", O_WRONLY);
	cr_assert_geq(fd, 0);
	dup2(fd, 2);
	close(fd);
}

static struct webcfg_watch *watch_yaml(const char *content)
{
	quiet();
	put("web.yml", content);
	char path[192], err[512] = "";
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	struct webcfg_watch *w = webcfg_watch_start(path, 0, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	return w;
}

static bool current_accepts(struct webcfg_watch *w, const char *user, const char *pw)
{
	struct webcfg *cfg = webcfg_watch_current(w, NULL);
	bool ok = webcfg_check_basic(cfg, user, pw);
	webcfg_free(cfg);
	return ok;
}

static bool current_has_auth(struct webcfg_watch *w)
{
	struct webcfg *cfg = webcfg_watch_current(w, NULL);
	bool ok = webcfg_has_auth(cfg);
	webcfg_free(cfg);
	return ok;
}

/* A new version is taken on the second look that finds it unchanged. */
Test(webcfg_limits, watch_takes_a_settled_change)
{
	char *h = make_hash("pw");
	char c[1024];
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: %s\n", h);
	struct webcfg_watch *w = watch_yaml(c);
	unsigned gen0, gen;
	webcfg_free(webcfg_watch_current(w, &gen0));
	cr_assert_eq(webcfg_watch_poll(w), 0, "unchanged file");
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: %s\n  bob: %s\n", h, h);
	put("web.yml", c);
	cr_assert_eq(webcfg_watch_poll(w), 0, "a file just changed is not read yet");
	cr_assert_not(current_accepts(w, "bob", "pw"));
	cr_assert_eq(webcfg_watch_poll(w), 1, "a settled change is taken");
	cr_assert(current_accepts(w, "bob", "pw"));
	webcfg_free(webcfg_watch_current(w, &gen));
	cr_assert_eq(gen, gen0 + 1);
	cr_assert_eq(webcfg_watch_poll(w), 0, "taken once");
	webcfg_watch_stop(w);
	free(h);
}

/* An empty file, one with no users, a truncated one: the running users
 * stay, and a refused version is not read again. */
Test(webcfg_limits, watch_never_removes_authentication)
{
	char *h = make_hash("pw");
	char good[1024];
	snprintf(good, sizeof(good),
		 "basic_auth_users:\n  alice: %s\nbasic_auth_excluded_paths: [/-/healthy]\n", h);
	struct webcfg_watch *w = watch_yaml(good);
	const char *bad[] = {"", "# being rewritten\n", "basic_auth_excluded_paths: [/metrics]\n",
			     "basic_auth_users:\n", NULL};
	char truncated[64];
	snprintf(truncated, sizeof(truncated), "%.40s", good); /* cut inside the hash */
	bad[4] = truncated;
	for (size_t i = 0; i < 5; i++) {
		put("web.yml", bad[i]);
		cr_assert_eq(webcfg_watch_poll(w), 0);
		cr_assert_eq(webcfg_watch_poll(w), -1, "version %zu \"%s\" taken", i, bad[i]);
		cr_assert_eq(webcfg_watch_poll(w), 0, "a refused version is read again");
		cr_assert(current_accepts(w, "alice", "pw"), "users lost after version %zu", i);
	}
	char more[1024];
	snprintf(more, sizeof(more), "basic_auth_users:\n  bob: %s\n", h);
	put("web.yml", more);
	webcfg_watch_poll(w);
	cr_assert_eq(webcfg_watch_poll(w), 1);
	cr_assert(current_accepts(w, "bob", "pw"));
	cr_assert_not(current_accepts(w, "alice", "pw"));
	webcfg_watch_stop(w);
	free(h);
}

Test(webcfg_limits, watch_adds_authentication)
{
	struct webcfg_watch *w = watch_yaml("# no auth yet\n");
	cr_assert_not(current_has_auth(w));
	char *h = make_hash("pw");
	char c[1024];
	snprintf(c, sizeof(c), "basic_auth_users:\n  alice: %s\n", h);
	put("web.yml", c);
	webcfg_watch_poll(w);
	cr_assert_eq(webcfg_watch_poll(w), 1);
	cr_assert(current_accepts(w, "alice", "pw"));
	webcfg_watch_stop(w);
	free(h);
}

/* The file rewritten in place (truncated, then written in two halves) as
 * fast as possible while the thread follows it every millisecond: the
 * config in force always has its users. */
Test(webcfg_limits, watch_survives_rewrites_in_place)
{
	char *h = make_hash("pw");
	char c[1024];
	snprintf(c, sizeof(c),
		 "# the users\nbasic_auth_users:\n  alice: %s\n  bob: %s\n"
		 "basic_auth_excluded_paths: [/-/healthy]\n",
		 h, h);
	put("web.yml", c);
	quiet();
	char path[192], err[512] = "";
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	struct webcfg_watch *w = webcfg_watch_start(path, 1, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	size_t n = strlen(c), open_moments = 0, rewrites = 0;
	double until = now_s() + 1.0;
	while (now_s() < until) {
		FILE *fp = fopen(path, "w");
		cr_assert_not_null(fp);
		for (int k = 0; k < 20; k++)
			open_moments += !current_has_auth(w);
		fwrite(c, 1, n / 2, fp);
		fflush(fp);
		for (int k = 0; k < 20; k++)
			open_moments += !current_has_auth(w);
		fwrite(c + n / 2, 1, n - n / 2, fp);
		fclose(fp);
		rewrites++;
	}
	webcfg_watch_stop(w);
	cr_assert_eq(open_moments, 0, "%zu of %zu looks found no users over %zu rewrites",
		     open_moments, rewrites * 40, rewrites);
	cr_assert_gt(rewrites, 100);
	free(h);
}

/* ---- the TLS files themselves ----------------------------------------------- */

/* An EC key (fast to make) as PEM. */
static gnutls_x509_privkey_t new_key(void)
{
	gnutls_x509_privkey_t k;
	cr_assert_geq(gnutls_x509_privkey_init(&k), 0);
	cr_assert_geq(gnutls_x509_privkey_generate(
			  k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		      0);
	return k;
}

/* A certificate for key, signed by (issuer, issuer_key) or by itself. */
static gnutls_x509_crt_t new_cert(gnutls_x509_privkey_t key, const char *cn, bool ca,
				  time_t not_after, gnutls_x509_crt_t issuer,
				  gnutls_x509_privkey_t issuer_key)
{
	gnutls_x509_crt_t c;
	cr_assert_geq(gnutls_x509_crt_init(&c), 0);
	cr_assert_geq(gnutls_x509_crt_set_key(c, key), 0);
	cr_assert_geq(gnutls_x509_crt_set_version(c, 3), 0);
	unsigned char serial[] = {1, (unsigned char)(ca ? 2 : 3)};
	cr_assert_geq(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), 0);
	cr_assert_geq(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						    (unsigned)strlen(cn)),
		      0);
	cr_assert_geq(gnutls_x509_crt_set_activation_time(c, time(NULL) - 3600), 0);
	cr_assert_geq(gnutls_x509_crt_set_expiration_time(c, not_after), 0);
	cr_assert_geq(gnutls_x509_crt_set_basic_constraints(c, ca ? 1 : 0, -1), 0);
	cr_assert_geq(gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer_key ? issuer_key : key,
					    GNUTLS_DIG_SHA256, 0),
		      0);
	return c;
}

static void put_crt(const char *name, gnutls_x509_crt_t c)
{
	gnutls_datum_t d;
	cr_assert_geq(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d), 0);
	put_n(name, (const char *)d.data, d.size);
	gnutls_free(d.data);
}

static void put_key(const char *name, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d;
	cr_assert_geq(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d), 0);
	put_n(name, (const char *)d.data, d.size);
	gnutls_free(d.data);
}

/* Loads a libconfig web config naming cert, key and ca (NULL: none) in dir
 * and runs webcfg_check_tls: 0, or -1 with err. */
static int check_tls(const char *cert, const char *key, const char *ca, int64_t *not_after,
		     char *err, size_t errlen)
{
	struct buf c = BUF_INIT;
	buf_addf(&c, "tls_server_config = {\n  cert_file = \"%s\";\n  key_file = \"%s\";\n", cert,
		 key);
	if (ca)
		buf_addf(&c,
			 "  client_auth_type = \"RequireAndVerifyClientCert\";\n"
			 "  client_ca_file = \"%s\";\n",
			 ca);
	buf_adds(&c, "};\n");
	put("web.conf", c.data);
	buf_release(&c);
	char path[192];
	snprintf(path, sizeof(path), "%s/web.conf", dir);
	struct webcfg *cfg = webcfg_load(path, err, errlen);
	cr_assert_not_null(cfg, "%s", err);
	int rc = webcfg_check_tls(cfg, not_after, err, errlen);
	webcfg_free(cfg);
	return rc;
}

static void rm_file(const char *name)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

Test(webcfg_limits, tls_files_are_matched)
{
	time_t in_a_year = time(NULL) + 365 * 86400;
	gnutls_x509_privkey_t cak = new_key(), k = new_key(), other = new_key();
	gnutls_x509_crt_t ca = new_cert(cak, "test CA", true, in_a_year, NULL, NULL);
	gnutls_x509_crt_t leaf = new_cert(k, "127.0.0.1", false, in_a_year - 86400, ca, cak);
	put_crt("ca.pem", ca);
	put_crt("server.crt", leaf);
	put_key("server.key", k);
	put_key("other.key", other);
	char err[512] = "";
	int64_t not_after = 0;
	cr_assert_eq(check_tls("server.crt", "server.key", "ca.pem", &not_after, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(not_after, (int64_t)(in_a_year - 86400));

	char want[256];
	cr_assert_eq(check_tls("server.crt", "other.key", NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/server.crt: the private key in %s/other.key is not", dir,
		 dir);
	cr_assert_not_null(strstr(err, want), "%s", err);

	/* truncated: cut in the middle of the certificate */
	gnutls_datum_t d;
	cr_assert_geq(gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_PEM, &d), 0);
	put_n("trunc.crt", (const char *)d.data, d.size / 2);
	gnutls_free(d.data);
	cr_assert_eq(check_tls("trunc.crt", "server.key", NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/trunc.crt: not a PEM certificate", dir);
	cr_assert_not_null(strstr(err, want), "%s", err);

	/* a key where the CA should be, then a leaf */
	cr_assert_eq(check_tls("server.crt", "server.key", "server.key", NULL, err, sizeof(err)),
		     -1);
	snprintf(want, sizeof(want), "%s/server.key: not a PEM certificate", dir);
	cr_assert_not_null(strstr(err, want), "%s", err);
	cr_assert_eq(check_tls("server.crt", "server.key", "server.crt", NULL, err, sizeof(err)),
		     -1);
	snprintf(want, sizeof(want), "%s/server.crt: certificate 1 (CN=127.0.0.1) is not a CA",
		 dir);
	cr_assert_not_null(strstr(err, want), "%s", err);

	/* a key file holding a certificate */
	cr_assert_eq(check_tls("server.crt", "ca.pem", NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/ca.pem: not a PEM private key", dir);
	cr_assert_not_null(strstr(err, want), "%s", err);

	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_privkey_deinit(cak);
	gnutls_x509_privkey_deinit(k);
	gnutls_x509_privkey_deinit(other);
	rm_file("ca.pem");
	rm_file("other.key");
	rm_file("trunc.crt");
}
