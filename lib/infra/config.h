/*
 * config.h: the service's configuration.
 *
 * Read from a "key = value" file ('#' starts a comment), then overridden by
 * the environment: GITTINKERER_<KEY> in upper case.  A secret key may
 * instead be given as <key>_file naming a file that holds the value (its
 * trailing newline is dropped), in the file or the environment, so secrets
 * need not sit in the configuration or in a process's environment.
 *
 * Every value is validated when loaded; an unknown key or a bad value stops
 * the load with a message naming the key.
 */
#ifndef GT_CONFIG_H
#define GT_CONFIG_H

#include <stddef.h>

struct config {
	/* The worker pool. */
	char	*listen;		/* listen: unix:PATH or HOST:PORT */
	int	 workers;		/* workers: processes in the pool */
	long	 max_requests;		/* max_requests: recycle after; 0 never */
	int	 drain_timeout_s;	/* drain_timeout: seconds to finish */
	int	 log_level;		/* log_level: an enum log_level */

	/* PostgreSQL. */
	char	*database_url;		/* database_url (secret): conninfo */
	int	 db_connect_timeout_ms;	/* db_connect_timeout_ms */
	int	 statement_timeout_ms;	/* statement_timeout_ms */
	char	*migrations_dir;	/* migrations_dir */

	/* Redis. */
	char	*redis;			/* redis: HOST:PORT or unix:PATH */
	char	*redis_password;	/* redis_password (secret) */
	int	 redis_connect_timeout_ms; /* redis_connect_timeout_ms */
	int	 redis_command_timeout_ms; /* redis_command_timeout_ms */

	/* /health. */
	int	 health_timeout_ms;	/* health_timeout_ms: per dependency */

	/* Authentication. */
	char	**operator_tokens;	/* operator_tokens (secret), comma list */
	size_t	 operator_tokens_n;
	char	**admin_tokens;		/* admin_tokens (secret), comma list */
	size_t	 admin_tokens_n;
	char	*webhook_secret;	/* webhook_secret (secret) */

	/* Runs. */
	char	*artifacts_root;	/* artifacts_root */

	/* Run creation limits (an admin may override a repository's). */
	int	 repo_rate_limit;	/* repo_rate_limit: runs per window */
	int	 repo_rate_window_s;	/* repo_rate_window: seconds */
	int	 requester_rate_limit;	/* requester_rate_limit */
	int	 requester_rate_window_s; /* requester_rate_window */

	/* The dispatcher and the runner it starts. */
	char	*dispatcher_id;		/* dispatcher_id: default host:pid */
	int	 dispatcher_slots;	/* dispatcher_slots: runs at once */
	char	*runner_path;		/* runner_path */
	int	 run_timeout_s;		/* run_timeout */
	int	 run_grace_s;		/* run_grace: SIGTERM to SIGKILL */
	int	 lease_s;		/* lease: a heartbeat older is dead */
	int	 heartbeat_s;		/* heartbeat_interval */
	int	 poll_s;		/* poll_interval: claim this often */
	int	 log_cap_bytes;		/* log_cap: of a run's log.txt */
	int	 runner_max_procs;	/* runner_max_procs, 0 no limit */
	int	 runner_max_memory_mb;	/* runner_max_memory_mb, 0 none */
	int	 runner_max_open_files;	/* runner_max_open_files, 0 none */
	char	*runner_path_env;	/* runner_env_path: PATH */
	char	*runner_home;		/* runner_home: HOME */

	/* The GitHub webhook. */
	char	*webhook_command;	/* webhook_command: the trigger word */
	char	**webhook_associations;	/* webhook_allowed_associations */
	size_t	 webhook_associations_n;

	/*
	 * The GitHub App; github_app_id 0 means none is configured, and the
	 * service then neither calls GitHub nor hands the runner a token.
	 * The private key (PEM) is github_private_key (secret: also as
	 * github_private_key_file); when neither is set, private-key.pem
	 * beside the configuration file is read if it exists, else the
	 * environment variable GITTINKERER_GITHUB_PRIVATE_KEY.
	 */
	char	*github_api_url;	/* github_api_url: REST base URL */
	long	 github_app_id;		/* github_app_id: 0 none */
	char	*github_private_key;	/* github_private_key (secret), PEM */
	int	 github_timeout_ms;	/* github_timeout_ms: per request */

	/* The GitHub outbox sender and the redelivery reconciler. */
	int	 outbox_max_attempts;	/* outbox_max_attempts */
	int	 outbox_backoff_s;	/* outbox_backoff: first retry delay */
	int	 outbox_poll_s;		/* outbox_poll_interval */
	int	 redelivery_interval_s;	/* redelivery_interval: 0 never */
	int	 redelivery_hours;	/* redelivery_hours: how far back */

	/* Error reports to Sentry; none without a DSN. */
	char	*sentry_dsn;		/* sentry_dsn (secret) */
	int	 sentry_timeout_ms;	/* sentry_timeout_ms: per report */
	char	*sentry_environment;	/* sentry_environment */
};

/*
 * Loads the configuration: defaults, then the file at path (none when path
 * is NULL), then the environment.  Returns a new configuration, or NULL
 * with a one-line message in err (of errlen bytes) naming the key or line
 * that is wrong.  The caller frees it with config_free().
 */
struct config	*config_load(const char *path, char *err, size_t errlen);

/* Frees a configuration and wipes its secrets.  Accepts NULL. */
void		 config_free(struct config *);

/*
 * The path to use when none was given on the command line: the
 * GITTINKERER_CONFIG environment variable, else NULL (defaults and
 * environment only).
 */
const char	*config_default_path(void);

#endif
