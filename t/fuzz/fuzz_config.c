/*
 * fuzz_config.c: the configuration file (config.h).
 *
 * Input: the file's bytes, written to a file in a private temporary
 * folder and loaded with config_load().  The environment's GITTINKERER_*
 * variables are removed first, so that only the file counts.  A load
 * either gives a configuration that keeps the rules validate() enforces,
 * or fails with a message; either way nothing may leak (config_free()).
 *
 * Note: a *_file key makes config_load() read the file it names; the
 * fuzzer may name any file it can read.  t/fuzz/run.sh gives it
 * /dev/null as standard input, so "/dev/stdin" cannot block it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "infra/config.h"

extern char **environ;

static char	 dir[64];
static char	 path[96];

static void
remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

static void
setup(void)
{
	char	**e, name[256];
	size_t	 len;

	for (e = environ; *e != NULL;) {
		len = strcspn(*e, "=");
		if (strncmp(*e, "GITTINKERER_", 12) == 0 && len < sizeof(name)) {
			memcpy(name, *e, len);
			name[len] = '\0';
			unsetenv(name);
			e = environ;
		} else
			e++;
	}
	snprintf(dir, sizeof(dir), "%s", "/tmp/gt-fuzz-config.XXXXXX");
	fuzz_require(mkdtemp(dir) != NULL, "a temporary folder");
	snprintf(path, sizeof(path), "%s/gittinkerer.conf", dir);
	atexit(remove_dir);
}

static void
check_loaded(const struct config *cfg)
{
	size_t	 i, j;

	fuzz_require(cfg->workers >= 1 && cfg->workers <= 256,
	    "workers is within its range");
	fuzz_require(cfg->database_url != NULL && *cfg->database_url != '\0',
	    "database_url is set");
	for (i = 0; i < cfg->operator_tokens_n; i++) {
		fuzz_require(strlen(cfg->operator_tokens[i]) >= 16,
		    "an operator token has at least 16 characters");
		for (j = 0; j < cfg->admin_tokens_n; j++)
			fuzz_require(strcmp(cfg->operator_tokens[i],
			    cfg->admin_tokens[j]) != 0,
			    "no token is both operator and admin");
	}
	for (i = 0; i < cfg->admin_tokens_n; i++)
		fuzz_require(strlen(cfg->admin_tokens[i]) >= 16,
		    "an admin token has at least 16 characters");
	fuzz_require(cfg->github_app_id == 0 || cfg->github_private_key != NULL,
	    "an App has a private key");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static int	 ready;
	struct config	*cfg;
	FILE		*f;
	char		 err[1024];

	if (!ready) {
		setup();
		ready = 1;
	}
	fuzz_require((f = fopen(path, "wb")) != NULL, "the input's file");
	fuzz_require(fwrite(data, 1, n, f) == n && fclose(f) == 0,
	    "the input written");

	err[0] = '\0';
	cfg = config_load(path, err, sizeof(err));
	if (cfg != NULL)
		check_loaded(cfg);
	else
		fuzz_require(err[0] != '\0' && memchr(err, '\0', sizeof(err))
		    != NULL, "a refused configuration says why");
	config_free(cfg);
	return 0;
}
