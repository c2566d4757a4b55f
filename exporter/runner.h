/*
 * runner: one run of one collector. Fetches the datasets its kind needs from
 * the sources (accounts first), feeds the rows to the model, and computes
 * the KPIs into a fresh mset. Knows SQL only as configured text and
 * parameters; knows KPIs only through the kind table.
 */
#ifndef CS_RUNNER_H
#define CS_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "../collectors/model.h"
#include "expo.h"
#include "pg.h"

struct run_reject {
	char *dataset;
	char *reason;
	uint64_t count;
};

/* What one run read of one dataset (freshness, SPEC section 6). */
struct run_dataset {
	bool read;
	uint64_t rows;	   /* rows read, rejected ones included */
	uint64_t rejected; /* of those */
	cs_time newest;	   /* newest instant among the valid rows, CS_TIME_NONE: none */
};

struct run_result {
	bool ok;
	char err[512];
	struct mset *set; /* KPI samples; NULL when !ok */
	uint64_t rows;	  /* rows read, all datasets */
	struct run_reject *rejects;
	size_t nrejects;
	uint64_t folded; /* segment combinations folded into "other" */
	struct run_dataset datasets[DS_COUNT];
	double seconds; /* wall time of the run */
};

/* sources is indexed like cfg->sources. res is always filled in. */
void runner_run(const struct cs_config *cfg, const struct cs_collector *c,
		struct pg_source *const *sources, cs_time as_of, struct run_result *res);
void run_result_release(struct run_result *res);

/* Parses a user-given instant: RFC 3339 ("2026-11-01T00:00:00Z", with Z or
 * an offset) or a date ("2026-11-01", midnight UTC). Returns 0 or -1. */
int runner_parse_instant(const char *s, cs_time *t);

#endif
