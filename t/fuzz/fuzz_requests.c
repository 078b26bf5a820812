/*
 * fuzz_requests.c: the JSON request bodies of the API, decoded by their
 * controllers (ctl_runs.c, ctl_admin.c, fields.c) through the real route
 * table (fuzz_app.h).
 *
 * Input: one byte naming the route (a digit, below; any other byte is
 * taken modulo their number), then the body, sent as application/json
 * with an admin token.  Checked: the answer keeps the contract
 * (fuzz_app.c), and is never a 5xx, since every store answers: a body is
 * either accepted or refused with a 4xx saying why.
 */
#include <config.h>

#include <stddef.h>

#include "fuzz/fuzz.h"
#include "fuzz/fuzz_app.h"

#define RUN	"2f1c0b8e-3f4a-4c1d-9e8f-0a1b2c3d4e5f"

static const struct {
	const char	*method;
	const char	*target;
	int		 idempotent;	/* send an Idempotency-Key */
} routes[] = {
	{ "POST", "/api/runs", 0 },				/* 0 */
	{ "POST", "/api/admin/pause-repo", 0 },			/* 1 */
	{ "POST", "/api/admin/resume-repo", 0 },		/* 2 */
	{ "POST", "/api/admin/pause-target", 0 },		/* 3 */
	{ "POST", "/api/admin/resume-target", 0 },		/* 4 */
	{ "PUT", "/api/admin/rate-limits/octo/widgets", 0 },	/* 5 */
	{ "POST", "/api/runs/" RUN "/cancel", 0 },		/* 6 */
	{ "POST", "/api/runs", 1 },				/* 7 */
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const struct fuzz_header headers[] = {
		{ "CONTENT_TYPE", "application/json" },
		{ "HTTP_IDEMPOTENCY_KEY", "fuzz-key-1" },
	};
	size_t	 i;
	int	 status;

	if (n == 0)
		return 0;
	i = data[0] >= '0' && data[0] <= '9' ? (size_t)(data[0] - '0') :
	    data[0];
	i %= NROUTES;
	status = fuzz_app_request(routes[i].method, routes[i].target, headers,
	    routes[i].idempotent ? 2 : 1, (const char *)data + 1, n - 1);
	fuzz_require(status < 500,
	    "a body is accepted or refused, never answered 5xx");
	return 0;
}
