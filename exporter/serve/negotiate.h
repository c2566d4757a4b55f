/*
 * negotiate: HTTP content negotiation for /metrics and gzip compression.
 *
 * The negotiation functions are pure: they look only at the header value
 * given (NULL allowed) and never fail; anything they cannot parse falls back
 * to what every Prometheus version understands, plain text without gzip.
 */
#ifndef CS_NEGOTIATE_H
#define CS_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/expo.h"

/*
 * Chooses the exposition format from an Accept header value. Media ranges
 * are weighed by their q-value (q=0: not acceptable); the most specific
 * range that matches a format sets its q (text/plain beats text/ beats
 * wildcard). OpenMetrics matches application/openmetrics-text with version
 * 1.0.0, 0.0.1 or none; text matches text/plain with version 0.0.4 or none.
 * The highest q wins; on a tie OpenMetrics wins only if it was named
 * explicitly, not through a wildcard. Returns EXPO_TEXT when nothing
 * acceptable matches or the header is missing, empty or unparseable.
 */
enum expo_format negotiate_format(const char *accept);

/* The Content-Type header value for a format (static storage). */
const char *negotiate_content_type(enum expo_format fmt);

/*
 * Whether an Accept-Encoding header value allows a gzip response: gzip or
 * x-gzip with q > 0, or "*" with q > 0 when gzip is not named with q=0.
 */
bool negotiate_gzip(const char *accept_encoding);

#endif
