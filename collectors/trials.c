/*
 * trials: trial conversion (docs/metrics.md) over trials that ended inside
 * each window [t - W, t). A running trial (ended_at NULL) and one that ends
 * at or after t are not counted; trials attribute to segments through their
 * billing customer. The loader counted them per segment and window as they
 * streamed in (ds_trials.h).
 */
#include <stdlib.h>

#include "lib/buf.h"
#include "ds_trials.h"
#include "emit.h"
#include "kpi.h"

enum { F_ENDED, F_RATIO, F_COUNT };

const struct cs_family trial_families[] = {
    [F_ENDED] = {.name = "cs_trials_ended",
		 .type = METRIC_GAUGE,
		 .labels = {"window", "result"},
		 .help =
		     "Trials that ended in the window [t-W, t), by result (converted or canceled); "
		     "recomputed every collector interval"},
    [F_RATIO] =
	{.name = "cs_trial_conversion_ratio",
	 .type = METRIC_GAUGE,
	 .labels = {"window"},
	 .help = "Converted trials / ended trials, over trials that ended in the window [t-W, t); "
		 "absent when none ended; recomputed every collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

void kpi_trials(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	size_t nw = col->nwindows, ns = d->seg.n;
	const struct cs_trial_counts *k = d->trials;
	/* [seg][window][0 converted, 1 canceled], the collector's windows */
	uint64_t *n = xcalloc(ns * nw * 2 + 1, sizeof(*n));

	for (size_t s = 0; s < ns; s++) {
		for (size_t w = 0; w < nw; w++) {
			size_t kw = cs_plan_window(&d->plan, col->windows[w].seconds);

			n[(s * nw + w) * 2] = trials_ended(k, s, kw, true);
			n[(s * nw + w) * 2 + 1] = trials_ended(k, s, kw, false);
		}
	}

	struct cs_emitter ended = family_of(out, d, &trial_families[F_ENDED]);
	struct cs_emitter ratio = family_of(out, d, &trial_families[F_RATIO]);

	for (uint32_t s = 0; s < ns; s++) {
		for (size_t w = 0; w < nw; w++) {
			const char *win = col->windows[w].label;
			uint64_t conv = n[(s * nw + w) * 2], canc = n[(s * nw + w) * 2 + 1];
			emit(&ended, s, (double)conv, win, "converted", NULL);
			emit(&ended, s, (double)canc, win, "canceled", NULL);
		}
	}
	for (uint32_t s = 0; s < ns; s++) {
		for (size_t w = 0; w < nw; w++) {
			uint64_t conv = n[(s * nw + w) * 2], canc = n[(s * nw + w) * 2 + 1];
			if (conv + canc)
				emit(&ratio, s, (double)conv / (double)(conv + canc),
				     col->windows[w].label, NULL);
		}
	}
	free(n);
}
