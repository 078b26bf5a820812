/*
 * run.h: a run, its life cycle, and the names and texts it is made of.
 *
 * A run moves queued -> running -> succeeded | failed | cancelled, or
 * queued -> cancelled, and never changes once finished.  Everything here
 * is pure: checks and conversions of values that have already been read.
 */
#ifndef GT_RUN_H
#define GT_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

enum run_status {
	RUN_QUEUED,	/* waiting for a dispatcher */
	RUN_RUNNING,	/* its runner process lives */
	RUN_SUCCEEDED,	/* the runner exited 0 */
	RUN_FAILED,	/* it could not start, failed, timed out or was lost */
	RUN_CANCELLED	/* cancelled before or while it ran */
};
#define RUN_NSTATUS	5

/* Where a failure happened (the "stage" of a run's error). */
enum run_stage {
	STAGE_NONE,		/* no error */
	STAGE_SPAWN,		/* the runner could not be started */
	STAGE_RUNNER,		/* the runner exited non-zero or was killed */
	STAGE_TIMEOUT,		/* the runner ran past its time */
	STAGE_INTERRUPTED,	/* its dispatcher died while it ran */
	STAGE_CANCELLED,	/* someone cancelled it */
	STAGE_INTERNAL		/* the service itself failed */
};

enum target_type {
	TARGET_ISSUE,
	TARGET_PULL_REQUEST
};

enum run_source {
	SOURCE_API,
	SOURCE_WEBHOOK
};

#define RUN_ID_LEN		36	/* canonical UUID text */
#define REPO_OWNER_MAX		39
#define REPO_NAME_MAX		100
#define REPO_MAX		(REPO_OWNER_MAX + 1 + REPO_NAME_MAX)
#define LOGIN_MAX		39
#define INSTRUCTION_MAX		4000	/* code points, after trimming */
#define TARGET_NUMBER_MAX	2147483647
#define IDEMPOTENCY_KEY_MAX	255
#define ARTIFACT_NAME_MAX	128

/* A run as stored.  Strings belong to whoever filled the struct. */
struct run {
	char		 id[RUN_ID_LEN + 1];
	const char	*repo;		/* as given at creation */
	enum target_type target_type;
	int32_t		 target_number;
	const char	*instruction;
	enum run_status	 status;
	enum run_source	 source;
	const char	*requested_by;	/* NULL when not given */
	int64_t		 created_at_ms;
	int64_t		 started_at_ms;	/* -1 when not started */
	int64_t		 finished_at_ms; /* -1 when not finished */
	int		 has_exit_code;
	int		 exit_code;
	enum run_stage	 error_stage;	/* STAGE_NONE: no error */
	const char	*error_message;	/* NULL with STAGE_NONE */
	const char	*result_json;	/* a JSON object's text, or NULL */
};

/* The contract's names; NULL for a value out of range. */
const char	*run_status_name(enum run_status);
const char	*run_stage_name(enum run_stage);
const char	*target_type_name(enum target_type);
const char	*run_source_name(enum run_source);

/* Parses a contract name; returns 0, or -1 for an unknown one. */
int		 run_status_parse(const char *, enum run_status *);
int		 run_stage_parse(const char *, enum run_stage *);
int		 target_type_parse(const char *, enum target_type *);
int		 run_source_parse(const char *, enum run_source *);

/* Whether a run in this status has finished and can never change. */
int		 run_status_finished(enum run_status);

/* Whether the life cycle allows a move from one status to another. */
int		 run_can_move(enum run_status from, enum run_status to);

/*
 * Whether s is a repository name as GitHub allows it: "owner/name", owner
 * 1-39 of [A-Za-z0-9-] not starting or ending with '-' and without "--",
 * name 1-100 of [A-Za-z0-9._-], not "." or "..", not ending in ".git" in
 * any case.
 */
int		 repo_name_valid(const char *s);

/*
 * The key a repository name compares by (GitHub's names are
 * case-insensitive): s in lower case, into out of outlen bytes.  Returns
 * 0, or -1 when it does not fit.
 */
int		 repo_key(const char *s, char *out, size_t outlen);

/* Whether s is a GitHub login as the contract accepts: 1-39 [A-Za-z0-9-]. */
int		 login_valid(const char *s);

/* Whether n is a valid issue or pull request number (1..2^31-1). */
int		 target_number_valid(int64_t n);

/*
 * Trims white space (ASCII and Unicode's White_Space characters) from
 * both ends of the n bytes of valid UTF-8 at s, and checks what is left:
 * GT_OK with *start and *len set; GT_ERR_INVALID when it is empty or
 * holds a NUL byte; GT_ERR_TOO_LARGE when it is over INSTRUCTION_MAX
 * code points.
 */
enum gt_err	 instruction_trim(const char *s, size_t n, const char **start,
		    size_t *len);

/*
 * Parses a UUID in canonical 8-4-4-4-12 hexadecimal form, either case,
 * into its lower-case text (out of RUN_ID_LEN + 1 bytes).  Returns 0, or
 * -1 when s is anything else.
 */
int		 run_id_parse(const char *s, char *out);

/* Whether s is an Idempotency-Key: 1-255 printable ASCII characters. */
int		 idempotency_key_valid(const char *s);

/*
 * Whether s is an artifact name: [A-Za-z0-9][A-Za-z0-9._-]{0,127}.  Such
 * a name holds no '/' or NUL and cannot be "." or "..", so it names a
 * file inside one folder and nothing outside it.
 */
int		 artifact_name_valid(const char *s);

/*
 * The Content-Type of an artifact by its extension: text for .txt, .log,
 * .patch and .diff, JSON for .json, bytes otherwise.
 */
const char	*artifact_content_type(const char *name);

#endif
