/*
 * jwt.c: a GitHub App's RS256 JSON Web Token, signed with OpenSSL.
 *
 * A JWS in compact form (RFC 7515 section 7.1): the base64url of the
 * header, '.', the base64url of the claims, '.', the base64url of the
 * signature over the first two parts as written.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "domain/error.h"
#include "infra/jwt.h"
#include "infra/log.h"

#define JWT_BACKDATE_S	60	/* iat this far back: clocks drift */
#define JWT_LIFETIME_S	540	/* exp this far ahead (at most 600) */
#define SIG_MAX		1024	/* bytes: an 8192-bit RSA signature */

static const char	 jose_header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";

/*
 * Logs why the key cannot be used.  detail is OpenSSL's reason (a fixed
 * string such as "no start line"), never anything read from the key.
 */
static void
log_invalid(const char *why, const char *detail)
{
	log_event(LOG_ERROR, "github_key_invalid", "error", why, "detail",
	    detail, NULL);
}

/* OpenSSL's reason for its last failure, or NULL. */
static const char *
openssl_reason(void)
{
	unsigned long	 e = ERR_peek_last_error();

	return e == 0 ? NULL : ERR_reason_error_string(e);
}

/*
 * The passphrase callback: an encrypted key is refused instead of
 * OpenSSL's default, which would prompt on the terminal.
 */
static int
refuse_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

/*
 * Appends the n bytes at in to out, base64url-encoded without padding
 * (RFC 7515 section 2, RFC 4648 section 5), at *pos, and NUL-terminates.
 * Returns 0, or -1 when out (outlen bytes) has no room.
 */
static int
b64url_append(char *out, size_t outlen, size_t *pos, const void *in,
    size_t n)
{
	static const char	 alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*p = in;
	size_t			 need, i, rest, k;
	uint32_t		 v;

	need = n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
	if (*pos >= outlen || outlen - *pos <= need)
		return -1;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		for (k = 0; k < 4; k++)
			out[(*pos)++] = alphabet[v >> (18 - 6 * k) & 0x3f];
	}
	if ((rest = n - i) > 0) {
		v = (uint32_t)p[i] << 16;
		if (rest == 2)
			v |= (uint32_t)p[i + 1] << 8;
		for (k = 0; k < rest + 1; k++)
			out[(*pos)++] = alphabet[v >> (18 - 6 * k) & 0x3f];
	}
	out[*pos] = '\0';
	return 0;
}

/* Appends one character and a NUL at *pos; -1 when there is no room. */
static int
char_append(char *out, size_t outlen, size_t *pos, char c)
{
	if (*pos >= outlen || outlen - *pos < 2)
		return -1;
	out[(*pos)++] = c;
	out[*pos] = '\0';
	return 0;
}

/*
 * Reads the RSA private key in pem into *key, which the caller frees with
 * EVP_PKEY_free().
 */
static enum gt_err
read_key(const char *pem, EVP_PKEY **key)
{
	BIO	*bio;

	*key = NULL;
	if (pem == NULL || *pem == '\0') {
		log_invalid("no private key", NULL);
		return GT_ERR_INVALID;
	}
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return GT_ERR_NOMEM;
	*key = PEM_read_bio_PrivateKey(bio, NULL, refuse_passphrase, NULL);
	BIO_free(bio);

	if (*key == NULL) {
		log_invalid("cannot read the private key", openssl_reason());
		return GT_ERR_INVALID;
	}
	if (EVP_PKEY_base_id(*key) != EVP_PKEY_RSA) {
		log_invalid("the private key is not an RSA key", NULL);
		EVP_PKEY_free(*key);
		*key = NULL;
		return GT_ERR_INVALID;
	}
	if (EVP_PKEY_size(*key) > SIG_MAX) {
		log_invalid("the private key is over 8192 bits", NULL);
		EVP_PKEY_free(*key);
		*key = NULL;
		return GT_ERR_INVALID;
	}
	return GT_OK;
}

enum gt_err
jwt_app_token(const char *pem, long app_id, int64_t now_s, char *out,
    size_t outlen)
{
	EVP_PKEY	*key = NULL;
	EVP_MD_CTX	*md = NULL;
	unsigned char	 sig[SIG_MAX];
	char		 claims[128];
	size_t		 pos = 0, siglen = sizeof(sig);
	enum gt_err	 err;
	int		 n;

	if (outlen > 0)
		out[0] = '\0';
	if (app_id <= 0) {
		log_invalid("the app id is not positive", NULL);
		return GT_ERR_INVALID;
	}
	if ((err = read_key(pem, &key)) != GT_OK)
		goto out_free;

	n = snprintf(claims, sizeof(claims),
	    "{\"iat\":%lld,\"exp\":%lld,\"iss\":\"%ld\"}",
	    (long long)(now_s - JWT_BACKDATE_S),
	    (long long)(now_s + JWT_LIFETIME_S), app_id);
	assert(n > 0 && (size_t)n < sizeof(claims));
	if (b64url_append(out, outlen, &pos, jose_header,
	    strlen(jose_header)) == -1 ||
	    char_append(out, outlen, &pos, '.') == -1 ||
	    b64url_append(out, outlen, &pos, claims, (size_t)n) == -1) {
		err = GT_ERR_TOO_LARGE;
		goto out_free;
	}

	/* The signing input is the two parts as encoded (RFC 7515 5.1). */
	if ((md = EVP_MD_CTX_new()) == NULL) {
		err = GT_ERR_NOMEM;
		goto out_free;
	}
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out,
	    pos) != 1) {
		log_event(LOG_ERROR, "github_jwt_failed", "error",
		    "cannot sign", "detail", openssl_reason(), NULL);
		err = GT_ERR_INTERNAL;
		goto out_free;
	}
	if (char_append(out, outlen, &pos, '.') == -1 ||
	    b64url_append(out, outlen, &pos, sig, siglen) == -1) {
		err = GT_ERR_TOO_LARGE;
		goto out_free;
	}
	err = GT_OK;

out_free:
	if (err != GT_OK && outlen > 0)
		explicit_bzero(out, outlen);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return err;
}
