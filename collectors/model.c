/*
 * model: the loader that turns text rows into typed, validated facts and
 * attributes them to segments.
 *
 * Join rules (SPEC section 2), decided once accounts are complete:
 *  - an account key seen twice keeps the first row; the second is rejected
 *    (duplicate_account_key);
 *  - two accounts naming one billing customer: the lowest account key (byte
 *    order) keeps it, the other is rejected (duplicate_billing_key) and
 *    removed, and its account key stays in the key table with no account, so
 *    its facts fall in "unknown" like those of any unknown account key;
 *  - a billing customer (seen in subscriptions or trials) with no account,
 *    and a fact whose account key has no account, are in "unknown".
 *
 * Segments and the cardinality fold are computed when accounts end, so fact
 * rows get their final segment as they arrive; only "unknown" is provisional
 * (CS_SEG_UNKNOWN) until cs_data_link, because it exists only when a fact
 * falls there. Segment order: the kept account combinations sorted by their
 * values (byte order, dimension by dimension), then "other", then "unknown"
 * unless an account combination is itself all "unknown" (accounts whose
 * every dimension is NULL), which then is the unknown segment. "unknown" is
 * never folded and does not count toward the cap; a cap of 0 means none.
 */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* ---------------------------------------------------------------- arena */

#define ARENA_BLOCK (1u << 20)

struct arena {
	char *cur;
	size_t left;
	char **blocks;
	size_t nblocks, capblocks;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (n > a->left) {
		size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		if (a->nblocks == a->capblocks) {
			a->capblocks = a->capblocks ? 2 * a->capblocks : 16;
			a->blocks = xrealloc(a->blocks, a->capblocks * sizeof(*a->blocks));
		}
		char *blk = xmalloc(size);
		a->blocks[a->nblocks++] = blk;
		if (size != ARENA_BLOCK)
			return blk; /* a large one-off; keep the current block */
		a->cur = blk;
		a->left = size;
	}
	void *p = a->cur;
	a->cur += n;
	a->left -= n;
	return p;
}

static const char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->nblocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------- string table */

/*
 * Open addressing with linear probing, keys in the arena. Load stays below
 * 0.7 so probes are short at a million keys.
 */
struct strent {
	const char *key;
	uint32_t hash;
	int32_t val;
};

struct strtab {
	struct strent *e;
	size_t cap, n;
};

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void strtab_grow(struct strtab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 64;
	struct strent *e = xcalloc(cap, sizeof(*e));
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->e[i].key)
			continue;
		size_t j = t->e[i].hash & (cap - 1);
		while (e[j].key)
			j = (j + 1) & (cap - 1);
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->cap = cap;
}

static struct strent *strtab_find(const struct strtab *t, const char *key)
{
	if (!t->cap)
		return NULL;
	size_t len = strlen(key);
	uint32_t h = hash_bytes(key, len);
	size_t j = h & (t->cap - 1);
	while (t->e[j].key) {
		if (t->e[j].hash == h && !strcmp(t->e[j].key, key))
			return &t->e[j];
		j = (j + 1) & (t->cap - 1);
	}
	return NULL;
}

/* Returns the entry of key, adding it (val = -1) when new: the key is copied
 * to the arena, or with a NULL arena taken as is (it lives in the arena
 * already). */
static struct strent *strtab_put(struct strtab *t, struct arena *a, const char *key, bool *added)
{
	if ((t->n + 1) * 10 > t->cap * 7)
		strtab_grow(t);
	size_t len = strlen(key);
	uint32_t h = hash_bytes(key, len);
	size_t j = h & (t->cap - 1);
	while (t->e[j].key) {
		if (t->e[j].hash == h && !strcmp(t->e[j].key, key)) {
			*added = false;
			return &t->e[j];
		}
		j = (j + 1) & (t->cap - 1);
	}
	t->e[j].key = a ? arena_strndup(a, key, len) : key;
	t->e[j].hash = h;
	t->e[j].val = -1;
	t->n++;
	*added = true;
	return &t->e[j];
}

static void strtab_release(struct strtab *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* --------------------------------------------------------------- time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int cs_parse_time(const char *s, cs_time *t)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!s)
		return -1;
	/* PostgreSQL writes these for the special values; treat them as open bounds. */
	if (!strcmp(s, "infinity")) {
		*t = CS_TIME_OPEN;
		return 0;
	}
	if (!strcmp(s, "-infinity")) {
		*t = CS_TIME_NONE + 1;
		return 0;
	}

	const char *p = s;
	int64_t year = 0;
	int ndig = 0;
	while (isdigit((unsigned char)*p) && ndig < 7) {
		year = year * 10 + (*p++ - '0');
		ndig++;
	}
	int mon, day, hh = 0, mm = 0, ss = 0;
	int64_t usec = 0;
	if (ndig < 4 || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' || digits(&p, 2, &day))
		return -1;
	if (mon < 1 || mon > 12 || day < 1)
		return -1;
	unsigned maxd = mdays[mon - 1] + (mon == 2 && is_leap(year));
	if ((unsigned)day > maxd)
		return -1;

	if (*p == ' ' || *p == 'T') {
		p++;
		if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mm))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &ss))
				return -1;
			if (*p == '.') {
				p++;
				int n = 0;
				if (!isdigit((unsigned char)*p))
					return -1;
				while (isdigit((unsigned char)*p)) {
					if (n < 6) {
						usec = usec * 10 + (*p - '0');
						n++;
					}
					p++;
				}
				for (; n < 6; n++)
					usec *= 10;
			}
		}
		if (hh > 24 || mm > 59 || ss > 59 || (hh == 24 && (mm || ss || usec)))
			return -1;
	}

	int64_t offset = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int oh, om = 0, os = 0;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':' || isdigit((unsigned char)*p)) {
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om))
				return -1;
			if (*p == ':') {
				p++;
				if (digits(&p, 2, &os))
					return -1;
			}
		}
		if (om > 59 || os > 59)
			return -1;
		offset = sign * ((int64_t)oh * 3600 + om * 60 + os);
	}
	if (*p != '\0')
		return -1;

	int64_t secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
		       (int64_t)hh * 3600 + mm * 60 + ss - offset;
	/* Seven-digit years go past what microseconds in 64 bits can hold (and
	 * past PostgreSQL's own year 294276): malformed, not an overflow. */
	if (secs >= INT64_MAX / CS_SECOND - 1 || secs <= INT64_MIN / CS_SECOND + 1)
		return -1;
	*t = secs * CS_SECOND + usec;
	return 0;
}

