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

/* Starts one thread per job; the jobs array must outlive the scheduler. Each
 * thread adds nice (0-19) to its own niceness, so that a long run yields the
 * CPU to the threads that serve scrapes (Linux: niceness is per thread). */
struct sched *sched_start(const struct sched_job *jobs, size_t njobs, int nice);
/* Stops the threads: waits for running jobs (after calling their cancel) and
 * joins them. */
void sched_stop(struct sched *s);

#endif
