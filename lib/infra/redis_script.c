/*
 * redis_script.c: Lua scripts by EVALSHA, falling back to EVAL.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "infra/redis.h"
#include "infra/redis_script.h"

int
redis_script_init(struct redis_script *s, const char *text)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen, i;

	s->text = text;
	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha1(), NULL) != 1
	    || mdlen * 2 + 1 != sizeof(s->sha))
		return -1;
	for (i = 0; i < mdlen; i++) {
		s->sha[2 * i] = hex[md[i] >> 4];
		s->sha[2 * i + 1] = hex[md[i] & 0xf];
	}
	s->sha[2 * mdlen] = '\0';
	return 0;
}

/* Whether r is the server's answer to an EVALSHA of an unknown script. */
static int
is_noscript(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && r->str != NULL &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0;
}

redisReply *
redis_script_run(struct rconn *rc, const struct redis_script *s, int nkeys,
    int nargs, const char **argv, const size_t *argvlen)
{
	const char	*cmd[3 + REDIS_SCRIPT_MAXARGS];
	size_t		 len[3 + REDIS_SCRIPT_MAXARGS];
	char		 numkeys[16];
	redisReply	*r;
	int		 i, n = nkeys + nargs;

	assert(nkeys >= 0 && nargs >= 0 && n <= REDIS_SCRIPT_MAXARGS);

	/* EVALSHA sha numkeys key... arg...; EVAL differs in its head. */
	snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
	cmd[0] = "EVALSHA";
	len[0] = strlen(cmd[0]);
	cmd[1] = s->sha;
	len[1] = strlen(s->sha);
	cmd[2] = numkeys;
	len[2] = strlen(numkeys);
	for (i = 0; i < n; i++) {
		cmd[3 + i] = argv[i];
		len[3 + i] = argvlen[i];
	}
	if ((r = rconn_command(rc, 3 + n, cmd, len)) == NULL || !is_noscript(r))
		return r;

	freeReplyObject(r);
	cmd[0] = "EVAL";
	len[0] = strlen(cmd[0]);
	cmd[1] = s->text;
	len[1] = strlen(s->text);
	return rconn_command(rc, 3 + n, cmd, len);
}
