/*
 * log: the one logging call. Lines go to stderr as logfmt
 * (ts=… level=… msg="…" key=value) or JSON, one line per event, written with
 * a single write so that threads never interleave.
 */
#ifndef CS_LOG_H
#define CS_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_LOGFMT, LOG_JSON };

/* Returns 0, or -1 when name is not one of debug, info, warn, error. */
int log_set_level(const char *name);
/* Returns 0, or -1 when name is not logfmt or json. */
int log_set_format(const char *name);

/*
 * Logs msg with (key, value) string pairs, terminated by NULL:
 *   logx(LOG_WARN, "query failed", "collector", c->name, "err", err, NULL);
 */
void logx(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
