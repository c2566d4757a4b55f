/*
 * sched: runs jobs on intervals, each in a thread of its own, from start-up.
 *
 * A job never overlaps itself: its thread runs it, then sleeps until the next
 * multiple of the interval after the run's start (a run longer than the
 * interval delays the next one instead of stacking). Nothing here knows what
 * a job does; scrapes never reach it.
 */
#ifndef CS_SCHED_H
#define CS_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct sched_job {
	const char *name;
	int64_t interval_ms;
	void (*run)(void *arg);
	/* Optional: asked to make a running run return early on stop. */
	void (*cancel)(void *arg);
	void *arg;
};

struct sched;

struct sched_opts {
	/* Added to each job thread's niceness (0-19), so that a long run
	 * yields the CPU to the threads that serve scrapes (on Linux niceness
	 * is per thread). */
	int nice;
	/* Runs of all jobs at once, 0: no limit. Waiting runs start in the
	 * order they became due. Bounds the memory and CPU of overlapping
	 * cycles (at start-up every job is due at once). */
	int max_running;
};

/* Starts one thread per job; the jobs array must outlive the scheduler.
 * opts may be NULL: no nice, no limit. */
struct sched *sched_start(const struct sched_job *jobs, size_t njobs,
			  const struct sched_opts *opts);
/* Stops the threads: waits for running jobs (after calling their cancel) and
 * joins them. */
void sched_stop(struct sched *s);

#endif
