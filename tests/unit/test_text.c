/* util/text.c against the standards its rules come from: RFC 3629 (UTF-8,
 * with the examples of its section 7), RFC 8259 (which control characters
 * JSON text holds), RFC 3339 (times, with the examples of its section 5.8)
 * and the README's names ([A-Za-z0-9._-]{1,127}, never "." or "..").  No
 * expectation is computed by the code under test. */
#include <string.h>
#include "util/text.h"
#include "tests/unit/suites.h"

#define N(s) (sizeof(s) - 1)   /* a literal's length, NULs inside counted */
/* An assertion in a loop, naming the input it failed on. */
#define ASSERT_ON(cond, input) \
	CU_assertImplementation((cond), __LINE__, (input), __FILE__, "", \
				CU_FALSE)

static void test_text_utf8_rfc3629(void)
{
	/* RFC 3629 section 7's examples: all valid. */
	static const char a[] = "\x41\xE2\x89\xA2\xCE\x91\x2E";
	static const char ko[] = "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4";
	static const char ja[] = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
	static const char bom[] = "\xEF\xBB\xBF\xF0\xA3\x8E\xB4";
	/* Section 4's ranges: edges inside, and what lies just outside. */
	static const struct { const char *s; size_t n, bad; } v[] = {
		{ "\xC2\x80", 2, 2 },              /* U+0080, first 2-byte */
		{ "\xDF\xBF", 2, 2 },              /* U+07FF */
		{ "\xE0\xA0\x80", 3, 3 },          /* U+0800 */
		{ "\xED\x9F\xBF", 3, 3 },          /* U+D7FF */
		{ "\xEE\x80\x80", 3, 3 },          /* U+E000 */
		{ "\xF0\x90\x80\x80", 4, 4 },      /* U+10000 */
		{ "\xF4\x8F\xBF\xBF", 4, 4 },      /* U+10FFFF, the last */
		{ "\xC0\xAE", 2, 0 },              /* overlong '.' (section 10) */
		{ "\xC1\xBF", 2, 0 },              /* overlong, C0 and C1 never */
		{ "\xE0\x80\xAE", 3, 0 },          /* overlong 3-byte '.' */
		{ "\xF0\x8F\xBF\xBF", 4, 0 },      /* overlong U+FFFF */
		{ "\xED\xA0\x80", 3, 0 },          /* U+D800, a surrogate */
		{ "\xED\xBF\xBF", 3, 0 },          /* U+DFFF */
		{ "\xF4\x90\x80\x80", 4, 0 },      /* U+110000 */
		{ "\xF5\x80\x80\x80", 4, 0 },      /* F5-FF never appear */
		{ "\xFF", 1, 0 },
		{ "\x80", 1, 0 },                  /* a continuation alone */
		{ "ab\xE2\x89", 4, 2 },            /* cut short at the end */
		{ "ab\xE2\x41\xA2", 5, 2 },        /* interrupted */
	};

	CU_ASSERT_EQUAL(cf_text_bad_at(a, N(a), CF_TEXT_CTRL_NONE, NULL),
			N(a));
	CU_ASSERT_EQUAL(cf_text_bad_at(ko, N(ko), CF_TEXT_CTRL_NONE, NULL),
			N(ko));
	CU_ASSERT_EQUAL(cf_text_bad_at(ja, N(ja), CF_TEXT_CTRL_NONE, NULL),
			N(ja));
	CU_ASSERT_EQUAL(cf_text_bad_at(bom, N(bom), CF_TEXT_CTRL_NONE, NULL),
			N(bom));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		bool ctrl = true;

		CU_ASSERT_EQUAL(cf_text_bad_at(v[i].s, v[i].n,
					       CF_TEXT_CTRL_JSON, &ctrl),
				v[i].bad);
		CU_ASSERT_FALSE(ctrl);
		CU_ASSERT_EQUAL(cf_text_bad_at(v[i].s, v[i].n,
					       CF_TEXT_CTRL_NONE, NULL),
				v[i].bad);
	}
}

