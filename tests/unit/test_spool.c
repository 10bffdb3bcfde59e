#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "agent/spool.h"
#include "tests/unit/suites.h"

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/cf_spool_XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(buf));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1))) {
		*len = fread(b, 1, (size_t)n, f);
		b[*len] = '\0';
	}
	fclose(f);
	return b;
}

static bool exists(const char *dir, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0;
}

/* Takes the oldest entry, checks it is NAME with BODY, removes it. */
static void expect_oldest(struct cf_spool *s, const char *name,
			  const char *body)
{
	char got[CF_SPOOL_NAME_MAX];
	char *b = NULL;
	size_t len = 0;
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_spool_oldest(s, got, sizeof(got), &b, &len, &d),
			      CF_OK);
	CU_ASSERT_STRING_EQUAL(got, name);
	CU_ASSERT_EQUAL(len, strlen(body));
	CU_ASSERT_STRING_EQUAL(b, body);
	free(b);
	CU_ASSERT_EQUAL(cf_spool_remove(s, got, &d), CF_OK);
}

static void test_spool_order_across_reopen(void)
{
	char dir[64];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	char name[CF_SPOOL_NAME_MAX], *b = NULL;
	size_t len;

	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_count(s), 0);
	CU_ASSERT_EQUAL(cf_spool_oldest(s, name, sizeof(name), &b, &len, &d),
			CF_ENOTFOUND);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(cf_spool_put(s, "one", 3, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, "two", 3, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, "three", 5, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_count(s), 3);
	CU_ASSERT_TRUE(exists(dir, "000000000001.json"));
	CU_ASSERT_TRUE(exists(dir, "000000000003.json"));
	expect_oldest(s, "000000000001.json", "one");
	cf_spool_close(s);
	s = NULL;

	/* Reopened: the queue is what is on disk, the sequence goes on. */
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_count(s), 2);
	CU_ASSERT_EQUAL(cf_spool_put(s, "four", 4, &d), CF_OK);
	CU_ASSERT_TRUE(exists(dir, "000000000004.json"));
	CU_ASSERT_EQUAL(cf_spool_count(s), 3);
	expect_oldest(s, "000000000002.json", "two");
	expect_oldest(s, "000000000003.json", "three");
	expect_oldest(s, "000000000004.json", "four");
	CU_ASSERT_EQUAL(cf_spool_count(s), 0);
	CU_ASSERT_EQUAL(cf_spool_oldest(s, name, sizeof(name), &b, &len, &d),
			CF_ENOTFOUND);
	CU_ASSERT_FALSE(exists(dir, "000000000004.json"));
	cf_spool_close(s);
	rm_tree(dir);
}

static void test_spool_sequence_past_ten(void)
{
	char dir[64], body[16], want[CF_SPOOL_NAME_MAX];
	struct cf_spool *s = NULL;
	struct cf_diag d;

	/* Names sort as numbers do: 9 before 10 before 11. */
	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	for (int i = 1; i <= 11; i++) {
		snprintf(body, sizeof(body), "r%d", i);
		CU_ASSERT_EQUAL(cf_spool_put(s, body, strlen(body), &d), CF_OK);
	}
	cf_spool_close(s);
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	for (int i = 1; i <= 11; i++) {
		snprintf(body, sizeof(body), "r%d", i);
		snprintf(want, sizeof(want), "%012d.json", i);
		expect_oldest(s, want, body);
	}
	cf_spool_close(s);
	rm_tree(dir);
}

static void test_spool_reject(void)
{
	char dir[64], path[256];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	char *t;
	size_t len;

	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, "{\"bad\":1}", 9, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, "{\"good\":2}", 10, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_reject(s, "000000000001.json",
					"HTTP 409: report id reused", &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_count(s), 1);
	CU_ASSERT_FALSE(exists(dir, "000000000001.json"));

	snprintf(path, sizeof(path), "%s/rejected/000000000001.json", dir);
	t = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(t, "{\"bad\":1}");
	free(t);
	snprintf(path, sizeof(path), "%s/rejected/000000000001.json.why", dir);
	t = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(t, "HTTP 409: report id reused\n");
	free(t);

	/* The rejected entry no longer blocks the queue. */
	expect_oldest(s, "000000000002.json", "{\"good\":2}");
	CU_ASSERT_EQUAL(cf_spool_reject(s, "000000000002.json", "x", &d),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_spool_reject(s, "../escape.json", "x", &d), CF_EINVAL);
	cf_spool_close(s);

	/* Reopened: rejected entries are not counted, and their names are
	 * not reused (the sequence goes on from the highest name on disk,
	 * rejected/000000000001.json: 2 was delivered and is gone). */
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_count(s), 0);
	CU_ASSERT_EQUAL(cf_spool_put(s, "next", 4, &d), CF_OK);
	CU_ASSERT_TRUE(exists(dir, "000000000002.json"));
	CU_ASSERT_EQUAL(cf_spool_reject(s, "000000000002.json", "again", &d),
			CF_OK);
	CU_ASSERT_TRUE(exists(dir, "rejected/000000000001.json.why"));
	CU_ASSERT_TRUE(exists(dir, "rejected/000000000002.json.why"));
	cf_spool_close(s);
	rm_tree(dir);
}

static void test_spool_second_open_conflicts(void)
{
	char dir[64];
	struct cf_spool *s = NULL, *s2 = NULL;
	struct cf_diag d;

	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	d.msg[0] = '\0';
	CU_ASSERT_EQUAL(cf_spool_open(dir, &s2, &d), CF_ECONFLICT);
	CU_ASSERT_PTR_NULL(s2);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, dir));
	cf_spool_close(s);
	/* Closing releases the lock. */
	CU_ASSERT_EQUAL(cf_spool_open(dir, &s2, &d), CF_OK);
	cf_spool_close(s2);
	rm_tree(dir);
}

