#include "gzpiece.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

void gzpiece_header(struct buf *out)
{
	/* magic, deflate, no flags, mtime 0, no extra flags, OS 3 (Unix) */
	static const unsigned char h[GZPIECE_HEADER_LEN] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	buf_add(out, h, sizeof(h));
}

/* Feeds in[0..len) to the deflate stream zs, output appended to out, and
 * ends with flush (Z_SYNC_FLUSH or Z_FINISH). */
static int pump_deflate(z_stream *zs, struct buf *out, const void *in, size_t len, int flush)
{
	const unsigned char *src = in;
	size_t left = len;
	int rc, f;
	do {
		if (zs->avail_in == 0 && left) {
			uInt chunk = left > UINT_MAX ? UINT_MAX : (uInt)left;
			zs->next_in = (Bytef *)(uintptr_t)src;
			zs->avail_in = chunk;
			src += chunk;
			left -= chunk;
		}
		if (out->cap - out->len < 64)
			buf_grow(out, out->cap > 4096 ? out->cap : 4096);
		size_t room = out->cap - out->len - 1; /* keep the NUL slot */
		if (room > UINT_MAX)
			room = UINT_MAX;
		zs->next_out = (Bytef *)out->data + out->len;
		zs->avail_out = (uInt)room;
		/* the flush goes with the last of the input (zlib's usage) */
		f = left ? Z_NO_FLUSH : flush;
		rc = deflate(zs, f);
		out->len += room - zs->avail_out;
		if (rc == Z_STREAM_ERROR)
			return -1;
		/* A flush is complete when it left output room unused. */
	} while (rc != Z_STREAM_END && !(f == Z_SYNC_FLUSH && zs->avail_out > 0));
	return 0;
}

int gzpiece_deflate(struct buf *out, const void *in, size_t len, int level, bool last)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (level < -1 || level > 9)
		level = Z_DEFAULT_COMPRESSION;
	/* -15: maximum window, raw deflate (no zlib or gzip wrapper) */
	if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t start = out->len;
	buf_grow(out, (size_t)deflateBound(&zs, (uLong)(len > ULONG_MAX ? ULONG_MAX : len)) + 16);
	int rc = pump_deflate(&zs, out, in, len, last ? Z_FINISH : Z_SYNC_FLUSH);
	deflateEnd(&zs);
	if (rc) {
		out->len = start;
		out->data[out->len] = '\0';
		return -1;
	}
	out->data[out->len] = '\0';
	return 0;
}

uint32_t gzpiece_crc(uint32_t crc, const void *in, size_t len)
{
	const Bytef *p = in;
	uLong c = crc;
	while (len) {
		uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;
		c = crc32(c, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return (uint32_t)c;
}

uint32_t gzpiece_crc_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)len_b);
}

void gzpiece_trailer(struct buf *out, uint32_t crc, uint64_t len)
{
	unsigned char t[GZPIECE_TRAILER_LEN];
	uint32_t isize = (uint32_t)(len & 0xffffffffu);
	for (int i = 0; i < 4; i++) {
		t[i] = (unsigned char)(crc >> (8 * i));
		t[4 + i] = (unsigned char)(isize >> (8 * i));
	}
	buf_add(out, t, sizeof(t));
}

int gzpiece_gzip(struct buf *out, const void *in, size_t len, int level)
{
	size_t start = out->len;

	gzpiece_header(out);
	if (gzpiece_deflate(out, in, len, level, true) != 0) {
		out->len = start;
		out->data[out->len] = '\0';
		return -1;
	}
	gzpiece_trailer(out, gzpiece_crc(0, in, len), len);
	return 0;
}

int gzpiece_inflate(struct buf *out, const void *in, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return -1;
	size_t start = out->len;
	const unsigned char *src = in;
	size_t left = len;
	int rc = Z_OK;
	buf_grow(out, len * 4 + 64);
	while (rc != Z_STREAM_END && (left || zs.avail_in)) {
		if (zs.avail_in == 0) {
			uInt chunk = left > UINT_MAX ? UINT_MAX : (uInt)left;
			zs.next_in = (Bytef *)(uintptr_t)src;
			zs.avail_in = chunk;
			src += chunk;
			left -= chunk;
		}
		if (out->cap - out->len < 64)
			buf_grow(out, out->cap);
		size_t room = out->cap - out->len - 1;
		if (room > UINT_MAX)
			room = UINT_MAX;
		zs.next_out = (Bytef *)out->data + out->len;
		zs.avail_out = (uInt)room;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
	}
	/* Every byte taken and no error, ending with a final block or, for
	 * a piece that is not last, on a block boundary (zlib's data_type:
	 * 128 there, 64 inside the final block): not cut inside a block. */
	bool ok =
	    !left && zs.avail_in == 0 &&
	    (rc == Z_STREAM_END || (rc == Z_OK && (zs.data_type & 128) && !(zs.data_type & 64)));
	inflateEnd(&zs);
	if (!ok) {
		out->len = start;
		if (out->cap)
			out->data[out->len] = '\0';
		return -1;
	}
	out->data[out->len] = '\0';
	return 0;
}
