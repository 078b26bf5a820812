/*
 * controllers.h: the route handlers.
 *
 * A controller parses and validates its input, calls one use case through
 * the ports the wiring gave it, and writes the answer.  Each takes the
 * application (struct app, see app.h) as its context.
 */
#ifndef GT_CONTROLLERS_H
#define GT_CONTROLLERS_H

struct request;
struct response;

/* GET /health */
void	 ctl_health(void *app, struct request *, struct response *);

/* POST /api/runs, GET /api/runs, GET /api/runs/:run_id */
void	 ctl_runs_create(void *app, struct request *, struct response *);
void	 ctl_runs_list(void *app, struct request *, struct response *);
void	 ctl_runs_get(void *app, struct request *, struct response *);

/* POST /api/runs/:run_id/cancel */
void	 ctl_runs_cancel(void *app, struct request *, struct response *);

/* GET /api/runs/:run_id/artifacts/:name */
void	 ctl_runs_artifact(void *app, struct request *, struct response *);

/* POST /api/github/webhook */
void	 ctl_webhook(void *app, struct request *, struct response *);

/*
 * POST /api/admin/pause-repo, /resume-repo, /pause-target, /resume-target,
 * GET /api/admin/paused
 */
void	 ctl_admin_pause_repo(void *app, struct request *, struct response *);
void	 ctl_admin_resume_repo(void *app, struct request *, struct response *);
void	 ctl_admin_pause_target(void *app, struct request *,
	    struct response *);
void	 ctl_admin_resume_target(void *app, struct request *,
	    struct response *);
void	 ctl_admin_paused(void *app, struct request *, struct response *);

/* PUT and DELETE /api/admin/rate-limits/:owner/:name */
void	 ctl_admin_set_limit(void *app, struct request *, struct response *);
void	 ctl_admin_remove_limit(void *app, struct request *,
	    struct response *);

/* GET /api/analytics */
void	 ctl_analytics(void *app, struct request *, struct response *);

/* GET /metrics */
void	 ctl_metrics(void *app, struct request *, struct response *);

#endif
