/*
 * gh_comment.h: the texts the service posts on GitHub.
 *
 * Two kinds: the outcome of a run made from a comment, posted on its
 * issue or pull request when the run finishes, and the reply to a
 * trigger the service refused for a pause or a rate limit.  Both are
 * Markdown.  The runner's own words (summary, error) are quoted as they
 * are: GitHub renders them, and the service ignores every comment of its
 * own App, so a text that holds the trigger cannot start a loop.
 */
#ifndef GT_GH_COMMENT_H
#define GT_GH_COMMENT_H

#include <stdint.h>

struct buf;
struct run;
struct runner_result;

/*
 * Appends the outcome of a finished run to out: its status, and the
 * summary and pull request link of a success, or the error of a failure.
 * rr is the run's checked result.json, or NULL when it left none.
 */
void	 outcome_comment(struct buf *out, const struct run *,
	    const struct runner_result *rr);

/*
 * Appends the reply to login's refused trigger: reason is
 * "repo_paused", "target_paused" or "rate_limited" (with the seconds to
 * wait, when known).  Any other reason gets a general sentence.
 */
void	 refusal_comment(struct buf *out, const char *reason,
	    const char *login, int64_t retry_after_s);

#endif
