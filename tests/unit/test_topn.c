#include <criterion/criterion.h>

#include "lib/topn.h"

static bool smaller(const void *a, const void *b, const void *ctx)
{
	(void)ctx;
	return *(const int *)a < *(const int *)b;
}

/* Whatever the order of the stream, the list holds its n smallest, sorted. */
Test(topn, keeps_the_n_first_in_order)
{
	static const int stream[] = {7, 3, 9, 0, 8, 2, 6, 1, 5, 4};
	int list[3];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(stream) / sizeof(stream[0]); i++)
		topn_offer(list, &len, 3, sizeof(int), &stream[i], smaller, NULL);
	cr_assert_eq(len, 3);
	cr_assert_eq(list[0], 0);
	cr_assert_eq(list[1], 1);
	cr_assert_eq(list[2], 2);
}

/* Fewer items than n: all of them; an equal item goes after the ones there. */
Test(topn, short_streams_and_ties)
{
	int list[4], x;
	size_t len = 0;

	x = 5;
	topn_offer(list, &len, 4, sizeof(int), &x, smaller, NULL);
	x = 5;
	topn_offer(list, &len, 4, sizeof(int), &x, smaller, NULL);
	x = 1;
	topn_offer(list, &len, 4, sizeof(int), &x, smaller, NULL);
	cr_assert_eq(len, 3);
	cr_assert_eq(list[0], 1);
	cr_assert_eq(list[1], 5);
	cr_assert_eq(list[2], 5);
	len = 0;
	topn_offer(list, &len, 0, sizeof(int), &x, smaller, NULL);
	cr_assert_eq(len, 0, "n = 0 keeps nothing");
}
