/*
 * backfill: history from day one. Evaluates every collector at each step of
 * a past time range, exactly as `--once --as-of` would at that instant, and
 * writes one OpenMetrics file with timestamped samples that
 * `promtool tsdb create-blocks-from openmetrics` imports.
 *
 *   cs_exporter backfill --config.file FILE --from DATE --to DATE
 *                        [--step DURATION] [--output FILE]
 *
 * A step that fails while a database is away waits and is tried again, so
 * an outage shorter than --retry.max-wait loses no step; the file appears
 * at its path only once complete.
 *
 * OpenMetrics wants each family's metadata once and all of a family's samples
 * together, and each series' points contiguous in increasing time, whereas an
 * evaluation is one instant with every family: the steps' metric sets are
 * regrouped by lib/expo.h's expo_history, which keeps every point until the
 * end.
 */
#ifndef CS_BACKFILL_H
#define CS_BACKFILL_H

/* Exit codes: 0 every step of every collector written; 1 some KPIs missing
 * (a collector failed while its database answered; the file is written and
 * usable); 2 bad flags or config; 3 no usable output (the databases did not
 * answer within --retry.max-wait, or the file could not be written). */
int backfill_main(int argc, char **argv);

#endif
