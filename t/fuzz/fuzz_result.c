/*
 * fuzz_result.c: a runner's result.json (runner_io.h).
 *
 * Input: the file's bytes.  The runner is not trusted, so anything may
 * come; what is accepted must come back rewritten as a JSON object that
 * result_parse() accepts again and rewrites to the very same text, and
 * the text fields and figures must keep their documented bounds.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/runner_io.h"
#include "domain/text.h"
#include "fuzz/fuzz.h"

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	fuzz_require(utf8_valid(s, strlen(s)), "a text field is UTF-8");
	fuzz_require(utf8_count(s, strlen(s)) <= RESULT_TEXT_MAX,
	    "a text field is within RESULT_TEXT_MAX code points");
}

static void
check_accepted(struct arena *a, const struct runner_result *r)
{
	struct runner_result	 again;
	const struct json	*root;
	enum json_error		 je;
	const char		*why;

	fuzz_require(r->json != NULL, "an accepted result is rewritten");
	root = json_parse(a, r->json, strlen(r->json), &je);
	fuzz_require(root != NULL && root->type == JSON_OBJECT,
	    "the rewritten result is a JSON object");
	check_text(r->summary);
	check_text(r->pr_url);
	check_text(r->commit_sha);
	check_text(r->error);
	fuzz_require(!r->has_tokens_in || r->tokens_in >= 0,
	    "tokens_in is not negative");
	fuzz_require(!r->has_tokens_out || r->tokens_out >= 0,
	    "tokens_out is not negative");
	fuzz_require(!r->has_files_changed || r->files_changed >= 0,
	    "files_changed is not negative");
	fuzz_require(!r->has_cost || (r->cost_usd >= 0 && r->cost_usd < 1e9),
	    "cost_usd is within its bounds");

	fuzz_require(result_parse(a, r->json, strlen(r->json), &again,
	    &why) == GT_OK, "the rewritten result is accepted again");
	fuzz_require(strcmp(again.json, r->json) == 0,
	    "rewriting a rewritten result changes nothing");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct arena		*a;
	struct runner_result	 r;
	const char		*why;
	enum gt_err		 e;

	fuzz_require((a = arena_new()) != NULL, "an arena");
	e = result_parse(a, (const char *)data, n, &r, &why);
	if (e == GT_OK)
		check_accepted(a, &r);
	else
		fuzz_require(e == GT_ERR_TOO_LARGE || e == GT_ERR_INVALID ||
		    e == GT_ERR_NOMEM, "a refusal is a documented error");
	fuzz_require(e == GT_OK || why != NULL || e == GT_ERR_NOMEM,
	    "a refusal says why");
	arena_free(a);
	return 0;
}
