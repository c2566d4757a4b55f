/*
 * surveys: NPS, CSAT and CES per segment and window (SPEC section 3).
 *
 * A response with a respondent key counts only when it is the latest valid
 * response of its (account, respondent, type) inside the window. Responses
 * whose account is unknown share one pseudo-account for that purpose: the
 * loader keeps no key for them, and treating them alike is what an analyst
 * would expect from "the same respondent answered twice". Two responses of
 * one respondent at the same instant are resolved in favour of the higher
 * score, then the later row, so the result does not depend on the query's
 * row order unless the rows are identical.
 */
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "kpi.h"

/* Per segment and window. */
struct survey_counts {
	uint64_t promoters, passives, detractors;
	uint64_t satisfied, unsatisfied;
	uint64_t ces;
	double ces_points;
};

struct keyed {
	const struct cs_survey *s;
	size_t row;
};

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int c;

	if (a->s->account != b->s->account)
		return a->s->account < b->s->account ? -1 : 1;
	if (a->s->type != b->s->type)
		return a->s->type < b->s->type ? -1 : 1;
	c = strcmp(a->s->respondent, b->s->respondent);
	if (c)
		return c;
	if (a->s->responded_at != b->s->responded_at)
		return a->s->responded_at < b->s->responded_at ? -1 : 1;
	c = cs_cmp(a->s->score, b->s->score);
	if (c)
		return c;
	return a->row < b->row ? -1 : (a->row > b->row);
}

static bool same_respondent(const struct cs_survey *a, const struct cs_survey *b)
{
	return a->account == b->account && a->type == b->type &&
	       strcmp(a->respondent, b->respondent) == 0;
}

/* Out-of-range scores are rejected by the loader; skipping them here keeps a
 * stray one from landing in a category it does not belong to. */
static void count_response(struct survey_counts *c, const struct cs_survey *s)
{
	switch (s->type) {
	case SURVEY_NPS:
		if (s->score < 0 || s->score > 10)
			return;
		if (cs_cmp(s->score, 9) >= 0)
			c->promoters++;
		else if (cs_cmp(s->score, 6) <= 0)
			c->detractors++;
		else
			c->passives++;
		break;
	case SURVEY_CSAT:
		if (s->score < 1 || s->score > 5)
			return;
		if (cs_cmp(s->score, 4) >= 0)
			c->satisfied++;
		else
			c->unsatisfied++;
		break;
	case SURVEY_CES:
		if (s->score < 1 || s->score > 7)
			return;
		c->ces++;
		c->ces_points += s->score;
		break;
	default:
		break;
	}
}

static void emit_window(const struct cs_data *d, struct mset *out, const char *window,
			const struct survey_counts *counts)
{
	struct family *responses = mset_family(
	    out, "cs_survey_responses", METRIC_GAUGE,
	    "Survey responses received in the window (latest per respondent), by survey "
	    "and category; recomputed from the database each collector interval",
	    NULL);
	struct family *nps = mset_family(
	    out, "cs_nps_score", METRIC_GAUGE,
	    "Net Promoter Score in points (-100 to 100): 100 x (promoters - detractors) / NPS "
	    "responses in the window; recomputed from the database each collector interval",
	    NULL);
	struct family *csat = mset_family(
	    out, "cs_csat_ratio", METRIC_GAUGE,
	    "Share of CSAT responses in the window scoring 4 or 5 on the 1-5 scale; recomputed "
	    "from the database each collector interval",
	    NULL);
	struct family *ces = mset_family(
	    out, "cs_ces_score", METRIC_GAUGE,
	    "Mean Customer Effort Score (1-7) of responses in the window; recomputed from the "
	    "database each collector interval",
	    NULL);
	struct family *points =
	    mset_family(out, "cs_ces_points", METRIC_GAUGE,
			"Sum of Customer Effort Scores of responses in the window (numerator of "
			"cs_ces_score); recomputed from the database each collector interval",
			NULL);

	for (uint32_t seg = 0; seg < d->seg.n; seg++) {
		const struct survey_counts *c = &counts[seg];
		uint64_t nnps = c->promoters + c->passives + c->detractors;
		uint64_t ncsat = c->satisfied + c->unsatisfied;

		emit(responses, d, seg, (double)c->promoters, "window", window, "survey", "nps",
		     "category", "promoter", NULL);
		emit(responses, d, seg, (double)c->passives, "window", window, "survey", "nps",
		     "category", "passive", NULL);
		emit(responses, d, seg, (double)c->detractors, "window", window, "survey", "nps",
		     "category", "detractor", NULL);
		emit(responses, d, seg, (double)c->satisfied, "window", window, "survey", "csat",
		     "category", "satisfied", NULL);
		emit(responses, d, seg, (double)c->unsatisfied, "window", window, "survey", "csat",
		     "category", "unsatisfied", NULL);
		emit(responses, d, seg, (double)c->ces, "window", window, "survey", "ces",
		     "category", "all", NULL);
		if (nnps)
			emit(nps, d, seg,
			     100.0 * ((double)c->promoters - (double)c->detractors) / (double)nnps,
			     "window", window, NULL);
		if (ncsat)
			emit(csat, d, seg, (double)c->satisfied / (double)ncsat, "window", window,
			     NULL);
		if (c->ces)
			emit(ces, d, seg, c->ces_points / (double)c->ces, "window", window, NULL);
		emit(points, d, seg, c->ces_points, "window", window, NULL);
	}
}

void kpi_surveys(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	struct survey_counts *counts = xcalloc(d->seg.n ? d->seg.n : 1, sizeof(*counts));
	struct keyed *keyed = xmalloc((d->nsurveys ? d->nsurveys : 1) * sizeof(*keyed));
	size_t nkeyed = 0;

	/* Sorted once so that every window finds a respondent's latest response
	 * by walking its group backwards. */
	for (size_t i = 0; i < d->nsurveys; i++)
		if (d->surveys[i].respondent)
			keyed[nkeyed++] = (struct keyed){&d->surveys[i], i};
	qsort(keyed, nkeyed, sizeof(*keyed), cmp_keyed);

	for (size_t w = 0; w < col->nwindows; w++) {
		cs_time from = d->as_of - col->windows[w].seconds * CS_SECOND;
		cs_time to = d->as_of;

		memset(counts, 0, (d->seg.n ? d->seg.n : 1) * sizeof(*counts));
		for (size_t i = 0; i < d->nsurveys; i++) {
			const struct cs_survey *s = &d->surveys[i];

			if (s->respondent || s->seg >= d->seg.n)
				continue;
			if (s->responded_at >= from && s->responded_at < to)
				count_response(&counts[s->seg], s);
		}
		for (size_t i = 0; i < nkeyed;) {
			size_t end = i + 1;

			while (end < nkeyed && same_respondent(keyed[i].s, keyed[end].s))
				end++;
			for (size_t j = end; j-- > i;) {
				const struct cs_survey *s = keyed[j].s;

				if (s->responded_at >= to)
					continue;
				if (s->responded_at >= from && s->seg < d->seg.n)
					count_response(&counts[s->seg], s);
				break;
			}
			i = end;
		}
		emit_window(d, out, col->windows[w].label, counts);
	}
	free(keyed);
	free(counts);
}
