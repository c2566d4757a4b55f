/*
 * surveys (CRM): one row per survey response. Columns: account_key,
 * respondent_key (NULL allowed), type (nps, csat, ces), score (0-10, 1-5,
 * 1-7), responded_at. Rejected: null_key, null_value, unknown_type,
 * bad_number, score_out_of_range, bad_time.
 *
 * Two folds as rows stream in: when health is evaluated, each account's
 * latest NPS answer in its sentiment window (struct cs_latest_nps); when
 * surveys is, each respondent's latest answer before t and a tally of the
 * scores of answers without respondent (struct cs_survey_sums), from which
 * surveys.c counts every window. Both are described in ds_surveys.h.
 */
#include "dataset.h"
#include "ds_surveys.h"
#include "emit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void tally_add(struct cs_score_tally *t, double score, uint64_t n)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].score == score) {
			t->v[i].n += n;
			return;
		}
	}
	GROW(t->v, t->n, t->cap);
	t->v[t->n++] = (struct cs_score_count){score, n};
}

enum {
	COL_V_ACCOUNT,
	COL_V_RESPONDENT,
	COL_V_TYPE,
	COL_V_SCORE,
	COL_V_AT,
};

static const struct colspec cols_surveys[] = {
    {"account_key", false, CS_COL_TEXT},
    {"respondent_key", false, CS_COL_TEXT},
    {"type", false, CS_COL_TEXT},
    {"score", false, CS_COL_NUMBER},
    {"responded_at", false, CS_COL_TIMESTAMP},
};

static void nps_alloc(struct cs_data *d)
{
	if (d->nps->at)
		return;
	d->nps->at = xmalloc((d->naccounts + 1) * sizeof(*d->nps->at));
	d->nps->score = xcalloc(d->naccounts + 1, sizeof(*d->nps->score));
	for (size_t i = 0; i < d->naccounts; i++)
		d->nps->at[i] = CS_TIME_NONE;
}

static void surveys_alloc(struct cs_data *d)
{
	struct cs_survey_sums *k = d->surveys;

	if (k->anon || !d->plan.survey_sums)
		return;
	k->nwin = d->plan.nwindows;
	k->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	k->nanon = k->nseg * k->nwin * SURVEY_TYPES;
	k->anon = xcalloc(k->nanon + 1, sizeof(*k->anon));
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
	if (d->nps->at) {
		uint32_t seg;
		int32_t a = account_of(d, key, &seg);
		cs_time from = d->plan.sentiment_from;

		if (type == SURVEY_NPS && a != CS_NO_ACCOUNT && at >= from && at < d->as_of &&
		    (d->nps->at[a] == CS_TIME_NONE || at > d->nps->at[a] ||
		     (at == d->nps->at[a] && score > d->nps->score[a]))) {
			d->nps->at[a] = at;
			d->nps->score[a] = score;
		}
	}
	struct cs_survey_sums *k = d->surveys;
	if (!k->anon || at >= d->as_of)
		return; /* surveys not evaluated, or a response at or after t: in no window */
	uint32_t seg;
	int32_t a = account_of(d, key, &seg);
	const char *resp = col(in, v, COL_V_RESPONDENT);
	k->rows++;
	if (!resp) {
		if (seg == CS_SEG_UNKNOWN)
			seg = (uint32_t)(k->nseg - 1);
		for (size_t w = 0; w < k->nwin; w++)
			if (at >= d->plan.from[w])
				tally_add(&k->anon[(seg * k->nwin + w) * SURVEY_TYPES + type],
					  score, 1);
		return;
	}

	struct buf kb = BUF_INIT;
	bool added;
	buf_addf(&kb, "%d\x1f%d\x1f%s", (int)a, (int)type, resp);
	struct strent *e = strtab_put(&p->respondents, &p->arena, kb.data, &added);
	buf_release(&kb);
	if (added) {
		GROW(k->latest, k->nlatest, k->cap);
		e->val = (int32_t)k->nlatest;
		k->latest[k->nlatest++] = (struct cs_latest_response){seg, type, score, at};
		return;
	}
	struct cs_latest_response *l = &k->latest[e->val];
	if (at > l->at || (at == l->at && cs_cmp(score, l->score) >= 0)) {
		l->score = score;
		l->at = at;
	}
}

/* The sums a kind reads exist once linked, with or without rows. */
static void surveys_prepare(struct cs_data *d)
{
	if (d->plan.latest_nps)
		nps_alloc(d);
	surveys_alloc(d);
}

/* Latest responses of unknown accounts carry CS_SEG_UNKNOWN; tallies of
 * unknown accounts were kept in the last slot, which becomes the unknown
 * segment unless an account combination is it. */
static void surveys_link_unknown(struct cs_data *d, uint32_t unknown)
{
	struct cs_survey_sums *k = d->surveys;

	if (unknown != CS_SEG_UNKNOWN) {
		for (size_t i = 0; i < k->nlatest; i++)
			if (k->latest[i].seg == CS_SEG_UNKNOWN)
				k->latest[i].seg = unknown;
	}
	if (k->anon && unknown != CS_SEG_UNKNOWN && unknown != k->nseg - 1) {
		size_t slot = k->nseg - 1, per = k->nwin * SURVEY_TYPES;

		for (size_t i = 0; i < per; i++) {
			struct cs_score_tally *from = &k->anon[slot * per + i];

			for (size_t j = 0; j < from->n; j++)
				tally_add(&k->anon[unknown * per + i], from->v[j].score,
					  from->v[j].n);
			from->n = 0;
		}
	}
	k->nseg = d->seg.n;
}

static void surveys_release(struct cs_data *d)
{
	struct cs_survey_sums *k = d->surveys;

	for (size_t i = 0; i < k->nanon; i++)
		free(k->anon[i].v);
	free(k->anon);
	free(k->latest);
	free(d->nps->at);
	free(d->nps->score);
	strtab_release(&d->priv->respondents);
}

static int surveys_open(struct cs_stream *in, int ncols, const char *const *names, char *err,
			size_t errlen)
{
	(void)ncols;
	(void)names;
	(void)err;
	(void)errlen;
	if (in->d->plan.latest_nps)
		nps_alloc(in->d);
	surveys_alloc(in->d);
	return 0;
}

const struct ds_contract ds_surveys = {
    .name = "surveys",
    .cols = cols_surveys,
    .ncols = sizeof(cols_surveys) / sizeof(cols_surveys[0]),
    .open = surveys_open,
    .row = row_survey,
    .prepare = surveys_prepare,
    .link_unknown = surveys_link_unknown,
    .release = surveys_release,
};