void cs_format_time(cs_time t, char *dst, size_t len)
{
	if (!len)
		return;
	if (t == CS_TIME_NONE) {
		snprintf(dst, len, "null");
		return;
	}
	if (t == CS_TIME_OPEN) {
		snprintf(dst, len, "infinity");
		return;
	}
	int64_t secs = t / CS_SECOND, usec = t % CS_SECOND;
	if (usec < 0) {
		usec += CS_SECOND;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	char frac[16] = "";
	if (usec) {
		snprintf(frac, sizeof(frac), ".%06d", (int)usec);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	snprintf(dst, len, "%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac);
}

/* ----------------------------------------------------------- currency */

/* Active ISO 4217 codes with a minor unit (funds and metals without one are left out). */
static const struct {
	char code[4];
	int exp;
} iso4217[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
    {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2},
    {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
    {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
    {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0},
    {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

/* Upper-cases a three-letter code into up; -1 when it is not three letters. */
static int currency_upper(const char *code, char up[4])
{
	for (int i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)code[i]))
			return -1;
		up[i] = (char)toupper((unsigned char)code[i]);
	}
	if (code[3] != '\0')
		return -1;
	up[3] = '\0';
	return 0;
}

int cs_currency_exponent(const char *code)
{
	char up[4];
	if (!code || currency_upper(code, up))
		return -1;
	size_t lo = 0, hi = sizeof(iso4217) / sizeof(iso4217[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(iso4217[mid].code, up);
		if (!c)
			return iso4217[mid].exp;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ------------------------------------------------------------- values */

/* Strict decimal syntax: PostgreSQL never writes spaces, hex or words for finite numbers. */
static int parse_number(const char *s, double *v)
{
	const char *p = s;
	int nd = 0;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		nd++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			nd++;
		}
	}
	if (!nd)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return -1;

	/*
	 * Fast path for the common "1999" / "1999.00": with at most 15 digits
	 * the mantissa and 10^f are exact doubles, so one division rounds
	 * exactly like strtod would, at a fraction of its cost on 12M rows.
	 */
	if (nd <= 15) {
		const char *q = s;
		bool neg = *q == '-';
		if (*q == '+' || *q == '-')
			q++;
		int64_t mant = 0;
		int frac = -1;
		for (; *q; q++) {
			if (*q == '.') {
				frac = 0;
				continue;
			}
			if (!isdigit((unsigned char)*q))
				break;
			mant = mant * 10 + (*q - '0');
			if (frac >= 0)
				frac++;
		}
		if (*q == '\0') {
			static const double pow10[] = {1e0,  1e1,  1e2,	 1e3, 1e4,  1e5,
						       1e6,  1e7,  1e8,	 1e9, 1e10, 1e11,
						       1e12, 1e13, 1e14, 1e15};
			double x = (double)mant;
			if (frac > 0)
				x /= pow10[frac];
			*v = neg ? -x : x;
			return 0;
		}
	}
	double x = strtod(s, NULL);
	if (!isfinite(x))
		return -1;
	*v = x;
	return 0;
}

static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"t", "true", "y", "yes", "on", "1"};
	static const char *const no[] = {"f", "false", "n", "no", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------- loader */

static const char *const dataset_names[DS_COUNT] = {
    "accounts", "subscriptions", "trials", "surveys", "activity", "tickets",
};

enum {
	/* accounts */
	COL_A_KEY,
	COL_A_BILLING,
	COL_A_SEATS,
	COL_A_STARTED,
	COL_A_VALUE,
	COL_A_NAME,
	/* subscriptions */
	COL_S_BILLING = 0,
	COL_S_AMOUNT,
	COL_S_CURRENCY,
	COL_S_UNIT,
	COL_S_COUNT,
	COL_S_QUANTITY,
	COL_S_STATUS,
	COL_S_FROM,
	COL_S_TO,
	/* trials */
	COL_T_BILLING = 0,
	COL_T_STARTED,
	COL_T_ENDED,
	COL_T_CONVERTED,
	/* surveys */
	COL_V_ACCOUNT = 0,
	COL_V_RESPONDENT,
	COL_V_TYPE,
	COL_V_SCORE,
	COL_V_AT,
	/* activity */
	COL_Y_ACCOUNT = 0,
	COL_Y_USER,
	COL_Y_FEATURE,
	COL_Y_AT,
	/* tickets */
	COL_K_ACCOUNT = 0,
	COL_K_OPENED,
	COL_K_RESOLVED,
	COL_K_ESCALATED,
	/* outcomes */
	COL_O_ACCOUNT = 0,
	COL_O_VALUE,
	COL_MAX = 9,
};

struct colspec {
	const char *name;
	bool optional;
};

static const struct colspec cols_accounts[] = {
    {"account_key", false}, {"billing_key", false},    {"seats", false},
    {"started_at", false},  {"first_value_at", false}, {"name", true},
};
static const struct colspec cols_subscriptions[] = {
    {"billing_key", false},   {"amount_minor", false},	 {"currency", false},
    {"interval_unit", false}, {"interval_count", false}, {"quantity", false},
    {"status", false},	      {"valid_from", false},	 {"valid_to", false},
};
static const struct colspec cols_trials[] = {
    {"billing_key", false},
    {"started_at", false},
    {"ended_at", false},
    {"converted", false},
};
static const struct colspec cols_surveys[] = {
    {"account_key", false}, {"respondent_key", false}, {"type", false},
    {"score", false},	    {"responded_at", false},
};
static const struct colspec cols_activity[] = {
    {"account_key", false},
    {"user_key", false},
    {"feature", false},
    {"last_active_at", false},
};
static const struct colspec cols_tickets[] = {
    {"account_key", false},
    {"opened_at", false},
    {"resolved_at", false},
    {"escalated", false},
};
static const struct colspec cols_outcomes[] = {
    {"account_key", false},
    {"value", false},
};

static const struct {
	const struct colspec *cols;
	size_t n;
} colspecs[DS_COUNT + 1] = {
    {cols_accounts, sizeof(cols_accounts) / sizeof(cols_accounts[0])},
    {cols_subscriptions, sizeof(cols_subscriptions) / sizeof(cols_subscriptions[0])},
    {cols_trials, sizeof(cols_trials) / sizeof(cols_trials[0])},
    {cols_surveys, sizeof(cols_surveys) / sizeof(cols_surveys[0])},
    {cols_activity, sizeof(cols_activity) / sizeof(cols_activity[0])},
    {cols_tickets, sizeof(cols_tickets) / sizeof(cols_tickets[0])},
    {cols_outcomes, sizeof(cols_outcomes) / sizeof(cols_outcomes[0])},
};

/* Activity in progress: the keys of the last valid row, and what the rows of
 * that user said so far (see struct cs_activity_counts). */
struct user_run {
	char *account_key, *user_key; /* copies; libpq reuses its buffers */
	size_t account_cap, user_cap;
	bool have_keys, open;
	uint64_t row;	  /* activity rows so far */
	uint64_t bad_row; /* the first row that came before its predecessor, 0: none */
	int32_t account;  /* CS_NO_ACCOUNT: unknown */
	uint32_t slot;	  /* segment slot, the unknown one for unknown accounts */
	cs_time latest;	  /* latest row before t, CS_TIME_NONE: none */
	uint64_t fmask;	  /* features with a row before t */
	cs_time flatest[CS_MAX_FEATURES];
};

struct cs_data_private {
	struct arena arena;

	bool accounts_done;
	struct strtab accounts; /* account key -> account index, -1: rejected */
	struct strtab billing;	/* billing key -> winning account index */
	struct strtab orphans;	/* billing key no account names -> customer index */
	struct strtab dimvals[CS_MAX_DIMENSIONS];
	const char **acc_billing; /* per raw account row, NULL when none */
	const char **acc_dims;	  /* raw account row × ndims, interned */
	const char *unknown[CS_MAX_DIMENSIONS];
	bool need_unknown;

	size_t cap_accounts, cap_customers, cap_trials, cap_surveys;
	size_t *cap_outcomes;
};

/*
 * One dataset being read: its column positions and what its fold keeps
 * between rows. Streams of different datasets may interleave (sources are
 * read in parallel); the caller serialises the calls on one struct cs_data.
 */
struct cs_stream {
	struct cs_data *d;
	int ds;
	const char *ds_name;
	struct cs_outcome_value **ov; /* outcome run: where its rows go */
	size_t *nov;
	size_t *capov;
	int col[COL_MAX];
	int dimcol[CS_MAX_DIMENSIONS];

	/* the last billing key and currency seen: billing exports come grouped */
	int32_t last_customer;
	char last_currency[4];
	double last_scale, last_rate;

	struct user_run user; /* the activity user whose rows are arriving */
	uint64_t rows;	      /* rows of this dataset so far */
};

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? 2 * (cap) : 256;                                           \
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr)));                           \
		}                                                                                  \
	} while (0)

