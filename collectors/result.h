/*
 * result: what one evaluation of collectors at an instant yields, as a value.
 * The evaluation (exporter/eval) fills it and returns it; a command hands it
 * to whatever publishes or prints it (the snapshot of the daemon and of
 * --once, a backfill's file). Neither side calls the other: this header is
 * what they share.
 *
 * Ownership: a result owns its metric sets and strings until
 * cs_result_release; a consumer may take a set (and leave NULL behind).
 */
#ifndef CS_RESULT_H
#define CS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/cstime.h"
#include "lib/expo.h"

/* One due collector's part of an evaluation. */
struct cs_result_collector {
	const struct cs_collector *c;
	bool ok;
	char err[512];
	struct mset *set; /* its KPI families; NULL when !ok */
	uint64_t rows;	  /* rows of the datasets it needs */
};

/* Rows of a dataset rejected for one reason, once per evaluation. */
struct cs_result_reject {
	char *dataset;
	char *reason;
	uint64_t count;
};

/* What one evaluation read of one dataset: how fresh it is. */
struct cs_result_dataset {
	bool read;	   /* read, and the read succeeded */
	uint64_t rows;	   /* rows read, rejected ones included */
	uint64_t rejected; /* of those */
	cs_time newest;	   /* newest instant among the valid rows, CS_TIME_NONE: none */
	/* The daemon's incremental reads (exporter/eval/eval.h): at a full
	 * read, the entries the memory would have had wrong. */
	bool drift_checked;
	uint64_t drift;
};

/* Reads the source layer ran again after the server cancelled them ("try
 * again"), since the process started: cumulative, so the newest result holds
 * them all. */
struct cs_result_retry {
	char *dataset;
	char *reason;
	uint64_t count;
};

struct cs_result {
	cs_time as_of;
	double seconds; /* wall time of the evaluation */
	uint64_t rows;	/* rows read, all datasets */
	struct cs_result_collector *v;
	size_t n;
	struct cs_result_reject *rejects;
	size_t nrejects;
	uint64_t folded; /* segment combinations folded into "other" */
	struct cs_result_dataset datasets[DS_COUNT];
	struct cs_result_retry *retries;
	size_t nretries;
};

/* The number of collectors of res that failed. */
size_t cs_result_failed(const struct cs_result *res);
void cs_result_release(struct cs_result *res);

#endif
