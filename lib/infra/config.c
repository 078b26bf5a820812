/*
 * config.c: loading and validating the configuration.
 *
 * Every key is described once in the table below: its name, its type, its
 * range and default, and whether it is a secret.  The file, the
 * environment and the *_file indirection all go through the same setter,
 * so a value is validated the same way wherever it came from.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/text.h"
#include "infra/config.h"
#include "infra/log.h"
#include "infra/sentry.h"

#define CONFIG_LINE_MAX		8192
#define CONFIG_SECRET_MAX	65536

/* The GitHub App's key, found by its own rules (find_private_key()). */
#define PRIVATE_KEY		"github_private_key"

enum key_type {
	KEY_STRING,	/* any non-empty text */
	KEY_INT,	/* an integer within [min, max] */
	KEY_LIST,	/* comma-separated non-empty items */
	KEY_LEVEL	/* a log level name */
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 offset;	/* of the field in struct config */
	size_t		 count_offset;	/* KEY_LIST: of the item count */
	long		 min, max;	/* KEY_INT */
	const char	*def;		/* default, or NULL for none */
	int		 secret;	/* may be given as <name>_file */
};

#define F(field)	offsetof(struct config, field)

static const struct key keys[] = {
	{ "listen", KEY_STRING, F(listen), 0, 0, 0, NULL, 0 },
	{ "workers", KEY_INT, F(workers), 0, 1, 256, "4", 0 },
	{ "max_requests", KEY_INT, F(max_requests), 0, 0, LONG_MAX, "10000",
	    0 },
	{ "drain_timeout", KEY_INT, F(drain_timeout_s), 0, 1, 3600, "30", 0 },
	{ "log_level", KEY_LEVEL, F(log_level), 0, 0, 0, "info", 0 },
	{ "database_url", KEY_STRING, F(database_url), 0, 0, 0,
	    "dbname=gittinkerer", 1 },
	{ "db_connect_timeout_ms", KEY_INT, F(db_connect_timeout_ms), 0, 10,
	    60000, "2000", 0 },
	{ "statement_timeout_ms", KEY_INT, F(statement_timeout_ms), 0, 10,
	    600000, "5000", 0 },
	{ "migrations_dir", KEY_STRING, F(migrations_dir), 0, 0, 0,
	    GT_DATADIR "/sql", 0 },
	{ "redis", KEY_STRING, F(redis), 0, 0, 0, "127.0.0.1:6379", 0 },
	{ "redis_password", KEY_STRING, F(redis_password), 0, 0, 0, NULL, 1 },
	{ "redis_connect_timeout_ms", KEY_INT, F(redis_connect_timeout_ms), 0,
	    10, 60000, "200", 0 },
	{ "redis_command_timeout_ms", KEY_INT, F(redis_command_timeout_ms), 0,
	    10, 60000, "200", 0 },
	{ "health_timeout_ms", KEY_INT, F(health_timeout_ms), 0, 10, 450,
	    "400", 0 },
	{ "operator_tokens", KEY_LIST, F(operator_tokens),
	    F(operator_tokens_n), 0, 0, NULL, 1 },
	{ "admin_tokens", KEY_LIST, F(admin_tokens), F(admin_tokens_n), 0, 0,
	    NULL, 1 },
	{ "webhook_secret", KEY_STRING, F(webhook_secret), 0, 0, 0, NULL, 1 },
	{ "artifacts_root", KEY_STRING, F(artifacts_root), 0, 0, 0,
	    "/var/lib/gittinkerer/artifacts", 0 },
	{ "repo_rate_limit", KEY_INT, F(repo_rate_limit), 0, 1, 1000000,
	    "30", 0 },
	{ "repo_rate_window", KEY_INT, F(repo_rate_window_s), 0, 1, 2592000,
	    "3600", 0 },
	{ "requester_rate_limit", KEY_INT, F(requester_rate_limit), 0, 1,
	    1000000, "20", 0 },
	{ "requester_rate_window", KEY_INT, F(requester_rate_window_s), 0, 1,
	    2592000, "3600", 0 },
	{ "dispatcher_id", KEY_STRING, F(dispatcher_id), 0, 0, 0, NULL, 0 },
	{ "dispatcher_slots", KEY_INT, F(dispatcher_slots), 0, 1, 64, "2", 0 },
	{ "runner_path", KEY_STRING, F(runner_path), 0, 0, 0,
	    GT_BINDIR "/gittinkerer-example-runner", 0 },
	{ "run_timeout", KEY_INT, F(run_timeout_s), 0, 1, 86400, "1800", 0 },
	{ "run_grace", KEY_INT, F(run_grace_s), 0, 1, 600, "10", 0 },
	{ "lease", KEY_INT, F(lease_s), 0, 5, 3600, "60", 0 },
	{ "heartbeat_interval", KEY_INT, F(heartbeat_s), 0, 1, 600, "10", 0 },
	{ "poll_interval", KEY_INT, F(poll_s), 0, 1, 600, "5", 0 },
	{ "log_cap", KEY_INT, F(log_cap_bytes), 0, 1024, 1073741824,
	    "10485760", 0 },
	{ "runner_max_procs", KEY_INT, F(runner_max_procs), 0, 0, 1000000,
	    "512", 0 },
	{ "runner_max_memory_mb", KEY_INT, F(runner_max_memory_mb), 0, 0,
	    1048576, "4096", 0 },
	{ "runner_max_open_files", KEY_INT, F(runner_max_open_files), 0, 0,
	    1048576, "1024", 0 },
	{ "runner_env_path", KEY_STRING, F(runner_path_env), 0, 0, 0,
	    "/usr/local/bin:/usr/bin:/bin", 0 },
	{ "runner_home", KEY_STRING, F(runner_home), 0, 0, 0,
	    "/var/lib/gittinkerer", 0 },
	{ "webhook_command", KEY_STRING, F(webhook_command), 0, 0, 0,
	    "/gittinkerer", 0 },
	{ "webhook_allowed_associations", KEY_LIST, F(webhook_associations),
	    F(webhook_associations_n), 0, 0, "OWNER,MEMBER,COLLABORATOR", 0 },
	{ "github_api_url", KEY_STRING, F(github_api_url), 0, 0, 0,
	    "https://api.github.com", 0 },
	{ "github_app_id", KEY_INT, F(github_app_id), 0, 0, LONG_MAX, "0", 0 },
	{ "github_private_key", KEY_STRING, F(github_private_key), 0, 0, 0,
	    NULL, 1 },
	{ "github_timeout_ms", KEY_INT, F(github_timeout_ms), 0, 100, 120000,
	    "10000", 0 },
	{ "outbox_max_attempts", KEY_INT, F(outbox_max_attempts), 0, 1, 100,
	    "8", 0 },
	{ "outbox_backoff", KEY_INT, F(outbox_backoff_s), 0, 1, 3600, "10",
	    0 },
	{ "outbox_poll_interval", KEY_INT, F(outbox_poll_s), 0, 1, 600, "2",
	    0 },
	{ "redelivery_interval", KEY_INT, F(redelivery_interval_s), 0, 0,
	    86400, "300", 0 },
	{ "redelivery_hours", KEY_INT, F(redelivery_hours), 0, 1, 720, "72",
	    0 },
	{ "sentry_dsn", KEY_STRING, F(sentry_dsn), 0, 0, 0, NULL, 1 },
	{ "sentry_timeout_ms", KEY_INT, F(sentry_timeout_ms), 0, 50, 1000,
	    "1000", 0 },
	{ "sentry_environment", KEY_STRING, F(sentry_environment), 0, 0, 0,
	    "production", 0 },
};

