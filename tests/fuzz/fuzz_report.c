/* libFuzzer target: report documents, the agent's untrusted input.  A
 * parsed report must also survive baseline, check and show, and keep its
 * content identity and fingerprint when written and read back. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cpufleet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const struct cf_decoded *d)
{
	(void)d;
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_report *r = NULL;
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = NULL;
	struct cf_diag d;
	size_t n = 0;

	if (cf_report_parse((const char *)data, size, "fuzz", &r, &d) != CF_OK)
		return 0;
	cf_report_decode(r, count, &n);
	{
		char a[CF_CONTENT_ID_MAX], b[CF_CONTENT_ID_MAX], *text = NULL;
		struct cf_report *back = NULL;
		if (cf_report_content_id(r, a, sizeof(a)) == CF_OK &&
		    cf_report_to_json(r, &text) == CF_OK &&
		    cf_report_parse(text, strlen(text), "back", &back, &d) == CF_OK &&
		    cf_report_content_id(back, b, sizeof(b)) == CF_OK &&
		    (strcmp(a, b) != 0 ||
		     cf_report_fingerprint(r) != cf_report_fingerprint(back)))
			abort(); /* written and read back: the same identity */
		cf_report_destroy(back);
		free(text);
	}
	if (cf_pool_create(cf_report_arch(r), &p) == CF_OK &&
	    cf_pool_add(p, r, &d) == CF_OK && cf_baseline(p, &pr) == CF_OK) {
		char *json = NULL;
		v = cf_verdict_create();
		if (v && cf_check(pr, r, v) == CF_OK && !cf_verdict_compatible(v))
			abort(); /* a host always accepts its own baseline */
		if (cf_profile_to_json(pr, &json) == CF_OK)
			free(json);
	}
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	cf_report_destroy(r);
	return 0;
}
