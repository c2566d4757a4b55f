#include <criterion/criterion.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "exporter/serve/webcfg.h"

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
	static const char *const files[] = {"web.conf", "web.yml", "server.crt", "server.key",
					    "ca.crt"};
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
	expect_error("# comment\nweb_server_config = { http2 = true; };\n", 2, "unknown key");
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

Test(webcfg, password_over_72_bytes_is_refused_not_truncated)
{
	char pw[80];
	memset(pw, 'p', 72);
	pw[72] = '\0';
	char *h = make_hash("$2b$", 4, pw);
	char content[256];
	snprintf(content, sizeof(content), "basic_auth_users = { alice = \"%s\"; };\n", h);
	put("web.conf", content);
	char err[256];
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert(webcfg_check_basic(cfg, "alice", pw));
	strcat(pw, "x"); /* bcrypt alone would accept it: only 72 bytes count */
	cr_assert_not(webcfg_check_basic(cfg, "alice", pw));
	webcfg_free(cfg);
	free(h);
}

Test(webcfg, reference_counted)
{
	put("web.conf", "");
	char err[256];
	struct webcfg *cfg = webcfg_load(cfgpath, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_eq(webcfg_ref(cfg), cfg);
	webcfg_free(cfg);
	cr_assert_not(webcfg_has_tls(cfg)); /* still alive: one reference left */
	webcfg_free(cfg);
}

/* "user:password" in base64 after "Basic " */
static int parse(const char *header, char *user, char *pass)
{
	return webcfg_parse_basic(header, user, pass);
}

Test(webcfg_basic_header, scheme_is_case_insensitive)
{
	char user[WEBCFG_MAX_USER + 1], pass[WEBCFG_MAX_PASSWORD + 1];
	/* alice:s3cret */
	const char *forms[] = {"Basic YWxpY2U6czNjcmV0", "basic YWxpY2U6czNjcmV0",
			       "BASIC  YWxpY2U6czNjcmV0", "bAsIc\tYWxpY2U6czNjcmV0 "};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		cr_assert_eq(parse(forms[i], user, pass), 0, "%s", forms[i]);
		cr_assert_str_eq(user, "alice");
		cr_assert_str_eq(pass, "s3cret");
	}
}

Test(webcfg_basic_header, colon_in_password_and_padding)
{
	char user[WEBCFG_MAX_USER + 1], pass[WEBCFG_MAX_PASSWORD + 1];
	/* "a:b:c" */
	cr_assert_eq(parse("Basic YTpiOmM=", user, pass), 0);
	cr_assert_str_eq(user, "a");
	cr_assert_str_eq(pass, "b:c");
	/* "u:" : empty password */
	cr_assert_eq(parse("Basic dTo=", user, pass), 0);
	cr_assert_str_eq(pass, "");
}

Test(webcfg_basic_header, malformed_is_refused)
{
	char user[WEBCFG_MAX_USER + 1], pass[WEBCFG_MAX_PASSWORD + 1];
	cr_assert_eq(parse(NULL, user, pass), -1);
	cr_assert_eq(parse("Bearer YWxpY2U6czNjcmV0", user, pass), -1);
	cr_assert_eq(parse("BasicYWxpY2U6czNjcmV0", user, pass), -1);
	cr_assert_eq(parse("Basic", user, pass), -1);
	cr_assert_eq(parse("Basic YWxpY2U6czNjcmV", user, pass), -1);  /* not a multiple of 4 */
	cr_assert_eq(parse("Basic YWxp!2U6czNjcmV0", user, pass), -1); /* bad character */
	cr_assert_eq(parse("Basic YQ==YWxp", user, pass), -1);	       /* data after padding */
	cr_assert_eq(parse("Basic YWxpY2U=", user, pass), -1);	       /* "alice": no colon */
	cr_assert_eq(parse("Basic YWxpY2U6czNjcmV0 extra", user, pass), -1); /* two tokens */
}