/* ---------------------------------------------------------------- plan */

void cs_plan_init(struct cs_plan *p, const struct cs_config *cfg, cs_time as_of)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->as_of = as_of;
}

static size_t plan_window_add(struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	p->windows[p->nwindows] = seconds;
	return p->nwindows++;
}

void cs_plan_add(struct cs_plan *p, const struct cs_collector *c)
{
	if (p->by_kind[c->kind])
		return;
	p->by_kind[c->kind] = c;
	p->kinds |= 1u << c->kind;
	p->datasets |= config_kind_datasets(c->kind);
	for (size_t w = 0; w < c->nwindows; w++) {
		size_t i = plan_window_add(p, c->windows[w].seconds);

		if (c->kind == KIND_OUTCOMES)
			p->outcome_window[i] = true;
		if (c->windows[w].seconds > p->history)
			p->history = c->windows[w].seconds;
	}
	if (c->kind == KIND_HEALTH) {
		const struct cs_health *h = &p->cfg->health;
		int64_t hw[] = {h->usage_window, h->sentiment_window, h->support_window,
				h->billing_window};

		for (size_t i = 0; i < sizeof(hw) / sizeof(hw[0]); i++)
			if (hw[i] > p->history)
				p->history = hw[i];
	}
	if (p->timeout < c->timeout)
		p->timeout = c->timeout;
}

bool cs_plan_has(const struct cs_plan *p, enum cs_kind kind)
{
	return (p->kinds >> kind) & 1u;
}

size_t cs_plan_window(const struct cs_plan *p, int64_t seconds)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (p->windows[i] == seconds)
			return i;
	return p->nwindows; /* not reached: every collector window is in the plan */
}

/* ------------------------------------------------------------- loader */

struct cs_data *cs_data_new(const struct cs_plan *plan)
{
	struct cs_data *d = xcalloc(1, sizeof(*d));
	const struct cs_config *cfg = plan->cfg;

	d->cfg = cfg;
	d->plan = *plan;
	d->as_of = plan->as_of;
	d->priv = xcalloc(1, sizeof(*d->priv));
	d->seg.ndims = cfg->ndims;
	for (int ds = 0; ds < DS_COUNT; ds++)
		d->newest[ds] = CS_TIME_NONE;
	size_t nw = plan->nwindows;
	for (size_t w = 0; w < nw; w++)
		d->mrr.at[w] = d->as_of - plan->windows[w] * CS_SECOND;
	d->mrr.at[nw] = d->as_of;
	d->mrr.at[nw + 1] = d->as_of - cfg->health.billing_window * CS_SECOND;
	d->mrr.ninstants = nw + 2;
	size_t nruns = cfg->noutcomes * nw;
	if (nruns) {
		d->outcomes = xcalloc(nruns, sizeof(*d->outcomes));
		d->noutcome_values = xcalloc(nruns, sizeof(*d->noutcome_values));
		d->priv->cap_outcomes = xcalloc(nruns, sizeof(*d->priv->cap_outcomes));
	}
	return d;
}

void cs_data_free(struct cs_data *d)
{
	if (!d)
		return;
	struct cs_data_private *p = d->priv;
	size_t nruns = d->cfg->noutcomes * d->plan.nwindows;
	for (size_t i = 0; i < nruns; i++)
		free(d->outcomes[i]);
	free(d->outcomes);
	free(d->noutcome_values);
	free(d->accounts);
	free(d->customers);
	free(d->mrr.mrr);
	free(d->mrr.first_positive);
	free(d->trials);
	free(d->surveys);
	free(d->activity.account_users);
	free(d->activity.seg_users);
	free(d->activity.seg_feature_users);
	free(d->nps.at);
	free(d->nps.score);
	free(d->tickets.seg);
	free(d->tickets.account_escalations);
	free(d->rejects);
	free(d->seg.values);
	free(d->seg.accounts);
	if (p) {
		strtab_release(&p->accounts);
		strtab_release(&p->billing);
		strtab_release(&p->orphans);
		for (size_t i = 0; i < CS_MAX_DIMENSIONS; i++)
			strtab_release(&p->dimvals[i]);
		free(p->acc_billing);
		free(p->acc_dims);
		free(p->cap_outcomes);
		arena_release(&p->arena);
		free(p);
	}
	free(d);
}

void cs_data_reject(struct cs_data *d, const char *dataset, const char *reason)
{
	for (size_t i = 0; i < d->nrejects; i++) {
		if (!strcmp(d->rejects[i].reason, reason) &&
		    !strcmp(d->rejects[i].dataset, dataset)) {
			d->rejects[i].count++;
			return;
		}
	}
	d->rejects = xrealloc(d->rejects, (d->nrejects + 1) * sizeof(*d->rejects));
	struct cs_reject *r = &d->rejects[d->nrejects++];
	/* Copies, so callers may pass names that die before d does. */
	r->dataset = arena_strndup(&d->priv->arena, dataset, strlen(dataset));
	r->reason = arena_strndup(&d->priv->arena, reason, strlen(reason));
	r->count = 1;
}

static void finish_accounts(struct cs_data *d);
static void activity_alloc(struct cs_data *d);
static void tickets_alloc(struct cs_data *d);
static void nps_alloc(struct cs_data *d);

