/*
 * replay.c: a main for a fuzz harness without libFuzzer.
 *
 *   replay_NAME [FILE | FOLDER ...]
 *
 * Feeds the harness every file given, or every file of a folder given;
 * with no argument, every file of t/fuzz/corpus/NAME and
 * t/fuzz/regress/NAME under $GT_SRCDIR (the current folder when it is
 * not set), NAME coming from the program's own name.  make check runs it
 * so, with any compiler, so that every input a fuzzer ever kept, and
 * every crash it found, is tried on every build.  Each input is read into
 * a buffer of its exact size, so a sanitizer or valgrind sees a read past
 * its end.
 *
 * Exit status: 0 when every input went through; 1 when a file could not
 * be read or the corpus folder is missing or empty.  A broken property
 * aborts (fuzz_require()).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#define PREFIX	"replay_"

static const char *prog;

/* Reads the whole file into *data (malloc'ed, the caller frees). */
static int
read_file(const char *path, uint8_t **data, size_t *n)
{
	FILE		*f;
	struct stat	 st;
	int		 rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == -1 || st.st_size < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		goto out_close;
	}
	*n = (size_t)st.st_size;
	if ((*data = malloc(*n > 0 ? *n : 1)) == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", prog, path);
		goto out_close;
	}
	if (*n > 0 && fread(*data, 1, *n, f) != *n) {
		fprintf(stderr, "%s: %s: short read\n", prog, path);
		free(*data);
		goto out_close;
	}
	rc = 0;

out_close:
	fclose(f);
	return rc;
}

static int
replay_file(const char *path)
{
	uint8_t	*data;
	size_t	 n;

	if (read_file(path, &data, &n) == -1)
		return -1;
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
regular(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/*
 * Replays every file of a folder, in name order, adding their number to
 * *count.  A missing folder counts nothing when may_lack is set.
 */
static int
replay_folder(const char *dir, int may_lack, size_t *count)
{
	struct dirent	**list;
	char		  path[4096];
	int		  i, n, rc = 0;

	if ((n = scandir(dir, &list, regular, alphasort)) == -1) {
		if (may_lack && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		    list[i]->d_name) >= (int)sizeof(path)) {
			fprintf(stderr, "%s: %s: path too long\n", prog, dir);
			rc = -1;
		} else if (replay_file(path) == -1)
			rc = -1;
		else
			(*count)++;
		free(list[i]);
	}
	free(list);
	return rc;
}

static int
replay_arg(const char *path, size_t *count)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_folder(path, 0, count);
	if (replay_file(path) == -1)
		return -1;
	(*count)++;
	return 0;
}

/* The corpus and the regressions of the harness this program runs. */
static int
replay_checked_in(size_t *corpus, size_t *regress)
{
	const char	*srcdir = getenv("GT_SRCDIR"), *name;
	char		 dir[4096];

	name = strrchr(prog, '/') != NULL ? strrchr(prog, '/') + 1 : prog;
	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0) {
		fprintf(stderr, "%s: cannot tell the harness from the program "
		    "name: expected %sNAME\n", prog, PREFIX);
		return -1;
	}
	name += strlen(PREFIX);
	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ".";

	snprintf(dir, sizeof(dir), "%s/t/fuzz/corpus/%s", srcdir, name);
	if (replay_folder(dir, 0, corpus) == -1)
		return -1;
	if (*corpus == 0) {
		fprintf(stderr, "%s: %s: an empty corpus tests nothing\n",
		    prog, dir);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/t/fuzz/regress/%s", srcdir, name);
	return replay_folder(dir, 1, regress);
}

int
main(int argc, char *argv[])
{
	size_t	 corpus = 0, regress = 0;
	int	 i, rc = 0;

	prog = argv[0];
	if (argc == 1) {
		if (replay_checked_in(&corpus, &regress) == -1)
			return 1;
		printf("%s: %zu corpus inputs, %zu regressions, all passed\n",
		    prog, corpus, regress);
		return 0;
	}
	for (i = 1; i < argc; i++)
		if (replay_arg(argv[i], &corpus) == -1)
			rc = 1;
	printf("%s: %zu inputs replayed%s\n", prog, corpus,
	    rc == 0 ? ", all passed" : ", some could not be read");
	return rc;
}
