/*
 * sched: one thread that runs evaluations on the collectors' intervals.
 *
 * A job's slots are the multiples of its interval counted from start-up, so
 * jobs with equal intervals, or intervals that are multiples of each other,
 * fall due at the same instants; run() gets every job due at that moment and
 * evaluates them together. At start-up every job is due. Runs never overlap:
 * after a run each job that ran moves to its next slot strictly after the
 * run's end, so a run longer than an interval skips the slots it missed
 * instead of causing a burst. Nothing here knows what a job does; scrapes
 * never reach it.
 */
#ifndef CS_SCHED_H
#define CS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched_job {
	const char *name;
	int64_t interval_ms;
};

struct sched_fn {
	/* due[i] is true for each job due now (at least one is). */
	void (*run)(void *arg, const bool *due);
	/* Optional: asked to make a running run return early on stop. */
	void (*cancel)(void *arg);
	void *arg;
};

struct sched_opts {
	/* Added to the evaluation thread's niceness (0-19), so that a long
	 * run yields the CPU to the threads that serve scrapes (on Linux
	 * niceness is per thread; the threads a run starts inherit it). */
	int nice;
};

struct sched;

/* Starts the thread; jobs must outlive the scheduler. opts may be NULL. */
struct sched *sched_start(const struct sched_job *jobs, size_t njobs, const struct sched_fn *fn,
			  const struct sched_opts *opts);
/* Stops the thread: calls cancel while a run is in flight, waits for it and
 * joins. */
void sched_stop(struct sched *s);

#endif
