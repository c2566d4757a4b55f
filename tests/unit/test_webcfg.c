#include <criterion/criterion.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../collectors/base/buf.h"
#include "../../exporter/webcfg.h"

static char dir[64];
static char cfgpath[128];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/cs_webcfg_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cfgpath, sizeof(cfgpath), "%s/web.conf", dir);
}

static void rm_tmp(void)
{
	static const char *const files[] = {"web.conf", "server.crt", "server.key", "ca.crt"};
	char p[192];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void put(const char *name, const char *content)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	cr_assert_not_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static void put_pems(void)
{
	put("server.crt", "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n");
	put("server.key", "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n");
	put("ca.crt", "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n");
}

/* Loads content as the web config; expects failure and an error starting with "FILE:LINE: ". */
static void expect_error(const char *content, int line, const char *needle)
{
	char err[512] = "";
	put("web.conf", content);
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_null(cfg, "loaded although %s expected", needle);
	char prefix[192];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", cfgpath, line);
	cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "error \"%s\" lacks \"%s\"", err,
		     prefix);
	cr_assert_not_null(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle);
}

static char *make_hash(const char *prefix, unsigned long cost, const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	cr_assert_not_null(crypt_gensalt_rn(prefix, cost, NULL, 0, salt, sizeof(salt)));
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h = crypt_rn(password, salt, cd, (int)sizeof(*cd));
	cr_assert_not_null(h);
	char *out = strdup(h);
	free(cd);
	return out;
}

TestSuite(webcfg, .init = mkdir_tmp, .fini = rm_tmp);

Test(webcfg, empty_file_means_plain_http)
{
	char err[256];
	put("web.conf", "# nothing here\n");
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_not(webcfg_has_tls(cfg));
	cr_assert_not(webcfg_has_auth(cfg));
	cr_assert_not(webcfg_check_basic(cfg, "alice", "x"));
	webcfg_free(cfg);
}

Test(webcfg, full_tls_relative_paths_and_pem)
{
	char err[256];
	put_pems();
	put("web.conf", "tls_server_config = {\n"
			"  cert_file = \"server.crt\";\n"
			"  key_file = \"server.key\";\n"
			"  client_auth_type = \"RequireAndVerifyClientCert\";\n"
			"  client_ca_file = \"ca.crt\";\n"
			"  min_version = \"TLS13\";\n"
			"};\n");
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert(webcfg_has_tls(cfg));
	char want[192];
	snprintf(want, sizeof(want), "%s/server.crt", dir);
	cr_assert_str_eq(webcfg_cert_file(cfg), want);
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	cr_assert_str_eq(webcfg_client_ca_file(cfg), want);
	cr_assert_eq(webcfg_client_auth(cfg), WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT);
	cr_assert_eq(webcfg_min_version(cfg), WEBCFG_TLS13);
	cr_assert_str_eq(webcfg_gnutls_priorities(cfg), "NORMAL:-VERS-ALL:+VERS-TLS1.3");

	struct webcfg_pem pem;
	cr_assert_eq(webcfg_read_pem(cfg, &pem, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(pem.cert, "\ncert\n"));
	cr_assert_not_null(strstr(pem.key, "\nkey\n"));
	cr_assert_not_null(strstr(pem.ca, "\nca\n"));
	webcfg_pem_release(&pem);
	cr_assert_null(pem.key);
	webcfg_free(cfg);
}

Test(webcfg, tls_defaults)
{
	char err[256];
	put_pems();
	char content[512];
	/* absolute paths are used as they are */
	snprintf(
	    content, sizeof(content),
	    "tls_server_config = { cert_file = \"%s/server.crt\"; key_file = \"%s/server.key\"; "
	    "};\n",
	    dir, dir);
	put("web.conf", content);
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_eq(webcfg_client_auth(cfg), WEBCFG_NO_CLIENT_CERT);
	cr_assert_eq(webcfg_min_version(cfg), WEBCFG_TLS12);
	cr_assert_null(webcfg_client_ca_file(cfg));
	cr_assert_str_eq(webcfg_gnutls_priorities(cfg),
			 "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	struct webcfg_pem pem;
	cr_assert_eq(webcfg_read_pem(cfg, &pem, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(pem.ca);
	webcfg_pem_release(&pem);
	webcfg_free(cfg);
}

Test(webcfg, syntax_error_line)
{
	expect_error("basic_auth_users = {\n  alice = \"x\";\n  bob = ;\n};\n", 3, "syntax error");
}

Test(webcfg, unknown_top_level_key)
{
	expect_error("# comment\nhttp_server_config = { http2 = true; };\n", 2, "unknown key");
}

Test(webcfg, unknown_tls_key)
{
	put_pems();
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n  cipher_suite = \"x\";\n};\n",
		     4, "unknown key tls_server_config.cipher_suite");
}

Test(webcfg, bad_client_auth_type)
{
	put_pems();
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n\n  client_auth_type = \"RequireClientCert\";\n};\n",
		     5, "invalid client_auth_type");
}

Test(webcfg, bad_min_version)
{
	put_pems();
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n  min_version = \"TLS14\";\n};\n",
		     4, "invalid min_version");
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n  min_version = 12;\n};\n",
		     4, "must be a string");
}

