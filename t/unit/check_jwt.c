/*
 * check_jwt.c: the GitHub App's JWT, taken apart and verified.
 *
 * Keys are made here with OpenSSL, so the test needs no key file; each
 * token is split into its three parts, the first two decoded and read as
 * JSON, and the signature verified with the public half of the key.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "infra/jwt.h"

#define APP_ID	912345L
#define NOW_S	1740996000LL	/* 2025-03-03T10:00:00Z */

static EVP_PKEY	*rsa_key;
static char	*pkcs1_pem;	/* "BEGIN RSA PRIVATE KEY", as GitHub's */
static char	*pkcs8_pem;	/* "BEGIN PRIVATE KEY" */

/*
 * The key in PEM, the traditional form (PKCS#1 for RSA) or PKCS#8
 * (encrypted with enc and pass when enc is not NULL).  The caller frees
 * it; NULL when OpenSSL fails.  No Check assertions here: main() calls
 * it outside any test.
 */
static char *
pem_of(EVP_PKEY *key, int traditional, const EVP_CIPHER *enc,
    const char *pass)
{
	BIO	*bio;
	char	*data, *copy = NULL;
	long	 n;
	int	 ok;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	ok = traditional ?
	    PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0,
	    NULL, NULL) :
	    PEM_write_bio_PrivateKey(bio, key, enc, NULL, 0, NULL,
	    (void *)(uintptr_t)pass);
	if (ok == 1 && (n = BIO_get_mem_data(bio, &data)) > 0)
		copy = strndup(data, (size_t)n);
	BIO_free(bio);
	return copy;
}

/* The three parts of a token, as NUL-terminated copies. */
struct parts {
	char	 header[JWT_MAX_LEN];
	char	 claims[JWT_MAX_LEN];
	char	 sig[JWT_MAX_LEN];
	size_t	 signed_len;	/* of "header.claims" */
};

static void
split(const char *jwt, struct parts *p)
{
	const char	*dot1, *dot2;

	ck_assert_ptr_nonnull(dot1 = strchr(jwt, '.'));
	ck_assert_ptr_nonnull(dot2 = strchr(dot1 + 1, '.'));
	ck_assert_ptr_null(strchr(dot2 + 1, '.'));
	snprintf(p->header, sizeof(p->header), "%.*s", (int)(dot1 - jwt),
	    jwt);
	snprintf(p->claims, sizeof(p->claims), "%.*s",
	    (int)(dot2 - dot1 - 1), dot1 + 1);
	snprintf(p->sig, sizeof(p->sig), "%s", dot2 + 1);
	p->signed_len = (size_t)(dot2 - jwt);
}

/*
 * Decodes base64url without padding (RFC 7515 section 2) into out;
 * returns the length.  Fails the test on a byte outside the alphabet or
 * on padding.
 */
static size_t
b64url_decode(const char *in, unsigned char *out, size_t outlen)
{
	char	 std[JWT_MAX_LEN + 4];
	size_t	 n = strlen(in), i, pad;
	int	 len;

	ck_assert_uint_lt(n + 4, sizeof(std));
	for (i = 0; i < n; i++) {
		ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", in[i]) != NULL,
		    "byte %zu of %s is not base64url", i, in);
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	}
	ck_assert_uint_ne(n % 4, 1);
	pad = (4 - n % 4) % 4;
	for (i = 0; i < pad; i++)
		std[n + i] = '=';
	std[n + pad] = '\0';
	ck_assert_uint_le((n + pad) / 4 * 3, outlen);
	len = EVP_DecodeBlock(out, (const unsigned char *)std,
	    (int)(n + pad));
	ck_assert_int_ge(len, 0);
	return (size_t)len - pad;
}

/* A part decoded and parsed as a JSON object; the caller puts it. */
static json_object *
part_json(const char *part)
{
	unsigned char	 text[JWT_MAX_LEN];
	size_t		 n = b64url_decode(part, text, sizeof(text) - 1);
	json_object	*o;

	text[n] = '\0';
	o = json_tokener_parse((const char *)text);
	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_object),
	    "not a JSON object: %s", text);
	return o;
}

static json_object *
member(json_object *o, const char *key, json_type type)
{
	json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, type), "%s: wrong type", key);
	return v;
}

static void
make_token(const char *pem, char *jwt, size_t len)
{
	ck_assert_int_eq(jwt_app_token(pem, APP_ID, NOW_S, jwt, len), GT_OK);
}