struct cs_stream *cs_data_begin(struct cs_data *d, int dataset, size_t outcome, size_t window,
				int ncols, const char *const *names, char *err, size_t errlen)
{
	struct cs_data_private *p = d->priv;

	if (dataset < 0 || dataset > CS_DS_OUTCOME) {
		snprintf(err, errlen, "unknown dataset %d", dataset);
		return NULL;
	}
	if (dataset == DS_ACCOUNTS && p->accounts_done) {
		snprintf(err, errlen, "accounts must be loaded once, before any other dataset");
		return NULL;
	}
	if (dataset != DS_ACCOUNTS && !p->accounts_done)
		finish_accounts(d);

	struct cs_stream *in = xcalloc(1, sizeof(*in));
	in->d = d;
	in->last_customer = -1;
	const char *dsname;
	if (dataset == CS_DS_OUTCOME) {
		size_t nw = d->plan.nwindows;
		if (outcome >= d->cfg->noutcomes || window >= nw) {
			snprintf(err, errlen, "no outcome %zu in window %zu", outcome, window);
			free(in);
			return NULL;
		}
		dsname = d->cfg->outcomes[outcome].name;
		size_t run = outcome * nw + window;
		in->ov = &d->outcomes[run];
		in->nov = &d->noutcome_values[run];
		in->capov = &p->cap_outcomes[run];
	} else {
		dsname = dataset_names[dataset];
	}

	const struct colspec *spec = colspecs[dataset].cols;
	size_t nspec = colspecs[dataset].n;
	for (size_t c = 0; c < nspec; c++) {
		in->col[c] = -1;
		for (int i = 0; i < ncols; i++) {
			if (names[i] && !strcmp(names[i], spec[c].name)) {
				in->col[c] = i;
				break;
			}
		}
		if (in->col[c] < 0 && !spec[c].optional) {
			snprintf(err, errlen, "dataset \"%s\": missing column \"%s\"", dsname,
				 spec[c].name);
			free(in);
			return NULL;
		}
	}
	if (dataset == DS_ACCOUNTS) {
		for (size_t k = 0; k < d->cfg->ndims; k++) {
			in->dimcol[k] = -1;
			for (int i = 0; i < ncols; i++) {
				if (names[i] && !strcmp(names[i], d->cfg->dims[k])) {
					in->dimcol[k] = i;
					break;
				}
			}
			if (in->dimcol[k] < 0) {
				snprintf(err, errlen,
					 "dataset \"accounts\": missing column \"%s\" for segment "
					 "dimension \"%s\"",
					 d->cfg->dims[k], d->cfg->dims[k]);
				free(in);
				return NULL;
			}
		}
	}
	if (dataset == DS_TICKETS)
		tickets_alloc(d);
	if (dataset == DS_SURVEYS && cs_plan_has(&d->plan, KIND_HEALTH))
		nps_alloc(d);
	if (dataset == DS_ACTIVITY)
		activity_alloc(d);
	in->ds = dataset;
	in->ds_name = dsname;
	if (dataset < DS_COUNT)
		d->read[dataset] = true;
	return in;
}

/* A valid row of the dataset being read carries instant t (freshness). */
static void seen(struct cs_stream *in, cs_time t)
{
	cs_time *newest = &in->d->newest[in->ds];
	if (t != CS_TIME_NONE && t != CS_TIME_OPEN && t > *newest)
		*newest = t;
}

static void reject(struct cs_stream *in, const char *reason)
{
	cs_data_reject(in->d, in->ds_name, reason);
}

static const char *col(const struct cs_stream *in, const char *const *values, int c)
{
	int i = in->col[c];
	return i < 0 ? NULL : values[i];
}

/* Optional time: NULL is CS_TIME_NONE. */
static int opt_time(const char *s, cs_time *t)
{
	if (!s) {
		*t = CS_TIME_NONE;
		return 0;
	}
	return cs_parse_time(s, t);
}

/* Required value: NULL rejects as null_value, a malformed one as bad_reason. */
static bool need(struct cs_stream *in, const char *s)
{
	if (!s) {
		reject(in, "null_value");
		return false;
	}
	return true;
}

static bool need_time(struct cs_stream *in, const char *s, cs_time *t)
{
	if (!need(in, s))
		return false;
	if (cs_parse_time(s, t)) {
		reject(in, "bad_time");
		return false;
	}
	return true;
}

static bool need_number(struct cs_stream *in, const char *s, double *v)
{
	if (!need(in, s))
		return false;
	if (parse_number(s, v)) {
		reject(in, "bad_number");
		return false;
	}
	return true;
}

static bool need_bool(struct cs_stream *in, const char *s, bool *b)
{
	if (!need(in, s))
		return false;
	if (parse_bool(s, b)) {
		reject(in, "bad_bool");
		return false;
	}
	return true;
}

/*
 * s, or a copy in tmp cut to CS_MAX_LABEL_BYTES: as many whole UTF-8
 * characters as fit before a closing "…", so that a reader sees the cut and
 * one huge value cannot blow up the exposition.
 */
static const char *label_cut(const char *s, char tmp[CS_MAX_LABEL_BYTES + 1])
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t n = strlen(s);
	if (n <= CS_MAX_LABEL_BYTES)
		return s;
	n = CS_MAX_LABEL_BYTES - (sizeof(ellipsis) - 1);
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(tmp, s, n);
	memcpy(tmp + n, ellipsis, sizeof(ellipsis));
	return tmp;
}

static void row_account(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	const char *key = col(in, v, COL_A_KEY);
	const char *seats_s = col(in, v, COL_A_SEATS);
	double seats = 0;
	cs_time started, value;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (seats_s) {
		if (parse_number(seats_s, &seats) || seats != floor(seats) || seats > 9e15) {
			reject(in, "bad_number");
			return;
		}
		if (seats < 0) {
			reject(in, "negative_seats");
			return;
		}
	}
	if (opt_time(col(in, v, COL_A_STARTED), &started) ||
	    opt_time(col(in, v, COL_A_VALUE), &value)) {
		reject(in, "bad_time");
		return;
	}
	bool added;
	struct strent *e = strtab_put(&p->accounts, &p->arena, key, &added);
	if (!added) {
		reject(in, "duplicate_account_key");
		return;
	}

	size_t i = d->naccounts;
	if (i == p->cap_accounts) {
		/* the raw billing keys and dimension values grow with the accounts */
		p->cap_accounts = p->cap_accounts ? 2 * p->cap_accounts : 256;
		d->accounts = xrealloc(d->accounts, p->cap_accounts * sizeof(*d->accounts));
		p->acc_billing =
		    xrealloc(p->acc_billing, p->cap_accounts * sizeof(*p->acc_billing));
		if (d->cfg->ndims)
			p->acc_dims = xrealloc(p->acc_dims, p->cap_accounts * d->cfg->ndims *
								sizeof(*p->acc_dims));
	}
	e->val = (int32_t)i;
	struct cs_account *a = &d->accounts[i];
	a->key = e->key;
	/* Only the health at-risk list shows names: elsewhere they would be
	 * a copy per account for nothing. */
	const char *name = col(in, v, COL_A_NAME);
	bool keep_name = cs_plan_has(&d->plan, KIND_HEALTH);
	char cut[CS_MAX_LABEL_BYTES + 1];
	if (name && keep_name)
		name = label_cut(name, cut);
	a->name = name && keep_name ? arena_strndup(&p->arena, name, strlen(name)) : NULL;
	a->seats = (int64_t)seats;
	a->started_at = started;
	a->first_value_at = value;
	a->ttv_rejected = false;
	a->seg = 0;
	a->customer = -1;
	const char *bk = col(in, v, COL_A_BILLING);
	p->acc_billing[i] = bk ? arena_strndup(&p->arena, bk, strlen(bk)) : NULL;
	for (size_t k = 0; k < d->cfg->ndims; k++) {
		const char *dv = v[in->dimcol[k]];
		struct strent *de = strtab_put(&p->dimvals[k], &p->arena,
					       dv ? label_cut(dv, cut) : "unknown", &added);
		p->acc_dims[i * d->cfg->ndims + k] = de->key;
	}
	d->naccounts++;
	seen(in, started);
}

