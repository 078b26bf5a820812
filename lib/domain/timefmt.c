/*
 * timefmt.c: RFC 3339 times in UTC with milliseconds.
 *
 * The calendar arithmetic is the proleptic Gregorian calendar's, done on
 * integers, so it needs neither the time zone database nor the locale.
 */
#include <config.h>

#include <stdio.h>

#include "domain/timefmt.h"

#define MS_PER_DAY	86400000LL

/* Days since 1970-01-01 of a civil date (month 1-12). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a count of days since 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

char *
time_format_rfc3339(int64_t ms, char *out, size_t outlen)
{
	int64_t	 days, rem, y;
	int	 m, d;

	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(rem / 3600000),
	    (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
	    (int)(rem % 1000));
	return out;
}

/* Reads n digits at s into *v; returns 0, or -1 when one is no digit. */
static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
time_parse_rfc3339(const char *s, int64_t *ms)
{
	static const int	 mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	int			 y, mo, d, h, mi, sec, milli, leap;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || s[10] != 'T' ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec) || s[19] != '.' ||
	    digits(s + 20, 3, &milli) || s[23] != 'Z' || s[24] != '\0')
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
		return -1;
	*ms = days_from_civil(y, mo, d) * MS_PER_DAY + h * 3600000LL +
	    mi * 60000LL + sec * 1000LL + milli;
	return 0;
}
