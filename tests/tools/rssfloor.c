/*
 * The floor of the exporter's idle RSS (docs/benchmarks.md, part 4): a
 * program that links the exporter's libraries, starts a libmicrohttpd
 * daemon on a free port, opens one connection to the database as the
 * exporter does (the same conninfo: TCP, password from a file) and runs one
 * query, then reports its own RSS. Nothing of the exporter is in it, so what
 * it prints is what any exporter built on these libraries pays before it
 * holds a single sample.
 *
 *   rssfloor 'host=... port=... dbname=... user=... passfile=...'
 *
 * Prints "rss KB anon KB file KB" (VmRSS, RssAnon, RssFile).
 */
#include <crypt.h>
#include <libconfig.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **state)
{
	(void)cls, (void)conn, (void)url, (void)method, (void)version, (void)data, (void)size,
	    (void)state;
	return MHD_NO;
}

static long status_kb(const char *field)
{
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: rssfloor CONNINFO\n");
		return 2;
	}
	/* The libraries the exporter uses besides these two, touched as it
	 * touches them at start-up: a config parsed, a YAML parser, zlib. */
	config_t cfg;
	config_init(&cfg);
	config_read_string(&cfg, "a = 1;");
	yaml_parser_t yp;
	yaml_parser_initialize(&yp);
	yaml_parser_delete(&yp);
	uLong crc = crc32(0L, Z_NULL, 0);
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
						NULL, NULL, answer, NULL, MHD_OPTION_END);
	PGconn *c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "rssfloor: %s", PQerrorMessage(c));
		return 1;
	}
	PQclear(PQexec(c, "SELECT 1"));
	sleep(1);
	printf("rss %ld anon %ld file %ld\n", status_kb("VmRSS"), status_kb("RssAnon"),
	       status_kb("RssFile"));
	PQfinish(c);
	if (d)
		MHD_stop_daemon(d);
	config_destroy(&cfg);
	free(cd);
	return crc == 0 ? 0 : 1;
}