#undef F

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static void
wipe(char *s)
{
	volatile char	*p = s;

	if (s == NULL)
		return;
	while (*p != '\0')
		*p++ = '\0';
}

static void
free_list(char **items, size_t n, int secret)
{
	size_t	 i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (secret)
			wipe(items[i]);
		free(items[i]);
	}
	free(items);
}

static void
clear_key(struct config *cfg, const struct key *k)
{
	char	*base = (char *)cfg;
	char	**sp;

	switch (k->type) {
	case KEY_STRING:
		sp = (char **)(base + k->offset);
		if (k->secret)
			wipe(*sp);
		free(*sp);
		*sp = NULL;
		break;
	case KEY_LIST:
		free_list(*(char ***)(base + k->offset),
		    *(size_t *)(base + k->count_offset), k->secret);
		*(char ***)(base + k->offset) = NULL;
		*(size_t *)(base + k->count_offset) = 0;
		break;
	case KEY_INT:
	case KEY_LEVEL:
		break;
	}
}

/* Splits "a, b,c" into trimmed items; an empty item is an error. */
static int
split_list(const char *value, char ***out, size_t *outn)
{
	const char	*p = value, *start, *end;
	char		**items = NULL, **grown;
	size_t		 n = 0;

	for (;;) {
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		if (end == start)
			goto out_fail;
		if ((grown = realloc(items, (n + 1) * sizeof(*items))) == NULL)
			goto out_fail;
		items = grown;
		if ((items[n] = strndup(start, (size_t)(end - start))) == NULL)
			goto out_fail;
		n++;
		if (*p == '\0')
			break;
		p++;
	}
	*out = items;
	*outn = n;
	return 0;

out_fail:
	free_list(items, n, 1);
	return -1;
}

