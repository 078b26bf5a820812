/*
 * memo.c: a small, fixed-size memory of byte strings by key.
 *
 * Each slot owns one allocation, grown when a longer value comes and
 * reused otherwise, so a memo that has filled allocates no more.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/memo.h"

struct memo_slot {
	char	 key[MEMO_KEY_MAX + 1];	/* "" when empty */
	char	*data;
	size_t	 len;
	size_t	 cap;
};

struct memo {
	struct memo_slot	*slots;
	size_t			 nslots;
	size_t			 max_len;
};

/* FNV-1a, 64 bits: keys are ids, already well spread; this is enough. */
static uint64_t
hash(const char *key)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct memo *
memo_new(size_t slots, size_t max_len)
{
	struct memo	*m;

	if (slots == 0 || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->slots = calloc(slots, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	m->nslots = slots;
	m->max_len = max_len;
	return m;
}

void
memo_free(struct memo *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nslots; i++)
		free(m->slots[i].data);
	free(m->slots);
	free(m);
}

int
memo_get(const struct memo *m, const char *key, const char **data,
    size_t *len)
{
	const struct memo_slot	*s = &m->slots[hash(key) % m->nslots];

	if (s->key[0] == '\0' || strcmp(s->key, key) != 0)
		return -1;
	*data = s->data;
	*len = s->len;
	return 0;
}

void
memo_put(struct memo *m, const char *key, const char *data, size_t len)
{
	struct memo_slot	*s;
	size_t			 klen = strlen(key);
	char			*p;

	if (klen == 0 || klen > MEMO_KEY_MAX || len > m->max_len)
		return;
	s = &m->slots[hash(key) % m->nslots];

	/* Emptied first: a failed allocation leaves no stale pairing. */
	s->key[0] = '\0';
	if (len + 1 > s->cap) {
		if ((p = realloc(s->data, len + 1)) == NULL)
			return;
		s->data = p;
		s->cap = len + 1;
	}
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	memcpy(s->key, key, klen + 1);
}
