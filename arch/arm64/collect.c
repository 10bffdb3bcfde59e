/* What KVM on this host offers a guest: a scratch VM and vCPU initialised
 * with the report's vCPU features, read through KVM's own interfaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/report.h"
#include "util/diag.h"

#if defined(__aarch64__)
#include "arch/arm64/a64vm.h"

#define MPIDR_KEY 0xc005u     /* per-vCPU identity, not a feature */
#define PMCR_EL0_ID 0x603000000013dce0ULL
#define SVE_VLS_ID 0x606000000015ffffULL

static uint64_t cntfrq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

static int vm_cap(void *vm, long nr)
{
	return cf_a64vm_cap(vm, nr);
}

/* KVM facts (catalogue `fact` entries): counter frequency, PMU counters,
 * SVE vector lengths, vGIC model. */
static enum cf_err facts(struct cf_a64vm *vm, struct cf_config *cfg)
{
	uint64_t pmcr = 0, vls[8];
	enum cf_err err = cf_config_set_fact(cfg, "CNTFRQ", cntfrq());

	if (err == CF_OK)
		err = cf_config_set_fact(cfg, "VGIC", 3); /* the VM was made with a vGICv3 */
	if (err == CF_OK && (cf_a64vm_features(vm) & CF_A64_FEAT_PMU) &&
	    cf_a64vm_get(vm, PMCR_EL0_ID, &pmcr) == 0)
		err = cf_config_set_fact(cfg, "PMU_COUNTERS", (pmcr >> 11) & 0x1f);
	if (err == CF_OK && (cf_a64vm_features(vm) & CF_A64_FEAT_SVE) &&
	    cf_a64vm_get_raw(vm, SVE_VLS_ID, vls) == 0)
		err = cf_config_set_fact(cfg, "SVE_VLS", vls[0]);
	return err;
}

enum cf_err cf_arm64_collect(uint32_t features, const char *host_id,
			     struct cf_report **out, struct cf_diag *d)
{
	const struct cf_arch_ops *a = cf_arch_find("arm64");
	struct cf_a64vm *vm = NULL;
	struct cf_config *cfg = NULL;
	uint64_t *ids = NULL, masks[192];
	size_t n = 0;
	bool have_masks;
	enum cf_err err;

	*out = NULL;
	err = cf_a64vm_create(features, &vm, d);
	if (err != CF_OK)
		return err;
	err = cf_config_create(a, &cfg);
	if (err == CF_OK)
		err = cf_a64vm_reg_list(vm, &ids, &n);
	if (err != CF_OK) {
		cf_diag_set(d, err, "KVM_GET_REG_LIST failed");
		goto cleanup;
	}
	have_masks = cf_a64vm_writable_masks(vm, masks);
	for (size_t i = 0; i < n; i++) {
		uint64_t id = ids[i], v, key;
		enum cf_a64_regclass cls = cf_a64_classify(id, &key);
		/* Feature ID registers (not MPIDR, a vCPU's identity) and the
		 * firmware registers the catalogue describes. */
		if (cls == CF_A64_OTHER || key == MPIDR_KEY)
			continue;
		if (cf_a64vm_get(vm, id, &v) != 0) {
			err = cf_diag_set(d, CF_EIO, "KVM_GET_ONE_REG 0x%llx failed",
					  (unsigned long long)id);
			goto cleanup;
		}
		if (cls == CF_A64_PSEUDO)
			err = cf_config_set_fixed(cfg, key, v);
		else
			err = cf_config_set(cfg, key, v);
		if (err == CF_OK && cls == CF_A64_ID && have_masks)
			err = cf_config_set_writable(cfg, key,
					masks[cf_a64_mask_index(key)]);
		if (err != CF_OK)
			goto cleanup;
	}
	cfg->has_writable = have_masks;
	err = cf_config_set_caps(cfg, vm_cap, vm);
	if (err == CF_OK)
		err = facts(vm, cfg);
	if (err != CF_OK)
		goto cleanup;
	err = cf_report_create_local(host_id, cfg, out, d);
	cfg = NULL;
cleanup:
	cf_config_unref(cfg);
	free(ids);
	cf_a64vm_destroy(vm);
	return err;
}

#else

enum cf_err cf_arm64_collect(uint32_t features, const char *host_id,
			     struct cf_report **out, struct cf_diag *d)
{
	(void)features;
	(void)host_id;
	*out = NULL;
	return cf_diag_set(d, CF_EARCH, "collecting an arm64 report needs an "
			   "arm64 host with KVM (this is not one)");
}

#endif