Test(webcfg_basic_header, nul_in_credentials_is_refused)
{
	char user[WEBCFG_MAX_USER + 1], pass[WEBCFG_MAX_PASSWORD + 1];
	/* "alice:s3cret\0x" and "al\0ice:s3cret" */
	cr_assert_eq(parse("Basic YWxpY2U6czNjcmV0AHg=", user, pass), -1);
	cr_assert_eq(parse("Basic YWwAaWNlOnMzY3JldA==", user, pass), -1);
}

Test(webcfg_basic_header, long_password_is_refused)
{
	char user[WEBCFG_MAX_USER + 1], pass[WEBCFG_MAX_PASSWORD + 1];
	/* "u:" + 72 'p' is accepted, "u:" + 73 'p' is not */
	char raw[80] = "u:";
	memset(raw + 2, 'p', 73);
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t plen = 72; plen <= 73; plen++) {
		size_t n = 2 + plen;
		char header[160] = "Basic ";
		char *o = header + strlen(header);
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned char)raw[i] << 16;
			if (i + 1 < n)
				v |= (unsigned char)raw[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)raw[i + 2];
			*o++ = b64[v >> 18 & 63];
			*o++ = b64[v >> 12 & 63];
			*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
			*o++ = i + 2 < n ? b64[v & 63] : '=';
		}
		*o = '\0';
		cr_assert_eq(parse(header, user, pass), plen == 72 ? 0 : -1,
			     "password of %zu bytes", plen);
	}
}

/* ---- the exporter-toolkit YAML syntax ------------------------------------ */

/* Each test its own directory: tests run in parallel processes. */
TestSuite(webcfg_yaml, .init = mkdir_tmp, .fini = rm_tmp);

static struct webcfg *load_yaml(const char *content, char *err, size_t errlen)
{
	put("web.yml", content);
	char path[192];
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	return webcfg_load(path, err, errlen);
}

static void expect_yaml_error(const char *content, int line, const char *needle)
{
	char err[512] = "";
	struct webcfg *cfg = load_yaml(content, err, sizeof(err));
	cr_assert_null(cfg, "loaded although %s expected", needle);
	char prefix[192];
	snprintf(prefix, sizeof(prefix), "%s/web.yml:%d: ", dir, line);
	cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "error \"%s\" lacks \"%s\"", err,
		     prefix);
	cr_assert_not_null(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle);
}

