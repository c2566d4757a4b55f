/*
 * self: the exporter's own families (how each collector ran, what each
 * dataset returned, the configuration, the process), as a family table like
 * the kinds' (collectors/emit.h), so that their names, types, labels and
 * HELP have one home: exporter/serve/snapshot.c writes them from here, the
 * kind table derives the reserved label names from here, and
 * docs/metrics.md and dashboards/metrics.txt are generated from here.
 * They carry no segment labels.
 */
#ifndef CS_SELF_H
#define CS_SELF_H

#include "emit.h"

enum cs_self {
	SELF_BUILD_INFO,
	SELF_COLLECTOR_UP,
	SELF_COLLECTOR_EVALUATION,
	SELF_COLLECTOR_LAST_SUCCESS,
	SELF_COLLECTOR_DURATION,
	SELF_COLLECTOR_RUNS,
	SELF_COLLECTOR_FAILURES,
	SELF_COLLECTOR_ROWS,
	SELF_COLLECTOR_SERIES,
	SELF_ROWS_REJECTED,
	SELF_DATASET_RETRIES,
	SELF_DATASET_MAX_AGE,
	SELF_DATASET_ROWS,
	SELF_DATASET_NEWEST,
	SELF_SERIES_DROPPED,
	SELF_INCREMENTAL_DRIFT,
	SELF_CONFIG_RELOAD_OK,
	SELF_CONFIG_RELOAD_TIME,
	SELF_TLS_EXPIRY,
	SELF_PROCESS_CPU,
	SELF_PROCESS_VIRTUAL_MEMORY,
	SELF_PROCESS_RESIDENT_MEMORY,
	SELF_PROCESS_OPEN_FDS,
	SELF_PROCESS_MAX_FDS,
	SELF_PROCESS_START_TIME,
	SELF_COUNT
};

/* Indexed by enum cs_self; ends with an entry whose name is NULL. */
extern const struct cs_family self_families[SELF_COUNT + 1];

#endif