static void test_spool_cleans_temp_files(void)
{
	char dir[64], path[256];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	FILE *f;

	make_tmpdir(dir, sizeof(dir));
	/* What a writer that crashed before its rename leaves behind. */
	snprintf(path, sizeof(path), "%s/.tmp.000000000007.json", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"half", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rejected", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/rejected/.tmp.000000000002.json.why",
		 dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	/* Files that are not entries are left alone and not counted. */
	snprintf(path, sizeof(path), "%s/README", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);

	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_FALSE(exists(dir, ".tmp.000000000007.json"));
	CU_ASSERT_FALSE(exists(dir, "rejected/.tmp.000000000002.json.why"));
	CU_ASSERT_TRUE(exists(dir, "README"));
	CU_ASSERT_EQUAL(cf_spool_count(s), 0);
	CU_ASSERT_EQUAL(cf_spool_put(s, "x", 1, &d), CF_OK);
	CU_ASSERT_TRUE(exists(dir, "000000000001.json"));
	cf_spool_close(s);
	rm_tree(dir);
}

static void test_spool_bodies_byte_exact(void)
{
	char dir[64], name[CF_SPOOL_NAME_MAX];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	char bin[256], *big, *b = NULL;
	size_t len, big_len = (1u << 20) + 7;

	for (int i = 0; i < 256; i++)
		bin[i] = (char)i;
	big = malloc(big_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, bin, sizeof(bin), &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, "", 0, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_put(s, big, big_len, &d), CF_OK);
	cf_spool_close(s);
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);

	CU_ASSERT_EQUAL_FATAL(cf_spool_oldest(s, name, sizeof(name), &b, &len,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(len, sizeof(bin));
	CU_ASSERT_EQUAL(memcmp(b, bin, sizeof(bin)), 0);
	CU_ASSERT_EQUAL(b[len], '\0');
	free(b);
	CU_ASSERT_EQUAL(cf_spool_remove(s, name, &d), CF_OK);

	CU_ASSERT_EQUAL_FATAL(cf_spool_oldest(s, name, sizeof(name), &b, &len,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(b[0], '\0');
	free(b);
	CU_ASSERT_EQUAL(cf_spool_remove(s, name, &d), CF_OK);

	CU_ASSERT_EQUAL_FATAL(cf_spool_oldest(s, name, sizeof(name), &b, &len,
					      &d), CF_OK);
	CU_ASSERT_EQUAL(len, big_len);
	CU_ASSERT_EQUAL(memcmp(b, big, big_len), 0);
	CU_ASSERT_EQUAL(b[len], '\0');
	free(b);
	CU_ASSERT_EQUAL(cf_spool_remove(s, name, &d), CF_OK);

	/* Over the document limit: refused, nothing written. */
	CU_ASSERT_EQUAL(cf_spool_put(s, big, CF_DOC_MAX_BYTES + 1u, &d),
			CF_ETOOBIG);
	CU_ASSERT_EQUAL(cf_spool_count(s), 0);
	cf_spool_close(s);
	free(big);
	rm_tree(dir);
}

static void test_spool_creates_parents_private(void)
{
	char dir[64], deep[128];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	struct stat st;

	make_tmpdir(dir, sizeof(dir));
	snprintf(deep, sizeof(deep), "%s/a/b/spool/", dir);
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(deep, &s, &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(stat(deep, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	CU_ASSERT_TRUE(exists(deep, "rejected"));
	CU_ASSERT_TRUE(exists(deep, ".lock"));
	cf_spool_close(s);
	rm_tree(dir);
}

static void test_spool_bad_names(void)
{
	char dir[64], small[8];
	struct cf_spool *s = NULL;
	struct cf_diag d;
	char *b = NULL;
	size_t len;

	make_tmpdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL_FATAL(cf_spool_open(dir, &s, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_remove(s, "../../etc/passwd", &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_spool_remove(s, ".lock", &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_spool_remove(s, "00000000001.json", &d), CF_EINVAL);
	CU_ASSERT_EQUAL(cf_spool_remove(s, "000000000001.json", &d),
			CF_ENOTFOUND);
	CU_ASSERT_EQUAL(cf_spool_put(s, "x", 1, &d), CF_OK);
	CU_ASSERT_EQUAL(cf_spool_oldest(s, small, sizeof(small), &b, &len, &d),
			CF_EINVAL);
	CU_ASSERT_PTR_NULL(b);
	/* An entry deleted behind the spool's back is skipped. */
	CU_ASSERT_EQUAL(cf_spool_put(s, "y", 1, &d), CF_OK);
	{
		char path[256], name[CF_SPOOL_NAME_MAX];

		snprintf(path, sizeof(path), "%s/000000000001.json", dir);
		CU_ASSERT_EQUAL(unlink(path), 0);
		CU_ASSERT_EQUAL(cf_spool_oldest(s, name, sizeof(name), &b, &len,
						&d), CF_OK);
		CU_ASSERT_STRING_EQUAL(name, "000000000002.json");
		CU_ASSERT_STRING_EQUAL(b, "y");
		free(b);
		CU_ASSERT_EQUAL(cf_spool_count(s), 1);
	}
	cf_spool_close(s);
	rm_tree(dir);
}

static CU_TestInfo tests[] = {
	TEST(test_spool_order_across_reopen),
	TEST(test_spool_sequence_past_ten),
	TEST(test_spool_reject),
	TEST(test_spool_second_open_conflicts),
	TEST(test_spool_cleans_temp_files),
	TEST(test_spool_bodies_byte_exact),
	TEST(test_spool_creates_parents_private),
	TEST(test_spool_bad_names),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_spool = { "spool", NULL, NULL, NULL, NULL, tests };