START_TEST(test_header_names_rs256_jwt)
{
	char		 jwt[JWT_MAX_LEN];
	struct parts	 p;
	json_object	*h;

	make_token(pkcs1_pem, jwt, sizeof(jwt));
	split(jwt, &p);
	h = part_json(p.header);
	ck_assert_str_eq(json_object_get_string(member(h, "alg",
	    json_type_string)), "RS256");
	ck_assert_str_eq(json_object_get_string(member(h, "typ",
	    json_type_string)), "JWT");
	ck_assert_int_eq(json_object_object_length(h), 2);
	json_object_put(h);
}
END_TEST

START_TEST(test_claims_are_githubs)
{
	char		 jwt[JWT_MAX_LEN];
	struct parts	 p;
	json_object	*c;
	int64_t		 iat, exp;

	make_token(pkcs1_pem, jwt, sizeof(jwt));
	split(jwt, &p);
	c = part_json(p.claims);
	ck_assert_str_eq(json_object_get_string(member(c, "iss",
	    json_type_string)), "912345");
	iat = json_object_get_int64(member(c, "iat", json_type_int));
	exp = json_object_get_int64(member(c, "exp", json_type_int));
	ck_assert_int_eq(iat, NOW_S - 60);
	ck_assert_int_gt(exp, NOW_S);
	ck_assert_int_le(exp, NOW_S + 600);
	ck_assert_int_le(exp - iat, 600);
	json_object_put(c);
}
END_TEST

START_TEST(test_signature_verifies_with_public_key)
{
	char		 jwt[JWT_MAX_LEN];
	unsigned char	 sig[1024];
	struct parts	 p;
	EVP_MD_CTX	*md;
	size_t		 siglen;

	make_token(pkcs1_pem, jwt, sizeof(jwt));
	split(jwt, &p);
	siglen = b64url_decode(p.sig, sig, sizeof(sig));
	ck_assert_uint_eq(siglen, (size_t)EVP_PKEY_size(rsa_key));

	ck_assert_ptr_nonnull(md = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    rsa_key), 1);
	ck_assert_int_eq(EVP_DigestVerify(md, sig, siglen,
	    (const unsigned char *)jwt, p.signed_len), 1);

	/* One flipped byte of the signed text must not verify. */
	jwt[p.signed_len - 1] ^= 1;
	ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    rsa_key), 1);
	ck_assert_int_ne(EVP_DigestVerify(md, sig, siglen,
	    (const unsigned char *)jwt, p.signed_len), 1);
	EVP_MD_CTX_free(md);
}
END_TEST

