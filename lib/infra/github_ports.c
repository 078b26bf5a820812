/*
 * github_ports.c: the outbox's and the reconciler's GitHub calls.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "infra/clock.h"
#include "infra/github.h"
#include "infra/github_ports.h"

#define DELIVERIES_PER_PAGE	100

/* Turns the client's result into the use cases' answer. */
static void
to_answer(const struct github_result *res, struct gh_answer *a)
{
	int64_t	 wait_ms;

	memset(a, 0, sizeof(*a));
	switch (res->outcome) {
	case GITHUB_OK:
		a->verdict = GH_DONE;
		return;
	case GITHUB_RATE_LIMITED:
		a->verdict = GH_LIMITED;
		wait_ms = res->retry_at_ms - clock_now_ms();
		a->wait_s = wait_ms <= 1000 ? 1 : (wait_ms + 999) / 1000;
		break;
	case GITHUB_TRANSIENT:
		a->verdict = GH_TRANSIENT;
		break;
	case GITHUB_PERMANENT:
		a->verdict = GH_PERMANENT;
		break;
	}
	snprintf(a->error, sizeof(a->error), "github answered %ld (%s)",
	    res->status, github_outcome_name(res->outcome));
}

static void
outbox_react(void *ctx, int64_t installation_id, const char *repo,
    const char *comment_kind, int64_t comment_id, const char *content,
    struct gh_answer *a)
{
	struct github_result	 res;

	memset(&res, 0, sizeof(res));
	res.outcome = GITHUB_PERMANENT;
	(void)github_react(ctx, installation_id, repo,
	    comment_kind != NULL &&
	    strcmp(comment_kind, "pull_request_review_comment") == 0 ?
	    GITHUB_REVIEW_COMMENT : GITHUB_ISSUE_COMMENT, comment_id, content,
	    &res);
	to_answer(&res, a);
}

static void
outbox_comment(void *ctx, int64_t installation_id, const char *repo,
    int32_t number, const char *body, struct gh_answer *a)
{
	struct github_result	 res;

	memset(&res, 0, sizeof(res));
	res.outcome = GITHUB_PERMANENT;
	(void)github_comment(ctx, installation_id, repo, number, body, &res);
	to_answer(&res, a);
}

void
github_outbox_port(struct github *gh, struct github_port *port)
{
	memset(port, 0, sizeof(*port));
	port->ctx = gh;
	port->react = outbox_react;
	port->comment = outbox_comment;
}

/*
 * Appends the page's deliveries to d (room for max, *n used); returns the
 * oldest delivery time on the page, or -1 when the page does not read.
 */
static int64_t
read_page(struct arena *a, const char *body, size_t len,
    struct hook_delivery *d, size_t max, size_t *n)
{
	const struct json	*root, *j, *guid, *when;
	enum json_error		 je;
	int64_t			 oldest = INT64_MAX, code, t;

	root = json_parse(a, body, len, &je);
	if (root == NULL || root->type != JSON_ARRAY)
		return -1;
	for (j = root->child; j != NULL && *n < max; j = j->next) {
		guid = json_get(j, "guid");
		when = json_get(j, "delivered_at");
		if (json_int(json_get(j, "id"), 1, INT64_MAX, &d[*n].id) ==
		    -1 || guid == NULL || guid->type != JSON_STRING ||
		    when == NULL || when->type != JSON_STRING ||
		    github_parse_time(when->str, &t) == -1 ||
		    json_int(json_get(j, "status_code"), 0, 999, &code) == -1)
			continue;	/* not one we can judge: left alone */
		t /= 1000;
		d[*n].guid = guid->str;
		d[*n].delivered_s = t;
		d[*n].status_code = (int)code;
		(*n)++;
		if (t < oldest)
			oldest = t;
	}
	return oldest;
}

static void
deliveries_list(void *ctx, struct arena *a, struct hook_delivery **out,
    size_t *n, struct gh_answer *ans)
{
	struct github_deliveries	*gd = ctx;
	struct github_result		 res;
	struct hook_delivery		*d;
	const char			*cursor = NULL;
	size_t				 max, page;
	int64_t				 oldest;

	*out = NULL;
	*n = 0;
	max = (size_t)GITHUB_DELIVERY_PAGES * DELIVERIES_PER_PAGE;
	if ((d = arena_calloc(a, max, sizeof(*d))) == NULL) {
		memset(ans, 0, sizeof(*ans));
		ans->verdict = GH_TRANSIENT;
		snprintf(ans->error, sizeof(ans->error), "out of memory");
		return;
	}
	for (page = 0; page < GITHUB_DELIVERY_PAGES; page++) {
		memset(&res, 0, sizeof(res));
		res.outcome = GITHUB_PERMANENT;
		(void)github_hook_deliveries(gd->gh, DELIVERIES_PER_PAGE,
		    cursor, &res);
		to_answer(&res, ans);
		if (ans->verdict != GH_DONE)
			return;
		if ((oldest = read_page(a, res.body, res.len, d, max, n)) ==
		    -1) {
			ans->verdict = GH_PERMANENT;
			snprintf(ans->error, sizeof(ans->error),
			    "the deliveries are not a JSON array");
			return;
		}
		if (res.next_cursor == NULL || oldest < gd->since_s)
			break;
		if ((cursor = arena_strdup(a, res.next_cursor)) == NULL)
			break;
	}
	*out = d;
}

static void
deliveries_redeliver(void *ctx, int64_t id, struct gh_answer *a)
{
	struct github_deliveries	*gd = ctx;
	struct github_result		 res;

	memset(&res, 0, sizeof(res));
	res.outcome = GITHUB_PERMANENT;
	(void)github_redeliver(gd->gh, id, &res);
	to_answer(&res, a);
}

void
github_deliveries_port(struct github_deliveries *gd,
    struct deliveries_port *port)
{
	memset(port, 0, sizeof(*port));
	port->ctx = gd;
	port->list = deliveries_list;
	port->redeliver = deliveries_redeliver;
}