/*
 * Sets key k from value; on a bad value fills err naming the key (and,
 * for a non-secret key, the value) and returns -1.
 */
static int
set_key(struct config *cfg, const struct key *k, const char *value,
    char *err, size_t errlen)
{
	char		*base = (char *)cfg;
	char		*copy;
	int64_t		 n;
	enum log_level	 level;

	switch (k->type) {
	case KEY_STRING:
		if (*value == '\0') {
			snprintf(err, errlen, "%s: must not be empty", k->name);
			return -1;
		}
		if ((copy = strdup(value)) == NULL)
			goto out_nomem;
		clear_key(cfg, k);
		*(char **)(base + k->offset) = copy;
		return 0;
	case KEY_INT:
		if (parse_int64(value, k->min, k->max, &n) == -1) {
			snprintf(err, errlen,
			    "%s: must be an integer from %ld to %ld, not '%s'",
			    k->name, k->min, k->max, value);
			return -1;
		}
		if (k->max > INT_MAX)
			*(long *)(base + k->offset) = (long)n;
		else
			*(int *)(base + k->offset) = (int)n;
		return 0;
	case KEY_LEVEL:
		if (log_level_parse(value, &level) == -1) {
			snprintf(err, errlen,
			    "%s: must be debug, info, warn or error, not '%s'",
			    k->name, value);
			return -1;
		}
		*(int *)(base + k->offset) = (int)level;
		return 0;
	case KEY_LIST:
		clear_key(cfg, k);
		if (split_list(value, (char ***)(base + k->offset),
		    (size_t *)(base + k->count_offset)) == -1) {
			snprintf(err, errlen,
			    "%s: must be a comma-separated list of non-empty "
			    "values", k->name);
			return -1;
		}
		return 0;
	}
	return 0;

out_nomem:
	snprintf(err, errlen, "%s: out of memory", k->name);
	return -1;
}

