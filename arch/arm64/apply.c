/* Programming a profile into KVM in the order KVM requires: feature ID
 * registers before any other vCPU register (KVM derives traps from them),
 * then firmware registers, all before the first KVM_RUN. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arch/arm64/apply.h"
#include "engine/check.h"
#include "engine/profile.h"
#include "util/diag.h"

#if defined(__aarch64__)
#include <sys/ioctl.h>
#include "arch/arm64/a64vm.h"
#include "arch/arm64/kvm_uapi.h"

#define CLIDR_KEY 0xc801u  /* the one vCPU-scoped register of a profile */

static int get(int fd, uint64_t id, uint64_t *v)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)v };
	return ioctl(fd, KVM_GET_ONE_REG, &r) == 0 ? 0 : errno;
}

static int set(int fd, uint64_t id, uint64_t v)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&v };
	return ioctl(fd, KVM_SET_ONE_REG, &r) == 0 ? 0 : errno;
}

/* KVM_CHECK_EXTENSION of the capability KEY's register needs before KVM
 * takes another value (catalogue `wcap`), on VM_FD; true for a register
 * without one. */
static bool wcap_offered(int vm_fd, const struct cf_catalog *cat, uint64_t key)
{
	int ri = cf_catalog_find_key(cat, key), ci;

	if (ri < 0 || !cat->regs[ri].wcap)
		return true;
	ci = cf_catalog_find_name(cat, cat->regs[ri].wcap);
	return ci >= 0 && ioctl(vm_fd, KVM_CHECK_EXTENSION,
				CF_CAP_NR(cat->regs[ci].key)) > 0;
}

void cf_arm64_refusal(struct cf_apply_refusal *ref, const struct cf_arch_ops *a,
		      const char *host, uint64_t key, uint64_t want, uint64_t lim,
		      uint64_t wr, bool wcap, int err, uint64_t got)
{
	struct cf_verdict *v = cf_verdict_create();

	memset(ref, 0, sizeof(*ref));
	ref->refused = true;
	ref->err = err;
	ref->want = want;
	ref->got = got;
	cf_arch_regname(a, key, ref->reg, sizeof(ref->reg));
	/* Name the field the way check() would on this host. */
	if (v && cf_check_register(v, a, host, key, want, lim, wr, wcap) ==
		 CF_OK && cf_verdict_reason_count(v) > 0) {
		const struct cf_reason *r = cf_verdict_reason(v, 0);
		if (r->field)
			snprintf(ref->field, sizeof(ref->field), "%s", r->field);
		cf_verdict_reason_text(v, 0, ref->text, sizeof(ref->text));
	} else {
		snprintf(ref->text, sizeof(ref->text), "%s: KVM %s 0x%llx "
			 "(host value 0x%llx)", ref->reg,
			 err ? "refused" : "did not keep",
			 (unsigned long long)want, (unsigned long long)lim);
	}
	cf_verdict_destroy(v);
}

enum cf_err cf_arm64_apply(int vm_fd, const int *vcpu_fds, size_t nvcpus,
			   const struct cf_profile *pr,
			   struct cf_apply_refusal *ref, struct cf_diag *d)
{
	const struct cf_arch_ops *a = pr->arch;
	const struct cf_catalog *cat = a->catalog;
	const struct cf_config *c = pr->cfg;
	uint64_t masks[KVM_ARM_FEATURE_ID_RANGE_SIZE];
	struct reg_mask_range range;
	bool have_masks;

	memset(ref, 0, sizeof(*ref));
	if (strcmp(a->name, "arm64") != 0)
		return cf_diag_set(d, CF_EARCH, "profile is for %s", a->name);
	if (nvcpus == 0)
		return cf_diag_set(d, CF_EINVAL, "no vCPU");
	memset(&range, 0, sizeof(range));
	memset(masks, 0, sizeof(masks));
	range.addr = (uint64_t)(uintptr_t)masks;
	have_masks = ioctl(vm_fd, KVM_ARM_GET_REG_WRITABLE_MASKS, &range) == 0;

