#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

struct worker {
	struct sched *s;
	const struct sched_job *job;
	pthread_t thread;
	bool started;
};

struct sched {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct sched_opts opts;
	/* Runs are admitted in the order they asked (a ticket each), at most
	 * opts.max_running at a time, so a job that runs back to back cannot
	 * keep the others waiting. */
	pthread_cond_t turn;
	uint64_t tickets, admitted;
	int running;
	struct worker *w;
	size_t n;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for this run's turn; false when the scheduler stops meanwhile. */
static bool admit(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t ticket = s->tickets++;
	while (!s->stopping && (ticket != s->admitted ||
				(s->opts.max_running > 0 && s->running >= s->opts.max_running)))
		pthread_cond_wait(&s->turn, &s->lock);
	bool go = !s->stopping;
	if (go) {
		s->admitted++;
		s->running++;
		pthread_cond_broadcast(&s->turn); /* the next ticket may fit too */
	}
	pthread_mutex_unlock(&s->lock);
	return go;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sched *s = w->s;
	int64_t next = mono_ms();

	if (s->opts.nice > 0) {
		errno = 0;
		if (nice(s->opts.nice) == -1 && errno != 0) {
			char why[128];

			snprintf(why, sizeof(why), "%s", strerror(errno));
			logx(LOG_WARN, "could not lower the collector thread's priority",
			     "collector", w->job->name, "err", why, NULL);
		}
	}
	for (;;) {
		if (!admit(s))
			break;
		w->job->run(w->job->arg);
		pthread_mutex_lock(&s->lock);
		s->running--;
		pthread_cond_broadcast(&s->turn);
		pthread_mutex_unlock(&s->lock);
		/* Next slot strictly after the run's start; skipped slots are
		 * not made up, so a slow run never causes a burst. */
		next += w->job->interval_ms;
		int64_t now = mono_ms();
		if (next <= now) {
			int64_t late = now - next;
			next += (late / w->job->interval_ms + 1) * w->job->interval_ms;
		}

		pthread_mutex_lock(&s->lock);
		while (!s->stopping) {
			int64_t left = next - mono_ms();
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
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

struct sched *sched_start(const struct sched_job *jobs, size_t njobs, const struct sched_opts *opts)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	if (opts)
		s->opts = *opts;
	pthread_cond_init(&s->turn, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->w = xcalloc(njobs ? njobs : 1, sizeof(*s->w));
	s->n = njobs;
	for (size_t i = 0; i < njobs; i++) {
		s->w[i].s = s;
		s->w[i].job = &jobs[i];
		if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) == 0)
			s->w[i].started = true;
		else
			logx(LOG_ERROR, "could not start collector thread", "collector",
			     jobs[i].name, NULL);
	}
	return s;
}

void sched_stop(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->turn);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].job->cancel)
			s->w[i].job->cancel(s->w[i].job->arg);
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->turn);
	pthread_mutex_destroy(&s->lock);
	free(s->w);
	free(s);
}
