/*
 * jwt.h: the JSON Web Token a GitHub App signs to speak as itself.
 *
 * GitHub authenticates an App by a JWT (RFC 7519) signed with RS256
 * (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) by the App's
 * private key.  The App uses it for the /app endpoints only, chiefly to
 * obtain installation tokens; see github.h.
 */
#ifndef GT_JWT_H
#define GT_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

/*
 * Room for a token signed by any RSA key up to 8192 bits (a 1024-byte
 * signature, 1366 characters in base64url) with its NUL.
 */
#define JWT_MAX_LEN	2048

/*
 * Writes into out (outlen bytes) the App's JWT for the time now_s
 * (seconds since the epoch), signed by pem, the App's RSA private key in
 * PEM: PKCS#1 ("BEGIN RSA PRIVATE KEY", as GitHub hands it out) or
 * PKCS#8.  The claims are
 *
 *	iat = now_s - 60	GitHub's advice, against clocks that drift
 *	exp = now_s + 540	nine minutes: GitHub refuses more than ten
 *	iss = "<app_id>"	the App id, as a string
 *
 * iss is a string because RFC 7519 section 4.1.1 makes it a StringOrURI;
 * GitHub takes a number too.
 *
 * Returns GT_OK; GT_ERR_INVALID when app_id is not positive or pem holds
 * no usable RSA key (a passphrase-protected one included), logged as
 * event=github_key_invalid without a byte of the key; GT_ERR_TOO_LARGE
 * when out is too small (JWT_MAX_LEN always suffices); GT_ERR_NOMEM or
 * GT_ERR_INTERNAL when OpenSSL fails otherwise.  On failure out holds "".
 * The token is a credential for about ten minutes: never log it.
 */
enum gt_err	 jwt_app_token(const char *pem, long app_id, int64_t now_s,
		    char *out, size_t outlen);

#endif
