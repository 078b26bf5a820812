/*
 * run.c: the run's life cycle and the rules for its names and texts.
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "domain/run.h"

static const char *const status_names[] = {
	[RUN_QUEUED] = "queued",
	[RUN_RUNNING] = "running",
	[RUN_SUCCEEDED] = "succeeded",
	[RUN_FAILED] = "failed",
	[RUN_CANCELLED] = "cancelled",
};

static const char *const stage_names[] = {
	[STAGE_NONE] = NULL,
	[STAGE_SPAWN] = "spawn",
	[STAGE_RUNNER] = "runner",
	[STAGE_TIMEOUT] = "timeout",
	[STAGE_INTERRUPTED] = "interrupted",
	[STAGE_CANCELLED] = "cancelled",
	[STAGE_INTERNAL] = "internal",
};

static const char *const target_names[] = {
	[TARGET_ISSUE] = "issue",
	[TARGET_PULL_REQUEST] = "pull_request",
};

static const char *const source_names[] = {
	[SOURCE_API] = "api",
	[SOURCE_WEBHOOK] = "webhook",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n ? names[v] : NULL;
}

/* The index of s in names, or -1. */
static int
index_of(const char *const *names, size_t n, const char *s)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *
run_status_name(enum run_status s)
{
	return name_of(status_names, NELEM(status_names), s);
}

const char *
run_stage_name(enum run_stage s)
{
	return name_of(stage_names, NELEM(stage_names), s);
}

const char *
target_type_name(enum target_type t)
{
	return name_of(target_names, NELEM(target_names), t);
}

const char *
run_source_name(enum run_source s)
{
	return name_of(source_names, NELEM(source_names), s);
}

int
run_status_parse(const char *s, enum run_status *out)
{
	int	 i = index_of(status_names, NELEM(status_names), s);

	if (i == -1)
		return -1;
	*out = (enum run_status)i;
	return 0;
}

int
run_stage_parse(const char *s, enum run_stage *out)
{
	int	 i = index_of(stage_names, NELEM(stage_names), s);

	if (i == -1)
		return -1;
	*out = (enum run_stage)i;
	return 0;
}

int
target_type_parse(const char *s, enum target_type *out)
{
	int	 i = index_of(target_names, NELEM(target_names), s);

	if (i == -1)
		return -1;
	*out = (enum target_type)i;
	return 0;
}

int
run_source_parse(const char *s, enum run_source *out)
{
	int	 i = index_of(source_names, NELEM(source_names), s);

	if (i == -1)
		return -1;
	*out = (enum run_source)i;
	return 0;
}

int
run_status_finished(enum run_status s)
{
	return s == RUN_SUCCEEDED || s == RUN_FAILED || s == RUN_CANCELLED;
}

int
run_can_move(enum run_status from, enum run_status to)
{
	switch (from) {
	case RUN_QUEUED:
		return to == RUN_RUNNING || to == RUN_CANCELLED;
	case RUN_RUNNING:
		return to == RUN_SUCCEEDED || to == RUN_FAILED ||
		    to == RUN_CANCELLED;
	default:
		return 0;
	}
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* An owner: 1-39 of [A-Za-z0-9-], no '-' first, last or twice in a row. */
static int
owner_valid(const char *s, size_t n)
{
	size_t	 i;

	if (n < 1 || n > REPO_OWNER_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '-') {
			if (s[i + 1] == '-')
				return 0;
		} else if (!is_alnum(s[i]))
			return 0;
	}
	return 1;
}

static int
name_valid(const char *s, size_t n)
{
	size_t	 i;

	if (n < 1 || n > REPO_NAME_MAX)
		return 0;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	if (n >= 4 && strncasecmp(s + n - 4, ".git", 4) == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

int
repo_name_valid(const char *s)
{
	const char	*slash;

	if (s == NULL || (slash = strchr(s, '/')) == NULL)
		return 0;
	return owner_valid(s, (size_t)(slash - s)) &&
	    name_valid(slash + 1, strlen(slash + 1));
}

int
repo_key(const char *s, char *out, size_t outlen)
{
	size_t	 i, n = strlen(s);

	if (n >= outlen)
		return -1;
	for (i = 0; i <= n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) :
		    s[i];
	return 0;
}

int
login_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i == LOGIN_MAX || !(is_alnum(s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

int
target_number_valid(int64_t n)
{
	return n >= 1 && n <= TARGET_NUMBER_MAX;
}

/*
 * The length of the white space character at s (n bytes left), or 0.
 * Unicode's White_Space property: U+0009-000D, U+0020, U+0085, U+00A0,
 * U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F and U+3000.
 */
static size_t
space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0d)))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] <= 0x8a || s[2] == 0xa8 ||
	    s[2] == 0xa9 || s[2] == 0xaf))
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

/* The length of the white space character ending at s + n, or 0. */
static size_t
space_before(const unsigned char *s, size_t n)
{
	size_t	 k;

	for (k = 1; k <= 3 && k <= n; k++)
		if ((s[n - k] & 0xc0) != 0x80)
			return space_at(s + n - k, k) == k ? k : 0;
	return 0;
}

enum gt_err
instruction_trim(const char *str, size_t n, const char **start, size_t *len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 k, i, count = 0;

	while (n > 0 && (k = space_at(s, n)) > 0) {
		s += k;
		n -= k;
	}
	while (n > 0 && (k = space_before(s, n)) > 0)
		n -= k;
	if (n == 0 || memchr(s, '\0', n) != NULL)
		return GT_ERR_INVALID;
	for (i = 0; i < n; i++)
		if ((s[i] & 0xc0) != 0x80 && ++count > INSTRUCTION_MAX)
			return GT_ERR_TOO_LARGE;
	*start = (const char *)s;
	*len = n;
	return GT_OK;
}

static int
hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

int
run_id_parse(const char *s, char *out)
{
	size_t	 i;

	if (s == NULL || strlen(s) != RUN_ID_LEN)
		return -1;
	for (i = 0; i < RUN_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!hex_digit(s[i]))
			return -1;
	}
	for (i = 0; i <= RUN_ID_LEN; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) :
		    s[i];
	return 0;
}

int
idempotency_key_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i == IDEMPOTENCY_KEY_MAX || s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
artifact_name_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || !is_alnum(s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (i == ARTIFACT_NAME_MAX || !(is_alnum(s[i]) ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

const char *
artifact_content_type(const char *name)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".log", "text/plain; charset=utf-8" },
		{ ".patch", "text/plain; charset=utf-8" },
		{ ".diff", "text/plain; charset=utf-8" },
		{ ".json", "application/json" },
	};
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	for (i = 0; dot != NULL && i < NELEM(types); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}