	/* Two passes: system registers (the catalogue and unknown ones, in key
	 * order), then pseudo-registers. */
	for (int pass = 0; pass < 2; pass++) {
		size_t i = 0, x = 0;
		while (i < c->ncat || (pass == 0 && x < c->nextra)) {
			const struct cf_reg *reg = NULL;
			uint64_t key, want;
			bool take_cat = pass == 1 || x >= c->nextra ||
				(i < c->ncat && cat->regs[i].key < c->extra[x].key);
			if (take_cat) {
				/* Capabilities are not registers: nothing to set. */
				if (!c->present[i] || cat->regs[i].pseudo != pass) {
					i++;
					continue;
				}
				reg = &cat->regs[i];
				key = reg->key;
				want = c->val[i];
				i++;
			} else {
				key = c->extra[x].key;
				want = c->extra[x].value;
				x++;
			}
			if (!reg && cf_a64_mask_index(key) < 0)
				return cf_diag_set(d, CF_EINVAL, "profile register 0x%llx "
						   "is outside the feature ID range; "
						   "apply programs only ID and firmware "
						   "registers", (unsigned long long)key);
			uint64_t id = cf_a64_one_reg_id(key), lim = 0, back = 0;
			uint64_t wr = cf_a64_writable_of(key,
							 have_masks ? masks : NULL);
			bool wcap = wcap_offered(vm_fd, cat, key);
			bool per_vcpu = key == CLIDR_KEY || (reg && reg->pseudo);
			size_t n = per_vcpu ? nvcpus : 1;
			for (size_t v = 0; v < n; v++) {
				int fd = vcpu_fds[v], e = get(fd, id, &lim);
				if (e)
					return cf_diag_set(d, CF_EIO, "KVM_GET_ONE_REG "
							   "0x%llx: %s",
							   (unsigned long long)id,
							   strerror(e));
				e = set(fd, id, want);
				if (e) {
					cf_arm64_refusal(ref, a, "", key, want, lim, wr,
							 wcap, e, lim);
					return CF_OK;
				}
				/* Registers KVM only checks (the SMCCC
				 * workaround levels) read back the host's. */
				if (reg && (reg->flags & CF_REG_CHECKONLY))
					continue;
				/* A PMU version of 0xf is kept as 0. */
				if (get(fd, id, &back) != 0 ||
				    (reg ? cf_reg_canon(reg, back) !=
					   cf_reg_canon(reg, want) : back != want)) {
					cf_arm64_refusal(ref, a, "", key, want, lim, wr,
							 wcap, 0, back);
					return CF_OK;
				}
			}
		}
	}
	return CF_OK;
}

#define SVE_VLS_ID 0x606000000015ffffULL

/* This host's values of PR's registers that only a capability makes
 * writable (catalogue `wcap`), as KVM presents them to a VM that did not
 * enable it (the boot CPU's: api.rst 7.42), read from a scratch VM: the
 * VM being set up must have no vCPU yet. */
static enum cf_err host_values(const struct cf_profile *pr,
			       struct cf_config **out, struct cf_diag *d)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	struct cf_a64vm *vm = NULL;
	enum cf_err err = cf_config_create(pr->arch, out);

	if (err == CF_OK)
		err = cf_a64vm_create(0, &vm, d);
	for (size_t i = 0; err == CF_OK && i < cat->nregs; i++) {
		uint64_t v;
		if (!cat->regs[i].wcap || !pr->cfg->present[i])
			continue;
		if (cf_a64vm_get(vm, cf_a64_sysreg_id(cat->regs[i].key), &v) == 0)
			err = cf_config_set(*out, cat->regs[i].key, v);
	}
	cf_a64vm_destroy(vm);
	if (err != CF_OK) {
		cf_config_unref(*out);
		*out = NULL;
	}
	return err;
}

