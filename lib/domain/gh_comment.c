/*
 * gh_comment.c: the texts the service posts on GitHub.
 */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "domain/buf.h"
#include "domain/run.h"
#include "domain/runner_io.h"
#include "domain/gh_comment.h"

/* How long to wait, in words: "about 3 minutes". */
static void
put_wait(struct buf *out, int64_t s)
{
	if (s < 90)
		buf_printf(out, "%lld seconds", (long long)(s < 1 ? 1 : s));
	else if (s < 90 * 60)
		buf_printf(out, "about %lld minutes", (long long)(s + 30) / 60);
	else
		buf_printf(out, "about %lld hours",
		    (long long)(s + 1800) / 3600);
}

void
outcome_comment(struct buf *out, const struct run *r,
    const struct runner_result *rr)
{
	switch (r->status) {
	case RUN_SUCCEEDED:
		buf_printf(out, "GitTinkerer finished run `%s`.\n", r->id);
		if (rr != NULL && rr->summary != NULL)
			buf_printf(out, "\n%s\n", rr->summary);
		if (rr != NULL && rr->pr_url != NULL)
			buf_printf(out, "\nPull request: %s\n", rr->pr_url);
		break;
	case RUN_CANCELLED:
		buf_printf(out, "GitTinkerer run `%s` was cancelled.\n", r->id);
		break;
	default:
		buf_printf(out, "GitTinkerer run `%s` failed", r->id);
		if (r->error_stage != STAGE_NONE)
			buf_printf(out, " (%s)", run_stage_name(r->error_stage));
		buf_puts(out, ".\n");
		if (r->error_message != NULL)
			buf_printf(out, "\n%s\n", r->error_message);
		if (rr != NULL && rr->error != NULL)
			buf_printf(out, "\nThe runner said: %s\n", rr->error);
		break;
	}
}

void
refusal_comment(struct buf *out, const char *reason, const char *login,
    int64_t retry_after_s)
{
	if (login != NULL)
		buf_printf(out, "@%s ", login);
	if (strcmp(reason, "repo_paused") == 0)
		buf_puts(out, "GitTinkerer is paused for this repository by "
		    "an operator, so it did not start a run. Ask again once "
		    "it is resumed.\n");
	else if (strcmp(reason, "target_paused") == 0)
		buf_puts(out, "GitTinkerer is paused for this issue or pull "
		    "request by an operator, so it did not start a run. Ask "
		    "again once it is resumed.\n");
	else if (strcmp(reason, "rate_limited") == 0) {
		buf_puts(out, "GitTinkerer has started as many runs as it may "
		    "for now, so it did not start this one.");
		if (retry_after_s > 0) {
			buf_puts(out, " Ask again in ");
			put_wait(out, retry_after_s);
			buf_putc(out, '.');
		}
		buf_putc(out, '\n');
	} else
		buf_puts(out, "GitTinkerer did not start a run for this "
		    "comment.\n");
}
