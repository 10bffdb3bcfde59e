#include <stdio.h>
#include <string.h>
#include "engine/arch.h"

static const struct cf_arch_ops *const arches[] = {
	&cf_arm64_ops,
	&cf_x86_ops,
};

const struct cf_arch_ops *cf_arch_find(const char *name)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (name && strcmp(arches[i]->name, name) == 0)
			return arches[i];
	return NULL;
}

void cf_arch_regname(const struct cf_arch_ops *a, uint64_t key, char *buf,
		     size_t len)
{
	int i = cf_catalog_find_key(a->catalog, key);

	if (i >= 0)
		snprintf(buf, len, "%s", a->catalog->regs[i].name);
	else
		a->regname_format(key, buf, len);
}

int cf_arch_regkey(const struct cf_arch_ops *a, const char *name, uint64_t *key)
{
	int i = cf_catalog_find_name(a->catalog, name);

	if (i >= 0) {
		*key = a->catalog->regs[i].key;
		return 0;
	}
	return a->regname_parse(name, key);
}
