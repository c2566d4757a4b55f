#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/gzpiece.h"

/* zlib's own gzip reader on z: the whole of it must be one member whose
 * CRC-32 and length (which zlib checks) match what it decodes to. */
static void gunzip(const struct buf *z, struct buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)z->data;
	zs.avail_in = (uInt)z->len;
	int rc;
	do {
		buf_grow(out, 4096);
		zs.next_out = (Bytef *)out->data + out->len;
		zs.avail_out = (uInt)(out->cap - out->len - 1);
		size_t before = zs.avail_out;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += before - zs.avail_out;
		cr_assert(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d (%s)", rc,
			  zs.msg ? zs.msg : "");
	} while (rc != Z_STREAM_END);
	out->data[out->len] = '\0';
	cr_assert_eq(zs.avail_in, 0, "trailing bytes after the gzip member");
	inflateEnd(&zs);
}

static void exposition_like(struct buf *b, unsigned seed, int lines)
{
	srand(seed);
	for (int i = 0; i < lines; i++)
		buf_addf(b, "cs_mrr{plan=\"p%d\",region=\"r%d\"} %d\n", rand() % 50, rand() % 9,
			 rand());
}

/* The member of pieces p[0..n), assembled as snapshot.c does. */
static void join(const struct buf *p, size_t n, struct buf *z)
{
	uint32_t crc = 0;
	uint64_t len = 0;
	gzpiece_header(z);
	cr_assert_eq(z->len, GZPIECE_HEADER_LEN);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(gzpiece_deflate(z, p[i].data, p[i].len, 6, i + 1 == n), 0);
		crc = gzpiece_crc_combine(crc, gzpiece_crc(0, p[i].data, p[i].len), p[i].len);
		len += p[i].len;
	}
	gzpiece_trailer(z, crc, len);
}

Test(gzpiece, two_pieces_are_one_member)
{
	struct buf p[2] = {BUF_INIT, BUF_INIT}, z = BUF_INIT, back = BUF_INIT, whole = BUF_INIT;
	exposition_like(&p[0], 7, 100000);
	exposition_like(&p[1], 8, 40);
	join(p, 2, &z);
	cr_assert(z.len < (p[0].len + p[1].len) / 2, "not compressed");
	gunzip(&z, &back);
	buf_add(&whole, p[0].data, p[0].len);
	buf_add(&whole, p[1].data, p[1].len);
	cr_assert_eq(back.len, whole.len);
	cr_assert_eq(memcmp(back.data, whole.data, whole.len), 0);
	/* the combined CRC is the CRC of the whole */
	uint32_t c = gzpiece_crc_combine(gzpiece_crc(0, p[0].data, p[0].len),
					 gzpiece_crc(0, p[1].data, p[1].len), p[1].len);
	cr_assert_eq(c, gzpiece_crc(0, whole.data, whole.len));
	cr_assert_eq(c, (uint32_t)crc32(0, (const Bytef *)whole.data, (uInt)whole.len));
	for (int i = 0; i < 2; i++)
		buf_release(&p[i]);
	buf_release(&z);
	buf_release(&back);
	buf_release(&whole);
}

Test(gzpiece, empty_pieces_and_many)
{
	struct buf p[4] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
	buf_adds(&p[1], "# EOF\n");
	exposition_like(&p[2], 3, 500);
	/* empty first, empty last, and four pieces: the seams hold anywhere */
	const size_t n[] = {2, 4};
	for (size_t k = 0; k < 2; k++) {
		struct buf z = BUF_INIT, back = BUF_INIT, whole = BUF_INIT;
		const struct buf *use = k == 0 ? (struct buf[]){p[0], p[1]} : p;
		join(use, n[k], &z);
		gunzip(&z, &back);
		for (size_t i = 0; i < n[k]; i++)
			buf_add(&whole, use[i].data, use[i].len);
		cr_assert_eq(back.len, whole.len);
		cr_assert(whole.len == 0 || memcmp(back.data, whole.data, whole.len) == 0);
		buf_release(&z);
		buf_release(&back);
		buf_release(&whole);
	}
	struct buf z = BUF_INIT, back = BUF_INIT;
	join(p, 1, &z); /* one empty piece: an empty member */
	gunzip(&z, &back);
	cr_assert_eq(back.len, 0);
	buf_release(&z);
	buf_release(&back);
	for (int i = 0; i < 4; i++)
		buf_release(&p[i]);
}

