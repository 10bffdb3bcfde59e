/* Lookups in the VMM name tables (arch/x86/vmm.h). */
#include "arch/x86/vmm.h"

const char *cf_x86_vmm_name_of(const struct cf_x86_vmm *v, uint64_t key,
			       unsigned bit)
{
	for (size_t i = 0; i < v->nnames; i++)
		if (v->names[i].key == key && v->names[i].bit == bit)
			return v->names[i].newer ? NULL : v->names[i].name;
	return NULL;
}
