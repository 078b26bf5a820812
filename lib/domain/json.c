/*
 * json.c: the strict JSON reader.
 *
 * A recursive-descent parser over the grammar of RFC 8259, section 2 to
 * 7.  Recursion is bounded by JSON_MAX_DEPTH, so hostile nesting cannot
 * exhaust the stack.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/text.h"

/*
 * The members of an object up to which each new name is compared with
 * those before it, so that a repeated name is refused where it stands;
 * a larger object is checked once it is read (has_repeated_member).
 */
#define MEMBERS_SCANNED	16

struct parser {
	struct arena	*arena;
	const char	*p;
	const char	*end;
	enum json_error	 err;
	size_t		 values;	/* nodes made so far */
};

static struct json	*parse_value(struct parser *, int depth);
static struct json	*parse_bare_value(struct parser *, int depth);

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct json *
fail(struct parser *ps, enum json_error e)
{
	if (ps->err == JSON_OK)
		ps->err = e;
	return NULL;
}

static struct json *
node(struct parser *ps, enum json_type type)
{
	struct json	*j;

	if (++ps->values > JSON_MAX_VALUES)
		return fail(ps, JSON_ERR_TOO_MANY);
	if ((j = arena_calloc(ps->arena, 1, sizeof(*j))) == NULL)
		return fail(ps, JSON_ERR_NOMEM);
	j->type = type;
	return j;
}

static int
hex4(const char *s, unsigned int *out)
{
	unsigned int	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned int)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (unsigned int)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= (unsigned int)(s[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A \uXXXX escape at ps->p (after the backslash and 'u'), with its low
 * surrogate when it is a high one.  Returns the code point, or -1.
 */
static long
unicode_escape(struct parser *ps)
{
	unsigned int	 hi, lo;

	if (ps->end - ps->p < 4 || hex4(ps->p, &hi) == -1)
		return -1;
	ps->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1;
	if (hi < 0xd800 || hi > 0xdbff)
		return (long)hi;
	if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
	    hex4(ps->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
		return -1;
	ps->p += 6;
	return 0x10000 + (((long)hi - 0xd800) << 10) + ((long)lo - 0xdc00);
}

/*
 * A string at ps->p (on its opening quote), decoded into the arena.  The
 * decoded form is never longer than the raw one, so one allocation of
 * the raw length is enough.
 */
static const char *
parse_string(struct parser *ps, size_t *lenp)
{
	const char	*start = ++ps->p;
	char		*out;
	size_t		 o = 0;
	long		 cp;

	while (ps->p < ps->end && *ps->p != '"') {
		if (*ps->p == '\\' && ps->end - ps->p < 2)
			return (const char *)fail(ps, JSON_ERR_SYNTAX);
		ps->p += *ps->p == '\\' ? 2 : 1;
	}
	if (ps->p >= ps->end)
		return (const char *)fail(ps, JSON_ERR_SYNTAX);
	if ((out = arena_alloc(ps->arena, (size_t)(ps->p - start) + 1)) == NULL)
		return (const char *)fail(ps, JSON_ERR_NOMEM);

	for (ps->p = start; *ps->p != '"'; ) {
		unsigned char	 c = (unsigned char)*ps->p++;

		if (c < 0x20)
			return (const char *)fail(ps, JSON_ERR_SYNTAX);
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		switch (*ps->p++) {
		case '"':  out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/':  out[o++] = '/'; break;
		case 'b':  out[o++] = '\b'; break;
		case 'f':  out[o++] = '\f'; break;
		case 'n':  out[o++] = '\n'; break;
		case 'r':  out[o++] = '\r'; break;
		case 't':  out[o++] = '\t'; break;
		case 'u':
			if ((cp = unicode_escape(ps)) == -1)
				return (const char *)fail(ps, JSON_ERR_SYNTAX);
			if (cp == 0)
				return (const char *)fail(ps, JSON_ERR_NUL);
			o += put_utf8(out + o, (unsigned int)cp);
			break;
		default:
			return (const char *)fail(ps, JSON_ERR_SYNTAX);
		}
	}
	ps->p++;
	out[o] = '\0';
	*lenp = o;
	return out;
}

static int
is_digit(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* RFC 8259, section 6: -? int frac? exp? */
static struct json *
parse_number(struct parser *ps)
{
	const char	*start = ps->p;
	struct json	*j;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (!is_digit(ps))
		return fail(ps, JSON_ERR_SYNTAX);
	if (*ps->p == '0')
		ps->p++;
	else
		while (is_digit(ps))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!is_digit(ps))
			return fail(ps, JSON_ERR_SYNTAX);
		while (is_digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps))
			return fail(ps, JSON_ERR_SYNTAX);
		while (is_digit(ps))
			ps->p++;
	}
	if ((j = node(ps, JSON_NUMBER)) == NULL)
		return NULL;
	j->len = (size_t)(ps->p - start);
	if ((j->str = arena_strndup(ps->arena, start, j->len)) == NULL)
		return fail(ps, JSON_ERR_NOMEM);
	return j;
}

static struct json *
parse_literal(struct parser *ps, const char *word, enum json_type type)
{
	size_t	 n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, JSON_ERR_SYNTAX);
	ps->p += n;
	return node(ps, type);
}

/* Appends child to parent's list of elements, tail kept in *tail. */
static void
append(struct json *parent, struct json **tail, struct json *child)
{
	if (*tail == NULL)
		parent->child = child;
	else
		(*tail)->next = child;
	*tail = child;
	parent->n++;
}

static struct json *
parse_array(struct parser *ps, int depth)
{
	struct json	*a, *v, *tail = NULL;

	ps->p++;
	if ((a = node(ps, JSON_ARRAY)) == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return a;
	}
	for (;;) {
		if ((v = parse_value(ps, depth)) == NULL)
			return NULL;
		append(a, &tail, v);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return a;
		}
		return fail(ps, JSON_ERR_SYNTAX);
	}
}

