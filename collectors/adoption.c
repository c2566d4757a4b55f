/*
 * adoption: active users, seats and their utilisation, feature adoption and
 * time to value per segment and window (docs/metrics.md).
 *
 * A user is identified by (account key, user key): the same user key under
 * two accounts is two users, also when no CRM account has the key. Users are
 * counted by the loader while the activity rows stream in, ordered by those
 * keys (ds_activity.h), so no row is kept; a (user, feature) pair returned
 * twice counts once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_accounts.h"
#include "ds_activity.h"
#include "emit.h"
#include "kpi.h"

/* ------------------------------------------------------------------ */
/* Counting                                                            */

struct adoption {
	size_t nseg, nwin, nfeat;
	const struct cs_activity_counts *act; /* active users, the loader's (ds_activity.h) */
	uint64_t *used;			      /* [seg][plan window], accounts with seats only */
	uint64_t *seats;		      /* [seg] */
};

/* The loader counted distinct users per segment and per account as the rows
 * streamed in; seats used are the active users of the accounts that have
 * seats. */
static void count_used(const struct cs_data *d, struct adoption *a)
{
	for (size_t i = 0; i < d->naccounts; i++) {
		const struct cs_account *acc = &d->accounts[i];

		if (acc->seats <= 0 || acc->seg >= a->nseg)
			continue;
		for (size_t w = 0; w < a->nwin; w++)
			a->used[acc->seg * a->nwin + w] += activity_account_users(a->act, i, w);
	}
}

/* ------------------------------------------------------------------ */
/* Time to value                                                       */

#define TTV_BUCKETS 8

static const double ttv_bounds[TTV_BUCKETS] = {
    1 * 86400.0,  3 * 86400.0,	7 * 86400.0,  14 * 86400.0,
    30 * 86400.0, 60 * 86400.0, 90 * 86400.0, INFINITY,
};

struct ttv {
	uint64_t buckets[TTV_BUCKETS]; /* not cumulative until emitted */
	double sum;
	uint64_t pending;
};

