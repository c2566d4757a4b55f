/*
 * gzpiece: one gzip member (RFC 1952) assembled from pieces compressed apart, so
 * that a body made of a large part that rarely changes and a small part that
 * changes often costs, on each change, only the compression of what changed:
 *
 *   gzpiece_header | gzpiece_deflate(a, last = false) | gzpiece_deflate(b, last = true) |
 *   gzpiece_trailer(gzpiece_crc_combine(crc(a), crc(b), len(b)), len(a) + len(b))
 *
 * A piece that is not last ends with an empty stored block (zlib's
 * Z_SYNC_FLUSH): it is byte-aligned and marks no final block, so the next
 * piece's raw deflate simply follows it. Each piece is a deflate stream of its
 * own (no match reaches into the piece before), which costs a little ratio at
 * the seam and nothing else. Any decoder of gzip reads the whole as one member.
 */
#ifndef CS_GZPIECE_H
#define CS_GZPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define GZPIECE_HEADER_LEN  10
#define GZPIECE_TRAILER_LEN 8

/* Appends the 10-byte header gzip writes for a stream (no name, no time,
 * OS Unix), as zlib's own gzip wrapper writes it. */
void gzpiece_header(struct buf *out);

/*
 * Appends the raw deflate (RFC 1951) of in[0..len) at level (0-9, -1 for
 * zlib's default): the final block when last, otherwise blocks ending on a
 * byte boundary with no final block. Returns 0, or -1 on a zlib error (out is
 * then left at its previous length).
 */
int gzpiece_deflate(struct buf *out, const void *in, size_t len, int level, bool last);

/* The CRC-32 of in[0..len) continued from crc (0 to start), as gzip's. */
uint32_t gzpiece_crc(uint32_t crc, const void *in, size_t len);

/* The CRC-32 of a then b from crc(a), crc(b) and the length of b. */
uint32_t gzpiece_crc_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* Appends the 8-byte trailer: the CRC-32 of the whole uncompressed text and
 * its length mod 2^32, both little-endian. */
void gzpiece_trailer(struct buf *out, uint32_t crc, uint64_t len);

/* Appends the whole gzip member of in[0..len): header, one final piece,
 * trailer. Returns 0, or -1 on a zlib error (out is then left at its
 * previous length). */
int gzpiece_gzip(struct buf *out, const void *in, size_t len, int level);

/*
 * Appends the decompression of raw deflate pieces in[0..len), as gzpiece_deflate
 * writes them (the last one final or not). Returns 0, or -1 when the data is
 * not such deflate (out is then left at its previous length).
 */
int gzpiece_inflate(struct buf *out, const void *in, size_t len);

#endif
