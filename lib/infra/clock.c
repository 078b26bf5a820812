/*
 * clock.c: the clocks and RFC 3339 formatting.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "infra/clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
clock_format_rfc3339(int64_t ms, char *out, size_t outlen)
{
	struct tm	 tm;
	time_t		 secs;
	int		 millis;

	secs = (time_t)(ms / 1000);
	millis = (int)(ms % 1000);
	if (millis < 0) {
		millis += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, outlen, "1970-01-01T00:00:00.000Z");
		return out;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, millis);
	return out;
}
