/*
 * check_signature.c: GitHub's webhook signature (X-Hub-Signature-256).
 *
 * The vector is the one GitHub documents in "Validating webhook
 * deliveries": the secret "It's a Secret to Everybody" over the 13 bytes
 * "Hello, World!".
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "infra/signature.h"

#define SECRET	"It's a Secret to Everybody"
#define BODY	"Hello, World!"
#define DIGEST	"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define HEADER	"sha256=" DIGEST

/* HMAC-SHA256 of the empty body with SECRET (openssl dgst -hmac). */
#define EMPTY_HEADER \
	"sha256=66a0c074deaa0f489ead6537e0d32f9a344b90bbeda705b6ed45ecd3b413fb40"

START_TEST(documented_vector_is_valid)
{
	ck_assert(signature_valid(SECRET, BODY, strlen(BODY), HEADER));
}
END_TEST

START_TEST(upper_case_hex_is_valid)
{
	char	 h[sizeof(HEADER)];
	size_t	 i;

	memcpy(h, HEADER, sizeof(HEADER));
	for (i = strlen("sha256="); h[i] != '\0'; i++)
		if (h[i] >= 'a' && h[i] <= 'f')
			h[i] = (char)(h[i] - 'a' + 'A');
	ck_assert(signature_valid(SECRET, BODY, strlen(BODY), h));
}
END_TEST

START_TEST(wrong_secret_is_refused)
{
	ck_assert(!signature_valid("It's a secret to everybody", BODY,
	    strlen(BODY), HEADER));
}
END_TEST

START_TEST(changed_body_is_refused)
{
	ck_assert(!signature_valid(SECRET, BODY "\n", strlen(BODY) + 1,
	    HEADER));
	ck_assert(!signature_valid(SECRET, BODY, strlen(BODY) - 1, HEADER));
}
END_TEST

/* Headers that must never pass, whatever the body. */
static const char *const bad_headers[] = {
	DIGEST,				/* no prefix */
	"sha1=" DIGEST,			/* the older header's prefix */
	"SHA256=" DIGEST,		/* the prefix is lower case */
	"sha256=",			/* no digest */
	"sha256=" DIGEST "0",		/* odd length: 65 digits */
	"sha256=" DIGEST "00",		/* too long */
	"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
	"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g",
	" sha256=" DIGEST,		/* a leading space */
	"sha256= " DIGEST,
	"",
};

START_TEST(malformed_header_is_refused)
{
	ck_assert_msg(!signature_valid(SECRET, BODY, strlen(BODY),
	    bad_headers[_i]), "accepted '%s'", bad_headers[_i]);
}
END_TEST

START_TEST(missing_header_or_secret_is_refused)
{
	ck_assert(!signature_valid(SECRET, BODY, strlen(BODY), NULL));
	ck_assert(!signature_valid(NULL, BODY, strlen(BODY), HEADER));
	ck_assert(!signature_valid("", BODY, strlen(BODY), HEADER));
}
END_TEST

START_TEST(empty_body_is_signed_like_any_other)
{
	ck_assert(signature_valid(SECRET, "", 0, EMPTY_HEADER));
	ck_assert(signature_valid(SECRET, NULL, 0, EMPTY_HEADER));
	ck_assert(!signature_valid(SECRET, "", 0, HEADER));
}
END_TEST

static Suite *
signature_suite(void)
{
	Suite	*s = suite_create("signature");
	TCase	*tc = tcase_create("hmac");

	tcase_add_test(tc, documented_vector_is_valid);
	tcase_add_test(tc, upper_case_hex_is_valid);
	tcase_add_test(tc, wrong_secret_is_refused);
	tcase_add_test(tc, changed_body_is_refused);
	tcase_add_loop_test(tc, malformed_header_is_refused, 0,
	    sizeof(bad_headers) / sizeof(bad_headers[0]));
	tcase_add_test(tc, missing_header_or_secret_is_refused);
	tcase_add_test(tc, empty_body_is_signed_like_any_other);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(signature_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
