#include <criterion/criterion.h>

#include <stddef.h>

#include "exporter/sources/pg.h"

/* The decision behind a retry: only the SQLSTATEs that mean "the same query
 * in a new transaction may succeed" (README.md, "Collection, staleness and failures"). */

Test(pg_retryable, recovery_conflict_on_a_snapshot_or_lock)
{
	const char *reason = NULL;
	cr_assert_eq(pg_retryable("40001", &reason), 1);
	cr_assert_str_eq(reason, "serialization_failure");
}

Test(pg_retryable, buffer_deadlock_with_recovery)
{
	const char *reason = NULL;
	cr_assert_eq(pg_retryable("40P01", &reason), 1);
	cr_assert_str_eq(reason, "deadlock_detected");
}

Test(pg_retryable, reason_may_be_left_out)
{
	cr_assert_eq(pg_retryable("40001", NULL), 1);
}

Test(pg_retryable, other_errors_are_final)
{
	static const char *const final[] = {
	    "57014", /* query_canceled: statement_timeout, or a stop */
	    "57P04", /* database_dropped: a recovery conflict not worth repeating */
	    "57P01", /* admin_shutdown */
	    "08006", /* connection_failure */
	    "42P01", /* undefined_table: a mapping error */
	    "22007", /* invalid_datetime_format */
	    "40002", /* integrity constraint violation: class 40, but not a retry */
	    "40003", "4000", "400011", "",
	};
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
		const char *reason = "untouched";
		cr_assert_eq(pg_retryable(final[i], &reason), 0, "%s", final[i]);
		cr_assert_str_eq(reason, "untouched", "%s", final[i]);
	}
	cr_assert_eq(pg_retryable(NULL, NULL), 0);
}

Test(pg_retries, nothing_counted_without_a_retry)
{
	struct pg_retry_count c[PG_RETRY_COUNTERS];
	cr_assert_eq(pg_retries(c, PG_RETRY_COUNTERS), 0);
}
