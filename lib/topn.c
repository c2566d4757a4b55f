#include "topn.h"

#include <string.h>

void topn_offer(void *list, size_t *len, size_t n, size_t size, const void *item,
		topn_before before, const void *ctx)
{
	char *v = list;
	size_t lo = 0, hi = *len;

	if (n == 0 || (*len == n && !before(item, v + (n - 1) * size, ctx)))
		return;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (before(v + mid * size, item, ctx))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*len < n)
		(*len)++;
	memmove(v + (lo + 1) * size, v + lo * size, (*len - 1 - lo) * size);
	memcpy(v + lo * size, item, size);
}
