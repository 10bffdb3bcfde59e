/* util/sha256.c against the FIPS 180-2 Appendix B examples and against
 * nettle's SHA-256 on every length across the block boundaries. */
#include <stdio.h>
#include <string.h>
#include <nettle/sha2.h>
#include "util/sha256.h"
#include "tests/unit/suites.h"

static void hex_of(const char *msg, size_t len, size_t step,
		   char out[CF_SHA256_HEX])
{
	struct cf_sha256 s;

	cf_sha256_init(&s);
	for (size_t i = 0; i < len; i += step)
		cf_sha256_update(&s, msg + i, len - i < step ? len - i : step);
	cf_sha256_hex(&s, out);
}

static void test_sha256_fips_examples(void)
{
	/* FIPS 180-2, Appendix B.1, B.2; and the empty message. */
	static const struct { const char *msg, *digest; } v[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855" },
	};
	char out[CF_SHA256_HEX];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (size_t step = 1; step <= 64; step *= 4) {
			hex_of(v[i].msg, strlen(v[i].msg), step, out);
			CU_ASSERT_STRING_EQUAL(out, v[i].digest);
		}
	}
}

static void test_sha256_against_nettle(void)
{
	char msg[300], out[CF_SHA256_HEX], want[CF_SHA256_HEX];
	uint8_t dg[SHA256_DIGEST_SIZE];
	struct sha256_ctx n;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		sha256_init(&n);
		sha256_update(&n, len, (const uint8_t *)msg);
		sha256_digest(&n, sizeof(dg), dg);
		for (size_t i = 0; i < sizeof(dg); i++)
			snprintf(want + 2 * i, 3, "%02x", dg[i]);
		hex_of(msg, len, 13, out);
		CU_ASSERT_STRING_EQUAL(out, want);
	}
}

static CU_TestInfo tests[] = {
	TEST(test_sha256_fips_examples),
	TEST(test_sha256_against_nettle),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_sha256 = { "sha256", NULL, NULL, NULL, NULL, tests };