/* ------------------------------------------------------------ segments */

struct segsort {
	const struct cs_data *d;
	const char **vals; /* combination × ndims */
	const uint64_t *count;
};

/* qsort has no context argument in C11; collectors build segments in threads
 * of their own, at the same time. */
static _Thread_local struct segsort sort_ctx;

static int cmp_values(const char *const *a, const char *const *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (a[k] != b[k]) {
			int c = strcmp(a[k], b[k]);
			if (c)
				return c;
		}
	}
	return 0;
}

static int cmp_combo_by_values(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	size_t n = sort_ctx.d->cfg->ndims;
	return cmp_values(sort_ctx.vals + a * n, sort_ctx.vals + b * n, n);
}

static int cmp_combo_by_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (sort_ctx.count[a] != sort_ctx.count[b])
		return sort_ctx.count[a] > sort_ctx.count[b] ? -1 : 1;
	return cmp_combo_by_values(x, y);
}

static bool all_equal(const char *const *vals, size_t n, const char *word)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(vals[k], word))
			return false;
	return true;
}

/* Hash of a tuple of interned pointers: equal tuples are equal pointer arrays. */
static uint32_t hash_tuple(const char *const *vals, size_t n)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15);
	for (size_t k = 0; k < n; k++) {
		h ^= (uint64_t)(uintptr_t)vals[k];
		h *= UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 33;
	}
	return (uint32_t)h;
}

static void build_segments(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	size_t nd = d->cfg->ndims, na = d->naccounts;

	/* distinct combinations, each account's combination index in comb_of */
	size_t ncomb = 0, capcomb = 0, tcap = 64;
	const char **cvals = NULL;
	uint64_t *ccount = NULL;
	uint32_t *comb_of = xcalloc(na ? na : 1, sizeof(*comb_of));
	while (tcap < 2 * na)
		tcap *= 2;
	int32_t *table = xmalloc(tcap * sizeof(*table));
	for (size_t i = 0; i < tcap; i++)
		table[i] = -1;
	for (size_t i = 0; i < na; i++) {
		const char **vals = p->acc_dims + i * nd;
		size_t j = hash_tuple(vals, nd) & (tcap - 1);
		while (table[j] >= 0 &&
		       (nd && memcmp(cvals + (size_t)table[j] * nd, vals, nd * sizeof(*vals))))
			j = (j + 1) & (tcap - 1);
		if (table[j] < 0) {
			if (ncomb == capcomb) {
				capcomb = capcomb ? 2 * capcomb : 64;
				cvals = xrealloc(cvals, capcomb * (nd ? nd : 1) * sizeof(*cvals));
				ccount = xrealloc(ccount, capcomb * sizeof(*ccount));
			}
			if (nd)
				memcpy(cvals + ncomb * nd, vals, nd * sizeof(*vals));
			ccount[ncomb] = 0;
			table[j] = (int32_t)ncomb++;
		}
		comb_of[i] = (uint32_t)table[j];
		ccount[table[j]]++;
	}
	free(table);

	sort_ctx.d = d;
	sort_ctx.vals = cvals;
	sort_ctx.count = ccount;

	/* the all-"unknown" combination is the unknown segment: never folded, not capped */
	size_t unknown_comb = SIZE_MAX;
	size_t *order = xmalloc((ncomb ? ncomb : 1) * sizeof(*order));
	size_t nord = 0;
	for (size_t c = 0; c < ncomb; c++) {
		if (all_equal(cvals + c * nd, nd, "unknown"))
			unknown_comb = c;
		else
			order[nord++] = c;
	}

	bool *kept = xcalloc(ncomb ? ncomb : 1, sizeof(*kept));
	size_t cap = d->cfg->max_segments;
	size_t nkeep = nord;
	d->seg.folded = 0;
	if (cap > 0 && nord > cap) {
		nkeep = cap - 1;
		qsort(order, nord, sizeof(*order), cmp_combo_by_size);
		d->seg.folded = nord - nkeep;
	}
	for (size_t i = 0; i < nkeep; i++)
		kept[order[i]] = true;
	if (unknown_comb != SIZE_MAX)
		kept[unknown_comb] = true;

	/* final order: kept (unknown included) by values, then "other" */
	size_t nfinal = 0;
	for (size_t c = 0; c < ncomb; c++)
		if (kept[c])
			order[nfinal++] = c;
	qsort(order, nfinal, sizeof(*order), cmp_combo_by_values);

	size_t nseg = nfinal + (d->seg.folded ? 1 : 0);
	uint32_t *final_of = xmalloc((ncomb ? ncomb : 1) * sizeof(*final_of));
	d->seg.values = xcalloc((nseg + 1) * (nd ? nd : 1), sizeof(*d->seg.values));
	d->seg.accounts = xcalloc(nseg + 1, sizeof(*d->seg.accounts));
	uint32_t other = UINT32_MAX;
	for (size_t s = 0; s < nfinal; s++) {
		size_t c = order[s];
		final_of[c] = (uint32_t)s;
		if (nd)
			memcpy(d->seg.values + s * nd, cvals + c * nd, nd * sizeof(*cvals));
		d->seg.accounts[s] = ccount[c];
		if (d->seg.folded && c != unknown_comb && all_equal(cvals + c * nd, nd, "other"))
			other = (uint32_t)s; /* a literal "other" combination absorbs the fold */
	}
	if (d->seg.folded && other == UINT32_MAX) {
		other = (uint32_t)nfinal;
		for (size_t k = 0; k < nd; k++)
			d->seg.values[nfinal * nd + k] = "other";
	} else {
		nseg = nfinal;
	}
	for (size_t c = 0; c < ncomb; c++) {
		if (!kept[c]) {
			final_of[c] = other;
			d->seg.accounts[other] += ccount[c];
		}
	}
	d->seg.n = nseg;
	for (size_t i = 0; i < na; i++)
		d->accounts[i].seg = final_of[comb_of[i]];

	free(final_of);
	free(kept);
	free(order);
	free(comb_of);
	free(cvals);
	free(ccount);
}

/* Decides duplicate billing keys, compacts accounts and builds the segments. */
static void finish_accounts(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	size_t na = d->naccounts, nd = d->cfg->ndims;
	bool *loser = xcalloc(na ? na : 1, sizeof(*loser));

	for (size_t i = 0; i < na; i++) {
		if (!p->acc_billing[i])
			continue;
		bool added;
		struct strent *e = strtab_put(&p->billing, NULL, p->acc_billing[i], &added);
		if (added) {
			e->val = (int32_t)i;
			continue;
		}
		size_t j = (size_t)e->val;
		if (strcmp(d->accounts[i].key, d->accounts[j].key) < 0) {
			loser[j] = true;
			e->val = (int32_t)i;
		} else {
			loser[i] = true;
		}
	}

	int32_t *remap = xmalloc((na ? na : 1) * sizeof(*remap));
	size_t n = 0;
	for (size_t i = 0; i < na; i++) {
		if (loser[i]) {
			remap[i] = -1;
			cs_data_reject(d, "accounts", "duplicate_billing_key");
			continue;
		}
		remap[i] = (int32_t)n;
		if (n != i) {
			d->accounts[n] = d->accounts[i];
			if (nd)
				memmove(p->acc_dims + n * nd, p->acc_dims + i * nd,
					nd * sizeof(*p->acc_dims));
		}
		struct cs_account *a = &d->accounts[n];
		if (a->started_at != CS_TIME_NONE && a->first_value_at != CS_TIME_NONE &&
		    a->first_value_at < a->started_at) {
			a->ttv_rejected = true;
			cs_data_reject(d, "accounts", "value_before_start");
		}
		n++;
	}
	d->naccounts = n;
	for (size_t i = 0; i < p->accounts.cap; i++)
		if (p->accounts.e[i].key && p->accounts.e[i].val >= 0)
			p->accounts.e[i].val = remap[p->accounts.e[i].val];
	for (size_t i = 0; i < p->billing.cap; i++)
		if (p->billing.e[i].key)
			p->billing.e[i].val = remap[p->billing.e[i].val];
	free(remap);
	free(loser);

	build_segments(d);
	free(p->acc_dims);
	p->acc_dims = NULL;
	free(p->acc_billing);
	p->acc_billing = NULL;
	p->accounts_done = true;
}

