#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include "../../exporter/sched.h"

struct probe {
	atomic_int running;
	atomic_int max_running;
	atomic_int runs;
	int sleep_ms;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void probe_run(void *arg)
{
	struct probe *p = arg;
	int now = atomic_fetch_add(&p->running, 1) + 1;
	int max = atomic_load(&p->max_running);
	while (now > max && !atomic_compare_exchange_weak(&p->max_running, &max, now))
		;
	sleep_ms(p->sleep_ms);
	atomic_fetch_add(&p->runs, 1);
	atomic_fetch_sub(&p->running, 1);
}

Test(sched, never_overlaps_a_job_slower_than_its_interval)
{
	/* Each run takes 5 intervals: a scheduler that started runs on a
	 * timer would stack them. */
	struct probe p = {.sleep_ms = 50};
	struct sched_job job = {"slow", 10, probe_run, NULL, &p};
	struct sched *s = sched_start(&job, 1, NULL);
	sleep_ms(400);
	sched_stop(s);
	cr_assert_eq(atomic_load(&p.max_running), 1, "a job ran %d times at once",
		     atomic_load(&p.max_running));
	cr_assert_geq(atomic_load(&p.runs), 3);
	/* No burst to make up for missed slots: at most one run per 50 ms. */
	cr_assert_leq(atomic_load(&p.runs), 9);
}

static int wait_runs(struct probe *p, int want, int max_ms)
{
	for (int waited = 0; waited < max_ms && atomic_load(&p->runs) < want; waited += 5)
		sleep_ms(5);
	return atomic_load(&p->runs);
}

Test(sched, runs_at_start_then_waits_for_the_interval)
{
	/* With a 10 s interval, a run within the first second can only be the
	 * start-up run, and there must be no second one. */
	struct probe p = {.sleep_ms = 1};
	struct sched_job job = {"start", 10000, probe_run, NULL, &p};
	struct sched *s = sched_start(&job, 1, NULL);
	cr_assert_eq(wait_runs(&p, 1, 1000), 1, "no run at start-up");
	sleep_ms(100);
	cr_assert_eq(atomic_load(&p.runs), 1, "ran again before the interval");
	sched_stop(s);
}

Test(sched, repeats_on_interval)
{
	struct probe p = {.sleep_ms = 1};
	struct sched_job job = {"fast", 50, probe_run, NULL, &p};
	struct sched *s = sched_start(&job, 1, NULL);
	sleep_ms(300);
	sched_stop(s);
	int runs = atomic_load(&p.runs);
	cr_assert(runs >= 2 && runs <= 8, "expected about 6 runs in 300 ms, got %d", runs);
}

Test(sched, jobs_run_independently)
{
	struct probe slow = {.sleep_ms = 150};
	struct probe fast = {.sleep_ms = 1};
	struct sched_job jobs[2] = {{"slow", 10, probe_run, NULL, &slow},
				    {"fast", 20, probe_run, NULL, &fast}};
	struct sched *s = sched_start(jobs, 2, NULL);
	sleep_ms(140);
	cr_assert_geq(atomic_load(&fast.runs), 4, "a slow job must not hold up another");
	sched_stop(s);
	cr_assert_eq(atomic_load(&slow.max_running), 1);
}

static atomic_int cancelled;

static void cancel_probe(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cancelled, 1);
}

Test(sched, stop_calls_cancel_and_joins)
{
	struct probe p = {.sleep_ms = 100};
	struct sched_job job = {"c", 1000, probe_run, cancel_probe, &p};
	struct sched *s = sched_start(&job, 1, NULL);
	for (int i = 0; i < 1000 && atomic_load(&p.running) == 0; i++)
		sleep_ms(5);
	cr_assert_eq(atomic_load(&p.running), 1, "the first run never started");
	sched_stop(s);
	cr_assert_eq(atomic_load(&cancelled), 1);
	cr_assert_eq(atomic_load(&p.running), 0, "stop returned while a run was in flight");
	cr_assert_eq(atomic_load(&p.runs), 1);
}

