/*
 * signature.c: checking GitHub's webhook signature with OpenSSL.
 */
#include <config.h>

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "infra/signature.h"

#define PREFIX		"sha256="
#define DIGEST_LEN	32

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2 * DIGEST_LEN hex digits; -1 for anything else. */
static int
decode_hex(const char *s, unsigned char *out)
{
	int	 hi, lo;
	size_t	 i;

	if (strlen(s) != 2 * DIGEST_LEN)
		return -1;
	for (i = 0; i < DIGEST_LEN; i++) {
		if ((hi = hex_value(s[2 * i])) == -1 ||
		    (lo = hex_value(s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
signature_valid(const char *secret, const void *body, size_t n,
    const char *header)
{
	unsigned char	 given[DIGEST_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;

	if (secret == NULL || *secret == '\0' || header == NULL ||
	    strncmp(header, PREFIX, strlen(PREFIX)) != 0 ||
	    decode_hex(header + strlen(PREFIX), given) == -1)
		return 0;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    n > 0 ? body : (const void *)"", n, mac, &maclen) == NULL ||
	    maclen != DIGEST_LEN)
		return 0;
	return CRYPTO_memcmp(mac, given, DIGEST_LEN) == 0;
}