/* --------------------------------------------------------------- facts */

static int32_t account_of(struct cs_data *d, const char *key, uint32_t *seg)
{
	struct strent *e = strtab_find(&d->priv->accounts, key);
	if (!e || e->val < 0) {
		*seg = CS_SEG_UNKNOWN;
		d->priv->need_unknown = true;
		return CS_NO_ACCOUNT;
	}
	*seg = d->accounts[e->val].seg;
	return e->val;
}

static uint32_t customer_of(struct cs_stream *in, const char *billing_key)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	int32_t last = in->last_customer;
	if (last >= 0 && !strcmp(d->customers[last].billing_key, billing_key))
		return (uint32_t)last;

	/* A customer an account names is found through the billing table and
	 * the account; only the others need a table (and a key copy) here. */
	struct strent *b = strtab_find(&p->billing, billing_key);
	int32_t id;
	if (b && b->val >= 0) {
		struct cs_account *acc = &d->accounts[b->val];
		if (acc->customer < 0) {
			GROW(d->customers, d->ncustomers, p->cap_customers);
			acc->customer = (int32_t)d->ncustomers;
			d->customers[d->ncustomers++] =
			    (struct cs_customer){b->key, b->val, acc->seg};
		}
		id = acc->customer;
	} else {
		bool added;
		struct strent *e = strtab_put(&p->orphans, &p->arena, billing_key, &added);
		if (added) {
			GROW(d->customers, d->ncustomers, p->cap_customers);
			e->val = (int32_t)d->ncustomers;
			d->customers[d->ncustomers++] =
			    (struct cs_customer){e->key, CS_NO_ACCOUNT, CS_SEG_UNKNOWN};
			p->need_unknown = true;
		}
		id = e->val;
	}
	in->last_customer = id;
	return (uint32_t)id;
}

/*
 * Minor units per major unit (10^exponent) and the rate to the reporting
 * currency of code; -1 when the currency is not known.
 */
static int currency_lookup(struct cs_stream *in, const char *code, double *scale, double *rate)
{
	struct cs_data *d = in->d;
	struct cs_stream *p = in;
	char up[4];
	if (currency_upper(code, up))
		return -1;
	if (p->last_currency[0] && !strcmp(up, p->last_currency)) {
		*scale = p->last_scale;
		*rate = p->last_rate;
		return 0;
	}
	int exp = cs_currency_exponent(up);
	if (exp < 0)
		return -1;
	double r = -1;
	if (!strcasecmp(up, d->cfg->currency)) {
		r = 1;
	} else {
		for (size_t i = 0; i < d->cfg->nrates; i++)
			if (!strcasecmp(up, d->cfg->rates[i].code))
				r = d->cfg->rates[i].rate;
	}
	if (!(r > 0))
		return -1;
	double sc = 1;
	for (int i = 0; i < exp; i++)
		sc *= 10;
	memcpy(p->last_currency, up, 4);
	p->last_scale = *scale = sc;
	p->last_rate = *rate = r;
	return 0;
}

/* Makes room for n customers in the MRR sums, growing like GROW. */
static void mrr_reserve(struct cs_data *d, size_t n)
{
	struct cs_mrr *m = &d->mrr;
	size_t cap = m->cap ? m->cap : 256;

	if (n <= m->cap)
		return;
	while (cap < n)
		cap *= 2;
	m->mrr = xrealloc(m->mrr, cap * m->ninstants * sizeof(*m->mrr));
	m->first_positive = xrealloc(m->first_positive, cap * sizeof(*m->first_positive));
	memset(m->mrr + m->cap * m->ninstants, 0, (cap - m->cap) * m->ninstants * sizeof(*m->mrr));
	for (size_t c = m->cap; c < cap; c++)
		m->first_positive[c] = CS_TIME_OPEN;
	m->cap = cap;
}

static void row_subscription(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *bk = col(in, v, COL_S_BILLING);
	double amount, quantity, count, scale, rate, num, den;
	enum cs_status status;
	cs_time from, to;

	if (!bk) {
		reject(in, "null_key");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_AMOUNT), &amount))
		return;
	if (amount < 0) {
		reject(in, "negative_amount");
		return;
	}
	const char *cur = col(in, v, COL_S_CURRENCY);
	if (!need(in, cur))
		return;
	if (currency_lookup(in, cur, &scale, &rate)) {
		reject(in, "unknown_currency");
		return;
	}
	const char *unit = col(in, v, COL_S_UNIT);
	if (!need(in, unit))
		return;
	/* a month is a twelfth of a year of 52 weeks or 365 days */
	num = 1;
	if (!strcasecmp(unit, "month")) {
		den = 1;
	} else if (!strcasecmp(unit, "quarter")) {
		den = 3;
	} else if (!strcasecmp(unit, "year")) {
		den = 12;
	} else if (!strcasecmp(unit, "week")) {
		num = 52, den = 12;
	} else if (!strcasecmp(unit, "day")) {
		num = 365, den = 12;
	} else {
		reject(in, "unknown_interval");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_COUNT), &count))
		return;
	if (count <= 0 || count != floor(count)) {
		reject(in, "bad_interval_count");
		return;
	}
	if (!need_number(in, col(in, v, COL_S_QUANTITY), &quantity))
		return;
	if (quantity < 0) {
		reject(in, "negative_quantity");
		return;
	}
	const char *st = col(in, v, COL_S_STATUS);
	if (!need(in, st))
		return;
	if (!strcasecmp(st, "active"))
		status = SUB_ACTIVE;
	else if (!strcasecmp(st, "past_due"))
		status = SUB_PAST_DUE;
	else if (!strcasecmp(st, "trialing"))
		status = SUB_TRIALING;
	else if (!strcasecmp(st, "paused"))
		status = SUB_PAUSED;
	else if (!strcasecmp(st, "canceled") || !strcasecmp(st, "cancelled"))
		status = SUB_CANCELED;
	else {
		reject(in, "unknown_status");
		return;
	}
	if (!need_time(in, col(in, v, COL_S_FROM), &from))
		return;
	const char *to_s = col(in, v, COL_S_TO);
	if (!to_s) {
		to = CS_TIME_OPEN;
	} else if (cs_parse_time(to_s, &to)) {
		reject(in, "bad_time");
		return;
	}
	if (to <= from) {
		reject(in, "bad_validity");
		return;
	}

	/* dividing late keeps round prices exact: $90/quarter is 30, not 30.000000000000004 */
	double monthly = amount * quantity / scale * num / (den * count) * rate;
	if (!(monthly <= CS_MAX_MONTHLY)) {
		reject(in, "amount_out_of_range");
		return;
	}
	uint32_t c = customer_of(in, bk);
	struct cs_mrr *m = &d->mrr;

	seen(in, from);
	m->rows++;
	if ((status != SUB_ACTIVE && status != SUB_PAST_DUE) || !(monthly > 0))
		return;
	mrr_reserve(d, (size_t)c + 1);
	if (from < m->first_positive[c])
		m->first_positive[c] = from;
	for (size_t k = 0; k < m->ninstants; k++)
		if (from <= m->at[k] && m->at[k] < to)
			m->mrr[c * m->ninstants + k] += monthly;
}

