/*
 * ds_surveys: what the surveys dataset (ds_surveys.c) leaves for compute,
 * two folds made as the rows stream in (rows are never kept):
 *  - for the surveys kind (struct cs_survey_sums, read by surveys.c): each
 *    respondent's latest response before t, and per segment, plan window
 *    and type a tally of the scores of responses without respondent;
 *  - for health (struct cs_latest_nps, read by health.c): per account the
 *    latest NPS answer before t in health's sentiment window.
 * Owned and filled by ds_surveys.c; read through the accessors below.
 */
#ifndef CS_DS_SURVEYS_H
#define CS_DS_SURVEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cstime.h"

enum cs_survey_type { SURVEY_NPS, SURVEY_CSAT, SURVEY_CES, SURVEY_TYPES };

struct cs_score_count {
	double score;
	uint64_t n;
};

/* Responses by distinct score (scores come from a short scale). */
struct cs_score_tally {
	struct cs_score_count *v; /* distinct scores, in order of first arrival */
	size_t n, cap;
};

struct cs_latest_response {
	uint32_t seg;
	enum cs_survey_type type;
	double score;
	cs_time at;
};

/*
 * Responses before t with a respondent key: per (account, type, respondent)
 * only the latest counts in any window, so only it is kept (a tie of
 * instant goes to the higher score, then to the later row); responses of
 * unknown accounts share one pseudo-account. Responses without one: tallied
 * per segment slot, plan window and type. Made only when surveys is due
 * (anon NULL otherwise).
 *
 * Until the link, the last segment slot holds the tallies of unknown
 * accounts and their latest responses carry CS_SEG_UNKNOWN;
 * surveys_link_unknown (ds_surveys.c) moves both to the unknown segment,
 * after which nseg is the number of segments.
 */
struct cs_survey_sums {
	size_t nwin;			   /* plan.nwindows */
	size_t nseg;			   /* segment slots; the segments once linked */
	size_t nanon;			   /* tallies allocated */
	struct cs_score_tally *anon;	   /* [(seg * nwin + w) * SURVEY_TYPES + type] */
	struct cs_latest_response *latest; /* one per (account, type, respondent) */
	size_t nlatest, cap;
	uint64_t rows; /* valid survey rows */
};

/* The scores of responses without respondent of segment seg in plan window
 * w; NULL when none are kept there. */
static inline const struct cs_score_tally *survey_tally(const struct cs_survey_sums *k, size_t seg,
							size_t w, enum cs_survey_type type)
{
	if (!k->anon || seg >= k->nseg)
		return NULL;
	return &k->anon[(seg * k->nwin + w) * SURVEY_TYPES + (size_t)type];
}

/* Health needs one thing from survey answers: per account, the latest NPS
 * answer before t in its sentiment window (the higher score when two share
 * the instant). Made only when health is due (at NULL otherwise). */
struct cs_latest_nps {
	cs_time *at;   /* [account]; CS_TIME_NONE: none */
	double *score; /* [account] */
};

/* Account i's latest NPS score in health's sentiment window; false: none. */
static inline bool latest_nps(const struct cs_latest_nps *n, size_t i, double *score)
{
	if (!n->at || n->at[i] == CS_TIME_NONE)
		return false;
	*score = n->score[i];
	return true;
}

#endif
