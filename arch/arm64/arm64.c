/* arm64 hooks for the engine: register naming.  The catalogue itself is
 * generated from idregs.txt. */
#include <stdio.h>
#include <string.h>
#include <cpufleet.h>
#include "arch/driver.h"
#include "engine/arch.h"
#include "arch/arm64/levels.h"

#define OP0(k) (((k) >> 14) & 3)
#define OP1(k) (((k) >> 11) & 7)
#define CRN(k) (((k) >> 7) & 15)
#define CRM(k) (((k) >> 3) & 15)
#define OP2(k) ((k) & 7)

/* Bounded decimal: up to 2 digits, no sign, no leading junk. */
static const char *num(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 2) {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || v > max)
		return NULL;
	*out = v;
	return s;
}

/* "S<op0>_<op1>_C<crn>_C<crm>_<op2>", as the kernel and assemblers spell an
 * unnamed system register. */
static int arm64_regname_parse(const char *name, uint64_t *key)
{
	unsigned op0, op1, crn, crm, op2;
	const char *s = name;

	if (*s++ != 'S' || !(s = num(s, 3, &op0)) || *s++ != '_' ||
	    !(s = num(s, 7, &op1)) || *s++ != '_' || *s++ != 'C' ||
	    !(s = num(s, 15, &crn)) || *s++ != '_' || *s++ != 'C' ||
	    !(s = num(s, 15, &crm)) || *s++ != '_' || !(s = num(s, 7, &op2)) ||
	    *s != '\0')
		return -1;
	/* Reports and profiles hold ID registers: op0 3, CRn 0. */
	if (op0 != 3 || crn != 0)
		return -1;
	*key = (uint64_t)op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
	return 0;
}

static void arm64_regname_format(uint64_t key, char *buf, size_t len)
{
	snprintf(buf, len, "S%u_%u_C%u_C%u_%u", (unsigned)OP0(key),
		 (unsigned)OP1(key), (unsigned)CRN(key), (unsigned)CRM(key),
		 (unsigned)OP2(key));
}

enum cf_err cf_arm64_parse_features(const char *list, uint32_t *out)
{
	static const struct { const char *name; uint32_t bits; } words[] = {
		{ "psci", CF_ARM64_FEAT_PSCI }, { "pmu", CF_ARM64_FEAT_PMU },
		{ "sve", CF_ARM64_FEAT_SVE }, { "pauth", CF_ARM64_FEAT_PAUTH },
	};
	const char *s = list;
	uint32_t f = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strlen(words[i].name) == len &&
			    !strncmp(words[i].name, s, len)) {
				f |= words[i].bits;
				known = true;
			}
		}
		if (!known)
			return CF_EINVAL;
		s += len;
		if (*s == ',')
			s++;
	}
	*out = f;
	return CF_OK;
}

/* MIDR_EL1's core (arch/arm64/levels.txt), "unknown core" for another
 * part; NULL for other registers. */
static const char *arm64_value_name(const char *reg, uint64_t value)
{
	const char *core;

	if (strcmp(reg, "MIDR_EL1") != 0)
		return NULL;
	core = cf_arm64_core_name(value);
	return core ? core : "unknown core";
}

const struct cf_arch_ops cf_arm64_ops = {
	.name = "arm64",
	.regs_key = "id_regs",
	.pseudo_key = "fw_regs",
	.facts_key = "kvm_facts",
	.catalog = &cf_arm64_catalog,
	.deps = &cf_arm64_deps,
	.refusals = &cf_arm64_refusals,
	.level_beyond = cf_arm64_level_beyond,
	.level_range = "Armv8.0 .. Armv9.3",
	.regname_parse = arm64_regname_parse,
	.regname_format = arm64_regname_format,
	.value_name = arm64_value_name,
};
