/*
 * backfill: history from day one. Evaluates every collector at each step of
 * a past time range, exactly as `--once --as-of` would at that instant, and
 * writes one OpenMetrics file with timestamped samples that
 * `promtool tsdb create-blocks-from openmetrics` imports.
 *
 *   cs_exporter backfill --config.file FILE --from DATE --to DATE
 *                        [--step DURATION] [--output FILE]
 *
 * OpenMetrics wants each family's metadata once and all of a family's samples
 * together, and each series' points contiguous in increasing time, whereas a
 * render is one instant with every family. struct om_merge regroups renders
 * of successive instants accordingly; it keeps everything in memory until
 * om_merge_finish (roughly the size of one exposition times the number of
 * steps).
 */
#ifndef CS_BACKFILL_H
#define CS_BACKFILL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "lib/buf.h"

/* Exit codes: 0 success, 1 some collector run failed (the file is still
 * written, without that run's KPI samples), 2 bad flags or config. */
int backfill_main(int argc, char **argv);

struct om_merge;

struct om_merge *om_merge_new(void);
void om_merge_free(struct om_merge *m);

/*
 * Adds name="value" (value escaped here) to every sample of the renders added
 * after it, after the sample's own labels: backfill --label. name must be a
 * valid label name.
 */
void om_merge_add_label(struct om_merge *m, const char *name, const char *value);

/*
 * Adds one OpenMetrics exposition (as expo_render writes it, "# EOF"
 * optional) taken at unix time ts_usec (microseconds). Renders must be added
 * in increasing time order. Returns 0, -1 when a sample line comes before
 * any metadata line (the text is not an OpenMetrics render), or -2 when a
 * sample already has a label of om_merge_add_label (om_merge_conflict says
 * which, and of which family). On error the render is partly added.
 */
int om_merge_add(struct om_merge *m, const char *text, size_t len, int64_t ts_usec);

/* After om_merge_add returned -2: the clash, as a sentence fragment. */
const char *om_merge_conflict(const struct om_merge *m);

/*
 * Appends the merged exposition to out: families sorted by name, each with
 * the metadata of its first render, then every series with its points in
 * time order (a gauge histogram point is all its _bucket, _gcount and _gsum
 * lines), and "# EOF".
 */
void om_merge_finish(struct om_merge *m, struct buf *out);

/*
 * Writes what om_merge_finish appends to out, releasing each series' points
 * once written (m is then only fit for om_merge_free), and flushes. Returns
 * 0, or -1 with errno set when a write failed.
 */
int om_merge_write(struct om_merge *m, FILE *out);

#endif
