/*
 * snapshot: the exporter's state as scrapes see it, and its rendering.
 *
 * Each evaluation publishes its collectors at once; a failed collector keeps the
 * last good samples (until stale_after) and marks the collector down. The
 * exposition is served as two parts, one after the other: the KPI part (the
 * collectors' good sets) and the self part (the exporter's own metrics and,
 * in OpenMetrics, "# EOF"). The KPI part is rendered in both formats and
 * compressed only when the good sets change (a publish, a reload, a set
 * going stale), and only its compressed text is kept; its plain text is
 * decompressed at the first plain scrape of a format. The self part, small,
 * is rendered plain and compressed at every change and by snapshot_tick(),
 * which the main loop calls every few seconds for the process metrics and
 * stale_after; the gzip body is then the KPI part's compressed text and the
 * self part's joined into one gzip member (lib/gzpiece.h), a copy, not a
 * compression. Each rendering is an immutable, reference-counted struct
 * rendered holding a reference to its KPI part; a scrape only takes a
 * reference to the current one, so it never waits for a database, a render,
 * or a compressor.
 */
#ifndef CS_SNAPSHOT_H
#define CS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/result.h"
#include "config/config.h"
#include "lib/expo.h"

struct rendered;

/* A stretch of a body to send as it is. */
struct body_piece {
	const void *data;
	size_t len;
};

struct snapshot;

struct snapshot *snapshot_new(void);
void snapshot_free(struct snapshot *s);

/* Declares the collectors of a (re)loaded config; states of collectors that
 * keep their name survive a reload, others are dropped. */
void snapshot_configure(struct snapshot *s, const struct cs_config *cfg);
/* Publishes one evaluation: every collector of it at once, its rejections
 * once. Takes ownership of each res->v[i].set (NULL afterwards). */
void snapshot_publish(struct snapshot *s, struct cs_result *res);
void snapshot_reload_result(struct snapshot *s, bool ok);
/* The expiry (Unix seconds) of the TLS certificate served, exported as
 * cs_web_tls_certificate_expiry_timestamp_seconds; none without TLS. */
void snapshot_tls_expiry(struct snapshot *s, double not_after);
/* Re-renders with fresh process metrics and applies stale_after. */
void snapshot_tick(struct snapshot *s);

/* A reference to the current rendering; release with snapshot_unref. */
const struct rendered *snapshot_ref(struct snapshot *s);
void snapshot_unref(const struct rendered *r);
/*
 * The body of r in format fmt, gzip or plain, as the pieces to send one
 * after the other (an empty one is to be skipped): gzip, the whole member in
 * one piece; plain, the KPI part's text and the self part's, as they are.
 * They live as long as r. Thread-safe; a plain KPI part is decompressed at
 * the first ask of its format. Returns -1 when that decompression failed.
 */
int rendered_body(const struct rendered *r, enum expo_format fmt, bool gz,
		  struct body_piece piece[2]);

/* true once every configured collector has succeeded at least once */
bool snapshot_ready(struct snapshot *s);

/* The HTML status page (UTF-8), appended to out. */
void snapshot_status_page(struct snapshot *s, const char *metrics_path, struct buf *out);

/*
 * One evaluation on its own, as --once prints it and a backfill step records
 * it: the KPI sets of res (taken from it: NULL afterwards), then one set of
 * the collector, rejection and dataset metrics of that evaluation alone,
 * without anything that varies from run to run (durations, timestamps,
 * process). Returns the sets, *n of them, for expo_render or
 * expo_history_add; free them with snapshot_sets_free.
 */
struct mset **snapshot_alone(const struct cs_config *cfg, struct cs_result *res, size_t *n);
void snapshot_sets_free(struct mset **sets, size_t n);

#endif