static void row_trial(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *bk = col(in, v, COL_T_BILLING);
	cs_time started, ended;
	bool converted;

	if (!bk) {
		reject(in, "null_key");
		return;
	}
	if (!need_time(in, col(in, v, COL_T_STARTED), &started))
		return;
	if (opt_time(col(in, v, COL_T_ENDED), &ended)) {
		reject(in, "bad_time");
		return;
	}
	if (!need_bool(in, col(in, v, COL_T_CONVERTED), &converted))
		return;
	uint32_t c = customer_of(in, bk);
	seen(in, started);
	seen(in, ended);
	GROW(d->trials, d->ntrials, d->priv->cap_trials);
	struct cs_trial *t = &d->trials[d->ntrials++];
	t->customer = c;
	t->started_at = started;
	t->ended_at = ended;
	t->converted = converted;
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

static void activity_alloc(struct cs_data *d)
{
	struct cs_activity_counts *a = &d->activity;
	size_t ncw = d->plan.nwindows;
	size_t nfeat = d->cfg->nfeatures;

	if (a->seg_users)
		return;
	a->nwin = ncw + 1;
	a->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	a->account_users = xcalloc(d->naccounts * a->nwin + 1, sizeof(*a->account_users));
	a->seg_users = xcalloc(a->nseg * a->nwin, sizeof(*a->seg_users));
	a->seg_feature_users =
	    xcalloc(a->nseg * a->nwin * nfeat + 1, sizeof(*a->seg_feature_users));
	for (size_t w = 0; w < ncw; w++)
		a->from[w] = d->as_of - d->plan.windows[w] * CS_SECOND;
	a->from[ncw] = d->as_of - d->cfg->health.usage_window * CS_SECOND;
}

/* Counts the user whose rows just ended. */
static void activity_flush(struct cs_stream *in)
{
	struct cs_data *d = in->d;
	struct cs_activity_counts *a = &d->activity;
	struct user_run *u = &in->user;
	size_t nfeat = d->cfg->nfeatures;

	if (!u->open)
		return;
	u->open = false;
	a->users++;
	if (u->latest == CS_TIME_NONE)
		return;
	for (size_t w = 0; w < a->nwin; w++) {
		size_t sw = u->slot * a->nwin + w;

		if (u->latest < a->from[w])
			continue;
		a->seg_users[sw]++;
		if (u->account != CS_NO_ACCOUNT)
			a->account_users[(size_t)u->account * a->nwin + w]++;
		for (uint64_t m = u->fmask; m; m &= m - 1) {
			int f = __builtin_ctzll(m);

			if (u->flatest[f] >= a->from[w])
				a->seg_feature_users[sw * nfeat + (size_t)f]++;
		}
	}
}

static void keep_key(char **dst, size_t *cap, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > *cap) {
		*cap = n < 64 ? 64 : n;
		*dst = xrealloc(*dst, *cap);
	}
	memcpy(*dst, s, n);
}

static void row_activity(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct user_run *u = &in->user;
	const char *key = col(in, v, COL_Y_ACCOUNT);
	const char *user = col(in, v, COL_Y_USER);
	cs_time at;
	int order = 1;

	u->row++;
	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need(in, user))
		return;
	if (!need_time(in, col(in, v, COL_Y_AT), &at))
		return;
	seen(in, at);
	if (u->have_keys) {
		order = strcmp(key, u->account_key);
		if (order == 0)
			order = strcmp(user, u->user_key);
	}
	if (order < 0) {
		if (!u->bad_row)
			u->bad_row = u->row;
		return;
	}
	if (order > 0) {
		activity_flush(in);
		keep_key(&u->account_key, &u->account_cap, key);
		keep_key(&u->user_key, &u->user_cap, user);
		u->have_keys = true;
		u->account = account_of(d, key, &u->slot);
		if (u->slot == CS_SEG_UNKNOWN)
			u->slot = (uint32_t)(d->activity.nseg - 1);
		u->latest = CS_TIME_NONE;
		u->fmask = 0;
		u->open = true;
	}
	if (at >= d->as_of)
		return;
	if (at > u->latest)
		u->latest = at;

	const char *feat = col(in, v, COL_Y_FEATURE);
	for (size_t i = 0; feat && i < d->cfg->nfeatures; i++) {
		if (!strcmp(feat, d->cfg->features[i])) {
			uint64_t bit = UINT64_C(1) << i;

			if (!(u->fmask & bit) || at > u->flatest[i])
				u->flatest[i] = at;
			u->fmask |= bit;
			break;
		}
	}
}

static void row_ticket(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	const char *key = col(in, v, COL_K_ACCOUNT);
	cs_time opened, resolved;
	bool escalated;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need_time(in, col(in, v, COL_K_OPENED), &opened))
		return;
	if (opt_time(col(in, v, COL_K_RESOLVED), &resolved)) {
		reject(in, "bad_time");
		return;
	}
	if (resolved != CS_TIME_NONE && resolved < opened) {
		reject(in, "bad_resolution");
		return;
	}
	if (!need_bool(in, col(in, v, COL_K_ESCALATED), &escalated))
		return;

	struct cs_tickets *k = &d->tickets;
	uint32_t seg;
	int32_t account = account_of(d, key, &seg);
	seen(in, opened);
	seen(in, resolved);
	if (seg == CS_SEG_UNKNOWN)
		seg = (uint32_t)(k->nseg - 1);
	k->rows++;
	for (size_t w = 0; w < k->nwin; w++) {
		struct cs_ticket_counts *c = &k->seg[seg * k->nwin + w];
		cs_time from = k->from[w];

		if (opened >= from && opened < d->as_of) {
			c->opened++;
			c->escalated += escalated;
		}
		if (resolved != CS_TIME_NONE && resolved >= from && resolved < d->as_of) {
			c->resolved++;
			c->resolution_seconds += (double)(resolved - opened) / (double)CS_SECOND;
		}
	}
	if (escalated && account != CS_NO_ACCOUNT && opened >= k->support_from && opened < d->as_of)
		k->account_escalations[account]++;
}

