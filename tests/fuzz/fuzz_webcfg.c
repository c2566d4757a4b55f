// fuzz-sources: exporter/serve/webcfg.c
// fuzz-libs: -lyaml -lgnutls
/*
 * webcfg_load on arbitrary file contents. The input is written to a file in
 * a private temporary directory (with a small PEM next to it so TLS paths
 * can resolve); a load must either succeed or fail with a "FILE:LINE: ..."
 * message, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/serve/webcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[128];
static char path_yml[128];

static void cleanup(void)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/server.pem", dir);
	unlink(p);
	unlink(path);
	unlink(path_yml);
	rmdir(dir);
}

static void setup(void)
{
	strcpy(dir, "/tmp/cs_fuzz_webcfg_XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/web.conf", dir);
	snprintf(path_yml, sizeof(path_yml), "%s/web.yml", dir);
	char p[160];
	snprintf(p, sizeof(p), "%s/server.pem", dir);
	FILE *fp = fopen(p, "w");
	if (!fp)
		abort();
	fputs("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", fp);
	fclose(fp);
	atexit(cleanup);
}

static void load_one(const char *file, const uint8_t *data, size_t size);

/* The same bytes as libconfig (web.conf) and as YAML (web.yml). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	load_one(path, data, size);
	load_one(path_yml, data, size);
	return 0;
}

static void load_one(const char *file, const uint8_t *data, size_t size)
{
	FILE *fp = fopen(file, "w");
	if (!fp)
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);

	char err[512];
	err[0] = '\0';
	struct webcfg *cfg = webcfg_load(file, err, sizeof(err));
	if (!cfg) {
		/* the message names a file and a line */
		const char *colon = strchr(err, ':');
		if (!err[0] || !colon || colon[1] < '0' || colon[1] > '9')
			abort();
		return;
	}
	if (webcfg_has_tls(cfg)) {
		if (!webcfg_cert_file(cfg) || !webcfg_key_file(cfg) ||
		    !webcfg_gnutls_priorities(cfg))
			abort();
		struct webcfg_pem pem;
		if (webcfg_read_pem(cfg, &pem, err, sizeof(err)) == 0)
			webcfg_pem_release(&pem);
	}
	(void)webcfg_has_auth(cfg);
	/* no webcfg_check_basic: a fuzzed cost of 31 would take hours per call */
	webcfg_free(cfg);
}
