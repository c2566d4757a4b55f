/*
 * topn: a sorted array that keeps the n first items of a stream (the
 * at-risk and movers lists), without sorting the stream.
 */
#ifndef CS_TOPN_H
#define CS_TOPN_H

#include <stdbool.h>
#include <stddef.h>

/* Whether a comes before b; ctx is the caller's. */
typedef bool (*topn_before)(const void *a, const void *b, const void *ctx);

/*
 * Offers item (size bytes) to list, which holds *len items in order, at most
 * n: it is copied in at its place when it is among the n first, and the last
 * one falls off a full list. An insertion costs O(n); n is small (the lists'
 * bounds are at most 100) and after the first items few beat the last.
 */
void topn_offer(void *list, size_t *len, size_t n, size_t size, const void *item,
		topn_before before, const void *ctx);

#endif