Test(gzpiece, header_is_zlibs_and_trailer_little_endian_mod_2_32)
{
	struct buf h = BUF_INIT, t = BUF_INIT;
	gzpiece_header(&h);
	const unsigned char want[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	cr_assert_eq(h.len, sizeof(want));
	cr_assert_eq(memcmp(h.data, want, sizeof(want)), 0);
	gzpiece_trailer(&t, 0x11223344u, ((uint64_t)1 << 32) + 0x0506);
	const unsigned char tw[] = {0x44, 0x33, 0x22, 0x11, 0x06, 0x05, 0, 0};
	cr_assert_eq(t.len, GZPIECE_TRAILER_LEN);
	cr_assert_eq(memcmp(t.data, tw, sizeof(tw)), 0);
	buf_release(&h);
	buf_release(&t);
}

Test(gzpiece, inflate_a_piece_back)
{
	struct buf in = BUF_INIT, z = BUF_INIT, back = BUF_INIT;
	exposition_like(&in, 11, 20000);
	buf_adds(&back, "kept");
	for (int last = 0; last < 2; last++) {
		buf_reset(&z);
		cr_assert_eq(gzpiece_deflate(&z, in.data, in.len, 6, last), 0);
		if (!last) /* a piece that is not last ends with an empty stored block */
			cr_assert_eq(memcmp(z.data + z.len - 4, "\0\0\xff\xff", 4), 0);
		back.len = 4;
		cr_assert_eq(gzpiece_inflate(&back, z.data, z.len), 0);
		cr_assert_eq(back.len, 4 + in.len);
		cr_assert_eq(memcmp(back.data, "kept", 4), 0);
		cr_assert_eq(memcmp(back.data + 4, in.data, in.len), 0);
		/* cut short, or garbage: refused, out left as it was */
		cr_assert_eq(gzpiece_inflate(&back, z.data, z.len - 1), -1);
		cr_assert_eq(back.len, 4 + in.len);
		cr_assert_eq(gzpiece_inflate(&back, "\xff\xff\xff", 3), -1);
		cr_assert_eq(back.len, 4 + in.len);
	}
	buf_release(&in);
	buf_release(&z);
	buf_release(&back);
}

Test(gzpiece, round_trip)
{
	struct buf in = BUF_INIT, z = BUF_INIT, back = BUF_INIT;
	srand(99);
	for (int i = 0; i < 200000; i++)
		buf_addf(&in, "cs_mrr{plan=\"p%d\"} %d\n", rand() % 50, rand());
	buf_adds(&z, "prefix");
	cr_assert_eq(gzpiece_gzip(&z, in.data, in.len, 6), 0);
	cr_assert(z.len < in.len / 2, "gzip did not compress");
	cr_assert_eq(memcmp(z.data, "prefix", 6), 0);
	cr_assert_eq((unsigned char)z.data[6], 0x1f);
	cr_assert_eq((unsigned char)z.data[7], 0x8b);
	struct buf tail = {z.data + 6, z.len - 6, 0};
	gunzip(&tail, &back);
	cr_assert_eq(back.len, in.len);
	cr_assert_eq(memcmp(back.data, in.data, in.len), 0);
	buf_release(&in);
	buf_release(&z);
	buf_release(&back);
}

Test(gzpiece, empty_input_and_levels)
{
	for (int level = -1; level <= 9; level++) {
		struct buf z = BUF_INIT, back = BUF_INIT;
		cr_assert_eq(gzpiece_gzip(&z, "", 0, level), 0);
		cr_assert(z.len >= 18);
		gunzip(&z, &back);
		cr_assert_eq(back.len, 0);
		buf_release(&z);
		buf_release(&back);
	}
}