static void test_text_controls(void)
{
	/* RFC 8259 section 2: tab, LF and CR are whitespace; section 7: the
	 * other C0 characters only escaped inside strings.  DEL (0x7f) is no
	 * C0 character, JSON allows it; plain text refuses C0 and DEL. */
	static const char json_ok[] = "{\"a\":\t\"b\"}\r\n\x7f";
	static const char nul[] = "ab\0c";
	bool ctrl = false;

	CU_ASSERT_EQUAL(cf_text_bad_at(json_ok, N(json_ok), CF_TEXT_CTRL_JSON,
				       &ctrl), N(json_ok));
	CU_ASSERT_EQUAL(cf_text_bad_at(json_ok, N(json_ok), CF_TEXT_CTRL_NONE,
				       &ctrl), 5);
	CU_ASSERT_TRUE(ctrl);
	ctrl = false;
	CU_ASSERT_EQUAL(cf_text_bad_at(nul, N(nul), CF_TEXT_CTRL_JSON, &ctrl),
			2);
	CU_ASSERT_TRUE(ctrl);
	CU_ASSERT_EQUAL(cf_text_bad_at("a\x1f", 2, CF_TEXT_CTRL_JSON, NULL), 1);
	CU_ASSERT_EQUAL(cf_text_bad_at("a\x7f", 2, CF_TEXT_CTRL_NONE, NULL), 1);
	CU_ASSERT_EQUAL(cf_text_bad_at("a\x1b[0m", 5, CF_TEXT_CTRL_JSON, NULL),
			1);
}

static void test_text_ok_limits(void)
{
	char s[9];

	memset(s, 'x', 8);
	s[8] = '\0';
	CU_ASSERT_TRUE(cf_text_ok(s, 1, 9));    /* 8 bytes fit a cap of 9 */
	CU_ASSERT_FALSE(cf_text_ok(s, 1, 8));
	CU_ASSERT_FALSE(cf_text_ok(s, 9, 20));  /* fewer than MIN */
	CU_ASSERT_TRUE(cf_text_ok("", 0, 2));
	CU_ASSERT_FALSE(cf_text_ok("", 1, 2));
	CU_ASSERT_FALSE(cf_text_ok(NULL, 0, 2));
	CU_ASSERT_TRUE(cf_text_ok("h\xC3\xA9", 1, 4));    /* "hé" */
	CU_ASSERT_FALSE(cf_text_ok("h\xC3", 1, 4));       /* half of é */
	CU_ASSERT_FALSE(cf_text_ok("a\tb", 1, 4));
	CU_ASSERT_FALSE(cf_text_ok("a\x7f", 1, 4));
}

