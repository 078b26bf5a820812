/*
 * artifacts_fs.c: listing and opening a run's artifacts.
 */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/artifacts_fs.h"
#include "infra/log.h"
#include "usecase/ports.h"

#define PAYLOAD_NAME	"payload.json"
#define ARTIFACTS_MAX	1000	/* listed per run; the rest are left out */

struct artifacts_fs {
	char	*root;
};

struct artifacts_fs *
artifacts_fs_new(const char *root)
{
	struct artifacts_fs	*fs;

	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return NULL;
	if ((fs->root = strdup(root)) == NULL) {
		free(fs);
		return NULL;
	}
	return fs;
}

void
artifacts_fs_free(struct artifacts_fs *fs)
{
	if (fs == NULL)
		return;
	free(fs->root);
	free(fs);
}

/*
 * The run's folder, opened without following a symbolic link; -1 with
 * errno set.  id is a canonical run id, so it holds no '/'.
 */
static int
open_run_dir(const struct artifacts_fs *fs, const char *id)
{
	char	 path[PATH_MAX];
	int	 n;

	n = snprintf(path, sizeof(path), "%s/%s", fs->root, id);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int
is_artifact_name(const char *name)
{
	return artifact_name_valid(name) && strcmp(name, PAYLOAD_NAME) != 0;
}

static int
by_name(const void *a, const void *b)
{
	const struct artifact	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

static enum gt_err
fs_list(void *ctx, struct arena *arena, const char *id,
    struct artifact **out, size_t *n)
{
	struct artifacts_fs	*fs = ctx;
	struct artifact		*arts;
	struct dirent		*de;
	struct stat		 st;
	DIR			*dir;
	size_t			 count = 0;
	int			 dfd;

	*out = NULL;
	*n = 0;
	if ((dfd = open_run_dir(fs, id)) == -1) {
		if (errno == ENOENT)
			return GT_OK;
		log_event(LOG_WARN, "artifacts_unreadable", "run", id, "error",
		    strerror(errno), NULL);
		return GT_ERR_IO;
	}
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return GT_ERR_IO;
	}
	arts = arena_calloc(arena, ARTIFACTS_MAX, sizeof(*arts));
	if (arts == NULL) {
		closedir(dir);
		return GT_ERR_NOMEM;
	}
	while (count < ARTIFACTS_MAX && (de = readdir(dir)) != NULL) {
		if (!is_artifact_name(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if ((arts[count].name = arena_strdup(arena, de->d_name)) ==
		    NULL) {
			closedir(dir);
			return GT_ERR_NOMEM;
		}
		arts[count].size = (int64_t)st.st_size;
		count++;
	}
	closedir(dir);
	qsort(arts, count, sizeof(*arts), by_name);
	*out = arts;
	*n = count;
	return GT_OK;
}

static enum gt_err
fs_open(void *ctx, const char *id, const char *name, int *fdp,
    int64_t *size)
{
	struct artifacts_fs	*fs = ctx;
	struct stat		 st;
	int			 dfd, fd;

	if (!is_artifact_name(name))
		return GT_ERR_NOT_FOUND;
	if ((dfd = open_run_dir(fs, id)) == -1)
		return GT_ERR_NOT_FOUND;
	/* O_NONBLOCK: a FIFO planted in the folder must not hang us. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	close(dfd);
	if (fd == -1)
		return GT_ERR_NOT_FOUND;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return GT_ERR_NOT_FOUND;
	}
	*fdp = fd;
	*size = (int64_t)st.st_size;
	return GT_OK;
}

void
artifacts_fs_port(struct artifacts_fs *fs, struct artifact_store *port)
{
	port->ctx = fs;
	port->list = fs_list;
	port->open = fs_open;
}
