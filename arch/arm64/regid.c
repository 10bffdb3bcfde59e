#include "arch/arm64/regid.h"
#include "engine/catalog.h"

int cf_a64_mask_index(uint64_t key)
{
	unsigned op0 = (key >> 14) & 3, op1 = (key >> 11) & 7;
	unsigned crn = (key >> 7) & 15, crm = (key >> 3) & 15, op2 = key & 7;

	if (op0 != 3 || crn != 0 || crm > 7 || (op1 != 0 && op1 != 1 && op1 != 3))
		return -1;
	return (int)((op1 == 3 ? 2 : op1) << 6 | crm << 3 | op2);
}

enum cf_a64_regclass cf_a64_classify(uint64_t id, uint64_t *key)
{
	int i;

	if ((id & ~0xffffULL) == 0x6030000000130000ULL &&
	    cf_a64_mask_index(id & 0xffff) >= 0) {
		*key = id & 0xffff;
		return CF_A64_ID;
	}
	if ((id >> 32) == 0x60300000) {
		i = cf_catalog_find_key(&cf_arm64_catalog, id & 0xffffffff);
		if (i >= 0 && cf_arm64_catalog.regs[i].pseudo == 1) {
			*key = id & 0xffffffff;
			return CF_A64_PSEUDO;
		}
	}
	*key = 0;
	return CF_A64_OTHER;
}

uint64_t cf_a64_one_reg_id(uint64_t key)
{
	/* Pseudo-registers' keys are the low half of their id, 64-bit. */
	return key > 0xffff ? 0x6030000000000000ULL | key : cf_a64_sysreg_id(key);
}

uint64_t cf_a64_writable_of(uint64_t key, const uint64_t masks[192])
{
	int i = cf_catalog_find_key(&cf_arm64_catalog, key);
	int mi = cf_a64_mask_index(key);

	if (i >= 0 && cf_arm64_catalog.regs[i].pseudo)
		return cf_arm64_catalog.regs[i].fixed_writable;
	return masks && key <= 0xffff && mi >= 0 ? masks[mi] : 0;
}
