#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <CUnit/Basic.h>
#include <cjson/cJSON.h>
#include "engine/catalog.h"
#include "engine/profile.h"
#include "db/db.h"
#include "profiles/doc.h"
#include "tests/unit/suites.h"

struct cf_db *test_db_open_tmp(const char *prefix, char dir[64],
			       char path[128])
{
	struct cf_diag d = { "" };
	struct cf_db *db = NULL;

	snprintf(dir, 64, "/tmp/%s_XXXXXX", prefix);
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return NULL;
	}
	snprintf(path, 128, "%s/fleet.db", dir);
	if (cf_db_open(path, false, &db, &d) != CF_OK)
		fprintf(stderr, "\n  open %s: %s\n", path, d.msg);
	return db;
}

void test_db_close_tmp(struct cf_db *db, char dir[64])
{
	DIR *dp;
	struct dirent *e;

	cf_db_close(db);
	if (!dir[0] || !(dp = opendir(dir)))
		return;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(dp), e->d_name, 0);
	closedir(dp);
	rmdir(dir);
	dir[0] = '\0';
}

struct cf_report *test_load_report(const char *rel)
{
	char path[512];
	struct cf_report *r = NULL;
	struct cf_diag d;

	snprintf(path, sizeof(path), "tests/data/%s", rel);
	if (cf_report_load(path, &r, &d) != CF_OK) {
		fprintf(stderr, "test data: %s\n", d.msg);
		return NULL;
	}
	return r;
}

cJSON *test_load_json(const char *rel)
{
	char path[512], *text = NULL;
	size_t len;
	struct cf_diag d;
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "tests/data/%s", rel);
	if (cf_doc_read_file(path, &text, &len, &d) != CF_OK ||
	    cf_doc_parse(text, len, path, &j, &d) != CF_OK)
		fprintf(stderr, "test data: %s\n", d.msg);
	free(text);
	return j;
}

struct cf_report *test_report_of_json(const cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	struct cf_report *r = NULL;
	struct cf_diag d;

	if (text && cf_report_parse(text, strlen(text), "edited", &r, &d) !=
	    CF_OK)
		fprintf(stderr, "\n  edited report: %s\n", d.msg);
	free(text);
	return r;
}

char *test_with_required(const char *doc)
{
	const struct cf_catalog *cat = &cf_arm64_catalog;
	cJSON *root = cJSON_Parse(doc);
	cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, "arm64");
	cJSON *regs = cJSON_GetObjectItemCaseSensitive(sec, "id_regs");
	char *out = NULL;

	if (cJSON_IsObject(regs)) {
		for (size_t i = 0; i < cat->nregs; i++) {
			const char *name = cat->regs[i].name;
			if (!(cat->regs[i].flags & CF_REG_REQUIRED) ||
			    cJSON_GetObjectItemCaseSensitive(regs, name))
				continue;
			/* The section's midr_el1 stands for MIDR_EL1. */
			if (!strcmp(name, "MIDR_EL1") &&
			    cJSON_GetObjectItemCaseSensitive(sec, "midr_el1"))
				continue;
			cJSON_AddStringToObject(regs, name, "0x0");
		}
		out = cJSON_PrintUnformatted(root);
	}
	cJSON_Delete(root);
	return out ? out : strdup(doc);
}

struct cf_report *test_reportf(const char *id, const char *fmt, ...)
{
	char body[2048], doc[2304], *full;
	struct cf_report *r = NULL;
	struct cf_diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(doc, sizeof(doc), "{\"schema\":\"cpufleet.report/v1\",\"host\":"
		 "{\"id\":\"%s\",\"arch\":\"arm64\"},%s}", id, body);
	full = test_with_required(doc);
	if (!full || cf_report_parse(full, strlen(full), id, &r, &d) != CF_OK)
		fprintf(stderr, "\n  test report %s: %s\n", id, full ? d.msg : "no memory");
	free(full);
	return r;
}

uint64_t test_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

struct cf_report *test_load_report_caps(const char *rel, const char *id,
					const char *caps)
{
	char path[512];
	FILE *f;
	char *buf = NULL, *text = NULL;
	long n;
	cJSON *doc = NULL, *host, *kvm, *c;
	struct cf_report *r = NULL;
	struct cf_diag d;

	snprintf(path, sizeof(path), "tests/data/%s", rel);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	buf[n] = '\0';
	doc = cJSON_Parse(buf);
	host = cJSON_GetObjectItemCaseSensitive(doc, "host");
	c = cJSON_Parse(caps);
	if (!host || !c) {
		cJSON_Delete(c);
		goto out;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(host, "id", cJSON_CreateString(id));
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "kvm");
	kvm = cJSON_AddObjectToObject(doc, "kvm");
	cJSON_AddItemToObject(kvm, "caps", c);
	text = cJSON_PrintUnformatted(doc);
	if (text && cf_report_parse(text, strlen(text), path, &r, &d) != CF_OK)
		fprintf(stderr, "\n  test report %s: %s\n", id, d.msg);
out:
	if (f)
		fclose(f);
	free(buf);
	free(text);
	cJSON_Delete(doc);
	return r;
}

bool test_said_dropped(const struct cf_profile *pr, uint64_t key, int fi)
{
	for (size_t i = 0; i < pr->ndrop; i++)
		if (pr->drop[i].key == key && pr->drop[i].field == fi)
			return true;
	return false;
}

struct cf_profile *test_baseline_of2(const struct cf_report *a,
				     const struct cf_report *b)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	if (cf_pool_create("arm64", &p) == CF_OK && cf_pool_add(p, a, &d) == CF_OK &&
	    cf_pool_add(p, b, &d) == CF_OK)
		cf_baseline(p, &pr);
	cf_pool_destroy(p);
	return pr;
}

int main(void)
{
	CU_SuiteInfo *all[] = {
		&suite_err, &suite_catalog, &suite_config, &suite_report_doc,
		&suite_pool, &suite_pools, &suite_baseline, &suite_check,
		&suite_explain,
		&suite_profile_doc, &suite_property, &suite_labdata,
		&suite_spool, &suite_agent, &suite_db, &suite_db_url,
		&suite_db_pg, &suite_db_pg_only, &suite_x86,
		&suite_identity, &suite_sha256, &suite_idpolicy,
		&suite_x86_safety, &suite_smccc, &suite_export, &suite_deps,
		&suite_fleet, &suite_writer, &suite_tokcache,
		&suite_text,
		&suite_levels, &suite_edges, &suite_driver, &suite_strset,
		&suite_kernel,
	};
	CU_SuiteInfo suites[sizeof(all) / sizeof(all[0]) + 1];
	unsigned failed;

	test_db_pg_prepare();
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		suites[i] = *all[i];
	suites[sizeof(all) / sizeof(all[0])] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "register: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
