/*
 * client.h: an HTTP client for the end-to-end tests, with the checks they
 * share.
 *
 * The tests run against the stack t/stack-tests.sh started: GT_URL is
 * nginx's address, GT_STACK_DIR the stack's folder, GT_SRCDIR the source
 * tree (for t/stack.sh), GT_OPERATOR_TOKEN and GT_ADMIN_TOKEN its tokens.
 * Every function asserts with Check, so a test stops at the first thing
 * that is not as the contract says.
 */
#ifndef GT_TEST_CLIENT_H
#define GT_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define ANSWER_MAX_HEADERS	32

/* An answer: status, headers, body, and the time it took. */
struct answer {
	long	 status;
	char	*headers[ANSWER_MAX_HEADERS];	/* "Name: value" */
	size_t	 nheaders;
	char	*body;				/* NUL-terminated */
	size_t	 len;
	int64_t	 ms;
};

/* The environment, read by client_init(). */
extern const char	*client_url;
extern const char	*client_stack_dir;
extern const char	*client_src_dir;
extern const char	*client_operator_token;
extern const char	*client_admin_token;

/* Reads the environment; exits with a message when it is incomplete. */
void		 client_init(void);

int64_t		 now_ms(void);

/*
 * Sends method path with an optional body (bodylen bytes) and extra
 * header lines (a NULL-terminated list, or NULL).  Fills a; free it with
 * answer_free().
 */
void		 http_request(const char *method, const char *path,
		    const char *body, size_t bodylen,
		    const char *const *headers, struct answer *a);

/* As http_request() with "Authorization: Bearer token" added. */
void		 http_as(const char *token, const char *method,
		    const char *path, const char *body,
		    const char *const *headers, struct answer *a);

void		 answer_free(struct answer *);

/* The value of header name (case-insensitive), or NULL. */
const char	*answer_header(const struct answer *, const char *name);

/* The body parsed as a JSON object; the caller puts it. */
json_object	*answer_json(const struct answer *);

/* The member at a dotted path ("error.code") of o, or NULL. */
json_object	*json_at(json_object *o, const char *path);

/* The string at a dotted path, or NULL when absent or not a string. */
const char	*json_str_at(json_object *o, const char *path);

/*
 * Asserts the answer is the contract's error: status, code, JSON content
 * type, no-store, a request id, and a non-empty message.
 */
void		 assert_error(const struct answer *, long status,
		    const char *code);

/*
 * Asserts the answer is a 400 validation_failed whose details name
 * field among them.
 */
void		 assert_validation_names(const struct answer *,
		    const char *field);

/* Runs t/stack.sh cmd on the stack, which must succeed. */
void		 stack_cmd(const char *cmd);

#endif
