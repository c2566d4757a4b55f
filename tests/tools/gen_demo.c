/*
 * gen_demo: the demo company's billing and CRM data, as PostgreSQL COPY text.
 *
 *   gen_demo --seed S --accounts N --table NAME [--part K/M]
 *            [--anchor YYYY-MM-DD] [--awkward]
 *   gen_demo --tables     lists "database table" pairs in load order
 *
 * Output is a pure function of (seed, accounts, anchor, awkward, table,
 * part): every account draws from its own random streams, seeded from (seed,
 * account index, stream), so any table can be generated alone, in any order,
 * split in parts (accounts with index % M == K), and still agree with the
 * others. Only integer arithmetic is used, so the bytes do not depend on the
 * libm build.
 *
 * History ends at the anchor, 00:00:00 UTC of --anchor (default: today, the
 * only use of the clock). Every instant is an offset from it, so the company
 * looks the same whatever the anchor: a load anchored today is alive at now,
 * and an --as-of at or before the anchor gives reproducible KPIs.
 *
 * Billing has Stripe's shape: subscriptions with their cancellation
 * (requested at canceled_at, some still pending at the anchor, feedback
 * codes and free text), the price history as subscription_periods, and one
 * invoice per billing period with every card charge, failed ones included.
 *
 * The default company is one a person can look at: plans and regions a SaaS
 * company uses, and a few invalid rows (one account in FLAW_EVERY_CLEAN per
 * kind, none that moves facts into the "unknown" segment), so that rejected
 * counts look like a real warehouse's. --awkward is for tests: segment names
 * with a double quote, a backslash and non-ASCII, every invalid kind in one
 * account in FLAW_EVERY (NULL segments and account keys included) and
 * soft-deleted accounts that still pay, so even a 2,000-account load contains
 * every kind.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"

#define DAY   INT64_C(86400)
#define HOUR  INT64_C(3600)
#define NOPEN INT64_C(0) /* open-ended timestamp / SQL NULL */

static int64_t anchor; /* midnight UTC, set in main */
static bool awkward;   /* --awkward: hostile names, every flaw often */

/* ---- random streams ---------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rnext(struct rng *r)
{
	r->s += UINT64_C(0x9e3779b97f4a7c15);
	return mix64(r->s);
}

/* Uniform in [0, n), n > 0. */
static int64_t below(struct rng *r, int64_t n)
{
	return (int64_t)(rnext(r) % (uint64_t)n);
}

