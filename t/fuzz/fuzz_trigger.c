/*
 * fuzz_trigger.c: the trigger line of a GitHub comment (trigger.h).
 *
 * Input: the command on the first line ("/gittinkerer" in the seeds),
 * then the comment's body.  The body is fed only when it is valid UTF-8,
 * as the webhook's JSON reader guarantees.  For an instruction found,
 * what trigger.h promises is checked: valid UTF-8 without NUL, trimmed,
 * within INSTRUCTION_MAX code points, its CRLFs turned into LFs.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "domain/text.h"
#include "domain/trigger.h"
#include "fuzz/fuzz.h"

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * A CR before a line's end is part of the line: "a\r\r\n" is the line
 * "a\r" and a break, so the instruction may hold CR LF only when the body
 * held CR CR LF.
 */
static void
check_instruction(const char *s, const char *body, size_t n)
{
	size_t	 len;

	fuzz_require(s != NULL, "a run has an instruction");
	len = strlen(s);
	fuzz_require(len > 0, "an instruction is not empty");
	fuzz_require(!space(s[0]) && !space(s[len - 1]),
	    "an instruction is trimmed");
	fuzz_require(utf8_valid(s, len), "an instruction is valid UTF-8");
	fuzz_require(utf8_count(s, len) <= INSTRUCTION_MAX,
	    "an instruction is within INSTRUCTION_MAX code points");
	fuzz_require(strstr(s, "\r\n") == NULL ||
	    memmem(body, n, "\r\r\n", 3) != NULL,
	    "an instruction has its CRLFs turned into LFs");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct arena		*a;
	enum trigger_kind	 kind;
	const char		*instruction, *body;
	const uint8_t		*rest;
	size_t			 restlen;
	char			*command;
	static char		 owner[] = "OWNER", member[] = "MEMBER";
	char *const		 allowed[] = { owner, member };

	if (fuzz_first_line(data, n, &command, &rest, &restlen) == -1)
		return 0;
	body = (const char *)rest;
	if (!utf8_valid(body, restlen)) {
		free(command);
		return 0;
	}
	fuzz_require((a = arena_new()) != NULL, "an arena");

	if (trigger_parse(a, body, restlen, command, &kind,
	    &instruction) == 0) {
		fuzz_require(kind <= TRIGGER_CANCEL, "a known kind");
		if (kind == TRIGGER_RUN)
			check_instruction(instruction, body, restlen);
		else
			fuzz_require(instruction == NULL,
			    "no instruction without a run");
	}
	(void)association_allowed(command, allowed, 2);

	arena_free(a);
	free(command);
	return 0;
}