static void count_ttv(const struct cs_data *d, cs_time from, struct ttv *per_seg)
{
	for (size_t i = 0; i < d->naccounts; i++) {
		const struct cs_account *acc = &d->accounts[i];
		struct ttv *t;
		double secs;
		size_t b = 0;

		if (acc->ttv_rejected || acc->started_at == CS_TIME_NONE ||
		    acc->started_at < from || acc->started_at >= d->as_of || acc->seg >= d->seg.n)
			continue;
		t = &per_seg[acc->seg];
		if (acc->first_value_at == CS_TIME_NONE || acc->first_value_at >= d->as_of) {
			t->pending++;
			continue;
		}
		secs = (double)(acc->first_value_at - acc->started_at) / (double)CS_SECOND;
		while (b + 1 < TTV_BUCKETS && cs_cmp(secs, ttv_bounds[b]) > 0)
			b++;
		t->buckets[b]++;
		t->sum += secs;
	}
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

enum {
	F_ACTIVE,
	F_SEATS,
	F_SEATS_USED,
	F_UTILIZATION,
	F_FEATURE_USERS,
	F_FEATURE_RATIO,
	F_TTV,
	F_TTV_PENDING,
	F_COUNT
};

const struct cs_family adoption_families[] = {
    [F_ACTIVE] = {.name = "cs_active_users",
		  .type = METRIC_GAUGE,
		  .labels = {"window"},
		  .help = "Distinct users (per account) active in the window, all accounts; "
			  "recomputed from the database each collector interval"},
    [F_SEATS] = {.name = "cs_seats",
		 .type = METRIC_GAUGE,
		 .help = "Seats purchased, summed over accounts with seats; recomputed from the "
			 "database each collector interval"},
    [F_SEATS_USED] = {.name = "cs_seats_used",
		      .type = METRIC_GAUGE,
		      .labels = {"window"},
		      .help = "Distinct users active in the window of accounts with seats "
			      "(numerator of cs_license_utilization_ratio); recomputed from the "
			      "database each collector interval"},
    [F_UTILIZATION] = {.name = "cs_license_utilization_ratio",
		       .type = METRIC_GAUGE,
		       .labels = {"window"},
		       .help = "Seats used / seats purchased over accounts with seats; recomputed "
			       "from the database each collector interval"},
    [F_FEATURE_USERS] = {.name = "cs_feature_active_users",
			 .type = METRIC_GAUGE,
			 .labels = {"window", "feature"},
			 .help = "Distinct users active on the feature in the window; recomputed "
				 "from the database each collector interval"},
    [F_FEATURE_RATIO] = {.name = "cs_feature_adoption_ratio",
			 .type = METRIC_GAUGE,
			 .labels = {"window", "feature"},
			 .help = "Users active on the feature / active users in the window; "
				 "recomputed from the database each collector interval"},
    [F_TTV] = {.name = "cs_time_to_value_seconds",
	       .type = METRIC_GAUGEHISTOGRAM,
	       .labels = {"window"},
	       .unit = "seconds",
	       .help = "Seconds from start to first value of accounts started in the window that "
		       "reached value; recomputed from the database each collector interval"},
    [F_TTV_PENDING] = {.name = "cs_time_to_value_pending_accounts",
		       .type = METRIC_GAUGE,
		       .labels = {"window"},
		       .help = "Accounts started in the window that have not reached first value; "
			       "recomputed from the database each collector interval"},
    [F_COUNT] = CS_FAMILIES_END,
};

static void emit_adoption(const struct cs_data *d, const struct cs_collector *col, struct mset *out,
			  const struct adoption *a)
{
	const struct cs_config *cfg = d->cfg;
	struct cs_emitter active = family_of(out, d, &adoption_families[F_ACTIVE]);
	struct cs_emitter seats = family_of(out, d, &adoption_families[F_SEATS]);
	struct cs_emitter used = family_of(out, d, &adoption_families[F_SEATS_USED]);
	struct cs_emitter util = family_of(out, d, &adoption_families[F_UTILIZATION]);
	struct cs_emitter fusers = family_of(out, d, &adoption_families[F_FEATURE_USERS]);
	struct cs_emitter fratio = family_of(out, d, &adoption_families[F_FEATURE_RATIO]);

	for (uint32_t seg = 0; seg < a->nseg; seg++)
		emit(&seats, seg, (double)a->seats[seg], NULL);
	for (size_t w = 0; w < col->nwindows; w++) {
		const char *label = col->windows[w].label;
		size_t aw = cs_plan_window(&d->plan, col->windows[w].seconds);

		for (uint32_t seg = 0; seg < a->nseg; seg++) {
			uint64_t nactive = activity_seg_users(a->act, seg, aw);
			uint64_t nused = a->used[seg * a->nwin + aw];

			emit(&active, seg, (double)nactive, label, NULL);
			emit(&used, seg, (double)nused, label, NULL);
			if (a->seats[seg])
				emit(&util, seg, (double)nused / (double)a->seats[seg], label,
				     NULL);
			for (size_t f = 0; f < a->nfeat; f++)
				emit(&fusers, seg,
				     (double)activity_feature_users(a->act, seg, aw, f), label,
				     cfg->features[f], NULL);
			for (size_t f = 0; f < a->nfeat && nactive; f++)
				emit(&fratio, seg,
				     (double)activity_feature_users(a->act, seg, aw, f) /
					 (double)nactive,
				     label, cfg->features[f], NULL);
		}
	}
}

static void emit_ttv(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	size_t nseg = d->seg.n;
	struct ttv *per_seg = xcalloc(nseg ? nseg : 1, sizeof(*per_seg));
	struct cs_emitter hist = family_of(out, d, &adoption_families[F_TTV]);
	struct cs_emitter pending = family_of(out, d, &adoption_families[F_TTV_PENDING]);

	for (size_t w = 0; w < col->nwindows; w++) {
		const char *label = col->windows[w].label;
		size_t pw = cs_plan_window(&d->plan, col->windows[w].seconds);

		memset(per_seg, 0, (nseg ? nseg : 1) * sizeof(*per_seg));
		count_ttv(d, d->plan.from[pw], per_seg);
		for (uint32_t seg = 0; seg < nseg; seg++) {
			uint64_t cum[TTV_BUCKETS];
			uint64_t run = 0;

			for (size_t b = 0; b < TTV_BUCKETS; b++)
				cum[b] = run += per_seg[seg].buckets[b];
			emit_histogram(&hist, seg, TTV_BUCKETS, ttv_bounds, cum, per_seg[seg].sum,
				       label, NULL);
			emit(&pending, seg, (double)per_seg[seg].pending, label, NULL);
		}
	}
	free(per_seg);
}

void kpi_adoption(const struct cs_data *d, const struct cs_collector *col, struct mset *out)
{
	struct adoption a;

	a.nseg = d->seg.n;
	a.act = d->activity;
	a.nwin = d->plan.nwindows;
	a.nfeat = d->cfg->nfeatures;
	a.used = xcalloc(a.nseg * a.nwin + 1, sizeof(*a.used));
	a.seats = xcalloc(a.nseg + 1, sizeof(*a.seats));

	for (size_t i = 0; i < d->naccounts; i++)
		if (d->accounts[i].seats > 0 && d->accounts[i].seg < a.nseg)
			a.seats[d->accounts[i].seg] += (uint64_t)d->accounts[i].seats;
	count_used(d, &a);
	emit_adoption(d, col, out, &a);
	emit_ttv(d, col, out);

	free(a.used);
	free(a.seats);
}