static void test_text_names(void)
{
	/* README: pool and profile names are [A-Za-z0-9._-]{1,127} (a cap of
	 * 128), and no name can be "." or "..". */
	char long_ok[128], too_long[129];
	static const char *const good[] = {
		"rack1", "A-Z_a.z-09", "..y", ".x", "-", "_", "x..",
	};
	static const char *const bad[] = {
		"", ".", "..", "a b", "a/b", "a:b", "p\xC3\xA9", "a\n",
		"%2e", "a@1",
	};

	memset(long_ok, 'n', 127);
	long_ok[127] = '\0';
	memset(too_long, 'n', 128);
	too_long[128] = '\0';
	CU_ASSERT_TRUE(cf_text_name_ok(long_ok, 128));
	CU_ASSERT_FALSE(cf_text_name_ok(too_long, 128));
	CU_ASSERT_FALSE(cf_text_name_ok(long_ok, 127));
	CU_ASSERT_FALSE(cf_text_name_ok(NULL, 128));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ASSERT_ON(cf_text_name_ok(good[i], 128), good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ON(!cf_text_name_ok(bad[i], 128), bad[i]);
}

static void test_text_times_rfc3339(void)
{
	/* RFC 3339 section 5.6's grammar in UTC ("Z"), section 5.7's day
	 * and hour ranges, appendix C's leap years. */
	static const char *const good[] = {
		"1985-04-12T23:20:50.52Z",          /* section 5.8 */
		"2026-11-22T04:15:11Z",
		"2026-11-22T04:15:11.5Z",           /* time-secfrac: 1*DIGIT */
		"2026-11-22T04:15:11.123Z",
		"2026-11-22T04:15:11.123456789Z",
		"2026-11-22T04:15:11.1234567890Z",  /* 31 bytes: fits 32 */
		"0000-01-01T00:00:00Z",
		"2024-02-29T00:00:00Z",             /* divisible by 4 */
		"2000-02-29T00:00:00Z",             /* by 400 */
		"2026-01-31T23:59:59Z", "2026-04-30T00:00:00Z",
		"2026-12-31T23:59:59.999Z",
	};
	static const char *const bad[] = {
		"", "yesterday", "2026-11-22", "2026-11-22T04:15:11",
		"2026-11-22T04:15:11.Z",            /* "." needs a digit */
		"2026-11-22T04:15:11.12345678901Z", /* 32 bytes: over 32 */
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-02-30T00:00:00Z",
		"2023-02-29T00:00:00Z",             /* not divisible by 4 */
		"1900-02-29T00:00:00Z",             /* by 100, not by 400 */
		"2026-11-22T24:00:00Z", "2026-11-22T04:60:00Z",
		"2026-11-22T04:15:61Z",
		/* Allowed by RFC 3339, refused here (util/text.h says why). */
		"1990-12-31T23:59:60Z",             /* section 5.8's leap second */
		"1996-12-19T16:39:57-08:00",        /* section 5.8, an offset */
		"2026-11-22T04:15:11+00:00",
		"2026-11-22t04:15:11Z", "2026-11-22T04:15:11z",
		"2026-11-22 04:15:11Z",
		/* Not RFC 3339 at all. */
		"2026-11-22T04:15:11ZZ", "2026-11-22T4:15:11Z",
		"+2026-11-22T04:15:11Z", "2026-11-22T04:15:11.5 Z",
		"20261-11-22T04:15:11Z",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ASSERT_ON(cf_text_time_ok(good[i], 32), good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ON(!cf_text_time_ok(bad[i], 32), bad[i]);
	CU_ASSERT_FALSE(cf_text_time_ok(NULL, 32));
	/* The cap counts the NUL: 20 bytes need 21. */
	CU_ASSERT_TRUE(cf_text_time_ok("2026-11-22T04:15:11Z", 21));
	CU_ASSERT_FALSE(cf_text_time_ok("2026-11-22T04:15:11Z", 20));
}

static void test_text_time_norm(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "2026-11-22T04:15:11Z", "2026-11-22T04:15:11.000Z" },
		{ "2026-11-22T04:15:11.5Z", "2026-11-22T04:15:11.500Z" },
		{ "2026-11-22T04:15:11.123Z", "2026-11-22T04:15:11.123Z" },
		{ "2026-11-22T04:15:11.123999Z", "2026-11-22T04:15:11.123Z" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 0, sizeof(out));
		ASSERT_ON(cf_text_time_norm(v[i].in, 3, out, sizeof(out)),
			  v[i].in);
		ASSERT_ON(strcmp(out, v[i].out) == 0, v[i].in);
	}
	CU_ASSERT_TRUE(cf_text_time_norm("2026-11-22T04:15:11Z", 1, out,
					 sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "2026-11-22T04:15:11.0Z");
	CU_ASSERT_FALSE(cf_text_time_norm("2026-13-22T04:15:11Z", 3, out,
					  sizeof(out)));
	CU_ASSERT_FALSE(cf_text_time_norm("2026-11-22T04:15:11", 3, out,
					  sizeof(out)));
	/* 24 bytes and a NUL do not fit 24. */
	CU_ASSERT_FALSE(cf_text_time_norm("2026-11-22T04:15:11Z", 3, out, 24));
	CU_ASSERT_TRUE(cf_text_time_norm("2026-11-22T04:15:11Z", 3, out, 25));
	CU_ASSERT_FALSE(cf_text_time_norm("2026-11-22T04:15:11Z", 0, out,
					  sizeof(out)));
	CU_ASSERT_FALSE(cf_text_time_norm("2026-11-22T04:15:11Z", 10, out,
					  sizeof(out)));
}

/* Host ids: RFC 3629 UTF-8 without C0 or DEL, and one path segment of
 * /v1/hosts/{id}: no '/', and not a dot segment (RFC 3986 section 5.2.4). */
static void test_text_host_ids(void)
{
	static const char *const good[] = {
		"n1-01", "0xFF", "..y", ".x", "rack 1", "n\xC3\xA9ud", "...",
	};
	static const char *const bad[] = {
		"", ".", "..", "a/b", "/", "a\xFF" "b", "a\tb", "a\x7f",
		"\xC0\xAE",
	};
	char big[CF_HOST_ID_MAX + 1];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ASSERT_ON(cf_text_host_id_why(good[i], CF_HOST_ID_MAX) == NULL,
			  good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ON(cf_text_host_id_why(bad[i], CF_HOST_ID_MAX) != NULL,
			  bad[i]);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_PTR_NOT_NULL(cf_text_host_id_why(big, CF_HOST_ID_MAX));
	big[CF_HOST_ID_MAX - 1] = '\0';   /* 127 bytes: the most that fit */
	CU_ASSERT_PTR_NULL(cf_text_host_id_why(big, CF_HOST_ID_MAX));
}

static CU_TestInfo tests[] = {
	TEST(test_text_host_ids),
	TEST(test_text_utf8_rfc3629),
	TEST(test_text_controls),
	TEST(test_text_ok_limits),
	TEST(test_text_names),
	TEST(test_text_times_rfc3339),
	TEST(test_text_time_norm),
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo suite_text = { "text", NULL, NULL, NULL, NULL, tests };
