/*
 * run_json.h: a run as the contract writes it in JSON, and back.
 *
 *	{"id": "…", "repo": "octo/widgets",
 *	 "target": {"type": "issue", "number": 12}, "instruction": "…",
 *	 "status": "queued", "source": "api", "requested_by": "alice",
 *	 "created_at": "…", "started_at": null, "finished_at": null,
 *	 "exit_code": null, "error": null, "result": null}
 *
 * The same text is what the status cache holds, so reading it back gives
 * the run a poll would have read from the database.
 */
#ifndef GT_RUN_JSON_H
#define GT_RUN_JSON_H

#include <stddef.h>

#include "domain/error.h"

struct arena;
struct jsonw;
struct run;

/*
 * Writes the run's members into the object w has open, so the caller may
 * add members of its own (artifacts) before closing it.
 */
void		 run_json_members(struct jsonw *, const struct run *);

/*
 * Reads a run from the text run_json_members() wrote inside an object.
 * Strings point into the arena.  GT_OK, GT_ERR_INVALID for a text that
 * is not such a run, GT_ERR_NOMEM.
 */
enum gt_err	 run_json_read(struct arena *, const char *text, size_t n,
		    struct run *out);

#endif
