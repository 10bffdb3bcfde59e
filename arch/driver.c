/* The architecture registry. */
#include <string.h>
#include <sys/utsname.h>
#include "arch/driver.h"

static enum cf_err x86_collect(uint32_t features, const char *host_id,
			       struct cf_report **out, struct cf_diag *d)
{
	(void)features;
	return cf_x86_collect(host_id, out, d);
}

static const struct cf_driver drivers[] = {
	{ "arm64", &cf_arm64_ops, &cf_section_regmap, "aarch64", cf_arm64_collect },
	{ "x86", &cf_x86_ops, &cf_section_x86, "x86_64", x86_collect },
};

const struct cf_driver *cf_driver_find(const char *arch)
{
	for (size_t i = 0; arch && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strcmp(drivers[i].arch, arch))
			return &drivers[i];
	return NULL;
}

const struct cf_driver *cf_driver_native(void)
{
	struct utsname u;

	if (uname(&u) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (!strcmp(drivers[i].machine, u.machine))
			return &drivers[i];
	return NULL;
}
