/*
 * runner_io.h: what the runner is given and what it gives back.
 *
 * The runner is handed payload.json: the run, its repository's clone URL,
 * the pull request's branches when the target is one, and the prompt
 * built here from the instruction and its context.  It may leave
 * result.json, read here with every field checked, since the runner's
 * output is not trusted to be well-formed.
 */
#ifndef GT_RUNNER_IO_H
#define GT_RUNNER_IO_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

struct arena;
struct buf;
struct run;

#define RESULT_MAX_BYTES	(64 * 1024)	/* a larger result.json is ignored */
#define RESULT_TEXT_MAX		4000		/* code points of a text field */

/* The pull request a run on one works on; fields NULL when unknown. */
struct pull_info {
	const char	*head_ref;
	const char	*head_sha;
	const char	*base_ref;
};

/*
 * Appends the prompt for the run's agent to out: the instruction with the
 * repository, the issue or pull request, and who asked.
 */
void		 prompt_build(struct buf *out, const struct run *);

/*
 * Appends payload.json for the run to out.  pr is NULL for an issue (or
 * when the pull request could not be fetched); installation_id is 0 when
 * the run did not come from a GitHub App installation.
 */
void		 payload_build(struct buf *out, const struct run *,
		    const struct pull_info *pr, int64_t installation_id);

/* What a runner reported, checked. */
struct runner_result {
	const char	*json;		/* the object to store, re-written */
	const char	*summary;	/* NULL when not given */
	const char	*pr_url;
	const char	*commit_sha;
	const char	*error;
	int		 has_tokens_in, has_tokens_out, has_cost,
			 has_files_changed;
	int64_t		 tokens_in;
	int64_t		 tokens_out;
	double		 cost_usd;
	int64_t		 files_changed;
};

/*
 * Reads the n bytes of a result.json.  GT_OK with *out filled (strings in
 * the arena); GT_ERR_TOO_LARGE over RESULT_MAX_BYTES; GT_ERR_INVALID when
 * it is not an object of the documented fields and types (an unknown
 * field is ignored, a known one of the wrong type is not), with a short
 * reason in *why.
 */
enum gt_err	 result_parse(struct arena *, const char *text, size_t n,
		    struct runner_result *out, const char **why);

#endif
