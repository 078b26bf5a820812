/*
 * arena.h: a region allocator for memory that lives as long as one request.
 *
 * Everything taken from an arena is released at once by arena_reset() or
 * arena_free(); nothing taken from it is freed on its own.  A worker keeps
 * one arena and resets it when each request ends, so no allocation made
 * while answering a request can outlive it.
 */
#ifndef GT_ARENA_H
#define GT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/*
 * A new, empty arena.  Returns NULL when memory is short.  The caller frees
 * it with arena_free().
 */
struct arena	*arena_new(void);

/* Releases the arena and all it handed out.  Accepts NULL. */
void		 arena_free(struct arena *);

/*
 * Releases all the arena handed out, keeping its first block for reuse.
 * Pointers taken from it before are invalid afterwards.
 */
void		 arena_reset(struct arena *);

/*
 * Memory for n bytes aligned for any type, or NULL when memory is short or
 * n is absurdly large.  The arena owns it.
 */
void		*arena_alloc(struct arena *, size_t n);

/* As arena_alloc(), zero-filled, for nmemb elements of size bytes. */
void		*arena_calloc(struct arena *, size_t nmemb, size_t size);

/* A NUL-terminated copy of the first n bytes of s, owned by the arena. */
char		*arena_strndup(struct arena *, const char *s, size_t n);

/* A copy of the string s, owned by the arena; NULL stays NULL. */
char		*arena_strdup(struct arena *, const char *s);

/* A formatted string owned by the arena, or NULL when memory is short. */
char		*arena_printf(struct arena *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
char		*arena_vprintf(struct arena *, const char *fmt, va_list);

/* Bytes currently held from the system, for tests and metrics. */
size_t		 arena_footprint(const struct arena *);

#endif