struct prio_probe {
	atomic_int runs;
	int seen; /* the job thread's niceness during its run */
};

static void prio_run(void *arg)
{
	struct prio_probe *p = arg;

	errno = 0;
	p->seen = getpriority(PRIO_PROCESS, (id_t)gettid());
	atomic_fetch_add(&p->runs, 1);
}

Test(sched, job_threads_run_nicer_than_the_process)
{
	struct prio_probe p = {0};
	struct sched_job job = {"nice", 1000, prio_run, NULL, &p};
	int base = getpriority(PRIO_PROCESS, 0);
	int want = base + 4 > 19 ? 19 : base + 4; /* the kernel caps niceness at 19 */
	struct sched *s = sched_start(&job, 1, &(struct sched_opts){.nice = 4});
	for (int waited = 0; waited < 2000 && atomic_load(&p.runs) < 1; waited += 5)
		sleep_ms(5);
	sched_stop(s);
	cr_assert_eq(atomic_load(&p.runs), 1);
	cr_assert_eq(p.seen, want, "job thread at %d, process at %d", p.seen, base);
	cr_assert_eq(getpriority(PRIO_PROCESS, 0), base, "only the job's thread changes");
}

/* Several jobs sharing one count of runs in flight. */
struct shared_probe {
	atomic_int *running, *max_running;
	atomic_int runs;
	int sleep_ms;
};

static void shared_run(void *arg)
{
	struct shared_probe *p = arg;
	int now = atomic_fetch_add(p->running, 1) + 1;
	int max = atomic_load(p->max_running);
	while (now > max && !atomic_compare_exchange_weak(p->max_running, &max, now))
		;
	sleep_ms(p->sleep_ms);
	atomic_fetch_sub(p->running, 1);
	atomic_fetch_add(&p->runs, 1);
}

static int run_three(int limit, int *runs)
{
	atomic_int running = 0, max_running = 0;
	struct shared_probe p[3];
	struct sched_job jobs[3];

	for (int i = 0; i < 3; i++) {
		p[i] = (struct shared_probe){&running, &max_running, 0, 30};
		jobs[i] = (struct sched_job){"j", 10, shared_run, NULL, &p[i]};
	}
	struct sched *s = sched_start(jobs, 3, &(struct sched_opts){.max_running = limit});
	sleep_ms(600);
	sched_stop(s);
	for (int i = 0; i < 3; i++)
		runs[i] = atomic_load(&p[i].runs);
	return atomic_load(&max_running);
}

Test(sched, max_running_bounds_runs_across_jobs)
{
	int runs[3];

	cr_assert_eq(run_three(1, runs), 1, "two jobs ran at once under a limit of 1");
	for (int i = 0; i < 3; i++)
		cr_assert_geq(runs[i], 2, "job %d ran %d times in 600 ms", i, runs[i]);
	cr_assert_eq(run_three(2, runs), 2, "a limit of 2 should let two run together");
	cr_assert_eq(run_three(0, runs), 3, "no limit: all three due at once run at once");
}

Test(sched, a_back_to_back_job_does_not_starve_the_others)
{
	/* The hog is due again as soon as it ends; the others must still get
	 * their turn in the order they became due. */
	atomic_int running = 0, max_running = 0;
	struct shared_probe hog = {&running, &max_running, 0, 20};
	struct shared_probe quick = {&running, &max_running, 0, 1};
	struct sched_job jobs[2] = {{"hog", 1, shared_run, NULL, &hog},
				    {"quick", 1, shared_run, NULL, &quick}};
	struct sched *s = sched_start(jobs, 2, &(struct sched_opts){.max_running = 1});

	sleep_ms(500);
	sched_stop(s);
	cr_assert_eq(atomic_load(&max_running), 1);
	cr_assert_geq(atomic_load(&quick.runs), 8, "quick ran %d times beside a hog with %d",
		      atomic_load(&quick.runs), atomic_load(&hog.runs));
}
