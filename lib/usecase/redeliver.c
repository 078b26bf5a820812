/*
 * redeliver.c: asking GitHub again for the deliveries the service lost.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "usecase/redeliver.h"

/* A delivery (one guid) and what its attempts say. */
struct candidate {
	const char	*guid;
	int64_t		 newest_failed;	/* attempt id; 0 when none */
	int		 succeeded;
	int		 in_window;
};

static struct candidate *
find(struct candidate *c, size_t n, const char *guid)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].guid, guid) == 0)
			return &c[i];
	return NULL;
}

/* Groups the attempts by delivery; *n is the number of deliveries. */
static struct candidate *
group(struct arena *arena, const struct hook_delivery *d, size_t nd,
    int64_t since_s, size_t *n)
{
	struct candidate	*c, *k;
	size_t			 i;

	*n = 0;
	if ((c = arena_calloc(arena, nd > 0 ? nd : 1, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < nd; i++) {
		if (d[i].guid == NULL || d[i].guid[0] == '\0')
			continue;
		if ((k = find(c, *n, d[i].guid)) == NULL) {
			k = &c[(*n)++];
			k->guid = d[i].guid;
		}
		if (d[i].status_code >= 200 && d[i].status_code <= 299)
			k->succeeded = 1;
		else if (k->newest_failed == 0)
			k->newest_failed = d[i].id;	/* newest first */
		if (d[i].delivered_s >= since_s)
			k->in_window = 1;
	}
	return c;
}

int
redeliver_round(const struct redeliver_ports *p, struct arena *arena,
    int64_t window_s, const char **why)
{
	const struct deliveries_port	*gh = p->github;
	const struct redelivery_store	*st = p->store;
	struct hook_delivery		*d = NULL;
	struct candidate		*c;
	struct gh_answer		 a;
	const char			**guids;
	size_t				 nd = 0, nc, nw = 0, i;
	int				*known, asked = 0;

	*why = NULL;
	memset(&a, 0, sizeof(a));
	gh->list(gh->ctx, arena, &d, &nd, &a);
	if (a.verdict != GH_DONE) {
		*why = "github";
		return -1;
	}
	if ((c = group(arena, d, nd, p->wall_s() - window_s, &nc)) == NULL) {
		*why = "memory";
		return -1;
	}

	/* The failed deliveries of the window, for the store to sort out. */
	if ((guids = arena_calloc(arena, nc > 0 ? nc : 1,
	    sizeof(*guids))) == NULL) {
		*why = "memory";
		return -1;
	}
	for (i = 0; i < nc; i++)
		if (!c[i].succeeded && c[i].in_window && c[i].newest_failed > 0)
			c[nw++] = c[i];
	for (i = 0; i < nw; i++)
		guids[i] = c[i].guid;
	if (nw == 0)
		return 0;
	if (st->known(st->ctx, arena, guids, nw, &known) != GT_OK) {
		*why = "database";
		return -1;
	}

	for (i = 0; i < nw; i++) {
		if (known[i])
			continue;
		gh->redeliver(gh->ctx, c[i].newest_failed, &a);
		if (a.verdict != GH_DONE)
			continue;	/* not asked: the next look tries */
		if (st->asked(st->ctx, c[i].guid, c[i].newest_failed) !=
		    GT_OK) {
			*why = "database";
			return -1;
		}
		asked++;
	}
	return asked;
}
