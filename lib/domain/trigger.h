/*
 * trigger.h: finding the command in a GitHub comment, and who may give it.
 *
 * A comment triggers a run when one of its lines has the configured
 * command (such as "/gittinkerer") as its first word.  The first such
 * line counts; the instruction is the rest of that line and every line
 * after it, trimmed of white space at both ends.  "cancel" alone, in any
 * case, is the command to cancel the target's run instead.
 *
 * Lines end with LF or CRLF (GitHub's web editor sends CRLF); the
 * instruction keeps its line breaks as LF.  A word ends at a space, a tab
 * or the end of the line, so "/gittinkerer:" or "/gittinkerers" is not
 * the command, and neither is the command quoted ("> /gittinkerer") or
 * in the middle of a line.
 */
#ifndef GT_TRIGGER_H
#define GT_TRIGGER_H

#include <stddef.h>

struct arena;

enum trigger_kind {
	TRIGGER_NONE,		/* no line starts with the command */
	TRIGGER_EMPTY,		/* the command with nothing after it */
	TRIGGER_TOO_LONG,	/* an instruction over INSTRUCTION_MAX */
	TRIGGER_RUN,		/* an instruction to run */
	TRIGGER_CANCEL		/* "cancel": cancel the target's run */
};

/*
 * Looks for command in the n bytes of valid UTF-8 at body.  For
 * TRIGGER_RUN, *instruction is the instruction, NUL-terminated, in the
 * arena; it is NULL otherwise.  TRIGGER_NONE also when command is empty
 * or holds white space.  Returns -1 instead when the arena is out of
 * memory.
 */
int		 trigger_parse(struct arena *, const char *body, size_t n,
		    const char *command, enum trigger_kind *kind,
		    const char **instruction);

/*
 * Whether a comment author's association with the repository (GitHub's
 * author_association: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, ...) is
 * one of the n allowed, compared exactly.
 */
int		 association_allowed(const char *association,
		    char *const *allowed, size_t n);

#endif
