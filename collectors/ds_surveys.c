/*
 * surveys (CRM): one row per survey response. Columns: account_key,
 * respondent_key (NULL allowed), type (nps, csat, ces), score (0-10, 1-5,
 * 1-7), responded_at. Rejected: null_key, null_value, unknown_type,
 * bad_number, score_out_of_range, bad_time.
 *
 * Two folds as rows stream in: when health is evaluated, each account's
 * latest NPS answer in its sentiment window (struct cs_latest_nps); when
 * surveys is, the rows themselves (surveys.c needs each respondent's latest
 * answer per window).
 */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	COL_V_ACCOUNT,
	COL_V_RESPONDENT,
	COL_V_TYPE,
	COL_V_SCORE,
	COL_V_AT,
};

static const struct colspec cols_surveys[] = {
    {"account_key", false}, {"respondent_key", false}, {"type", false},
    {"score", false},	    {"responded_at", false},
};

void nps_alloc(struct cs_data *d)
{
	if (d->nps.at)
		return;
	d->nps.at = xmalloc((d->naccounts + 1) * sizeof(*d->nps.at));
	d->nps.score = xcalloc(d->naccounts + 1, sizeof(*d->nps.score));
	for (size_t i = 0; i < d->naccounts; i++)
		d->nps.at[i] = CS_TIME_NONE;
}

static void row_survey(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *key = col(in, v, COL_V_ACCOUNT);
	enum cs_survey_type type;
	double score, lo, hi;
	cs_time at;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	const char *ty = col(in, v, COL_V_TYPE);
	if (!need(in, ty))
		return;
	if (!strcasecmp(ty, "nps")) {
		type = SURVEY_NPS;
		lo = 0, hi = 10;
	} else if (!strcasecmp(ty, "csat")) {
		type = SURVEY_CSAT;
		lo = 1, hi = 5;
	} else if (!strcasecmp(ty, "ces")) {
		type = SURVEY_CES;
		lo = 1, hi = 7;
	} else {
		reject(in, "unknown_type");
		return;
	}
	if (!need_number(in, col(in, v, COL_V_SCORE), &score))
		return;
	if (score < lo || score > hi) {
		reject(in, "score_out_of_range");
		return;
	}
	if (!need_time(in, col(in, v, COL_V_AT), &at))
		return;
	seen(in, at);

	struct cs_data_private *p = d->priv;
	/* Health needs only each account's latest NPS answer: folded here
	 * instead of keeping the rows, which only the surveys KPIs read. */
	if (d->nps.at) {
		uint32_t seg;
		int32_t a = account_of(d, key, &seg);
		cs_time from = d->as_of - d->cfg->health.sentiment_window * CS_SECOND;

		if (type == SURVEY_NPS && a != CS_NO_ACCOUNT && at >= from && at < d->as_of &&
		    (d->nps.at[a] == CS_TIME_NONE || at > d->nps.at[a] ||
		     (at == d->nps.at[a] && score > d->nps.score[a]))) {
			d->nps.at[a] = at;
			d->nps.score[a] = score;
		}
	}
	if (!cs_plan_has(&d->plan, KIND_SURVEYS))
		return;
	GROW(d->surveys, d->nsurveys, p->cap_surveys);
	struct cs_survey *s = &d->surveys[d->nsurveys++];
	s->account = account_of(d, key, &s->seg);
	const char *resp = col(in, v, COL_V_RESPONDENT);
	s->respondent = resp ? arena_strndup(&p->arena, resp, strlen(resp)) : NULL;
	s->type = type;
	s->score = score;
	s->responded_at = at;
}

static int surveys_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	if (cs_plan_has(&in->d->plan, KIND_HEALTH))
		nps_alloc(in->d);
	return 0;
}

const struct ds_contract ds_surveys = {
    .name = "surveys",
    .cols = cols_surveys,
    .ncols = sizeof(cols_surveys) / sizeof(cols_surveys[0]),
    .open = surveys_open,
    .row = row_survey,
};
