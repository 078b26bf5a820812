/*
 * arena.c: a region allocator made of a list of blocks.
 *
 * Small requests are carved from the current block; a request larger than a
 * quarter of the default block gets a block of its own, so a large body
 * does not waste the rest of a shared block.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"

#define ARENA_BLOCK	(16 * 1024)
#define ARENA_ALIGN	(_Alignof(max_align_t))

struct block {
	struct block	*next;
	size_t		 size;	/* usable bytes after the header */
	size_t		 used;
	max_align_t	 data[];
};

struct arena {
	struct block	*head;	/* the block being filled; its list follows */
	struct block	*first;	/* kept across resets */
};

static struct block *
block_new(size_t size)
{
	struct block	*b;

	/*
	 * No object may be larger than PTRDIFF_MAX bytes, or differences of
	 * pointers into it would overflow (C11, 6.5.6).  Refusing here, not
	 * in malloc(), also keeps an absurd size from a sanitizer's
	 * allocator, which reports it as a bug instead of answering NULL.
	 */
	if (size > (size_t)PTRDIFF_MAX - sizeof(*b))
		return NULL;
	if ((b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(void)
{
	struct arena	*a;

	if ((a = malloc(sizeof(*a))) == NULL)
		return NULL;
	if ((a->first = block_new(ARENA_BLOCK)) == NULL) {
		free(a);
		return NULL;
	}
	a->head = a->first;
	return a;
}

static void
release_blocks(struct arena *a)
{
	struct block	*b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (b != a->first)
			free(b);
	}
	a->first->next = NULL;
	a->first->used = 0;
	a->head = a->first;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	release_blocks(a);
	free(a->first);
	free(a);
}

void
arena_reset(struct arena *a)
{
	if (a != NULL)
		release_blocks(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct block	*b;
	size_t		 need;
	void		*p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);

	b = a->head;
	if (b->size - b->used >= need) {
		p = (char *)b->data + b->used;
		b->used += need;
		return p;
	}

	/*
	 * A large request gets a block of its own placed behind the head, so
	 * the head keeps serving small requests.
	 */
	if (need > ARENA_BLOCK / 4) {
		if ((b = block_new(need)) == NULL)
			return NULL;
		b->used = need;
		b->next = a->head->next;
		a->head->next = b;
		return b->data;
	}

	if ((b = block_new(ARENA_BLOCK)) == NULL)
		return NULL;
	b->next = a->head;
	a->head = b;
	b->used = need;
	return b->data;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	if (n == SIZE_MAX || (p = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list	 copy;
	char	*p;
	int	 n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	if (vsnprintf(p, (size_t)n + 1, fmt, ap) != n)
		return NULL;
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t
arena_footprint(const struct arena *a)
{
	const struct block	*b;
	size_t			 total = 0;

	for (b = a->head; b != NULL; b = b->next)
		total += sizeof(*b) + b->size;
	return total;
}
