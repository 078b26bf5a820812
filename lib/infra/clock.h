/*
 * clock.h: reading the clocks and formatting times.
 */
#ifndef GT_CLOCK_H
#define GT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch, from the real-time clock. */
int64_t	 clock_now_ms(void);

/* Milliseconds from an arbitrary start, from the monotonic clock. */
int64_t	 clock_mono_ms(void);

/* Microseconds from the same start, for timing what is often sub-ms. */
int64_t	 clock_mono_us(void);

/*
 * Formats ms (milliseconds since the epoch) as RFC 3339 in UTC with
 * milliseconds, "2026-12-03T18:23:11.123Z", into out of at least
 * CLOCK_RFC3339_LEN bytes.  Returns out.
 */
#define CLOCK_RFC3339_LEN	32
char	*clock_format_rfc3339(int64_t ms, char *out, size_t outlen);

#endif