static int64_t between(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static bool chance(struct rng *r, int percent)
{
	return below(r, 1000) < percent * 10;
}

static uint64_t g_seed;

/* New streams go last: the seeds of the others must not move. */
enum stream {
	ST_STORY,
	ST_CONTACTS,
	ST_SURVEYS,
	ST_CASES,
	ST_EVENTS,
	ST_NAMES,
	ST_RENEWAL,
	ST_CANCEL,
	ST_PAY
};

static struct rng stream(uint64_t idx, enum stream st)
{
	struct rng r = {mix64(g_seed ^ mix64(idx * 16 + (uint64_t)st + 1))};
	return r;
}

/* Picks an index by integer weights. */
static int pick(struct rng *r, const int *w, int n)
{
	int total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	int x = (int)below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* ---- output ------------------------------------------------------------ */

static char obuf[1 << 20];
static size_t olen;

static void oflush(void)
{
	if (olen && fwrite(obuf, 1, olen, stdout) != olen) {
		perror("gen_demo: write");
		exit(1);
	}
	olen = 0;
}

static void oraw(const char *s, size_t n)
{
	if (olen + n > sizeof(obuf))
		oflush();
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void ochar(char c)
{
	if (olen == sizeof(obuf))
		oflush();
	obuf[olen++] = c;
}

/* A text field, escaped for COPY text format. */
static void ostr(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			oraw("\\\\", 2);
			break;
		case '\t':
			oraw("\\t", 2);
			break;
		case '\n':
			oraw("\\n", 2);
			break;
		case '\r':
			oraw("\\r", 2);
			break;
		default:
			ochar(*s);
		}
	}
}

static void onull(void)
{
	oraw("\\N", 2);
}

static void osep(void)
{
	ochar('\t');
}

static void oend(void)
{
	ochar('\n');
}

static void oint(int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%" PRId64, v);
	oraw(t, (size_t)n);
}

static void obool(bool b)
{
	ochar(b ? 't' : 'f');
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* timestamptz text, or \N for NOPEN. */
static void ots(int64_t t)
{
	if (t == NOPEN) {
		onull();
		return;
	}
	int y, m, d;
	int64_t days = floordiv(t, DAY), sec = t - days * DAY;
	civil_from_days(days, &y, &m, &d);
	char s[40];
	int n = snprintf(s, sizeof(s), "%04d-%02d-%02d %02d:%02d:%02d+00", y, m, d,
			 (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
	oraw(s, (size_t)n);
}

static void odate(int64_t t)
{
	if (t == NOPEN) {
		onull();
		return;
	}
	int y, m, d;
	civil_from_days(floordiv(t, DAY), &y, &m, &d);
	char s[16];
	int n = snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
	oraw(s, (size_t)n);
}

/* Stripe/Salesforce-looking ids: prefix + 11 base62 digits of a bijective
 * mix of (namespace, n). 62^11 > 2^64, so distinct mixes give distinct ids. */
static void mkid(char *dst, const char *prefix, uint64_t ns, uint64_t n)
{
	static const char digits[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t v = mix64((ns << 48) ^ n ^ UINT64_C(0x5bd1e995));
	size_t p = strlen(prefix);
	memcpy(dst, prefix, p);
	for (int i = 0; i < 11; i++) {
		dst[p + (size_t)i] = digits[v % 62];
		v /= 62;
	}
	dst[p + 11] = '\0';
}

static void oid(const char *prefix, uint64_t ns, uint64_t n)
{
	char id[48];
	mkid(id, prefix, ns, n);
	oraw(id, strlen(id));
}

enum id_ns {
	NS_CUSTOMER = 1,
	NS_SUB,
	NS_ITEM,
	NS_PERIOD,
	NS_PRICE,
	NS_PRODUCT,
	NS_CONTACT,
	NS_SURVEY,
	NS_CASE,
	NS_USER,
	NS_INVOICE,
	NS_CHARGE,
};

/* Salesforce account ids sort by account index, so the original of a
 * duplicate (suffix 'Z' block) always has the lower key. */
static void oaccount(uint64_t idx)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "001A%011" PRIu64, idx);
	oraw(s, (size_t)n);
}

static void odupaccount(uint64_t idx)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "001Z%011" PRIu64, idx);
	oraw(s, (size_t)n);
}

/* ---- catalogue --------------------------------------------------------- */

enum { PLAN_STARTER, PLAN_TEAM, PLAN_BUSINESS, PLAN_ENTERPRISE, PLAN_LEGACY, NPLANS };
static const char *const plan_clean[NPLANS] = {"Starter", "Team", "Business", "Enterprise",
					       "Legacy"};
static const char *const plan_awkward[NPLANS] = {"Starter", "Team", "Business",
						 "Enterprise \"Plus\"", "Legacy\\Pro"};
static const char *const *plan_names = plan_clean;
/* USD cents per seat per month. */
static const int64_t plan_usd[NPLANS] = {1500, 2900, 4900, 9900, 1900};

enum { CUR_USD, CUR_EUR, CUR_GBP, CUR_JPY, NCUR };
static const char *const cur_codes[NCUR] = {"usd", "eur", "gbp", "jpy"};

enum { IV_MONTH, IV_QUARTER, IV_YEAR, IV_WEEK, NIV };
static const char *const iv_unit[NIV] = {"month", "month", "year", "week"};
static const int iv_count[NIV] = {1, 3, 1, 1};
static const char iv_code[NIV] = {'m', 'q', 'y', 'w'};

#define ADDON_PLAN 9
/* Prices a careless admin created: each makes its periods invalid. */
enum { BADP_NEGATIVE = 10, BADP_CHF, BADP_ZERO_COUNT, BADP_BIWEEKLY, BADP_END };

static int64_t price_amount(int plan, int cur, int iv)
{
	int64_t a = plan == ADDON_PLAN ? 19900 : plan_usd[plan];
	switch (cur) {
	case CUR_EUR:
		a = a * 92 / 100 / 100 * 100;
		break;
	case CUR_GBP:
		a = a * 79 / 100 / 100 * 100;
		break;
	case CUR_JPY:
		a = a * 150 / 100 / 10 * 10; /* yen have no minor unit */
		break;
	default:
		break;
	}
	switch (iv) {
	case IV_QUARTER:
		return a * 285 / 100;
	case IV_YEAR:
		return a * 10;
	case IV_WEEK:
		return a * 12 / 52;
	default:
		return a;
	}
}

static uint64_t price_key(int plan, int cur, int iv)
{
	return (uint64_t)(plan * 100 + cur * 10 + iv);
}

enum { CP_NONE, CP_WELCOME20, CP_ANNUAL10, CP_PARTNER50, CP_LAUNCHEUR, CP_ONCE25, NCOUPONS };
static const char *const coupon_ids[NCOUPONS] = {"",	      "WELCOME20",   "ANNUAL10",
						 "PARTNER50", "LAUNCH10EUR", "ONCE25"};

enum {
	ST_TRIALING,
	ST_ACTIVE,
	ST_PAST_DUE,
	ST_UNPAID,
	ST_PAUSED,
	ST_CANCELED,
	ST_INCOMPLETE_EXPIRED,
	NSTATUS
};
static const char *const status_names[NSTATUS] = {
    "trialing", "active", "past_due", "unpaid", "paused", "canceled", "incomplete_expired"};

struct country {
	const char *code, *name, *region, *city;
	int cur, weight;
	const char *awkward_region; /* NULL: region */
};
static const struct country countries[] = {
    {"US", "United States", "North America", "San Francisco", CUR_USD, 30, NULL},
    {"CA", "Canada", "North America", "Toronto", CUR_USD, 5, NULL},
    {"BR", "Brazil", "LATAM", "São Paulo", CUR_USD, 4, NULL},
    {"MX", "Mexico", "LATAM", "Ciudad de México", CUR_USD, 3, NULL},
    {"DE", "Germany", "EMEA", "Berlin", CUR_EUR, 8, NULL},
    {"FR", "France", "EMEA", "Paris", CUR_EUR, 6, NULL},
    {"NL", "Netherlands", "EMEA", "Amsterdam", CUR_EUR, 3, NULL},
    {"ES", "Spain", "EMEA", "Madrid", CUR_EUR, 3, NULL},
    {"GB", "United Kingdom", "EMEA", "London", CUR_GBP, 10, NULL},
    {"CH", "Switzerland", "EMEA", "Zürich", CUR_EUR, 3, "Zürich"},
    {"JP", "Japan", "APAC", "東京", CUR_JPY, 6, "東京"},
    {"AU", "Australia", "APAC", "Sydney", CUR_USD, 4, NULL},
    {"SG", "Singapore", "APAC", "Singapore", CUR_USD, 3, NULL},
    {"IN", "India", "APAC", "Bengaluru", CUR_USD, 4, NULL},
};
#define NCOUNTRIES ((int)(sizeof(countries) / sizeof(countries[0])))

/* ---- planted flaws ----------------------------------------------------- */

/* Account idx carries flaw f when idx % FLAW_EVERY == f + 1 (--awkward), or
 * idx % FLAW_EVERY_CLEAN == f + 1 for the flaws a clean demo keeps. */
#define FLAW_EVERY	 397
#define FLAW_EVERY_CLEAN 1999
enum flaw {
	F_NEG_AMOUNT,	    /* subscriptions: negative_amount */
	F_CHF,		    /* subscriptions: unknown_currency */
	F_ZERO_COUNT,	    /* subscriptions: bad_interval_count */
	F_BIWEEKLY,	    /* subscriptions: unknown_interval */
	F_NEG_QTY,	    /* subscriptions: negative_quantity */
	F_BAD_STATUS,	    /* subscriptions: unknown_status */
	F_BAD_VALIDITY,	    /* subscriptions: bad_validity */
	F_ORPHAN_SUB,	    /* subscriptions + trials: null_key */
	F_NULL_FROM,	    /* subscriptions: null_value */
	F_NULL_ACCOUNT_ID,  /* accounts: null_key */
	F_NEG_SEATS,	    /* accounts: negative_seats */
	F_DUPLICATE,	    /* accounts: duplicate_billing_key */
	F_VALUE_BEFORE,	    /* accounts: value_before_start */
	F_NULL_SEGMENTS,    /* plan and country NULL: unknown segments */
	F_SCORE_RANGE,	    /* surveys: score_out_of_range */
	F_SURVEY_TYPE,	    /* surveys: unknown_type */
	F_NULL_SCORE,	    /* surveys: null_value */
	F_SURVEY_NULL_KEY,  /* surveys: null_key */
	F_NULL_USER,	    /* activity: null_value */
	F_EVENT_NULL_KEY,   /* activity: null_key */
	F_BAD_RESOLUTION,   /* tickets: bad_resolution */
	F_CASE_NULL_KEY,    /* tickets: null_key */
	F_CASE_NULL_OPENED, /* tickets: null_value */
	F_PAY_NEG_AMOUNT,   /* payments: negative_amount */
	F_PAY_BEFORE,	    /* payments: paid before issued */
	F_PAY_CURRENCY,	    /* payments: unknown_currency */
	F_PAY_NULL_KEY,	    /* payments: null_key */
	NFLAWS
};

static bool has_flaw(uint64_t idx, enum flaw f)
{
	if (awkward)
		return idx % FLAW_EVERY == (uint64_t)f + 1;
	/* No key-less account, no NULL segment, no rejected account: those put
	 * customers in "unknown", which a demo reader would take for a bug. */
	if (f == F_NULL_ACCOUNT_ID || f == F_NULL_SEGMENTS || f == F_NEG_SEATS)
		return false;
	return idx % FLAW_EVERY_CLEAN == (uint64_t)f + 1;
}

/* ---- one account's story ----------------------------------------------- */

#define MAXPH  160
#define MAXSUB 12

struct phase {
	int64_t from, to; /* to NOPEN: open */
	int sub;
	int plan, iv, qty, status, coupon;
	bool addon;
};

struct sub {
	int64_t created, trial_start, trial_end, canceled_at;
	bool converted;
	/* Stripe's cancellation fields, set by cancel_build: a cancellation at
	 * the period's end leaves canceled_at at the request, cancel_at at the
	 * end; reason is cancellation_details.reason, feedback its feedback. */
	int64_t cancel_at;
	bool at_period_end;
	const char *reason, *feedback;
};

struct story {
	uint64_t idx;
	int country, cur, plan, seats, interval;
	int64_t signup;
	int happiness; /* 0..100: drives survey scores, usage, escalations */
	int nusers, ncontacts;
	int nph, nsub;
	struct phase ph[MAXPH];
	struct sub sub[MAXSUB];
	int64_t live_from, live_to; /* first paid instant, last (NOPEN: still live) */
};

static void add_phase(struct story *s, int64_t from, int64_t to, int status, int plan, int iv,
		      int qty, int coupon, bool addon)
{
	if (s->nph == MAXPH)
		return;
	struct phase *p = &s->ph[s->nph++];
	p->from = from;
	p->to = to;
	p->sub = s->nsub - 1;
	p->plan = plan;
	p->iv = iv;
	p->qty = qty;
	p->status = status;
	p->coupon = coupon;
	p->addon = addon;
}

static int64_t clock_jitter(struct rng *r)
{
	return between(r, 7 * HOUR, 20 * HOUR) + below(r, 3600);
}

static void new_sub(struct story *s, int64_t t)
{
	if (s->nsub == MAXSUB)
		return;
	struct sub *b = &s->sub[s->nsub++];
	memset(b, 0, sizeof(*b));
	b->created = t;
}

static void cancel_build(struct story *s);

static void story_build(struct story *s, uint64_t idx)
{
	struct rng r = stream(idx, ST_STORY);
	memset(s, 0, sizeof(*s));
	s->idx = idx;

	int cw[NCOUNTRIES];
	for (int i = 0; i < NCOUNTRIES; i++)
		cw[i] = countries[i].weight;
	s->country = pick(&r, cw, NCOUNTRIES);
	s->cur = countries[s->country].cur;
	/* Signups grow over time: the minimum of two uniforms favours recent days. */
	int64_t a = below(&r, 1460), b = below(&r, 1460);
	s->signup = anchor - (1 + (a < b ? a : b)) * DAY + clock_jitter(&r);
	/* Most customers are content, a few are not: the larger of two uniforms.
	 * Happiness drives survey scores, usage, tickets, trial conversion and
	 * churn, so the unhappy accounts the health score finds are the ones
	 * that leave. */
	int64_t h1 = below(&r, 101), h2 = below(&r, 101);
	s->happiness = (int)(h1 > h2 ? h1 : h2);

	static const int pw_new[NPLANS] = {40, 30, 19, 11, 0};
	static const int pw_old[NPLANS] = {28, 21, 14, 7, 30};
	bool old = s->signup < anchor - 880 * DAY;
	int plan = pick(&r, old ? pw_old : pw_new, NPLANS);
	static const int seat_lo[NPLANS] = {1, 3, 10, 50, 2},
			 seat_hi[NPLANS] = {5, 20, 80, 400, 15};
	int qty = (int)between(&r, seat_lo[plan], seat_hi[plan]);
	/* Seats grow, but no team outgrows its plan: a 900-seat "Business"
	 * customer would swing its segment's KPIs on its own. */
	static const int seat_cap[NPLANS] = {10, 40, 160, 600, 30};
	static const int iw[NIV] = {60, 10, 22, 8};
	int iv = pick(&r, iw, NIV);

	int64_t t = s->signup;
	new_sub(s, t);
	bool ended = false;
	int coupon = CP_NONE;
	int64_t coupon_until = 0;
	bool addon = false;
	if (chance(&r, 15)) {
		coupon = s->cur == CUR_EUR && chance(&r, 30) ? CP_LAUNCHEUR : CP_WELCOME20;
		coupon_until = t + 90 * DAY;
	} else if (chance(&r, 3)) {
		coupon = CP_ONCE25;
		coupon_until = t + 31 * DAY;
	}
	if (chance(&r, 40)) {
		int64_t end = t + 14 * DAY;
		struct sub *sb = &s->sub[s->nsub - 1];
		sb->trial_start = t;
		sb->trial_end = end;
		s->live_from = t; /* trial users use the product too */
		if (end >= anchor) {
			add_phase(s, t, NOPEN, ST_TRIALING, plan, iv, qty, CP_NONE, false);
			ended = true;
		} else {
			/* B2B trials convert at 15-30 %, the content ones more often. */
			sb->converted = below(&r, 1000) < 100 + s->happiness * 2;
			add_phase(s, t, end, ST_TRIALING, plan, iv, qty, CP_NONE, false);
			t = end;
			if (!sb->converted) {
				add_phase(s, t, NOPEN, ST_CANCELED, plan, iv, qty, CP_NONE, false);
				sb->canceled_at = t;
				/* Some come back later and pay without a second trial. */
				int64_t back = t + between(&r, 30, 400) * DAY + clock_jitter(&r);
				if (chance(&r, 12) && back < anchor) {
					s->ph[s->nph - 1].to = back;
					t = back;
					new_sub(s, t);
				} else {
					ended = true;
				}
			}
		}
	}

	int status = ST_ACTIVE;
	while (!ended && s->nph < MAXPH - 4) {
		if (!s->live_from)
			s->live_from = t;
		int64_t dur = between(&r, 7, 75) * DAY + below(&r, DAY);
		if (coupon != CP_NONE && coupon_until > t && coupon_until < t + dur)
			dur = coupon_until - t;
		int64_t next = t + dur;
		if (addon == false && (plan == PLAN_BUSINESS || plan == PLAN_ENTERPRISE) &&
		    chance(&r, 6))
			addon = true;
		if (next >= anchor) {
			add_phase(s, t, NOPEN, status, plan, iv, qty, coupon, addon);
			break;
		}
		add_phase(s, t, next, status, plan, iv, qty, coupon, addon);
		t = next;
		if (coupon != CP_NONE && coupon_until <= t &&
		    (coupon == CP_WELCOME20 || coupon == CP_LAUNCHEUR || coupon == CP_ONCE25))
			coupon = CP_NONE;
		if (status != ST_ACTIVE) {
			/* Past due or paused periods end in recovery, mostly. */
			if (status == ST_UNPAID || (status == ST_PAST_DUE && chance(&r, 15))) {
				add_phase(s, t, NOPEN, ST_CANCELED, plan, iv, qty, CP_NONE, false);
				s->sub[s->nsub - 1].canceled_at = t;
				goto canceled;
			}
			status = ST_ACTIVE;
			continue;
		}
		/* One event at each phase boundary (every 7-75 days), in per mille.
		 * Cancellations (plus failed dunning) at ~3 % a boundary make a
		 * monthly logo churn of ~2 %; upgrades and seat growth outweigh
		 * downgrades and discounts so that expansion offsets churn. */
		int ev = (int)below(&r, 1000);
		int up = 38 + s->happiness * 3 / 10, cancel = 8 + (100 - s->happiness) * 45 / 100;
		/* Larger contracts are stickier. */
		if (plan == PLAN_ENTERPRISE)
			cancel = cancel * 6 / 10;
		else if (plan == PLAN_BUSINESS)
			cancel = cancel * 8 / 10;
		if (ev < up) { /* upgrade */
			if (plan == PLAN_LEGACY)
				plan = PLAN_BUSINESS;
			else if (plan < PLAN_ENTERPRISE)
				plan++;
			else
				qty += qty / 5 + 1;
			qty = qty < seat_cap[plan] ? qty : seat_cap[plan];
			if (iv == IV_WEEK || (iv == IV_MONTH && chance(&r, 20)))
				iv = IV_YEAR;
		} else if ((ev -= up) < 15) { /* downgrade */
			/* A team that outgrew the plan below drops seats instead. */
			if (plan > PLAN_STARTER && plan != PLAN_LEGACY && qty <= seat_cap[plan - 1])
				plan--;
			else if (qty > 1)
				qty -= qty / 5 + 1;
			if (plan < PLAN_BUSINESS)
				addon = false;
		} else if ((ev -= 15) < 200) { /* seats */
			int d = (int)between(&r, 1, qty / 3 + 1);
			qty = chance(&r, 75) ? qty + d : (qty - d > 0 ? qty - d : 1);
			qty = qty < seat_cap[plan] ? qty : seat_cap[plan];
		} else if ((ev -= 200) < 40) {
			status = chance(&r, 10) ? ST_UNPAID : ST_PAST_DUE;
		} else if ((ev -= 40) < 8) {
			status = ST_PAUSED;
		} else if ((ev -= 8) < cancel) {
			add_phase(s, t, NOPEN, ST_CANCELED, plan, iv, qty, CP_NONE, false);
			s->sub[s->nsub - 1].canceled_at = t;
		canceled:
			addon = false;
			coupon = CP_NONE;
			int64_t back = t + between(&r, 20, 500) * DAY + clock_jitter(&r);
			if (chance(&r, 25) && back < anchor && s->nsub < MAXSUB) {
				s->ph[s->nph - 1].to = back;
				t = back;
				new_sub(s, t);
				status = ST_ACTIVE;
				if (chance(&r, 30) && plan > PLAN_STARTER && plan != PLAN_LEGACY)
					plan--;
				qty = qty < seat_cap[plan] ? qty : seat_cap[plan];
				continue;
			}
			ended = true;
		} else if ((ev -= cancel) < 20) {
			if (coupon == CP_NONE) {
				/* $50 off an invoice is a partner deal for larger
				 * plans; on a Starter invoice it would be all of it. */
				bool big = plan == PLAN_BUSINESS || plan == PLAN_ENTERPRISE;
				coupon = s->cur == CUR_USD && big && chance(&r, 40) ? CP_PARTNER50
										    : CP_ANNUAL10;
				coupon_until = 0;
			}
		}
	}
	if (s->nph && s->ph[s->nph - 1].to == NOPEN) {
		int st = s->ph[s->nph - 1].status;
		if (st != ST_CANCELED)
			s->live_to = NOPEN;
		else
			s->live_to = s->ph[s->nph - 1].from;
	} else if (s->nph) {
		s->live_to = s->ph[s->nph - 1].to;
	}
	s->plan = plan;
	s->seats = qty;
	s->interval = iv;
	/* Users are whoever the customer invited: usually some, rarely all, seats. */
	int util = 40 + s->happiness * 4 / 10 + (int)below(&r, 30);
	s->nusers = qty * util / 100;
	if (s->nusers < 1)
		s->nusers = 1;
	if (s->nusers > 400)
		s->nusers = 400;
	s->ncontacts = 1 + (int)below(&r, s->nusers < 5 ? s->nusers : 5);
	cancel_build(s);
}

/* ---- cancellations ----------------------------------------------------- */

/* Stripe's eight cancellation_details.feedback codes, then what an older
 * import left in the same column: free text, one of which is a code with
 * stray spaces and capitals. */
static const char *const feedback_codes[] = {
    "too_expensive", "missing_features", "switched_service", "unused",
    "too_complex",   "low_quality",	 "customer_service", "other"};
static const int feedback_w[] = {22, 16, 14, 14, 7, 6, 4, 5};
static const char *const feedback_text[] = {" Too_Expensive", "Too expensive", "budget cuts",
					    "Company acquired", "price"};

static const char *draw_feedback(struct rng *r)
{
	int x = (int)below(r, 100);
	if (x < 18) /* the customer skipped the question */
		return NULL;
	if (x < 22)
		return feedback_text[below(
		    r, (int64_t)(sizeof(feedback_text) / sizeof(*feedback_text)))];
	return feedback_codes[pick(r, feedback_w, (int)(sizeof(feedback_w) / sizeof(*feedback_w)))];
}

/* How long before the period's end customers ask to cancel, in days. */
static int64_t request_lead(int iv)
{
	static const int64_t lead[NIV] = {28, 60, 120, 6};
	return lead[iv];
}

/* The cancellation fields of every subscription, drawn from a stream of
 * their own after the story (so adding them moved no other value). A
 * voluntary cancellation ends the subscription at the end of a period but
 * is requested days to months before (Stripe's cancel_at_period_end: the
 * request is canceled_at, the end cancel_at); some cancel at once. A failed
 * dunning ends it at once (reason payment_failed, no feedback), and so does
 * a trial that did not convert. A few live subscriptions have a request
 * pending at the anchor: their period ends after it. */
static void cancel_build(struct story *s)
{
	struct rng r = stream(s->idx, ST_CANCEL);
	for (int k = 0; k < s->nsub; k++) {
		struct sub *b = &s->sub[k];
		b->cancel_at = NOPEN;
		int last = -1, end = -1;
		for (int i = 0; i < s->nph; i++) {
			if (s->ph[i].sub != k)
				continue;
			if (s->ph[i].status == ST_CANCELED) {
				end = i;
				break;
			}
			last = i;
		}
		if (last < 0)
			continue;
		const struct phase *p = &s->ph[last];
		if (end >= 0) {
			int64_t t = s->ph[end].from;
			b->canceled_at = t;
			if (p->status == ST_TRIALING) {
				b->reason = "cancellation_requested";
				continue;
			}
			if (p->status != ST_ACTIVE) {
				b->reason = "payment_failed";
				continue;
			}
			b->reason = "cancellation_requested";
			b->feedback = draw_feedback(&r);
			if (chance(&r, 15))
				continue; /* canceled at once */
			int64_t req =
			    t - between(&r, 1, request_lead(p->iv)) * DAY - below(&r, DAY);
			if (req < p->from + HOUR)
				req = p->from + HOUR;
			b->canceled_at = req;
			b->cancel_at = t;
			b->at_period_end = true;
			continue;
		}
		/* Live at the anchor: a request pending now and then, more often
		 * from the unhappy, less from larger contracts, and longer ahead
		 * on longer intervals. */
		if (p->to != NOPEN || p->status != ST_ACTIVE || p->from >= anchor)
			continue;
		int permille = 8 + (100 - s->happiness) * 45 / 100;
		if (p->plan == PLAN_ENTERPRISE)
			permille = permille * 6 / 10;
		else if (p->plan == PLAN_BUSINESS)
			permille = permille * 8 / 10;
		permille = permille * (p->iv == IV_YEAR ? 3 : p->iv == IV_QUARTER ? 2 : 1);
		if (below(&r, 1000) >= permille)
			continue;
		int64_t lead = request_lead(p->iv);
		int64_t req = anchor - between(&r, 1, lead) * DAY + below(&r, DAY);
		if (req < p->from + HOUR)
			req = p->from + HOUR;
		if (req >= anchor)
			continue;
		b->canceled_at = req;
		b->cancel_at = anchor + between(&r, 1, lead) * DAY - HOUR + below(&r, 2 * HOUR);
		b->at_period_end = true;
		b->reason = "cancellation_requested";
		b->feedback = draw_feedback(&r);
	}
}

/* ---- invoices and charges ---------------------------------------------- */

/* One invoice per billing period of a paying subscription, issued at the
 * period's start. Periods have fixed lengths (30, 91, 365 and 7 days), so
 * that the company looks the same whatever the anchor. Customers on
 * send_invoice (Enterprise, Japan) pay by transfer on net-30 terms, some
 * late; the others are charged by card at once, and a card fails now and
 * then (and always in a past-due spell of the story): the failure is a
 * failed charge, most are recovered by a retry within days, a few never
 * are. Unpaid invoices are written off (uncollectible) months later. */
#define MAXINV	  400
#define MAXCHARGE 3

struct invoice {
	int sub;
	int64_t created, due, paid, uncollectible; /* NOPEN: none */
	int64_t amount;
	int ncharge;
	int64_t charge_at[MAXCHARGE];
	bool charge_ok[MAXCHARGE];
};

static int64_t period_len(int iv)
{
	static const int64_t len[NIV] = {30, 91, 365, 7};
	return len[iv] * DAY;
}

static bool send_invoice(const struct story *s)
{
	return s->cur == CUR_JPY || s->plan == PLAN_ENTERPRISE;
}

static int64_t invoice_amount(const struct story *s, const struct phase *p, bool first)
{
	int64_t a = price_amount(p->plan, s->cur, p->iv) * p->qty;
	switch (p->coupon) {
	case CP_WELCOME20:
		a = a * 80 / 100;
		break;
	case CP_ANNUAL10:
		a = a * 90 / 100;
		break;
	case CP_ONCE25:
		if (first)
			a = a * 75 / 100;
		break;
	case CP_PARTNER50:
		a = a > 5000 ? a - 5000 : 0;
		break;
	case CP_LAUNCHEUR:
		a = a > 1000 ? a - 1000 : 0;
		break;
	default:
		break;
	}
	if (p->addon)
		a += price_amount(ADDON_PLAN, s->cur, p->iv);
	return a;
}

static int invoices_build(const struct story *s, struct invoice *inv)
{
	struct rng r = stream(s->idx, ST_PAY);
	bool transfer = send_invoice(s);
	int n = 0;
	for (int k = 0; k < s->nsub && n < MAXINV; k++) {
		int64_t c = NOPEN;
		for (int i = 0; i < s->nph; i++)
			if (s->ph[i].sub == k && s->ph[i].status != ST_TRIALING &&
			    s->ph[i].status != ST_CANCELED && s->ph[i].status != ST_PAUSED) {
				c = s->ph[i].from;
				break;
			}
		bool first = true;
		while (c != NOPEN && c < anchor && n < MAXINV) {
			int at = -1;
			for (int i = 0; i < s->nph; i++)
				if (s->ph[i].sub == k && s->ph[i].from <= c &&
				    (s->ph[i].to == NOPEN || c < s->ph[i].to))
					at = i;
			if (at < 0 || s->ph[at].status == ST_CANCELED ||
			    s->ph[at].status == ST_TRIALING)
				break;
			const struct phase *p = &s->ph[at];
			int64_t next = c + period_len(p->iv);
			if (p->status == ST_PAUSED) {
				c = next;
				continue;
			}
			struct invoice *v = &inv[n];
			memset(v, 0, sizeof(*v));
			v->sub = k;
			v->created = c;
			v->amount = invoice_amount(s, p, first);
			first = false;
			v->due = transfer ? c + 30 * DAY : NOPEN;
			v->paid = v->uncollectible = NOPEN;
			c = next;
			if (v->amount <= 0)
				continue;
			n++;
			/* In a past-due spell the invoice fails; it is paid when the
			 * spell ends in recovery, never when it ends the subscription. */
			bool dunning = p->status == ST_PAST_DUE || p->status == ST_UNPAID;
			int64_t recovered = NOPEN;
			if (dunning && p->to != NOPEN) {
				for (int i = at + 1; i < s->nph; i++)
					if (s->ph[i].sub == k && s->ph[i].from == p->to) {
						if (s->ph[i].status == ST_ACTIVE)
							recovered =
							    p->to + between(&r, 600, 6 * HOUR);
						break;
					}
			}
			if (transfer) {
				int64_t d;
				int x = (int)below(&r, 100);
				if (x < 60)
					d = between(&r, 3, 29);
				else if (x < 88)
					d = between(&r, 30, 60);
				else if (x < 96)
					d = between(&r, 61, 100);
				else if (x < 99)
					d = between(&r, 101, 170);
				else
					d = -1;
				if (dunning)
					d = recovered == NOPEN ? -1
							       : (recovered - v->created) / DAY;
				if (d >= 0)
					v->paid =
					    v->created + d * DAY + between(&r, 9 * HOUR, 17 * HOUR);
			} else {
				bool fails = dunning || chance(&r, 5);
				int64_t first_try = v->created + between(&r, 60, HOUR);
				if (!fails) {
					v->paid = first_try;
					v->charge_at[0] = first_try;
					v->charge_ok[0] = true;
					v->ncharge = 1;
				} else {
					v->charge_at[0] = first_try;
					v->ncharge = 1;
					int64_t retry = NOPEN;
					if (dunning)
						retry = recovered;
					else if (chance(&r, 80))
						retry = v->created + between(&r, 1, 9) * DAY +
							below(&r, DAY);
					else if (chance(&r, 50))
						retry = v->created + between(&r, 10, 40) * DAY +
							below(&r, DAY);
					if (retry != NOPEN && retry - v->created > 3 * DAY) {
						/* Smart retries: one more failure on the way. */
						v->charge_at[v->ncharge++] =
						    v->created + between(&r, 1, 3) * DAY;
					}
					if (retry != NOPEN) {
						v->paid = retry;
						v->charge_ok[v->ncharge] = true;
						v->charge_at[v->ncharge++] = retry;
					}
				}
			}
			if (v->paid != NOPEN && v->paid >= anchor)
				v->paid = NOPEN; /* not yet */
			/* Charges made after the anchor have not happened yet. */
			while (v->ncharge && v->charge_at[v->ncharge - 1] >= anchor)
				v->ncharge--;
			if (v->paid == NOPEN) {
				int64_t w = (transfer ? 180 : 120) * DAY + below(&r, 10 * DAY);
				if (v->created + w < anchor)
					v->uncollectible = v->created + w;
			}
		}
	}
	return n;
}

/* ---- billing tables ---------------------------------------------------- */

static void t_products(void)
{
	for (int p = 0; p <= ADDON_PLAN; p++) {
		if (p >= NPLANS && p != ADDON_PLAN)
			continue;
		oid("prod_", NS_PRODUCT, (uint64_t)p);
		osep();
		ostr(p == ADDON_PLAN ? "Priority Support" : plan_names[p]);
		osep();
		obool(p != PLAN_LEGACY);
		osep();
		ots(anchor - 1600 * DAY + p * 7 * DAY);
		oend();
	}
}

static void price_row(int plan, int cur, int iv, const char *currency, int64_t amount,
		      const char *unit, int count, const char *nick)
{
	oid("price_", NS_PRICE, price_key(plan, cur, iv));
	osep();
	oid("prod_", NS_PRODUCT, (uint64_t)(plan >= BADP_NEGATIVE ? PLAN_TEAM : plan));
	osep();
	ostr(nick);
	osep();
	ostr(currency);
	osep();
	oint(amount);
	osep();
	ostr(unit);
	osep();
	oint(count);
	osep();
	obool(plan != PLAN_LEGACY && plan < BADP_NEGATIVE);
	osep();
	ots(anchor - 1600 * DAY + (plan % 10) * 7 * DAY + iv * HOUR);
	oend();
}

static void t_prices(void)
{
	char nick[96];
	for (int p = 0; p < NPLANS; p++)
		for (int c = 0; c < NCUR; c++)
			for (int iv = 0; iv < NIV; iv++) {
				snprintf(nick, sizeof(nick), "%s %s (%c)", plan_names[p],
					 cur_codes[c], iv_code[iv]);
				price_row(p, c, iv, cur_codes[c], price_amount(p, c, iv),
					  iv_unit[iv], iv_count[iv], nick);
			}
	for (int c = 0; c < NCUR; c++) {
		snprintf(nick, sizeof(nick), "Priority Support %s", cur_codes[c]);
		price_row(ADDON_PLAN, c, IV_MONTH, cur_codes[c],
			  price_amount(ADDON_PLAN, c, IV_MONTH), "month", 1, nick);
	}
	price_row(BADP_NEGATIVE, CUR_USD, IV_MONTH, "usd", -500, "month", 1, "Goodwill credit");
	price_row(BADP_CHF, CUR_USD, IV_MONTH, "chf", 2700, "month", 1, "Team CHF (legacy)");
	price_row(BADP_ZERO_COUNT, CUR_USD, IV_MONTH, "usd", 2900, "month", 0, "Team (import)");
	price_row(BADP_BIWEEKLY, CUR_USD, IV_MONTH, "usd", 1400, "biweekly", 1, "Team biweekly");
}

static void t_coupons(void)
{
	static const struct {
		const char *name, *pct, *amount, *cur, *duration, *months;
	} c[NCOUPONS] = {
	    {0, 0, 0, 0, 0, 0},
	    {"Welcome 20% x3", "20", 0, 0, "repeating", "3"},
	    {"Annual loyalty 10%", "10", 0, 0, "forever", 0},
	    {"Partner $50 off", 0, "5000", "usd", "forever", 0},
	    {"Launch 10 EUR", 0, "1000", "eur", "repeating", "3"},
	    {"First invoice 25%", "25", 0, 0, "once", 0},
	};
	for (int i = 1; i < NCOUPONS; i++) {
		ostr(coupon_ids[i]);
		osep();
		ostr(c[i].name);
		osep();
		c[i].pct ? ostr(c[i].pct) : onull();
		osep();
		c[i].amount ? ostr(c[i].amount) : onull();
		osep();
		c[i].cur ? ostr(c[i].cur) : onull();
		osep();
		ostr(c[i].duration);
		osep();
		c[i].months ? ostr(c[i].months) : onull();
		osep();
		ots(anchor - 1500 * DAY + i * DAY);
		oend();
	}
}

static void company_name(char *dst, size_t len, uint64_t idx)
{
	static const char *const a[] = {"Blue",	 "Northern", "Silver", "Bright", "Quiet", "Red",
					"Atlas", "Summit",   "Harbor", "Pixel",	 "Cedar", "Nova",
					"Iron",	 "Lumen",    "Vector", "Crisp",	 "Alpine"};
	static const char *const b[] = {"River", "Labs",  "Foods",  "Logistics", "Analytics",
					"Works", "Cloud", "Health", "Robotics",	 "Media",
					"Bank",	 "Games", "Energy", "Retail",	 "Studio"};
	static const char *const c[] = {"Inc.", "GmbH", "Ltd", "SAS",	 "LLC",
					"K.K.", "B.V.", "",    "& Sons", "Co."};
	struct rng r = stream(idx, ST_NAMES);
	int i = (int)below(&r, (int64_t)(sizeof(a) / sizeof(*a)));
	int j = (int)below(&r, (int64_t)(sizeof(b) / sizeof(*b)));
	int k = (int)below(&r, (int64_t)(sizeof(c) / sizeof(*c)));
	if (chance(&r, 2))
		snprintf(dst, len, "O'%s %s %s", b[j], a[i], c[k]);
	else
		snprintf(dst, len, "%s %s %s%s%" PRIu64, a[i], b[j], c[k], *c[k] ? " #" : "#",
			 idx % 1000);
}

static void t_customers(uint64_t idx, const struct story *s)
{
	char name[128];
	company_name(name, sizeof(name), idx);
	oid("cus_", NS_CUSTOMER, idx);
	osep();
	char email[64];
	snprintf(email, sizeof(email), "billing+%" PRIu64 "@example.com", idx);
	ostr(email);
	osep();
	ostr(name);
	osep();
	ostr(cur_codes[s->cur]);
	osep();
	ostr(countries[s->country].code);
	osep();
	ots(s->signup - HOUR);
	osep();
	obool(false);
	oend();
}

static int cur_status(const struct story *s, int sub)
{
	int st = ST_CANCELED;
	for (int i = 0; i < s->nph; i++)
		if (s->ph[i].sub == sub)
			st = s->ph[i].status;
	return st;
}

static void sub_row(uint64_t idx, int k, const struct story *s, bool orphan)
{
	const struct sub *b = &s->sub[k];
	oid("sub_", NS_SUB, idx * 16 + (uint64_t)k + (orphan ? 15 : 0));
	osep();
	orphan ? onull() : oid("cus_", NS_CUSTOMER, idx);
	osep();
	int st = cur_status(s, k);
	int64_t ended = NOPEN;
	if (st == ST_CANCELED) {
		/* the subscription ended when its canceled phase began */
		for (int i = 0; i < s->nph; i++)
			if (s->ph[i].sub == k && s->ph[i].status == ST_CANCELED)
				ended = s->ph[i].from;
	}
	ostr(status_names[st]);
	osep();
	ots(b->created);
	osep();
	ots(b->trial_start);
	osep();
	ots(b->trial_end);
	osep();
	ots(b->canceled_at);
	osep();
	ots(ended);
	osep();
	ostr(send_invoice(s) ? "send_invoice" : "charge_automatically");
	osep();
	obool(b->at_period_end);
	osep();
	ots(b->cancel_at);
	osep();
	b->reason ? ostr(b->reason) : onull();
	osep();
	b->feedback ? ostr(b->feedback) : onull();
	oend();
}

static void t_subscriptions(uint64_t idx, const struct story *s)
{
	for (int k = 0; k < s->nsub; k++)
		sub_row(idx, k, s, false);
	if (has_flaw(idx, F_ORPHAN_SUB) && s->nsub)
		sub_row(idx, 0, s, true);
}

static uint64_t item_key(uint64_t idx, int sub, bool addon)
{
	return (idx * 16 + (uint64_t)sub) * 2 + addon;
}

static void t_subscription_items(uint64_t idx, const struct story *s)
{
	/* Stripe keeps the current items only: those of live subscriptions. */
	for (int k = 0; k < s->nsub; k++) {
		int last = -1;
		bool addon = false;
		for (int i = 0; i < s->nph; i++)
			if (s->ph[i].sub == k) {
				last = i;
				addon = s->ph[i].addon || addon;
			}
		if (last < 0 || s->ph[last].status == ST_CANCELED)
			continue;
		const struct phase *p = &s->ph[last];
		for (int a = 0; a < 1 + (addon && p->addon); a++) {
			oid("si_", NS_ITEM, item_key(idx, k, a));
			osep();
			oid("sub_", NS_SUB, idx * 16 + (uint64_t)k);
			osep();
			oid("price_", NS_PRICE,
			    a ? price_key(ADDON_PLAN, s->cur, IV_MONTH)
			      : price_key(p->plan, s->cur, p->iv));
			osep();
			oint(a ? 1 : p->qty);
			osep();
			ots(s->sub[k].created);
			oend();
		}
	}
}

static void period_row(uint64_t idx, int n, const struct phase *p, uint64_t price, int qty,
		       bool addon, const char *status, int64_t from, int64_t to, bool orphan,
		       int coupon)
{
	oid("sph_", NS_PERIOD, idx * 4096 + (uint64_t)n);
	osep();
	oid("sub_", NS_SUB, idx * 16 + (uint64_t)p->sub + (orphan ? 15 : 0));
	osep();
	oid("si_", NS_ITEM, item_key(idx, p->sub, addon));
	osep();
	oid("price_", NS_PRICE, price);
	osep();
	oint(qty);
	osep();
	ostr(status);
	osep();
	coupon != CP_NONE ? ostr(coupon_ids[coupon]) : onull();
	osep();
	ots(from);
	osep();
	ots(to);
	oend();
}

static void t_subscription_periods(uint64_t idx, const struct story *s)
{
	int n = 0;
	for (int i = 0; i < s->nph; i++) {
		const struct phase *p = &s->ph[i];
		uint64_t price = price_key(p->plan, s->cur, p->iv);
		int qty = p->qty;
		const char *status = status_names[p->status];
		int64_t from = p->from, to = p->to;
		/* Flaws go on the account's second paid phase when it has one. */
		bool flawed = i == (s->nph > 2 ? 2 : 0);
		if (flawed) {
			if (has_flaw(idx, F_NEG_AMOUNT))
				price = price_key(BADP_NEGATIVE, CUR_USD, IV_MONTH);
			if (has_flaw(idx, F_CHF))
				price = price_key(BADP_CHF, CUR_USD, IV_MONTH);
			if (has_flaw(idx, F_ZERO_COUNT))
				price = price_key(BADP_ZERO_COUNT, CUR_USD, IV_MONTH);
			if (has_flaw(idx, F_BIWEEKLY))
				price = price_key(BADP_BIWEEKLY, CUR_USD, IV_MONTH);
			if (has_flaw(idx, F_NEG_QTY))
				qty = -2;
			if (has_flaw(idx, F_BAD_STATUS))
				status = status_names[ST_INCOMPLETE_EXPIRED];
			if (has_flaw(idx, F_BAD_VALIDITY) && to != NOPEN) {
				int64_t x = from;
				from = to;
				to = x;
			}
			if (has_flaw(idx, F_NULL_FROM))
				from = NOPEN;
		}
		period_row(idx, n++, p, price, qty, false, status, from, to, false, p->coupon);
		if (p->addon)
			period_row(idx, n++, p, price_key(ADDON_PLAN, s->cur, IV_MONTH), 1, true,
				   status_names[p->status], p->from, p->to, false, CP_NONE);
	}
	if (has_flaw(idx, F_ORPHAN_SUB) && s->nph) {
		struct phase p = s->ph[0];
		p.sub = 0;
		period_row(idx, n++, &p, price_key(p.plan, s->cur, p.iv), p.qty, false,
			   status_names[ST_ACTIVE], anchor - 40 * DAY, NOPEN, true, CP_NONE);
	}
}

static void invoice_row(uint64_t idx, int n, const struct story *s, const struct invoice *v,
			const char *customer, const char *currency, int64_t amount, int64_t paid)
{
	oid("in_", NS_INVOICE, idx * 4096 + (uint64_t)n);
	osep();
	customer ? ostr(customer) : onull();
	osep();
	oid("sub_", NS_SUB, idx * 16 + (uint64_t)v->sub);
	osep();
	const char *status = paid != NOPEN		 ? "paid"
			     : v->uncollectible != NOPEN ? "uncollectible"
							 : "open";
	ostr(status);
	osep();
	ostr(send_invoice(s) ? "send_invoice" : "charge_automatically");
	osep();
	ostr(currency);
	osep();
	oint(amount);
	osep();
	oint(paid != NOPEN ? amount : 0);
	osep();
	ots(v->created);
	osep();
	ots(v->due);
	osep();
	ots(paid);
	osep();
	ots(v->uncollectible);
	osep();
	oint(v->ncharge);
	oend();
}

static struct invoice inv_buf[MAXINV];

static void t_invoices(uint64_t idx, const struct story *s)
{
	char customer[48];
	mkid(customer, "cus_", NS_CUSTOMER, idx);
	int n = invoices_build(s, inv_buf);
	for (int i = 0; i < n; i++)
		invoice_row(idx, i, s, &inv_buf[i], customer, cur_codes[s->cur], inv_buf[i].amount,
			    inv_buf[i].paid);
	/* The rows a careless import left behind, for the payments dataset's
	 * rejection reasons. */
	for (int f = F_PAY_NEG_AMOUNT; f <= F_PAY_NULL_KEY; f++) {
		if (!has_flaw(idx, (enum flaw)f))
			continue;
		struct invoice x = {.sub = s->nsub ? s->nsub - 1 : 0, .ncharge = 0};
		x.created = anchor - 4 * DAY - (int64_t)(idx % 1000) * 60;
		x.due = x.uncollectible = NOPEN;
		int64_t paid = f == F_PAY_BEFORE ? x.created - 2 * DAY : x.created + 600;
		invoice_row(idx, n++, s, &x, f == F_PAY_NULL_KEY ? NULL : customer,
			    f == F_PAY_CURRENCY ? "chf" : cur_codes[s->cur],
			    f == F_PAY_NEG_AMOUNT ? -2500 : 4900, paid);
	}
}

/* Card charges: every attempt at an invoice of a charge_automatically
 * customer, failed ones included. */
static void t_charges(uint64_t idx, const struct story *s)
{
	if (send_invoice(s))
		return;
	int n = invoices_build(s, inv_buf);
	for (int i = 0; i < n; i++) {
		const struct invoice *v = &inv_buf[i];
		for (int c = 0; c < v->ncharge; c++) {
			oid("ch_", NS_CHARGE, (idx * 4096 + (uint64_t)i) * 4 + (uint64_t)c);
			osep();
			oid("in_", NS_INVOICE, idx * 4096 + (uint64_t)i);
			osep();
			oid("cus_", NS_CUSTOMER, idx);
			osep();
			oint(v->amount);
			osep();
			ostr(cur_codes[s->cur]);
			osep();
			ostr(v->charge_ok[c] ? "succeeded" : "failed");
			osep();
			v->charge_ok[c] ? onull()
					: ostr(c ? "insufficient_funds" : "card_declined");
			osep();
			ots(v->charge_at[c]);
			oend();
		}
	}
}

/* ---- CRM tables -------------------------------------------------------- */

static void t_country_region(void)
{
	for (int i = 0; i < NCOUNTRIES; i++) {
		ostr(countries[i].code);
		osep();
		ostr(countries[i].name);
		osep();
		ostr(awkward && countries[i].awkward_region ? countries[i].awkward_region
							    : countries[i].region);
		oend();
	}
}

/* The contract renewal date the account team keeps on the account (a DATE,
 * midnight UTC; NOPEN: none). Contracts run a year from the first paid day
 * and renew on its anniversaries, so the renewal dates of paying customers
 * spread over the year after the anchor. Some are overdue (a few weeks in
 * the past: the renewal is being negotiated and nobody moved the date yet),
 * some are missing (self-serve monthly customers without a contract, and CRM
 * fields nobody filled in). A former customer keeps the date of the renewal
 * it did not sign, before it left. Drawn from a stream of its own, so that
 * adding it moved no other value of the demo. */
static int64_t renewal_date(const struct story *s)
{
	struct rng r = stream(s->idx, ST_RENEWAL);
	if (!s->live_from || (s->nph && s->ph[s->nph - 1].status == ST_TRIALING))
		return NOPEN; /* a prospect, or still trialing */
	bool self_serve = s->plan == PLAN_STARTER && s->interval != IV_YEAR;
	if (chance(&r, self_serve ? 60 : 8))
		return NOPEN;
	int64_t start = s->live_from - s->live_from % DAY;
	if (s->live_to != NOPEN) {
		int64_t k = (s->live_to - start) / (365 * DAY);
		return chance(&r, 50) ? NOPEN : start + k * 365 * DAY;
	}
	if (chance(&r, 6)) /* overdue: 1-45 days before the anchor */
		return anchor - between(&r, 1, 45) * DAY;
	int64_t k = start >= anchor ? 1 : (anchor - start) / (365 * DAY) + 1;
	int64_t at = start + k * 365 * DAY;
	/* Now and then the renewal is due on the anchor day itself. */
	if (chance(&r, 1))
		at = anchor;
	return at;
}

static void account_row(uint64_t idx, const struct story *s, bool dup)
{
	struct rng r = stream(idx, ST_CONTACTS);
	char name[128];
	company_name(name, sizeof(name), idx);
	if (has_flaw(idx, F_NULL_ACCOUNT_ID) && !dup)
		onull();
	else if (dup)
		odupaccount(idx);
	else
		oaccount(idx);
	osep();
	if (dup) {
		char n2[160];
		snprintf(n2, sizeof(n2), "%s (duplicate)", name);
		ostr(n2);
	} else {
		ostr(name);
	}
	osep();
	bool customer = s->live_to == NOPEN;
	ostr(customer ? "Customer" : s->live_from ? "Former Customer" : "Prospect");
	osep();
	bool nullseg = has_flaw(idx, F_NULL_SEGMENTS);
	nullseg ? onull() : ostr(plan_names[s->plan]);
	osep();
	nullseg ? onull() : ostr(countries[s->country].code);
	osep();
	ostr(countries[s->country].city);
	osep();
	/* CRM seat counts lag billing; some were never filled in. The billing
	 * sync clears them when an account stops paying. */
	int64_t seats = customer ? s->seats : 0;
	if (chance(&r, 5))
		seats = -1;
	if (has_flaw(idx, F_NEG_SEATS))
		seats = -5;
	seats == -1 ? onull() : oint(seats);
	osep();
	oid("cus_", NS_CUSTOMER, idx);
	osep();
	int64_t onboard = s->signup + between(&r, 0, 10) * DAY;
	if (chance(&r, 4))
		onboard = NOPEN;
	onboard = onboard == NOPEN ? NOPEN : onboard - onboard % DAY;
	odate(onboard);
	osep();
	int64_t fv = NOPEN;
	if (onboard != NOPEN && !chance(&r, 18)) {
		/* Most teams see value within two weeks of onboarding; a few
		 * take a quarter. */
		static const int ttv_w[] = {60, 30, 10};
		static const int64_t ttv_lo[] = {1, 14, 45}, ttv_hi[] = {14, 45, 120};
		int k = pick(&r, ttv_w, 3);
		fv = onboard + between(&r, ttv_lo[k], ttv_hi[k]) * DAY +
		     between(&r, 9 * HOUR, 18 * HOUR);
		if (fv >= anchor)
			fv = NOPEN;
	}
	if (has_flaw(idx, F_VALUE_BEFORE) && onboard != NOPEN)
		fv = onboard - 3 * DAY;
	ots(fv);
	osep();
	ots(s->signup - 2 * DAY);
	osep();
	/* A soft-deleted account whose customer still pays moves its facts into
	 * "unknown": a data problem for the tests, not for the clean demo. */
	bool deleted = chance(&r, 1);
	obool(awkward && deleted);
	osep();
	odate(renewal_date(s));
	oend();
}

static void t_account(uint64_t idx, const struct story *s)
{
	account_row(idx, s, false);
	if (has_flaw(idx, F_DUPLICATE))
		account_row(idx, s, true);
}

static void t_contact(uint64_t idx, const struct story *s)
{
	static const char *const first[] = {"Ana",  "Ben",   "Chloé", "Dev",  "Emi",
					    "Finn", "Grace", "Hiro",  "Inès", "Jonas"};
	static const char *const titles[] = {"CTO", "Head of Ops", "Analyst", "Engineer",
					     "VP Customer Success"};
	for (int c = 0; c < s->ncontacts; c++) {
		oid("003", NS_CONTACT, idx * 8 + (uint64_t)c);
		osep();
		oaccount(idx);
		osep();
		char email[64];
		snprintf(email, sizeof(email), "user%d.%" PRIu64 "@example.com", c, idx);
		ostr(email);
		osep();
		ostr(first[(idx + (uint64_t)c) % 10]);
		osep();
		ostr(titles[(idx * 3 + (uint64_t)c) % 5]);
		osep();
		ots(s->signup + (int64_t)c * DAY);
		oend();
	}
}

struct kase {
	int64_t opened, closed;
	bool escalated;
	int priority;
};

#define MAXCASES 40

static int cases_build(const struct story *s, struct kase *k)
{
	if (!s->live_from)
		return 0;
	struct rng r = stream(s->idx, ST_CASES);
	int64_t lo = s->live_from > anchor - 365 * DAY ? s->live_from : anchor - 365 * DAY;
	int64_t hi = s->live_to == NOPEN ? anchor : s->live_to;
	if (hi <= lo)
		return 0;
	int n = (int)below(&r, 4 + s->seats / 20 + (100 - s->happiness) / 25);
	if (n > MAXCASES)
		n = MAXCASES;
	for (int i = 0; i < n; i++) {
		k[i].opened = lo + below(&r, hi - lo);
		k[i].escalated = chance(&r, 3 + (100 - s->happiness) / 10);
		k[i].priority = k[i].escalated ? (int)below(&r, 2) : (int)below(&r, 4);
		int64_t dur =
		    chance(&r, 70) ? between(&r, 600, 2 * DAY) : between(&r, DAY, 25 * DAY);
		k[i].closed = k[i].opened + dur;
		if (k[i].closed >= anchor)
			k[i].closed = NOPEN;
	}
	return n;
}

static void t_case(uint64_t idx, const struct story *s)
{
	static const char *const subjects[] = {
	    "Cannot export dashboard", "API rate limit",  "SSO login fails",  "Invoice question",
	    "Alert not firing",	       "Feature request", "Data looks wrong", "Integration error"};
	static const char *const prio[] = {"P1", "P2", "P3", "P4"};
	struct kase k[MAXCASES + 3];
	int n = cases_build(s, k);
	int base = n;
	if (has_flaw(idx, F_BAD_RESOLUTION) || has_flaw(idx, F_CASE_NULL_KEY) ||
	    has_flaw(idx, F_CASE_NULL_OPENED)) {
		k[n].opened = anchor - 5 * DAY;
		k[n].closed = has_flaw(idx, F_BAD_RESOLUTION) ? anchor - 6 * DAY : NOPEN;
		k[n].escalated = false;
		k[n].priority = 2;
		n++;
	}
	for (int i = 0; i < n; i++) {
		bool planted = i >= base;
		oid("500", NS_CASE, idx * 64 + (uint64_t)i);
		osep();
		planted &&has_flaw(idx, F_CASE_NULL_KEY) ? onull() : oaccount(idx);
		osep();
		oid("003", NS_CONTACT, idx * 8 + (uint64_t)i % (uint64_t)s->ncontacts);
		osep();
		oint((int64_t)(idx * 64 + (uint64_t)i + 100000));
		osep();
		ostr(subjects[(idx + (uint64_t)i) % 8]);
		osep();
		ostr(prio[k[i].priority]);
		osep();
		ostr(k[i].closed == NOPEN ? "Working" : "Closed");
		osep();
		ostr((idx + (uint64_t)i) % 3 ? "Web" : "Email");
		osep();
		obool(k[i].escalated);
		osep();
		ots(planted && has_flaw(idx, F_CASE_NULL_OPENED) ? NOPEN : k[i].opened);
		osep();
		ots(k[i].closed);
		oend();
	}
}

static void survey_row(uint64_t idx, int n, int contact, const char *type, const char *score,
		       int64_t at, bool null_account)
{
	oid("a0S", NS_SURVEY, idx * 256 + (uint64_t)n);
	osep();
	null_account ? onull() : oaccount(idx);
	osep();
	contact < 0 ? onull() : oid("003", NS_CONTACT, idx * 8 + (uint64_t)contact);
	osep();
	ostr(type);
	osep();
	score ? ostr(score) : onull();
	osep();
	ots(at);
	osep();
	ots(at + 40);
	oend();
}

static void t_survey_response(uint64_t idx, const struct story *s)
{
	if (!s->live_from)
		return;
	struct rng r = stream(idx, ST_SURVEYS);
	char sc[8];
	int n = 0;
	int64_t hi = s->live_to == NOPEN ? anchor : s->live_to;
	/* NPS every quarter to a few contacts; the same people answer again. */
	int64_t lo = s->live_from > anchor - 730 * DAY ? s->live_from : anchor - 730 * DAY;
	for (int64_t q = lo + 30 * DAY; q < hi && n < 200; q += 91 * DAY) {
		for (int c = 0; c < s->ncontacts; c++) {
			if (!chance(&r, 70))
				continue;
			int score = (int)(5 + s->happiness * 6 / 100 + between(&r, -2, 1));
			score = score < 0 ? 0 : score > 10 ? 10 : score;
			snprintf(sc, sizeof(sc), "%d", score);
			int64_t at = q + below(&r, 14 * DAY);
			if (at < hi)
				survey_row(idx, n++, chance(&r, 10) ? -1 : c, "NPS", sc, at, false);
		}
	}
	/* CSAT after closed cases. */
	struct kase k[MAXCASES];
	int nk = cases_build(s, k);
	for (int i = 0; i < nk && n < 230; i++) {
		if (k[i].closed == NOPEN || !chance(&r, 45))
			continue;
		int score = (int)(3 + s->happiness / 33 + between(&r, -1, 1) - k[i].escalated);
		score = score < 1 ? 1 : score > 5 ? 5 : score;
		snprintf(sc, sizeof(sc), "%d", score);
		survey_row(idx, n++, i % s->ncontacts, "CSAT", sc, k[i].closed + HOUR, false);
	}
	/* CES once after onboarding, and once a year after. */
	for (int64_t t = s->live_from + 21 * DAY; t < hi && n < 250; t += 365 * DAY) {
		if (!chance(&r, 60))
			continue;
		int score = (int)(6 - s->happiness / 25 + between(&r, -1, 1));
		score = score < 1 ? 1 : score > 7 ? 7 : score;
		snprintf(sc, sizeof(sc), "%d", score);
		survey_row(idx, n++, 0, "CES", sc, t + below(&r, 5 * DAY), false);
	}
	int64_t recent = anchor - 3 * DAY - (int64_t)(idx % 1000) * 60;
	if (has_flaw(idx, F_SCORE_RANGE))
		survey_row(idx, n++, 0, "NPS", "11", recent, false);
	if (has_flaw(idx, F_SURVEY_TYPE))
		survey_row(idx, n++, 0, "PMF", "3", recent, false);
	if (has_flaw(idx, F_NULL_SCORE))
		survey_row(idx, n++, 0, "CSAT", NULL, recent, false);
	if (has_flaw(idx, F_SURVEY_NULL_KEY))
		survey_row(idx, n++, 0, "NPS", "9", recent, true);
}

#define EVENT_DAYS 100

static void event_row(uint64_t idx, int user, const char *name, int64_t at, bool null_account)
{
	null_account ? onull() : oaccount(idx);
	osep();
	user < 0 ? onull() : oid("usr_", NS_USER, idx * 1024 + (uint64_t)user);
	osep();
	ostr(name);
	osep();
	ots(at);
	oend();
}

static void t_product_event(uint64_t idx, const struct story *s)
{
	static const char *const names[] = {
	    "session.started", "dashboard.viewed", "dashboard.viewed",	 "api.request",
	    "export.created",  "alert.created",	   "integration.synced", "dashboard.shared",
	    "notebook.opened", "session.started",  "api.request",	 "alert.acknowledged"};
	const int nnames = (int)(sizeof(names) / sizeof(*names));
	struct rng r = stream(idx, ST_EVENTS);
	int64_t lo = anchor - EVENT_DAYS * DAY;
	if (s->live_from && s->live_from > lo)
		lo = s->live_from;
	int64_t hi = s->live_to == NOPEN ? anchor : s->live_to;
	if (s->live_from && hi > lo) {
		/* Each account uses a subset of features. */
		int mask = (int)below(&r, 1 << 12) | 3;
		/* Most invited users come back on a rhythm of their own, every
		 * two weeks to every seven; the content accounts' more often. One
		 * event a visit keeps the table small: about 3 per user over the
		 * EVENT_DAYS the event history covers. */
		int64_t budget = 4000;
		for (int u = 0; u < s->nusers && budget > 0; u++) {
			if (!chance(&r, 50 + s->happiness / 2))
				continue;
			int64_t gap = between(&r, 14, 56 - s->happiness / 5) * DAY;
			for (int64_t t = lo + below(&r, gap); t < hi && budget > 0;
			     t += gap / 2 + below(&r, gap)) {
				int f = (int)below(&r, nnames);
				if (!(mask & (1 << f)))
					f = 0;
				event_row(idx, u, names[f], t, false);
				budget--;
			}
		}
		/* A team that exports reports does so on a schedule, however small
		 * it is (the demo's outcome "reports_exported" counts them): every
		 * 5-24 days, the content accounts' more often. */
		if (mask & (1 << 4)) {
			int64_t gap = between(&r, 5, 24 - s->happiness / 10) * DAY;
			for (int64_t t = lo + below(&r, gap); t < hi && budget > 0;
			     t += gap / 2 + below(&r, gap)) {
				event_row(idx, (int)below(&r, s->nusers), names[4], t, false);
				budget--;
			}
		}
	}
	int64_t recent = anchor - 2 * DAY - (int64_t)(idx % 1000) * 60;
	if (has_flaw(idx, F_NULL_USER))
		event_row(idx, -1, "dashboard.viewed", recent, false);
	if (has_flaw(idx, F_EVENT_NULL_KEY))
		event_row(idx, 0, "api.request", recent, true);
}

/* ---- driver ------------------------------------------------------------ */

struct table {
	const char *db, *name;
	void (*global)(void);
	void (*per_account)(uint64_t idx, const struct story *s);
};

static const struct table tables[] = {
    {"billing", "products", t_products, NULL},
    {"billing", "prices", t_prices, NULL},
    {"billing", "coupons", t_coupons, NULL},
    {"billing", "customers", NULL, t_customers},
    {"billing", "subscriptions", NULL, t_subscriptions},
    {"billing", "subscription_items", NULL, t_subscription_items},
    {"billing", "subscription_periods", NULL, t_subscription_periods},
    {"billing", "invoices", NULL, t_invoices},
    {"billing", "charges", NULL, t_charges},
    {"crm", "country_region", t_country_region, NULL},
    {"crm", "account", NULL, t_account},
    {"crm", "contact", NULL, t_contact},
    {"crm", "\"case\"", NULL, t_case},
    {"crm", "survey_response__c", NULL, t_survey_response},
    {"crm", "product_event", NULL, t_product_event},
};
#define NTABLES ((int)(sizeof(tables) / sizeof(tables[0])))

static void usage(void)
{
	fprintf(stderr, "usage: gen_demo --seed S --accounts N --table NAME [--part K/M]\n"
			"                [--anchor YYYY-MM-DD] [--awkward]\n"
			"       gen_demo --tables\n");
	exit(2);
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || *s == '-')
		usage();
	return (uint64_t)v;
}

