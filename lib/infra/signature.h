/*
 * signature.h: checking GitHub's webhook signature.
 *
 * GitHub signs each delivery with HMAC-SHA256 of the raw body, keyed with
 * the webhook's secret, and sends it as X-Hub-Signature-256: "sha256="
 * and 64 hexadecimal digits ("Validating webhook deliveries", GitHub's
 * documentation).  The check runs on the body exactly as received.
 */
#ifndef GT_SIGNATURE_H
#define GT_SIGNATURE_H

#include <stddef.h>

/*
 * Whether header is the signature of the n bytes at body with secret.
 * Refuses a NULL or empty secret, a missing header, a header without the
 * "sha256=" prefix, and anything but 64 hexadecimal digits after it
 * (either case).  The digests are compared in constant time.
 */
int	 signature_valid(const char *secret, const void *body, size_t n,
	    const char *header);

#endif
