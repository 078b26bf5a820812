/*
 * fields.h: reading a JSON request body field by field, for a
 * controller's 400 answers.
 *
 * A body that is not one JSON object is invalid_json; every other fault
 * is noted against the field it concerns ("repo", "target.number") and
 * answered together as validation_failed with one detail per field
 * (api.md, Errors), so a caller learns all that is wrong at once.  The
 * messages are those POST /api/runs gives for the same fields.
 */
#ifndef GT_FIELDS_H
#define GT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/run.h"
#include "http/response.h"

struct arena;
struct json;
struct request;

#define FIELDS_MAX	8	/* details answered; more are dropped */

/* The faults found in a body: all are counted, the first few kept. */
struct fields {
	struct resp_detail	 d[FIELDS_MAX];
	size_t			 n;		/* kept in d */
	size_t			 faults;	/* noted */
};

/*
 * Notes a fault: field and message must live as long as the request
 * (constants, or strings in its arena).
 */
void		 fields_problem(struct fields *, const char *field,
		    const char *message);

/*
 * Parses the request's body as a JSON object.  Returns its root, in the
 * request's arena, or NULL with 400 invalid_json answered.
 */
const struct json *fields_body(struct request *, struct response *);

/*
 * Notes every member of the object o whose name is not in names (a
 * NULL-terminated list), as prefix followed by the name.
 */
void		 fields_unknown(struct fields *, struct arena *,
		    const struct json *o, const char *const *names,
		    const char *prefix);

/*
 * The repository name in member "repo" of root, or NULL with the fault
 * noted (missing, not a string, not a valid name).
 */
const char	*fields_repo(struct fields *, const struct json *root);

/*
 * Reads member "target" of root, {"type": ..., "number": ...}, into
 * *type and *number.  Returns 0, or -1 with the faults noted.
 */
int		 fields_target(struct fields *, struct arena *,
		    const struct json *root, enum target_type *type,
		    int32_t *number);

/*
 * Answers 400 validation_failed with the faults noted, if any.  Returns
 * -1 when it answered, 0 when there was nothing to answer.
 */
int		 fields_answer(const struct fields *, struct response *);

#endif
