/*
 * fuzz_webhook.c: GitHub's webhook deliveries, read by ctl_webhook.c and
 * judged by the webhook use case (webhook.h), through the real route
 * table (fuzz_app.h).
 *
 * Input: the X-GitHub-Event header on the first line, then the payload.
 * The harness signs the payload with the webhook's secret, as GitHub
 * does, so that every input reaches the payload's parser.  Checked: the
 * answer keeps the contract (fuzz_app.c) and is one of the webhook's:
 * 200 (pong, duplicate, ignored, cancelled), 202 (accepted) or 400 (a
 * payload not shaped as GitHub sends it); a queued reply is a JSON
 * object.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz/fuzz.h"
#include "fuzz/fuzz_app.h"

/* "sha256=" and the hex HMAC-SHA256 of the payload, into out. */
static void
sign(const uint8_t *payload, size_t n, char *out, size_t outlen)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0, i;
	size_t		 o;

	fuzz_require(HMAC(EVP_sha256(), FUZZ_WEBHOOK_SECRET,
	    (int)(sizeof(FUZZ_WEBHOOK_SECRET) - 1), payload, n, mac,
	    &maclen) != NULL, "an HMAC");
	o = (size_t)snprintf(out, outlen, "sha256=");
	for (i = 0; i < maclen && o + 2 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", mac[i]);
}

/* Delivers the payload as GitHub would; returns the status answered. */
static int
deliver(const char *event, const uint8_t *payload, size_t n)
{
	char			 sig[80];
	struct fuzz_header	 headers[] = {
		{ "CONTENT_TYPE", "application/json" },
		{ "HTTP_X_GITHUB_EVENT", event },
		{ "HTTP_X_GITHUB_DELIVERY",
		    "72d3162e-cc78-11e3-81ab-4c9367dc0958" },
		{ "HTTP_X_HUB_SIGNATURE_256", sig },
	};

	sign(payload, n, sig, sizeof(sig));
	return fuzz_app_request("POST", "/api/github/webhook", headers,
	    sizeof(headers) / sizeof(headers[0]), (const char *)payload, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t	*payload;
	size_t		 len;
	char		*event;
	int		 status;

	if (fuzz_first_line(data, n, &event, &payload, &len) == -1)
		return 0;
	status = deliver(event, payload, len);
	fuzz_require(status == 200 || status == 202 || status == 400,
	    "a signed delivery is answered 200, 202 or 400");
	free(event);
	return 0;
}