/* YYYY-MM-DD, a real date between 1970 and 9999, as midnight UTC. */
static int64_t parse_date(const char *s)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		usage();
	int64_t days = days_from_civil(y, m, d);
	int yy, mm, dd;
	civil_from_days(days, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		usage();
	return days * DAY;
}

int main(int argc, char **argv)
{
	uint64_t accounts = 0, part = 0, parts = 1;
	const char *table = NULL;
	bool have_seed = false;
	anchor = floordiv((int64_t)time(NULL), DAY) * DAY;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tables")) {
			for (int t = 0; t < NTABLES; t++)
				printf("%s %s\n", tables[t].db, tables[t].name);
			return 0;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			g_seed = parse_u64(argv[++i]);
			have_seed = true;
		} else if (!strcmp(argv[i], "--anchor") && i + 1 < argc) {
			anchor = parse_date(argv[++i]);
		} else if (!strcmp(argv[i], "--awkward")) {
			awkward = true;
			plan_names = plan_awkward;
		} else if (!strcmp(argv[i], "--accounts") && i + 1 < argc) {
			accounts = parse_u64(argv[++i]);
		} else if (!strcmp(argv[i], "--table") && i + 1 < argc) {
			table = argv[++i];
		} else if (!strcmp(argv[i], "--part") && i + 1 < argc) {
			char *slash = strchr(argv[++i], '/');
			if (!slash)
				usage();
			*slash = '\0';
			part = parse_u64(argv[i]);
			parts = parse_u64(slash + 1);
			if (parts == 0 || part >= parts)
				usage();
		} else {
			usage();
		}
	}
	if (!table || !have_seed)
		usage();
	const struct table *t = NULL;
	for (int i = 0; i < NTABLES; i++)
		if (!strcmp(tables[i].name, table))
			t = &tables[i];
	if (!t) {
		fprintf(stderr, "gen_demo: unknown table \"%s\"\n", table);
		return 2;
	}
	if (t->global) {
		if (part == 0)
			t->global();
	} else {
		struct story *s = xmalloc(sizeof(*s));
		for (uint64_t idx = part; idx < accounts; idx += parts) {
			story_build(s, idx);
			t->per_account(idx, s);
		}
		free(s);
	}
	oflush();
	if (fflush(stdout) != 0) {
		perror("gen_demo: write");
		return 1;
	}
	return 0;
}