/* Whether an earlier member of o is called key (of klen bytes). */
static int
has_member(const struct json *o, const char *key, size_t klen)
{
	const struct json	*m;

	for (m = o->child; m != NULL; m = m->next)
		if (strlen(m->key) == klen && memcmp(m->key, key, klen) == 0)
			return 1;
	return 0;
}

static int
by_key(const void *a, const void *b)
{
	const struct json	*x = *(const struct json *const *)a;
	const struct json	*y = *(const struct json *const *)b;

	return strcmp(x->key, y->key);
}

/*
 * Whether two members of o share a name, found by sorting the names: the
 * check of each new member against those before it takes time in the
 * square of their number, which a body of a million members would turn
 * into hours of one worker.  Names hold no NUL, so strcmp compares them
 * whole.  Returns 1 when two do, 0 when none do, -1 when the arena is
 * out of memory.
 */
static int
has_repeated_member(struct arena *arena, const struct json *o)
{
	const struct json	**all, *m;
	size_t			  i = 0;

	if ((all = arena_calloc(arena, o->n, sizeof(*all))) == NULL)
		return -1;
	for (m = o->child; m != NULL; m = m->next)
		all[i++] = m;
	qsort(all, o->n, sizeof(*all), by_key);
	for (i = 1; i < o->n; i++)
		if (strcmp(all[i - 1]->key, all[i]->key) == 0)
			return 1;
	return 0;
}

static struct json *
parse_object(struct parser *ps, int depth)
{
	struct json	*o, *v, *tail = NULL;
	const char	*key;
	size_t		 klen;

	ps->p++;
	if ((o = node(ps, JSON_OBJECT)) == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return o;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return fail(ps, JSON_ERR_SYNTAX);
		if ((key = parse_string(ps, &klen)) == NULL)
			return NULL;
		if (o->n < MEMBERS_SCANNED && has_member(o, key, klen))
			return fail(ps, JSON_ERR_DUPLICATE);
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, JSON_ERR_SYNTAX);
		ps->p++;
		if ((v = parse_value(ps, depth)) == NULL)
			return NULL;
		v->key = key;
		append(o, &tail, v);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		return fail(ps, JSON_ERR_SYNTAX);
	}

	if (o->n > MEMBERS_SCANNED) {
		switch (has_repeated_member(ps->arena, o)) {
		case 1:
			return fail(ps, JSON_ERR_DUPLICATE);
		case -1:
			return fail(ps, JSON_ERR_NOMEM);
		}
	}
	return o;
}

/* A value and, in its node, where its text lies in the input. */
static struct json *
parse_value(struct parser *ps, int depth)
{
	const char	*start;
	struct json	*j;

	skip_ws(ps);
	start = ps->p;
	if ((j = parse_bare_value(ps, depth)) != NULL) {
		j->raw = start;
		j->rawlen = (size_t)(ps->p - start);
	}
	return j;
}

static struct json *
parse_bare_value(struct parser *ps, int depth)
{
	struct json	*j;

	if (ps->p >= ps->end)
		return fail(ps, JSON_ERR_SYNTAX);
	switch (*ps->p) {
	case '{':
		if (depth >= JSON_MAX_DEPTH)
			return fail(ps, JSON_ERR_DEPTH);
		return parse_object(ps, depth + 1);
	case '[':
		if (depth >= JSON_MAX_DEPTH)
			return fail(ps, JSON_ERR_DEPTH);
		return parse_array(ps, depth + 1);
	case '"':
		if ((j = node(ps, JSON_STRING)) == NULL)
			return NULL;
		if ((j->str = parse_string(ps, &j->len)) == NULL)
			return NULL;
		return j;
	case 't':
		return parse_literal(ps, "true", JSON_TRUE);
	case 'f':
		return parse_literal(ps, "false", JSON_FALSE);
	case 'n':
		return parse_literal(ps, "null", JSON_NULL);
	default:
		return parse_number(ps);
	}
}

struct json *
json_parse(struct arena *arena, const char *text, size_t n,
    enum json_error *err)
{
	struct parser	 ps;
	struct json	*root;

	*err = JSON_OK;
	if (!utf8_valid(text, n)) {
		*err = JSON_ERR_UTF8;
		return NULL;
	}
	ps.arena = arena;
	ps.p = text;
	ps.end = text + n;
	ps.err = JSON_OK;
	ps.values = 0;
	root = parse_value(&ps, 0);
	if (root != NULL) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			root = fail(&ps, JSON_ERR_SYNTAX);
	}
	*err = ps.err;
	return root;
}

const struct json *
json_get(const struct json *o, const char *key)
{
	const struct json	*m;

	if (o == NULL || o->type != JSON_OBJECT)
		return NULL;
	for (m = o->child; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

int
json_int(const struct json *j, int64_t min, int64_t max, int64_t *out)
{
	if (j == NULL || j->type != JSON_NUMBER ||
	    strpbrk(j->str, ".eE") != NULL)
		return -1;
	return parse_int64(j->str, min, max, out);
}

const char *
json_error_name(enum json_error e)
{
	static const char *const names[] = {
		[JSON_OK] = "ok",
		[JSON_ERR_SYNTAX] = "syntax",
		[JSON_ERR_UTF8] = "utf8",
		[JSON_ERR_NUL] = "nul",
		[JSON_ERR_DUPLICATE] = "duplicate_key",
		[JSON_ERR_DEPTH] = "too_deep",
		[JSON_ERR_NOMEM] = "nomem",
		[JSON_ERR_TOO_MANY] = "too_many_values",
	};

	if ((size_t)e >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[e];
}