/* Reads a secret from a file, dropping one trailing newline. */
static char *
read_secret(const char *keyname, const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	*data;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s_file: cannot open '%s': %s", keyname,
		    path, strerror(errno));
		return NULL;
	}
	if ((data = malloc(CONFIG_SECRET_MAX + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s_file: out of memory", keyname);
		return NULL;
	}
	n = fread(data, 1, CONFIG_SECRET_MAX + 1, f);
	if (ferror(f) || n > CONFIG_SECRET_MAX) {
		snprintf(err, errlen, "%s_file: '%s' %s", keyname, path,
		    ferror(f) ? "cannot be read" : "is too large");
		fclose(f);
		explicit_bzero(data, CONFIG_SECRET_MAX + 1);
		free(data);
		return NULL;
	}
	fclose(f);
	if (n > 0 && data[n - 1] == '\n')
		n--;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	data[n] = '\0';
	if (memchr(data, '\0', n) != NULL) {
		snprintf(err, errlen, "%s_file: '%s' holds a NUL byte", keyname,
		    path);
		explicit_bzero(data, n);
		free(data);
		return NULL;
	}
	return data;
}

/*
 * Applies name = value, where name may be a key or, for a secret, its
 * _file form.  Returns 0, 1 when the name is unknown, or -1 on a bad value.
 */
static int
apply(struct config *cfg, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct key	*k;
	size_t			 i, len;
	char			*secret;
	int			 rc;

	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (strcmp(name, k->name) == 0)
			return set_key(cfg, k, value, err, errlen);
		len = strlen(k->name);
		if (k->secret && strncmp(name, k->name, len) == 0 &&
		    strcmp(name + len, "_file") == 0) {
			secret = read_secret(k->name, value, err, errlen);
			if (secret == NULL)
				return -1;
			rc = set_key(cfg, k, secret, err, errlen);
			wipe(secret);
			free(secret);
			return rc;
		}
	}
	return 1;
}

static char *
trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	 line[CONFIG_LINE_MAX], *name, *value, *eq;
	char	 sub[512];
	int	 lineno = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot open configuration '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto out_close;
		}
		name = trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		if ((eq = strchr(name, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
			    path, lineno);
			goto out_close;
		}
		*eq = '\0';
		name = trim(name);
		value = trim(eq + 1);
		switch (apply(cfg, name, value, sub, sizeof(sub))) {
		case 0:
			break;
		case 1:
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path,
			    lineno, name);
			goto out_close;
		default:
			snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			goto out_close;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read configuration '%s'", path);
		goto out_close;
	}
	rc = 0;

out_close:
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return rc;
}

/* GITTINKERER_<NAME> for a key name. */
static void
env_name(char *out, size_t outlen, const char *name, const char *suffix)
{
	size_t	 i, o;

	o = (size_t)snprintf(out, outlen, "GITTINKERER_");
	for (i = 0; name[i] != '\0' && o + 1 < outlen; i++)
		out[o++] = (char)toupper((unsigned char)name[i]);
	out[o] = '\0';
	if (suffix != NULL)
		snprintf(out + o, outlen - o, "%s", suffix);
}