Test(webcfg_yaml, toolkit_documented_example)
{
	/* the shape of exporter-toolkit's docs/web-config.yml */
	put_pems();
	char *alice = make_hash("$2y$", 4, "alice-pass");
	char *bob = make_hash("$2y$", 4, "bob-pass");
	char content[1024];
	snprintf(content, sizeof(content),
		 "# TLS and basic authentication configuration example.\n"
		 "tls_server_config:\n"
		 "  cert_file: server.crt\n"
		 "  key_file: server.key\n"
		 "\n"
		 "# Usernames and passwords required to connect.\n"
		 "basic_auth_users:\n"
		 "  alice: %s\n"
		 "  bob: %s\n"
		 "\n"
		 "basic_auth_excluded_paths:\n"
		 "- /-/healthy\n"
		 "- /-/ready\n",
		 alice, bob);
	char err[512] = "";
	struct webcfg *cfg = load_yaml(content, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert(webcfg_has_tls(cfg));
	char want[192];
	snprintf(want, sizeof(want), "%s/server.crt", dir);
	cr_assert_str_eq(webcfg_cert_file(cfg), want);
	cr_assert_eq(webcfg_min_version(cfg), WEBCFG_TLS12);
	cr_assert_eq(webcfg_max_version(cfg), WEBCFG_TLS13);
	cr_assert(webcfg_check_basic(cfg, "alice", "alice-pass"));
	cr_assert(webcfg_check_basic(cfg, "bob", "bob-pass"));
	cr_assert_not(webcfg_check_basic(cfg, "alice", "bob-pass"));
	cr_assert(webcfg_auth_excluded(cfg, "/-/healthy"));
	cr_assert(webcfg_auth_excluded(cfg, "/-/ready"));
	cr_assert_not(webcfg_auth_excluded(cfg, "/metrics"));
	webcfg_free(cfg);
	free(alice);
	free(bob);
}

Test(webcfg_yaml, operator_file_tls_headers_two_users)
{
	put_pems();
	char *h1 = make_hash("$2b$", 4, "one");
	char *h2 = make_hash("$2b$", 4, "two");
	char content[2048];
	snprintf(content, sizeof(content),
		 "---\n"
		 "tls_server_config:\n"
		 "  cert_file: \"server.crt\"\n"
		 "  key_file: 'server.key'\n"
		 "  client_auth_type: RequireAndVerifyClientCert\n"
		 "  client_ca_file: ca.crt\n"
		 "  min_version: TLS12\n"
		 "  max_version: TLS12\n"
		 "  cipher_suites:\n"
		 "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
		 "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
		 "  prefer_server_cipher_suites: true\n"
		 "  curve_preferences: [X25519, CurveP256]\n"
		 "http_server_config:\n"
		 "  http2: false\n"
		 "  headers:\n"
		 "    X-Frame-Options: deny\n"
		 "    X-Content-Type-Options: nosniff\n"
		 "    Strict-Transport-Security: max-age=31536000\n"
		 "basic_auth_users:\n"
		 "  prometheus: \"%s\"\n"
		 "  grafana-agent: '%s'\n",
		 h1, h2);
	char err[512] = "";
	struct webcfg *cfg = load_yaml(content, err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_eq(webcfg_client_auth(cfg), WEBCFG_REQUIRE_AND_VERIFY_CLIENT_CERT);
	cr_assert_eq(webcfg_max_version(cfg), WEBCFG_TLS12);
	const char *prio = webcfg_gnutls_priorities(cfg);
	cr_assert_not_null(strstr(prio, "+VERS-TLS1.2"), "%s", prio);
	cr_assert_null(strstr(prio, "+VERS-TLS1.3"), "%s", prio);
	cr_assert_not_null(strstr(prio, "-KX-ALL:+ECDHE-RSA"), "%s", prio);
	cr_assert_null(strstr(prio, "+ECDHE-ECDSA"), "%s", prio);
	cr_assert_not_null(strstr(prio, "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"), "%s", prio);
	const char *v = NULL;
	cr_assert_str_eq(webcfg_header(cfg, 0, &v), "X-Frame-Options");
	cr_assert_str_eq(v, "deny");
	cr_assert_str_eq(webcfg_header(cfg, 2, &v), "Strict-Transport-Security");
	cr_assert_null(webcfg_header(cfg, 3, &v));
	cr_assert(webcfg_check_basic(cfg, "prometheus", "one"));
	cr_assert(webcfg_check_basic(cfg, "grafana-agent", "two"));
	webcfg_free(cfg);
	free(h1);
	free(h2);
}

Test(webcfg_yaml, errors_carry_file_and_line)
{
	put_pems();
	expect_yaml_error("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
			  "  cert_fiel: typo.crt\n",
			  4, "unknown key tls_server_config.cert_fiel");
	expect_yaml_error("basic_auth_users:\n  alice: x\n", 2, "not a bcrypt hash");
	expect_yaml_error("# top\nrate_limit:\n  burst: 1\n", 2, "unknown key rate_limit");
	expect_yaml_error("http_server_config:\n  headers:\n    Server: me\n", 3, "cannot be set");
	expect_yaml_error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n", 3,
			  "invalid value");
	expect_yaml_error("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
			  "  min_version: TLS13\n  max_version: TLS12\n",
			  5, "below min_version");
	expect_yaml_error("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
			  "  cipher_suites: [TLS_FANCY]\n",
			  4, "cipher suite");
	expect_yaml_error("basic_auth_users:\n  alice: [1\n", 3, "");
}

Test(webcfg_yaml, empty_file_means_plain_http)
{
	char err[512] = "";
	struct webcfg *cfg = load_yaml("# nothing yet\n", err, sizeof(err));
	cr_assert_not_null(cfg, "%s", err);
	cr_assert_not(webcfg_has_tls(cfg));
	cr_assert_not(webcfg_has_auth(cfg));
	webcfg_free(cfg);
}
