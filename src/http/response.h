/*
 * response.h: what a controller answers, before it is written out.
 *
 * A controller sets a status, adds headers and writes a JSON body through
 * resp_json(); the FastCGI layer then writes the status line, the fixed
 * headers every answer carries (Content-Type, Cache-Control: no-store,
 * X-Request-Id, Content-Length) and the body.  A file can be sent instead
 * of a body with resp_file(): it is copied in chunks, never read whole.
 */
#ifndef GT_RESPONSE_H
#define GT_RESPONSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain/buf.h"
#include "domain/error.h"
#include "domain/jsonw.h"

#define RESP_MAX_HEADERS	16

struct arena;

struct resp_header {
	const char	*name;
	const char	*value;
};

struct response {
	struct arena		*arena;	/* the request's; holds header values */
	int			 status;
	const char		*content_type;
	struct resp_header	 headers[RESP_MAX_HEADERS];
	size_t			 nheaders;
	struct buf		 body;	/* kept across requests for reuse */
	struct jsonw		 jw;
	int			 file_fd;	/* >= 0: send this file */
	off_t			 file_len;
};

#define CONTENT_TYPE_JSON	"application/json; charset=utf-8"

/* Initialises a response before its first use. */
void	 resp_init(struct response *);

/* Prepares r for a new request; its body storage is kept. */
void	 resp_reset(struct response *, struct arena *);

/* Frees the body storage and closes any file.  Accepts NULL. */
void	 resp_free(struct response *);

/*
 * Adds a header.  The name must be a constant token; the value is copied
 * into the request's arena.  A value holding CR, LF or NUL is refused
 * (returns -1) so a header can never be split.
 */
int	 resp_header(struct response *, const char *name, const char *value);

/* Starts a JSON body with the given status; returns its writer. */
struct jsonw	*resp_json(struct response *, int status);

/*
 * Starts a body of another media type (content_type, a constant) with
 * the given status; returns the buffer to write it into.
 */
struct buf	*resp_body(struct response *, int status,
		    const char *content_type);

/*
 * Replaces whatever was prepared by the contract's error body
 *
 *	{"error": {"code": code, "message": message}}
 *
 * with the given status.  Headers added earlier are kept.
 */
void	 resp_error(struct response *, int status, const char *code,
	    const char *message);

/* A validation failure naming one field and what is wrong with it. */
struct resp_detail {
	const char	*field;
	const char	*message;
};

/* As resp_error() with 400 validation_failed and its details. */
void	 resp_validation(struct response *, const char *message,
	    const struct resp_detail *details, size_t ndetails);

/*
 * Answers with the status and code the contract gives for e, and message.
 * GT_ERR_INTERNAL and GT_ERR_NOMEM never show the message: a generic one
 * is used, since the detail belongs in the log.
 */
void	 resp_from_err(struct response *, enum gt_err e, const char *message);

/*
 * Sends len bytes of the open file fd as the body with the given content
 * type; the response takes ownership of fd and closes it.
 */
void	 resp_file(struct response *, int fd, off_t len,
	    const char *content_type);

/* The reason phrase for a status code (RFC 9110, section 15). */
const char	*resp_reason(int status);

#endif