static void nps_alloc(struct cs_data *d)
{
	if (d->nps.at)
		return;
	d->nps.at = xmalloc((d->naccounts + 1) * sizeof(*d->nps.at));
	d->nps.score = xcalloc(d->naccounts + 1, sizeof(*d->nps.score));
	for (size_t i = 0; i < d->naccounts; i++)
		d->nps.at[i] = CS_TIME_NONE;
}

static void tickets_alloc(struct cs_data *d)
{
	struct cs_tickets *k = &d->tickets;

	if (k->seg)
		return;
	k->nwin = d->plan.nwindows;
	for (size_t w = 0; w < k->nwin; w++)
		k->from[w] = d->as_of - d->plan.windows[w] * CS_SECOND;
	k->support_from = d->as_of - d->cfg->health.support_window * CS_SECOND;
	k->nseg = d->seg.n + 1; /* the last slot holds unknown accounts until linked */
	k->seg = xcalloc(k->nseg * k->nwin + 1, sizeof(*k->seg));
	k->account_escalations = xcalloc(d->naccounts + 1, sizeof(*k->account_escalations));
}

static void row_outcome(struct cs_stream *in, const char *const *v)
{
	struct cs_data *d = in->d;
	struct cs_data_private *p = d->priv;
	const char *key = col(in, v, COL_O_ACCOUNT);
	double value;

	if (!key) {
		reject(in, "null_key");
		return;
	}
	if (!need_number(in, col(in, v, COL_O_VALUE), &value))
		return;
	if (!(fabs(value) <= CS_MAX_OUTCOME_VALUE)) {
		reject(in, "value_out_of_range");
		return;
	}
	GROW(*in->ov, *in->nov, *in->capov);
	struct cs_outcome_value *o = &(*in->ov)[(*in->nov)++];
	o->account = account_of(d, key, &o->seg);
	o->value = value;
	/* Outcome values of unknown accounts are still per account: keep the
	 * key so that compute can sum and judge each one separately. */
	o->key = o->account < 0 ? arena_strndup(&p->arena, key, strlen(key)) : NULL;
}

void cs_data_row(struct cs_stream *in, const char *const *values)
{
	in->d->rows_read++;
	in->rows++;
	switch (in->ds) {
	case DS_ACCOUNTS:
		row_account(in, values);
		break;
	case DS_SUBSCRIPTIONS:
		row_subscription(in, values);
		break;
	case DS_TRIALS:
		row_trial(in, values);
		break;
	case DS_SURVEYS:
		row_survey(in, values);
		break;
	case DS_ACTIVITY:
		row_activity(in, values);
		break;
	case DS_TICKETS:
		row_ticket(in, values);
		break;
	case CS_DS_OUTCOME:
		row_outcome(in, values);
		break;
	default:
		break;
	}
}

int cs_data_end(struct cs_stream *in, char *err, size_t errlen)
{
	if (!in)
		return 0;
	struct cs_data *d = in->d;
	int rc = 0;

	if (in->ds == DS_ACCOUNTS)
		finish_accounts(d);
	if (in->ds == DS_ACTIVITY) {
		activity_flush(in);
		if (in->user.bad_row) {
			snprintf(err, errlen,
				 "dataset \"activity\": row %llu is out of order (rows must come "
				 "ordered by account_key, user_key in byte order)",
				 (unsigned long long)in->user.bad_row);
			rc = -1;
		}
	}
	if (in->ds < DS_COUNT)
		d->ds_rows[in->ds] += in->rows;
	free(in->user.account_key);
	free(in->user.user_key);
	free(in);
	return rc;
}

static void remap_unknown(uint32_t *seg, uint32_t unknown)
{
	if (*seg == CS_SEG_UNKNOWN)
		*seg = unknown;
}

/* Activity and tickets of unknown accounts were counted in the last segment
 * slot; that slot becomes the unknown segment unless an account combination
 * is it. */
static void move_unknown_slot(struct cs_data *d, uint32_t unknown)
{
	struct cs_activity_counts *a = &d->activity;
	struct cs_tickets *k = &d->tickets;
	size_t nfeat = d->cfg->nfeatures;

	if (k->seg && unknown != k->nseg - 1) {
		size_t slot = k->nseg - 1;

		for (size_t w = 0; w < k->nwin; w++) {
			struct cs_ticket_counts *to = &k->seg[unknown * k->nwin + w];
			struct cs_ticket_counts *from = &k->seg[slot * k->nwin + w];

			to->opened += from->opened;
			to->escalated += from->escalated;
			to->resolved += from->resolved;
			to->resolution_seconds += from->resolution_seconds;
			*from = (struct cs_ticket_counts){0};
		}
	}
	if (a->seg_users && unknown != a->nseg - 1) {
		size_t slot = a->nseg - 1;

		for (size_t w = 0; w < a->nwin; w++) {
			a->seg_users[unknown * a->nwin + w] += a->seg_users[slot * a->nwin + w];
			a->seg_users[slot * a->nwin + w] = 0;
			for (size_t f = 0; f < nfeat; f++) {
				uint64_t *from =
				    &a->seg_feature_users[(slot * a->nwin + w) * nfeat + f];

				a->seg_feature_users[(unknown * a->nwin + w) * nfeat + f] += *from;
				*from = 0;
			}
		}
	}
}

void cs_data_link(struct cs_data *d)
{
	struct cs_data_private *p = d->priv;
	if (!p->accounts_done)
		finish_accounts(d);
	/* The sums a kind reads exist even when its dataset returned no row;
	 * a kind that does not read them gets none (they are per account). */
	unsigned need = d->plan.datasets;
	if (need & (1u << DS_ACTIVITY))
		activity_alloc(d);
	if (need & (1u << DS_TICKETS))
		tickets_alloc(d);
	if (need & (1u << DS_SUBSCRIPTIONS))
		mrr_reserve(d, d->ncustomers);
	if (cs_plan_has(&d->plan, KIND_HEALTH))
		nps_alloc(d);
	if (!p->need_unknown) {
		d->activity.nseg = d->tickets.nseg = d->seg.n;
		return;
	}

	size_t nd = d->seg.ndims;
	uint32_t unknown = UINT32_MAX;
	for (size_t s = 0; s < d->seg.n && unknown == UINT32_MAX; s++)
		if (all_equal(d->seg.values + s * nd, nd, "unknown"))
			unknown = (uint32_t)s;
	if (unknown == UINT32_MAX) {
		/* build_segments left room for one more segment */
		unknown = (uint32_t)d->seg.n++;
		for (size_t k = 0; k < nd; k++)
			d->seg.values[unknown * nd + k] = "unknown";
		d->seg.accounts[unknown] = 0;
	}
	for (size_t i = 0; i < d->ncustomers; i++)
		remap_unknown(&d->customers[i].seg, unknown);
	for (size_t i = 0; i < d->nsurveys; i++)
		remap_unknown(&d->surveys[i].seg, unknown);
	move_unknown_slot(d, unknown);
	size_t nruns = d->cfg->noutcomes * d->plan.nwindows;
	for (size_t r = 0; r < nruns; r++)
		for (size_t i = 0; i < d->noutcome_values[r]; i++)
			remap_unknown(&d->outcomes[r][i].seg, unknown);
	d->activity.nseg = d->tickets.nseg = d->seg.n;
	p->need_unknown = false;
}