Test(webcfg, cert_without_key)
{
	put_pems();
	expect_error("tls_server_config = {\n\n  cert_file = \"server.crt\";\n};\n", 3,
		     "must both be set");
}

Test(webcfg, unreadable_file)
{
	put_pems();
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"missing.key\";\n};\n",
		     3, "missing.key");
}

Test(webcfg, directory_is_not_a_key_file)
{
	put_pems();
	expect_error(
	    "tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = \"/tmp\";\n};\n", 3,
	    "not a regular file");
}

Test(webcfg, verify_needs_ca_and_ca_needs_auth)
{
	put_pems();
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n  client_auth_type = \"VerifyClientCertIfGiven\";\n};\n",
		     4, "needs client_ca_file");
	expect_error("tls_server_config = {\n  cert_file = \"server.crt\";\n  key_file = "
		     "\"server.key\";\n  client_ca_file = \"ca.crt\";\n};\n",
		     4, "NoClientCert");
	expect_error("tls_server_config = {\n  client_ca_file = \"ca.crt\";\n"
		     "  client_auth_type = \"RequireAnyClientCert\";\n};\n",
		     2, "need TLS");
}

Test(webcfg, not_a_bcrypt_hash)
{
	expect_error("basic_auth_users = {\n  alice = \"$2y$10$short\";\n};\n", 2,
		     "user \"alice\" is not a bcrypt hash");
	expect_error("basic_auth_users = {\n  bob = \"$1$abcdefgh$abcdefghijklmnopqrstuv\";\n};\n",
		     2, "bcrypt");
	expect_error("basic_auth_users = \"alice\";\n", 1, "must be a group");
}

Test(webcfg, missing_config_file)
{
	char err[256] = "";
	char p[192];
	snprintf(p, sizeof(p), "%s/nope.conf", dir);
	cr_assert_null(webcfg_load(p, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "nope.conf"), "%s", err);
	cr_assert_not_null(strstr(err, "could not read"), "%s", err);
}

Test(webcfg, basic_auth_checks)
{
	char *h1 = make_hash("$2b$", 5, "s3cret!");
	char *h2 = make_hash("$2b$", 5, "other pass");
	char content[512];
	snprintf(content, sizeof(content),
		 "basic_auth_users = {\n  alice = \"%s\";\n  bob = \"%s\";\n};\n", h1, h2);
	put("web.conf", content);
	char err[256];
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert(webcfg_has_auth(cfg));
	cr_assert(webcfg_check_basic(cfg, "alice", "s3cret!"));
	cr_assert(webcfg_check_basic(cfg, "bob", "other pass"));
	cr_assert_not(webcfg_check_basic(cfg, "alice", "other pass"));
	cr_assert_not(webcfg_check_basic(cfg, "alice", "s3cret"));
	cr_assert_not(webcfg_check_basic(cfg, "alice", ""));
	cr_assert_not(webcfg_check_basic(cfg, "Alice", "s3cret!"));
	cr_assert_not(webcfg_check_basic(cfg, "mallory", "s3cret!"));
	cr_assert_not(webcfg_check_basic(cfg, "", ""));
	cr_assert_not(webcfg_check_basic(cfg, NULL, "s3cret!"));
	cr_assert_not(webcfg_check_basic(cfg, "alice", NULL));
	webcfg_free(cfg);
	free(h1);
	free(h2);
}

Test(webcfg, basic_auth_2y_hash)
{
	/* htpasswd -B writes $2y$; same algorithm as $2b$ */
	char *h = make_hash("$2b$", 5, "hunter2");
	h[2] = 'y';
	char content[256];
	snprintf(content, sizeof(content), "basic_auth_users = { carol = \"%s\"; };\n", h);
	put("web.conf", content);
	char err[256];
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert(webcfg_check_basic(cfg, "carol", "hunter2"));
	cr_assert_not(webcfg_check_basic(cfg, "carol", "hunter3"));
	webcfg_free(cfg);
	free(h);
}

static double seconds_of_check(const struct webcfg *cfg, const char *user)
{
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		cr_assert_not(webcfg_check_basic(cfg, user, "wrong password"));
		clock_gettime(CLOCK_MONOTONIC, &b);
		double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (t < best)
			best = t;
	}
	return best;
}

Test(webcfg, unknown_user_costs_the_same)
{
	/* cost 8 vs the default 10 would be a 4x difference; 12 vs 8 is 16x */
	char *h = make_hash("$2b$", 8, "pw");
	char content[256];
	snprintf(content, sizeof(content), "basic_auth_users = { dave = \"%s\"; };\n", h);
	put("web.conf", content);
	char err[256];
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	double known = seconds_of_check(cfg, "dave");
	double unknown = seconds_of_check(cfg, "nobody");
	cr_assert(unknown > known / 2.5 && unknown < known * 2.5, "known %.4fs unknown %.4fs",
		  known, unknown);
	webcfg_free(cfg);
	free(h);
}