static int
load_env(struct config *cfg, char *err, size_t errlen)
{
	char		 var[128], sub[512];
	const char	*value;
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		env_name(var, sizeof(var), keys[i].name, NULL);

		/* Read after private-key.pem: see find_private_key(). */
		if (strcmp(keys[i].name, PRIVATE_KEY) == 0)
			value = NULL;
		else
			value = getenv(var);
		if (value != NULL &&
		    apply(cfg, keys[i].name, value, sub, sizeof(sub)) != 0) {
			snprintf(err, errlen, "environment %s: %s", var, sub);
			return -1;
		}
		if (!keys[i].secret)
			continue;
		env_name(var, sizeof(var), keys[i].name, "_FILE");
		if ((value = getenv(var)) != NULL) {
			char	 fname[128];

			snprintf(fname, sizeof(fname), "%s_file",
			    keys[i].name);
			if (apply(cfg, fname, value, sub, sizeof(sub)) != 0) {
				snprintf(err, errlen, "environment %s: %s",
				    var, sub);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * The GitHub App's private key when the configuration did not name one:
 * private-key.pem beside the configuration file, else the key itself in
 * GITTINKERER_GITHUB_PRIVATE_KEY (which is why load_env() leaves that
 * variable alone).  Only looked for when an app is configured.
 */
static int
find_private_key(struct config *cfg, const char *path, char *err,
    size_t errlen)
{
	const struct key	*k = NULL;
	const char		*slash, *value;
	char			 beside[4096], sub[512];
	size_t			 i;
	int			 n;

	if (cfg->github_app_id == 0 || cfg->github_private_key != NULL)
		return 0;
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, PRIVATE_KEY) == 0)
			k = &keys[i];
	if (path != NULL) {
		slash = strrchr(path, '/');
		n = slash == NULL ?
		    snprintf(beside, sizeof(beside), "private-key.pem") :
		    snprintf(beside, sizeof(beside), "%.*s/private-key.pem",
		    (int)(slash - path), path);
		if (n > 0 && (size_t)n < sizeof(beside) &&
		    access(beside, F_OK) == 0) {
			if (apply(cfg, PRIVATE_KEY "_file", beside, sub,
			    sizeof(sub)) != 0) {
				snprintf(err, errlen, "%s", sub);
				return -1;
			}
			return 0;
		}
	}
	if ((value = getenv("GITTINKERER_GITHUB_PRIVATE_KEY")) != NULL &&
	    k != NULL && set_key(cfg, k, value, sub, sizeof(sub)) != 0) {
		snprintf(err, errlen, "environment "
		    "GITTINKERER_GITHUB_PRIVATE_KEY: %s", sub);
		return -1;
	}
	return 0;
}

/* Rules that involve more than one key. */
static int
validate(const struct config *cfg, char *err, size_t errlen)
{
	char	 url[SENTRY_URL_MAX], key[SENTRY_KEY_MAX];
	size_t	 i, j;

	for (i = 0; i < cfg->operator_tokens_n; i++)
		for (j = 0; j < cfg->admin_tokens_n; j++)
			if (strcmp(cfg->operator_tokens[i],
			    cfg->admin_tokens[j]) == 0) {
				snprintf(err, errlen, "admin_tokens: a token "
				    "is also listed in operator_tokens");
				return -1;
			}
	for (i = 0; i < cfg->operator_tokens_n; i++)
		if (strlen(cfg->operator_tokens[i]) < 16) {
			snprintf(err, errlen, "operator_tokens: every token "
			    "must be at least 16 characters");
			return -1;
		}
	for (i = 0; i < cfg->admin_tokens_n; i++)
		if (strlen(cfg->admin_tokens[i]) < 16) {
			snprintf(err, errlen, "admin_tokens: every token must "
			    "be at least 16 characters");
			return -1;
		}
	if (cfg->github_app_id != 0 && cfg->github_private_key == NULL) {
		snprintf(err, errlen, "github_app_id: no private key: set "
		    "github_private_key_file, put private-key.pem beside the "
		    "configuration, or set GITTINKERER_GITHUB_PRIVATE_KEY");
		return -1;
	}
	if (cfg->sentry_dsn != NULL && sentry_dsn_parse(cfg->sentry_dsn, url,
	    sizeof(url), key, sizeof(key)) == -1) {
		snprintf(err, errlen, "sentry_dsn: must be a DSN such as "
		    "https://<key>@<host>/<project number>");
		return -1;
	}
	if (cfg->listen != NULL && strncmp(cfg->listen, "unix:", 5) != 0 &&
	    strrchr(cfg->listen, ':') == NULL) {
		snprintf(err, errlen, "listen: must be unix:PATH or HOST:PORT, "
		    "not '%s'", cfg->listen);
		return -1;
	}
	return 0;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config	*cfg;
	char		 sub[512];
	size_t		 i;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		if (set_key(cfg, &keys[i], keys[i].def, sub, sizeof(sub))) {
			snprintf(err, errlen, "default of %s", sub);
			goto out_free;
		}
	}
	if (path != NULL && load_file(cfg, path, err, errlen) == -1)
		goto out_free;
	if (load_env(cfg, err, errlen) == -1)
		goto out_free;
	if (find_private_key(cfg, path, err, errlen) == -1)
		goto out_free;
	if (validate(cfg, err, errlen) == -1)
		goto out_free;
	return cfg;

out_free:
	config_free(cfg);
	return NULL;
}

void
config_free(struct config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		clear_key(cfg, &keys[i]);
	free(cfg);
}

const char *
config_default_path(void)
{
	const char	*p;

	if ((p = getenv("GITTINKERER_CONFIG")) != NULL && *p != '\0')
		return p;
	return NULL;
}
