#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include "exporter/eval/sched.h"

#define MAXJ 4

struct probe {
	size_t n;
	atomic_int running;
	atomic_int max_running;
	atomic_int runs;	   /* evaluations */
	atomic_int job_runs[MAXJ]; /* evaluations each job was part of */
	atomic_int alone[MAXJ];	   /* ... without job 0 */
	atomic_int cancelled;
	int sleep_ms;
	int seen_nice;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void probe_run(void *arg, const bool *due)
{
	struct probe *p = arg;
	int now = atomic_fetch_add(&p->running, 1) + 1;
	int max = atomic_load(&p->max_running);
	while (now > max && !atomic_compare_exchange_weak(&p->max_running, &max, now))
		;
	errno = 0;
	p->seen_nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	for (size_t i = 0; i < p->n; i++) {
		if (!due[i])
			continue;
		atomic_fetch_add(&p->job_runs[i], 1);
		if (!due[0])
			atomic_fetch_add(&p->alone[i], 1);
	}
	sleep_ms(p->sleep_ms);
	atomic_fetch_add(&p->runs, 1);
	atomic_fetch_sub(&p->running, 1);
}

static void probe_cancel(void *arg)
{
	struct probe *p = arg;
	atomic_fetch_add(&p->cancelled, 1);
}

static struct sched *start(struct probe *p, const struct sched_job *jobs, size_t n,
			   const struct sched_opts *opts)
{
	struct sched_fn fn = {probe_run, probe_cancel, p};
	p->n = n;
	return sched_start(jobs, n, &fn, opts);
}

static int wait_runs(struct probe *p, int want, int max_ms)
{
	for (int waited = 0; waited < max_ms && atomic_load(&p->runs) < want; waited += 5)
		sleep_ms(5);
	return atomic_load(&p->runs);
}

Test(sched, never_overlaps_a_run_slower_than_the_interval)
{
	/* Each run takes 5 intervals: a scheduler that started runs on a
	 * timer would stack them. */
	struct probe p = {.sleep_ms = 50};
	struct sched_job job = {"slow", 10};
	struct sched *s = start(&p, &job, 1, NULL);
	sleep_ms(400);
	sched_stop(s);
	cr_assert_eq(atomic_load(&p.max_running), 1, "%d runs at once",
		     atomic_load(&p.max_running));
	cr_assert_geq(atomic_load(&p.runs), 3);
	/* No burst to make up for missed slots: at most one run per 50 ms. */
	cr_assert_leq(atomic_load(&p.runs), 9);
}

Test(sched, runs_at_start_then_waits_for_the_interval)
{
	struct probe p = {.sleep_ms = 1};
	struct sched_job job = {"start", 10000};
	struct sched *s = start(&p, &job, 1, NULL);
	cr_assert_eq(wait_runs(&p, 1, 1000), 1, "no run at start-up");
	sleep_ms(100);
	cr_assert_eq(atomic_load(&p.runs), 1, "ran again before the interval");
	sched_stop(s);
}

Test(sched, repeats_on_interval)
{
	struct probe p = {.sleep_ms = 1};
	struct sched_job job = {"fast", 50};
	struct sched *s = start(&p, &job, 1, NULL);
	sleep_ms(300);
	sched_stop(s);
	int runs = atomic_load(&p.runs);
	cr_assert(runs >= 2 && runs <= 8, "expected about 6 runs in 300 ms, got %d", runs);
}

Test(sched, jobs_with_related_intervals_fall_due_together)
{
	/* 40 ms, 40 ms and 120 ms: every run of the others includes job 0,
	 * and the 120 ms job runs about a third as often. */
	struct probe p = {.sleep_ms = 1};
	struct sched_job jobs[3] = {{"a", 40}, {"b", 40}, {"c", 120}};
	struct sched *s = start(&p, jobs, 3, NULL);
	sleep_ms(620);
	sched_stop(s);
	int a = atomic_load(&p.job_runs[0]), b = atomic_load(&p.job_runs[1]);
	int c = atomic_load(&p.job_runs[2]);
	cr_assert_eq(atomic_load(&p.alone[1]) + atomic_load(&p.alone[2]), 0,
		     "a job ran in an evaluation without its partner");
	cr_assert_eq(a, b, "equal intervals ran %d and %d times", a, b);
	cr_assert_eq(atomic_load(&p.runs), a, "one evaluation per slot of job a");
	cr_assert(c >= 3 && c <= 7 && c < a, "job c ran %d times, job a %d", c, a);
}

Test(sched, stop_calls_cancel_and_joins)
{
	struct probe p = {.sleep_ms = 100};
	struct sched_job job = {"c", 1000};
	struct sched *s = start(&p, &job, 1, NULL);
	for (int i = 0; i < 1000 && atomic_load(&p.running) == 0; i++)
		sleep_ms(5);
	cr_assert_eq(atomic_load(&p.running), 1, "the first run never started");
	sched_stop(s);
	cr_assert_eq(atomic_load(&p.cancelled), 1);
	cr_assert_eq(atomic_load(&p.running), 0, "stop returned while a run was in flight");
	cr_assert_eq(atomic_load(&p.runs), 1);
}

Test(sched, the_evaluation_thread_runs_nicer_than_the_process)
{
	struct probe p = {.sleep_ms = 1};
	struct sched_job job = {"nice", 1000};
	int base = getpriority(PRIO_PROCESS, 0);
	int want = base + 4 > 19 ? 19 : base + 4; /* the kernel caps niceness at 19 */
	struct sched *s = start(&p, &job, 1, &(struct sched_opts){.nice = 4});
	wait_runs(&p, 1, 2000);
	sched_stop(s);
	cr_assert_eq(atomic_load(&p.runs), 1);
	cr_assert_eq(p.seen_nice, want, "evaluation thread at %d, process at %d", p.seen_nice,
		     base);
	cr_assert_eq(getpriority(PRIO_PROCESS, 0), base, "only the evaluation's thread changes");
}
