/* x86 hooks for the engine: register naming.  The catalogue is generated
 * from cpuid.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpufleet.h>
#include "engine/arch.h"
#include "arch/x86/x86.h"

extern const struct cf_catalog cf_x86_catalog;

bool cf_x86_leaf_indexed(uint32_t leaf)
{
	static const uint32_t indexed[] = {
		0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1d,
		0x1e, 0x1f, 0x20, 0x23, 0x24, 0x8000001d, 0x80000020, 0x80000026,
	};

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
		if (indexed[i] == leaf)
			return true;
	return false;
}

/* Exactly N hex digits at S. */
static bool hexn(const char *s, size_t n, unsigned long *out)
{
	char buf[16];
	char *end;

	if (n >= sizeof(buf) || strlen(s) < n ||
	    strspn(s, "0123456789abcdefABCDEF") < n)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtoul(buf, &end, 16);
	return true;
}

/* "CPUID_00000007_0_EBX" (subleaf in hex) or "MSR_0000010A". */
static int x86_regname_parse(const char *name, uint64_t *key)
{
	static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };
	unsigned long leaf, sub, idx;
	const char *s;
	size_t n;

	if (!strncmp(name, "MSR_", 4)) {
		if (strlen(name) != 12 || !hexn(name + 4, 8, &idx))
			return -1;
		*key = CF_X86_MSR_KEY(idx);
		return 0;
	}
	if (strncmp(name, "CPUID_", 6) != 0 || !hexn(name + 6, 8, &leaf) ||
	    name[14] != '_')
		return -1;
	s = name + 15;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n > 4 || s[n] != '_' || !hexn(s, n, &sub) ||
	    sub > CF_X86_SUB_MAX)
		return -1;
	for (unsigned r = 0; r < 4; r++) {
		if (!strcmp(s + n + 1, regs[r])) {
			*key = CF_X86_CPUID_KEY(leaf, sub, r);
			return 0;
		}
	}
	return -1;
}

static void x86_regname_format(uint64_t key, char *buf, size_t len)
{
	static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };

	if (CF_X86_IS_MSR(key))
		snprintf(buf, len, "MSR_%08X", (unsigned)(uint32_t)key);
	else if (CF_X86_IS_CPUID(key))
		snprintf(buf, len, "CPUID_%08X_%X_%s", CF_X86_LEAF(key),
			 CF_X86_SUB(key), regs[CF_X86_REG(key)]);
	else
		snprintf(buf, len, "KEY_%llx", (unsigned long long)key);
}

const struct cf_arch_ops cf_x86_ops = {
	.name = "x86",
	.regs_key = "cpuid",
	.pseudo_key = NULL,
	.facts_key = NULL,
	.catalog = &cf_x86_catalog,
	.regname_parse = x86_regname_parse,
	.regname_format = x86_regname_format,
};
