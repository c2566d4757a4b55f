#include "cstime.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

cs_time cs_month_start(cs_time t, int months)
{
	int64_t days = t / CS_DAY;
	int64_t y;
	unsigned m, d;

	if (t % CS_DAY < 0)
		days--;
	civil_from_days(days, &y, &m, &d);
	int64_t index = y * 12 + (int64_t)m - 1 + months; /* months since year 0 */
	int64_t ny = index >= 0 ? index / 12 : (index - 11) / 12;
	return days_from_civil(ny, (unsigned)(index - ny * 12 + 1), 1) * CS_DAY;
}

cs_time cs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (cs_time)ts.tv_sec * CS_SECOND + ts.tv_nsec / 1000;
}

int64_t cs_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double cs_mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