enum cf_err cf_arm64_apply_vm(int vm_fd, const struct cf_profile *pr,
			      bool *enabled, struct cf_diag *d)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	struct cf_config *host = NULL;
	size_t need[4], n;
	bool offered = false;
	enum cf_err err;

	if (enabled)
		*enabled = false;
	if (strcmp(pr->arch->name, "arm64") != 0)
		return cf_diag_set(d, CF_EARCH, "profile is for %s", pr->arch->name);
	/* A KVM that offers none of the capabilities (before 6.15) keeps
	 * these registers as they are: nothing to enable, and no scratch VM. */
	for (size_t i = 0; i < cat->nregs && !offered; i++)
		offered = cat->regs[i].wcap && pr->cfg->present[i] &&
			  wcap_offered(vm_fd, cat, cat->regs[i].key);
	if (!offered)
		return CF_OK;
	err = host_values(pr, &host, d);
	if (err != CF_OK)
		return err;
	/* The same rule as check: a capability where the profile's value of
	 * a register it guards is not this host's. */
	n = cf_config_caps_needed(pr->cfg, host, need, 4);
	for (size_t k = 0; k < n; k++) {
		const struct cf_reg *capreg = &cat->regs[need[k]];
		struct kvm_enable_cap cap;
		char name[40] = "";
		uint64_t want = 0, mine = 0;
		/* Not offered: KVM refuses the register in cf_arm64_apply,
		 * which names it and this capability. */
		if (ioctl(vm_fd, KVM_CHECK_EXTENSION, CF_CAP_NR(capreg->key)) <= 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		cap.cap = (uint32_t)CF_CAP_NR(capreg->key);
		if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) == 0) {
			if (enabled)
				*enabled = true;
			continue;
		}
		int e = errno;
		for (size_t i = 0; i < cat->nregs && !name[0]; i++)
			if (cat->regs[i].wcap &&
			    !strcmp(cat->regs[i].wcap, capreg->name) &&
			    cf_config_get(pr->cfg, cat->regs[i].key, &want, NULL) &&
			    cf_config_get(host, cat->regs[i].key, &mine, NULL) &&
			    want != mine)
				snprintf(name, sizeof(name), "%s", cat->regs[i].name);
		cf_config_unref(host);
		return cf_diag_set(d, CF_EIO, "KVM_ENABLE_CAP(%s): %s: the "
				   "profile's %s (0x%llx) is not this host's "
				   "(0x%llx), and KVM takes another only in a VM "
				   "that enabled %s before creating any vCPU",
				   capreg->name, strerror(e), name,
				   (unsigned long long)want,
				   (unsigned long long)mine, capreg->name);
	}
	cf_config_unref(host);
	return CF_OK;
}

enum cf_err cf_arm64_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
				struct cf_apply_refusal *ref, struct cf_diag *d)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	int i = cf_catalog_find_name(cat, "SVE_VLS");
	uint64_t want, vls[8], back[8];
	struct kvm_one_reg r;

	memset(ref, 0, sizeof(*ref));
	if (i < 0 || !cf_config_get(pr->cfg, cat->regs[i].key, &want, NULL))
		return CF_OK;
	memset(vls, 0, sizeof(vls));
	r.id = SVE_VLS_ID;
	r.addr = (uint64_t)(uintptr_t)vls;
	if (ioctl(vcpu_fd, KVM_GET_ONE_REG, &r) != 0)
		return cf_diag_set(d, CF_EIO, "KVM_REG_ARM64_SVE_VLS: %s (is SVE "
				   "on for this vCPU?)", strerror(errno));
	uint64_t lim = vls[0];
	memset(vls, 0, sizeof(vls));
	vls[0] = want;
	if (ioctl(vcpu_fd, KVM_SET_ONE_REG, &r) != 0) {
		int e = errno;
		cf_arm64_refusal(ref, pr->arch, "", cat->regs[i].key, want, lim,
				 cat->regs[i].fixed_writable, true, e, lim);
		return CF_OK;
	}
	r.addr = (uint64_t)(uintptr_t)back;
	if (ioctl(vcpu_fd, KVM_GET_ONE_REG, &r) != 0 || back[0] != want)
		cf_arm64_refusal(ref, pr->arch, "", cat->regs[i].key, want, lim,
				 cat->regs[i].fixed_writable, true, 0, back[0]);
	return CF_OK;
}

#else

enum cf_err cf_arm64_apply_vm(int vm_fd, const struct cf_profile *pr,
			      bool *enabled, struct cf_diag *d)
{
	(void)vm_fd;
	(void)pr;
	if (enabled)
		*enabled = false;
	return cf_diag_set(d, CF_EARCH, "applying an arm64 profile needs an "
			   "arm64 host with KVM");
}

enum cf_err cf_arm64_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
				struct cf_apply_refusal *ref, struct cf_diag *d)
{
	(void)vcpu_fd;
	(void)pr;
	memset(ref, 0, sizeof(*ref));
	return cf_diag_set(d, CF_EARCH, "applying an arm64 profile needs an "
			   "arm64 host with KVM");
}

enum cf_err cf_arm64_apply(int vm_fd, const int *vcpu_fds, size_t nvcpus,
			   const struct cf_profile *pr,
			   struct cf_apply_refusal *ref, struct cf_diag *d)
{
	(void)vm_fd;
	(void)vcpu_fds;
	(void)nvcpus;
	(void)pr;
	memset(ref, 0, sizeof(*ref));
	return cf_diag_set(d, CF_EARCH, "applying an arm64 profile needs an "
			   "arm64 host with KVM");
}

#endif
