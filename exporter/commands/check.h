/*
 * check: --config.check --connect. A loaded config says nothing of the
 * columns its queries return; this connects to every source, runs every
 * dataset query and every outcome query once, wrapped as
 * SELECT * FROM (<query>) AS cs_check LIMIT 0 with its parameters bound, and
 * compares the result's columns with the dataset's contract
 * (cs_data_check_columns). No row is read.
 */
#ifndef CS_CHECK_H
#define CS_CHECK_H

#include <stdio.h>

#include "config/config.h"

/* Checks every query of cfg (loaded from path) and prints one line per
 * problem to err, "PATH:LINE: message", where LINE is the query's. Returns
 * the number of queries with a problem (missing columns, a failed query or
 * connection); 0 when all match. */
int check_connect(const struct cs_config *cfg, const char *path, FILE *err);

#endif
