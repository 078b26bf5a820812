/*
 * fuzz_app.h: a worker's application with in-memory stores, for the
 * harnesses that send whole requests through the real route table.
 *
 * The application is the one app_new() builds from the default
 * configuration, with its tokens and webhook secret set below, and with
 * every port that would reach PostgreSQL, Redis or the file system
 * filled instead with a store that answers at once: creations succeed,
 * a run asked for exists, nothing is paused or limited.  So every
 * request goes past its controller's parsing and validation into its use
 * case and back out through the JSON writer, with nothing to wait for.
 */
#ifndef GT_FUZZ_APP_H
#define GT_FUZZ_APP_H

#include <stddef.h>

struct dispatch_conf;

#define FUZZ_OPERATOR_TOKEN	"fuzz-operator-token-0123456789"
#define FUZZ_ADMIN_TOKEN	"fuzz-admin-token-0123456789abc"
#define FUZZ_WEBHOOK_SECRET	"fuzz-webhook-secret"

/* One header of a request: CGI name ("HTTP_X_GITHUB_EVENT") and value. */
struct fuzz_header {
	const char	*name;
	const char	*value;
};

/*
 * Sends one request through dispatch(): method, target (a path with an
 * optional "?query"), n headers beside the admin token (which comes
 * first, so a header given here cannot replace it), and a body of
 * bodylen bytes.  Checks what every answer promises (a known status,
 * JSON that parses, headers without CR or LF) and returns the status.
 */
int	 fuzz_app_request(const char *method, const char *target,
	    const struct fuzz_header *headers, size_t n, const char *body,
	    size_t bodylen);

/* The application's dispatch configuration: its real route table. */
const struct dispatch_conf *fuzz_app_dispatch(void);

#endif
