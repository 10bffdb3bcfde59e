#include <stdio.h>
#include <string.h>
#include "arch/driver.h"
#include "engine/arch.h"
#include "engine/config.h"

const struct cf_arch_ops *cf_arch_find(const char *name)
{
	const struct cf_driver *d = cf_driver_find(name);

	return d ? d->ops : NULL;
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

bool cf_arch_gate_closed(const struct cf_arch_ops *a,
			 const struct cf_config *want, uint64_t key)
{
	const struct cf_gates *gs = a->gates;
	size_t lo = 0, hi = gs ? gs->n : 0;
	bool gated = false;

	/* The first gate of KEY, then every gate of KEY after it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gs->g[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; gs && lo < gs->n && gs->g[lo].key == key; lo++) {
		uint64_t v;
		gated = true;
		if (cf_config_get(want, gs->g[lo].gate_key, &v, NULL) &&
		    (v >> gs->g[lo].gate_bit) & 1)
			return false;
	}
	return gated;
}
