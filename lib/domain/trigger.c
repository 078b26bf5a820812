/*
 * trigger.c: finding the command in a GitHub comment.
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "domain/arena.h"
#include "domain/error.h"
#include "domain/run.h"
#include "domain/trigger.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Whether the line [p, end) has command as its first word; when it has,
 * *rest points just past the word.
 */
static int
line_has_command(const char *p, const char *end, const char *command,
    size_t clen, const char **rest)
{
	const char	*word;

	while (p < end && blank(*p))
		p++;
	word = p;
	while (p < end && !blank(*p) && *p != '\r')
		p++;
	if ((size_t)(p - word) != clen || memcmp(word, command, clen) != 0)
		return 0;
	*rest = p;
	return 1;
}

/* Copies [p, end) into the arena with each CRLF turned into LF. */
static char *
copy_lf(struct arena *a, const char *p, const char *end, size_t *len)
{
	char	*out, *o;

	if ((out = arena_alloc(a, (size_t)(end - p) + 1)) == NULL)
		return NULL;
	for (o = out; p < end; p++)
		if (!(*p == '\r' && p + 1 < end && p[1] == '\n'))
			*o++ = *p;
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

int
trigger_parse(struct arena *a, const char *body, size_t n,
    const char *command, enum trigger_kind *kind, const char **instruction)
{
	const char	*p = body, *end = body + n, *eol, *rest = NULL;
	const char	*start;
	char		*text;
	size_t		 clen, len;
	enum gt_err	 e;

	*kind = TRIGGER_NONE;
	*instruction = NULL;
	clen = command == NULL ? 0 : strlen(command);
	if (clen == 0 || strpbrk(command, " \t\r\n") != NULL)
		return 0;

	while (p < end && rest == NULL) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (!line_has_command(p, eol, command, clen, &rest))
			p = eol < end ? eol + 1 : end;
	}
	if (rest == NULL)
		return 0;

	if ((text = copy_lf(a, rest, end, &len)) == NULL)
		return -1;
	e = instruction_trim(text, len, &start, &len);
	if (e == GT_ERR_TOO_LARGE) {
		*kind = TRIGGER_TOO_LONG;
		return 0;
	}
	if (e != GT_OK) {
		*kind = TRIGGER_EMPTY;
		return 0;
	}
	if (len == 6 && strncasecmp(start, "cancel", 6) == 0) {
		*kind = TRIGGER_CANCEL;
		return 0;
	}
	if ((*instruction = arena_strndup(a, start, len)) == NULL)
		return -1;
	*kind = TRIGGER_RUN;
	return 0;
}

int
association_allowed(const char *association, char *const *allowed,
    size_t n)
{
	size_t	 i;

	if (association == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(association, allowed[i]) == 0)
			return 1;
	return 0;
}
