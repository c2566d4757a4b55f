/* When a dataset's rejection summary is logged (docs/operations.md, "Logs"):
 * when it changes or an hour after the last line, not every evaluation. */
#include <criterion/criterion.h>

#include "exporter/eval/eval.h"

Test(reject_log, once_per_change_or_hour)
{
	const double t0 = 1000;

	/* no rejection ever: no line */
	cr_expect_not(eval_reject_log_due("rl_clean", "", t0));
	cr_expect_not(eval_reject_log_due("rl_clean", "", t0 + 7200));

	cr_expect(eval_reject_log_due("rl_a", "null_key=2", t0), "first summary");
	for (int i = 1; i <= 10; i++)
		cr_expect_not(eval_reject_log_due("rl_a", "null_key=2", t0 + i), "same, %d s later",
			      i);
	cr_expect(eval_reject_log_due("rl_a", "null_key=3", t0 + 11), "a count changed");
	cr_expect_not(eval_reject_log_due("rl_a", "null_key=3", t0 + 11 + 3599));
	cr_expect(eval_reject_log_due("rl_a", "null_key=3", t0 + 11 + 3600), "an hour later");
	cr_expect(eval_reject_log_due("rl_a", "bad_time=3", t0 + 3700), "a reason changed");
	/* rejections stop: one line, then quiet, even hours later */
	cr_expect(eval_reject_log_due("rl_a", "", t0 + 3800));
	cr_expect_not(eval_reject_log_due("rl_a", "", t0 + 3801));
	cr_expect_not(eval_reject_log_due("rl_a", "", t0 + 20000));

	/* datasets are independent */
	cr_expect(eval_reject_log_due("rl_b", "null_key=2", t0));
	cr_expect_not(eval_reject_log_due("rl_b", "null_key=2", t0 + 5));
}
