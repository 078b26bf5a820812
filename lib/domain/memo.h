/*
 * memo.h: a small, fixed-size memory of byte strings by key, for answers
 * that never change once made (a finished run, say).
 *
 * The memory is direct-mapped: a key has one slot, chosen by its hash,
 * and a new key in that slot takes the place of the old one.  Nothing
 * expires, so only what can never change may be kept.  Its size is
 * bounded by slots * max_len bytes of values, whatever is put.
 */
#ifndef GT_MEMO_H
#define GT_MEMO_H

#include <stddef.h>

/* The longest key a memo keeps, in bytes. */
#define MEMO_KEY_MAX	63

struct memo;

/*
 * A memo of slots entries (> 0) holding values of up to max_len bytes.
 * Returns NULL when memory is short.
 */
struct memo	*memo_new(size_t slots, size_t max_len);

/* Frees the memo and every value.  Accepts NULL. */
void		 memo_free(struct memo *);

/*
 * Whether key is kept: 0 with *data and *len pointing into the memo,
 * valid until the next memo_put(); -1 when it is not.
 */
int		 memo_get(const struct memo *, const char *key,
		    const char **data, size_t *len);

/*
 * Keeps len bytes of data under key, in place of what held its slot.  A
 * key over MEMO_KEY_MAX bytes or a value over max_len is not kept, nor
 * anything when memory is short: the memo is only ever a shortcut.
 */
void		 memo_put(struct memo *, const char *key, const char *data,
		    size_t len);

#endif
