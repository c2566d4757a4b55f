#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cstime.h"
#include "lib/log.h"

struct sched {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	bool running; /* a run is in flight */
	struct sched_opts opts;
	struct sched_fn fn;
	const struct sched_job *jobs;
	size_t n;
	int64_t *next; /* [job]: its next slot, monotonic ms */
	bool *due;
	pthread_t thread;
	bool started;
};

/* Sleeps until the earliest slot; false when the scheduler stops. */
static bool wait_next(struct sched *s)
{
	bool go;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int64_t next = INT64_MAX;
		for (size_t i = 0; i < s->n; i++)
			if (s->next[i] < next)
				next = s->next[i];
		int64_t left = next - cs_mono_ms();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	go = !s->stopping;
	s->running = go;
	pthread_mutex_unlock(&s->lock);
	return go;
}

static void *sched_main(void *arg)
{
	struct sched *s = arg;

	if (s->opts.nice > 0) {
		errno = 0;
		if (nice(s->opts.nice) == -1 && errno != 0) {
			char why[128];

			snprintf(why, sizeof(why), "%s", strerror(errno));
			logx(LOG_WARN, "could not lower the evaluation thread's priority", "err",
			     why, NULL);
		}
	}
	while (wait_next(s)) {
		int64_t now = cs_mono_ms();

		for (size_t i = 0; i < s->n; i++)
			s->due[i] = s->next[i] <= now;
		s->fn.run(s->fn.arg, s->due);
		now = cs_mono_ms();
		/* Slots stay on each job's grid from start-up, which keeps
		 * jobs with related intervals due together. */
		for (size_t i = 0; i < s->n; i++) {
			int64_t iv = s->jobs[i].interval_ms;

			if (!s->due[i])
				continue;
			s->next[i] += iv;
			if (s->next[i] <= now)
				s->next[i] += ((now - s->next[i]) / iv + 1) * iv;
		}
		pthread_mutex_lock(&s->lock);
		s->running = false;
		pthread_cond_broadcast(&s->wake);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

struct sched *sched_start(const struct sched_job *jobs, size_t njobs, const struct sched_fn *fn,
			  const struct sched_opts *opts)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	if (opts)
		s->opts = *opts;
	s->fn = *fn;
	s->jobs = jobs;
	s->n = njobs;
	s->next = xcalloc(njobs ? njobs : 1, sizeof(*s->next));
	s->due = xcalloc(njobs ? njobs : 1, sizeof(*s->due));
	int64_t epoch = cs_mono_ms();
	for (size_t i = 0; i < njobs; i++)
		s->next[i] = epoch;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (njobs && pthread_create(&s->thread, NULL, sched_main, s) == 0)
		s->started = true;
	else if (njobs)
		logx(LOG_ERROR, "could not start the evaluation thread", NULL);
	return s;
}

void sched_stop(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	bool running = s->running;
	pthread_mutex_unlock(&s->lock);
	if (running && s->fn.cancel)
		s->fn.cancel(s->fn.arg);
	if (s->started)
		pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->next);
	free(s->due);
	free(s);
}
