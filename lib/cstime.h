/*
 * cstime: instants as microseconds since 1970-01-01 00:00:00 UTC, and their
 * text forms as PostgreSQL writes them (session time zone UTC) and as RFC
 * 3339.
 */
#ifndef CS_CSTIME_H
#define CS_CSTIME_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t cs_time;
#define CS_TIME_NONE INT64_MIN /* SQL NULL */
#define CS_TIME_OPEN INT64_MAX /* valid_to NULL: open-ended */
#define CS_SECOND    INT64_C(1000000)
#define CS_DAY	     (INT64_C(86400) * CS_SECOND)

/* Parses PostgreSQL text output of timestamptz/timestamp/date (session time
 * zone UTC) such as "2024-03-01 12:00:00.25+00" or "2024-03-01". Returns 0 and
 * sets *t, or -1 when malformed. */
int cs_parse_time(const char *s, cs_time *t);
/* Formats t as RFC 3339 UTC ("2024-03-01T12:00:00Z", fraction when non-zero). */
void cs_format_time(cs_time t, char *dst, size_t len);

/* The instant at the start (00:00 UTC on the 1st) of the calendar month
 * that is months (may be negative) after the month of t. */
cs_time cs_month_start(cs_time t, int months);

/* The wall clock (CLOCK_REALTIME) as an instant. */
cs_time cs_now(void);
/* The monotonic clock (CLOCK_MONOTONIC), for durations and deadlines: a
 * wall-clock step must not stretch or cut a wait. Counted from an arbitrary
 * start. */
int64_t cs_mono_ms(void);
double cs_mono_seconds(void);

#endif
