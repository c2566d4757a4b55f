/*
 * buf: the one growable byte buffer of the project.
 *
 * Invariants: data is NUL-terminated whenever cap > 0 (data[len] == '\0'),
 * so a buffer can be handed to C string functions; len never counts the NUL.
 * An initialised, empty buffer owns no memory. Allocation failure aborts the
 * process: an exporter that cannot allocate a few KiB has nothing useful left
 * to do, and checking every append would hide the logic.
 */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_init(struct buf *b);
/* Frees the memory and leaves b as after buf_init. */
void buf_release(struct buf *b);
/* Ensures room for extra more bytes plus the NUL. */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Hands the memory to the caller (never NULL) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

/* Allocation helpers that abort on failure, for the same reason as above. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
