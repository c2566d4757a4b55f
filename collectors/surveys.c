/*
 * surveys: NPS, CSAT and CES per segment and window (docs/metrics.md).
 *
 * A response with a respondent key counts only when it is the latest valid
 * response of its (account, respondent, type) inside the window. Responses
 * whose account is unknown share one pseudo-account for that purpose: the
 * loader keeps no key for them, and treating them alike is what an analyst
 * would expect from "the same respondent answered twice". Two responses of
 * one respondent at the same instant are resolved in favour of the higher
 * score, then the later row, so the result does not depend on the query's
 * row order unless the rows are identical. The loader keeps, as the rows
 * stream in, each respondent's latest response before t and a tally of the
 * scores of responses without respondent (ds_surveys.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "ds_surveys.h"
#include "emit.h"
#include "kpi.h"

/* Per segment and window. */
struct survey_counts {
	uint64_t promoters, passives, detractors;
	uint64_t satisfied, unsatisfied;
	uint64_t ces;
	double ces_points;
};

/* Out-of-range scores are rejected by the loader; skipping them here keeps a
 * stray one from landing in a category it does not belong to. */
static void count_response(struct survey_counts *c, enum cs_survey_type type, double score,
			   uint64_t n)
{
	switch (type) {
	case SURVEY_NPS:
		if (score < 0 || score > 10)
			return;
		if (cs_cmp(score, 9) >= 0)
			c->promoters += n;
		else if (cs_cmp(score, 6) <= 0)
			c->detractors += n;
		else
			c->passives += n;
		break;
	case SURVEY_CSAT:
		if (score < 1 || score > 5)
			return;
		if (cs_cmp(score, 4) >= 0)
			c->satisfied += n;
		else
			c->unsatisfied += n;
		break;
	case SURVEY_CES:
		if (score < 1 || score > 7)
			return;
		c->ces += n;
		c->ces_points += score * (double)n;
		break;
	default:
		break;
	}
}

enum { F_RESPONSES, F_NPS, F_CSAT, F_CES, F_CES_POINTS, F_COUNT };

const struct cs_family survey_families[] = {
    [F_RESPONSES] = {.name = "cs_survey_responses",
		     .type = METRIC_GAUGE,
		     .labels = {"window", "survey", "category"},
		     .help = "Survey responses received in the window (latest per respondent), by "
			     "survey and category; recomputed from the database each collector "
			     "interval"},
    [F_NPS] = {.name = "cs_nps_score",
	       .type = METRIC_GAUGE,
	       .labels = {"window"},
	       .help = "Net Promoter Score in points (-100 to 100): 100 x (promoters - "
		       "detractors) / NPS responses in the window; recomputed from the database "
		       "each collector interval"},
    [F_CSAT] = {.name = "cs_csat_ratio",
		.type = METRIC_GAUGE,
		.labels = {"window"},
		.help = "Share of CSAT responses in the window scoring 4 or 5 on the 1-5 scale; "
			"recomputed from the database each collector interval"},
    [F_CES] = {.name = "cs_ces_score",
	       .type = METRIC_GAUGE,
	       .labels = {"window"},
	       .help = "Mean Customer Effort Score (1-7) of responses in the window; recomputed "
		       "from the database each collector interval"},
    [F_CES_POINTS] = {.name = "cs_ces_points",
		      .type = METRIC_GAUGE,
		      .labels = {"window"},
		      .help = "Sum of Customer Effort Scores of responses in the window (numerator "
			      "of cs_ces_score); recomputed from the database each collector "
			      "interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

static void emit_window(const struct cs_data *d, struct mset *out, const char *window,
			const struct survey_counts *counts)
{
	struct cs_emitter responses = family_of(out, d, &survey_families[F_RESPONSES]);
	struct cs_emitter nps = family_of(out, d, &survey_families[F_NPS]);
	struct cs_emitter csat = family_of(out, d, &survey_families[F_CSAT]);
	struct cs_emitter ces = family_of(out, d, &survey_families[F_CES]);
	struct cs_emitter points = family_of(out, d, &survey_families[F_CES_POINTS]);

	for (uint32_t seg = 0; seg < d->seg.n; seg++) {
		const struct survey_counts *c = &counts[seg];
		uint64_t nnps = c->promoters + c->passives + c->detractors;
		uint64_t ncsat = c->satisfied + c->unsatisfied;

		emit(&responses, seg, (double)c->promoters, window, "nps", "promoter", NULL);
		emit(&responses, seg, (double)c->passives, window, "nps", "passive", NULL);
		emit(&responses, seg, (double)c->detractors, window, "nps", "detractor", NULL);
		emit(&responses, seg, (double)c->satisfied, window, "csat", "satisfied", NULL);
		emit(&responses, seg, (double)c->unsatisfied, window, "csat", "unsatisfied", NULL);
		emit(&responses, seg, (double)c->ces, window, "ces", "all", NULL);
		if (nnps)
			emit(&nps, seg,
			     100.0 * ((double)c->promoters - (double)c->detractors) / (double)nnps,
			     window, NULL);
		if (ncsat)
			emit(&csat, seg, (double)c->satisfied / (double)ncsat, window, NULL);
		if (c->ces)
			emit(&ces, seg, c->ces_points / (double)c->ces, window, NULL);
		emit(&points, seg, c->ces_points, window, NULL);
	}
}

void kpi_surveys(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	const struct cs_survey_sums *k = d->surveys; /* folded by the loader */
	size_t nseg = d->seg.n;
	struct survey_counts *counts = xcalloc(nseg ? nseg : 1, sizeof(*counts));

	for (size_t w = 0; w < col->nwindows; w++) {
		size_t kw = cs_plan_window(&d->plan, col->windows[w].seconds);
		cs_time from = d->plan.from[kw];

		memset(counts, 0, (nseg ? nseg : 1) * sizeof(*counts));
		for (size_t s = 0; s < nseg; s++) {
			for (int t = 0; t < SURVEY_TYPES; t++) {
				const struct cs_score_tally *ty =
				    survey_tally(k, s, kw, (enum cs_survey_type)t);

				for (size_t i = 0; ty && i < ty->n; i++)
					count_response(&counts[s], (enum cs_survey_type)t,
						       ty->v[i].score, ty->v[i].n);
			}
		}
		/* a respondent's latest response before t counts when it is in the window */
		for (size_t i = 0; i < k->nlatest; i++) {
			const struct cs_latest_response *l = &k->latest[i];

			if (l->at >= from && l->seg < nseg)
				count_response(&counts[l->seg], l->type, l->score, 1);
		}
		emit_window(d, out, col->windows[w].label, counts);
	}
	free(counts);
}
