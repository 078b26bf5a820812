/*
 * timefmt.h: times as the contract writes them, RFC 3339 in UTC with
 * milliseconds: "2026-12-03T18:23:11.123Z".
 */
#ifndef GT_TIMEFMT_H
#define GT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIME_RFC3339_LEN	32	/* room for any year's text and NUL */

/*
 * Formats ms (milliseconds since the epoch) into out of at least
 * TIME_RFC3339_LEN bytes.  Returns out.
 */
char	*time_format_rfc3339(int64_t ms, char *out, size_t outlen);

/*
 * Parses exactly the form time_format_rfc3339() writes for the years
 * 0000-9999 into milliseconds since the epoch.  Returns 0, or -1 for any
 * other text.
 */
int	 time_parse_rfc3339(const char *s, int64_t *ms);

#endif