START_TEST(test_pkcs8_key_signs_the_same_way)
{
	char	 a[JWT_MAX_LEN], b[JWT_MAX_LEN];

	/* PKCS#1 v1.5 signatures are deterministic: same key, same token. */
	make_token(pkcs1_pem, a, sizeof(a));
	make_token(pkcs8_pem, b, sizeof(b));
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_token_is_unpadded_base64url)
{
	char	 jwt[JWT_MAX_LEN];

	make_token(pkcs1_pem, jwt, sizeof(jwt));
	ck_assert_uint_eq(strspn(jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_."), strlen(jwt));
}
END_TEST

/*
 * Runs jwt_app_token() on pem with fd 2 pointed at a file, checks it
 * fails with want and leaves out empty, and returns what was logged.
 */
static char *
failing(const char *pem, long app_id, size_t outlen, enum gt_err want)
{
	static char	 logged[4096];
	char		 jwt[JWT_MAX_LEN], path[] = "/tmp/gt-jwt.XXXXXX";
	int		 fd, saved;
	ssize_t		 n;

	ck_assert_uint_le(outlen, sizeof(jwt));
	memset(jwt, 'x', sizeof(jwt));
	ck_assert_int_ne(fd = mkstemp(path), -1);
	(void)unlink(path);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);

	ck_assert_int_eq(jwt_app_token(pem, app_id, NOW_S, jwt, outlen),
	    want);

	(void)dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, logged, sizeof(logged) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	logged[n] = '\0';
	if (outlen > 0)
		ck_assert_str_eq(jwt, "");
	return logged;
}

START_TEST(test_malformed_pem_is_invalid)
{
	static const char	 bad[] =
	    "-----BEGIN RSA PRIVATE KEY-----\n"
	    "U2VjcmV0S2V5TWF0ZXJpYWxUaGF0TXVzdE5vdEJlTG9nZ2Vk\n"
	    "-----END RSA PRIVATE KEY-----\n";
	char			*logged;

	logged = failing(bad, APP_ID, JWT_MAX_LEN, GT_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(logged, "event=github_key_invalid"));
	ck_assert_ptr_null(strstr(logged, "U2VjcmV0"));
	ck_assert_ptr_null(strstr(logged, "BEGIN"));
}
END_TEST

START_TEST(test_text_that_is_no_pem_is_invalid)
{
	(void)failing("not a key at all", APP_ID, JWT_MAX_LEN,
	    GT_ERR_INVALID);
	(void)failing("", APP_ID, JWT_MAX_LEN, GT_ERR_INVALID);
	(void)failing(NULL, APP_ID, JWT_MAX_LEN, GT_ERR_INVALID);
}
END_TEST

START_TEST(test_key_other_than_rsa_is_invalid)
{
	EVP_PKEY	*ec = EVP_EC_gen("P-256");
	char		*pem, *logged;

	ck_assert_ptr_nonnull(ec);
	ck_assert_ptr_nonnull(pem = pem_of(ec, 0, NULL, NULL));
	logged = failing(pem, APP_ID, JWT_MAX_LEN, GT_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(logged, "not an RSA key"));
	free(pem);
	EVP_PKEY_free(ec);
}
END_TEST

START_TEST(test_encrypted_key_is_refused_without_a_prompt)
{
	char	*pem = pem_of(rsa_key, 0, EVP_aes_256_cbc(), "passphrase");

	ck_assert_ptr_nonnull(pem);
	ck_assert_ptr_nonnull(strstr(pem, "ENCRYPTED"));
	/* A service has nobody to type a passphrase. */
	(void)failing(pem, APP_ID, JWT_MAX_LEN, GT_ERR_INVALID);
	free(pem);
}
END_TEST

START_TEST(test_app_id_must_be_positive)
{
	(void)failing(pkcs1_pem, 0, JWT_MAX_LEN, GT_ERR_INVALID);
	(void)failing(pkcs1_pem, -1, JWT_MAX_LEN, GT_ERR_INVALID);
}
END_TEST

START_TEST(test_short_buffer_is_too_large)
{
	(void)failing(pkcs1_pem, APP_ID, 100, GT_ERR_TOO_LARGE);
	(void)failing(pkcs1_pem, APP_ID, 300, GT_ERR_TOO_LARGE);
	(void)failing(pkcs1_pem, APP_ID, 0, GT_ERR_TOO_LARGE);
}
END_TEST

static Suite *
jwt_suite(void)
{
	Suite	*s = suite_create("jwt");
	TCase	*tc;

	tc = tcase_create("token");
	tcase_add_test(tc, test_header_names_rs256_jwt);
	tcase_add_test(tc, test_claims_are_githubs);
	tcase_add_test(tc, test_signature_verifies_with_public_key);
	tcase_add_test(tc, test_pkcs8_key_signs_the_same_way);
	tcase_add_test(tc, test_token_is_unpadded_base64url);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, test_malformed_pem_is_invalid);
	tcase_add_test(tc, test_text_that_is_no_pem_is_invalid);
	tcase_add_test(tc, test_key_other_than_rsa_is_invalid);
	tcase_add_test(tc, test_encrypted_key_is_refused_without_a_prompt);
	tcase_add_test(tc, test_app_id_must_be_positive);
	tcase_add_test(tc, test_short_buffer_is_too_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* One key for every case: making one takes a while. */
	if ((rsa_key = EVP_RSA_gen(2048)) == NULL) {
		fprintf(stderr, "check_jwt: cannot make an RSA key\n");
		return EXIT_FAILURE;
	}
	pkcs1_pem = pem_of(rsa_key, 1, NULL, NULL);
	pkcs8_pem = pem_of(rsa_key, 0, NULL, NULL);
	if (pkcs1_pem == NULL || pkcs8_pem == NULL ||
	    strstr(pkcs1_pem, "BEGIN RSA PRIVATE KEY") == NULL ||
	    strstr(pkcs8_pem, "BEGIN PRIVATE KEY") == NULL) {
		fprintf(stderr, "check_jwt: unexpected PEM forms\n");
		return EXIT_FAILURE;
	}

	sr = srunner_create(jwt_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(pkcs1_pem);
	free(pkcs8_pem);
	EVP_PKEY_free(rsa_key);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
