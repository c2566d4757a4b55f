// fuzz-sources: exporter/serve/negotiate.c
/*
 * Accept / Accept-Encoding parsing on arbitrary bytes, and gzpiece_gzip against
 * zlib's inflate. The input is split at the first newline: Accept before it,
 * Accept-Encoding after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exporter/serve/negotiate.h"
#include "lib/gzpiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_gzip(const uint8_t *data, size_t size)
{
	struct buf z = BUF_INIT;
	if (gzpiece_gzip(&z, data, size, (int)(size % 10)) != 0)
		abort();
	unsigned char *back = malloc(size + 1);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		abort();
	zs.next_in = (Bytef *)z.data;
	zs.avail_in = (uInt)z.len;
	zs.next_out = back;
	zs.avail_out = (uInt)size + 1;
	if (inflate(&zs, Z_FINISH) != Z_STREAM_END || zs.total_out != size ||
	    (size && memcmp(back, data, size) != 0))
		abort();
	inflateEnd(&zs);
	free(back);
	buf_release(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	char *enc = strchr(s, '\n');
	if (enc)
		*enc++ = '\0';

	enum expo_format f = negotiate_format(s);
	if (f != EXPO_TEXT && f != EXPO_OPENMETRICS)
		abort();
	if (!negotiate_content_type(f))
		abort();
	/*
	 * Refusing OpenMetrics explicitly, with the most specific range, always
	 * wins (unless an unclosed quote swallows the appended element).
	 */
	size_t n = strlen(s);
	char *refuse = malloc(n + 64);
	memcpy(refuse, s, n);
	strcpy(refuse + n, ",application/openmetrics-text;version=1.0.0;q=0");
	if (!strcasestr(s, "openmetrics-text") && !strchr(s, '"') &&
	    negotiate_format(refuse) != EXPO_TEXT)
		abort();
	free(refuse);

	(void)negotiate_gzip(enc ? enc : s);
	check_gzip(data, size);
	free(s);
	return 0;
}
