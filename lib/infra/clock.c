/*
 * clock.c: the clocks and RFC 3339 formatting.
 */
#include <config.h>

#include <time.h>

#include "domain/timefmt.h"
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

int64_t
clock_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
clock_format_rfc3339(int64_t ms, char *out, size_t outlen)
{
	return time_format_rfc3339(ms, out, outlen);
}
