/* What KVM on this x86 host offers a guest: KVM_GET_SUPPORTED_CPUID (never
 * the emulated-only bits), the feature MSRs KVM reports on the system fd,
 * the TSC rate and whether KVM can scale it, and the capabilities.  The
 * catalogue's per-vCPU and run-time fields read 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/x86.h"
#include "engine/report.h"
#include "util/diag.h"

#if defined(__x86_64__)
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define CPUID_NENT_MAX 4096
#define MSRS_MAX 1024

struct kvm {
	int sys, vm, vcpu;
};

static int kvm_cap(void *ctx, long nr)
{
	struct kvm *k = ctx;
	/* Ask the VM, as a VMM would: some answers are per VM. */
	return ioctl(k->vm >= 0 ? k->vm : k->sys, KVM_CHECK_EXTENSION, nr);
}

static enum cf_err supported_cpuid(int sys, struct cf_config *cfg,
				   struct cf_diag *d)
{
	struct kvm_cpuid2 *c = NULL;
	enum cf_err err = CF_OK;
	unsigned nent = 128;

	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return cf_diag_set(d, CF_ENOMEM, "out of memory");
		c->nent = nent;
		if (ioctl(sys, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || nent >= CPUID_NENT_MAX) {
			err = cf_diag_set(d, CF_EIO, "KVM_GET_SUPPORTED_CPUID: %s",
					  strerror(errno));
			goto cleanup;
		}
		nent *= 2;
	}
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t sub = (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ?
			       e->index : 0;
		uint32_t v[4] = { e->eax, e->ebx, e->ecx, e->edx };
		if (sub > CF_X86_SUB_MAX)
			continue;
		for (unsigned r = 0; r < 4 && err == CF_OK; r++) {
			uint64_t key = CF_X86_CPUID_KEY(e->function, sub, r);
			err = cf_config_set(cfg, key, v[r]);
			if (err == CF_OK)
				err = cf_config_set_writable(cfg, key, 0xffffffffu);
		}
		if (err != CF_OK) {
			cf_diag_set(d, err, "CPUID 0x%08x.%u: %s", e->function,
				    sub, cf_strerror(err));
			goto cleanup;
		}
	}
cleanup:
	free(c);
	return err;
}

static enum cf_err feature_msrs(int sys, struct cf_config *cfg,
				struct cf_diag *d)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list = NULL;
	struct kvm_msrs *msrs = NULL;
	enum cf_err err = CF_OK;
	int n;

	if (ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) <= 0)
		return CF_OK;
	if (ioctl(sys, KVM_GET_MSR_FEATURE_INDEX_LIST, &probe) < 0 &&
	    errno != E2BIG)
		return cf_diag_set(d, CF_EIO, "KVM_GET_MSR_FEATURE_INDEX_LIST: %s",
				   strerror(errno));
	if (probe.nmsrs == 0)
		return CF_OK;
	if (probe.nmsrs > MSRS_MAX)
		return cf_diag_set(d, CF_ETOOBIG, "KVM lists %u feature MSRs "
				   "(at most %d)", probe.nmsrs, MSRS_MAX);
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	msrs = calloc(1, sizeof(*msrs) + probe.nmsrs * sizeof(msrs->entries[0]));
	if (!list || !msrs) {
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
		goto cleanup;
	}
	list->nmsrs = probe.nmsrs;
	if (ioctl(sys, KVM_GET_MSR_FEATURE_INDEX_LIST, list) < 0) {
		err = cf_diag_set(d, CF_EIO, "KVM_GET_MSR_FEATURE_INDEX_LIST: %s",
				  strerror(errno));
		goto cleanup;
	}
	msrs->nmsrs = list->nmsrs;
	for (unsigned i = 0; i < list->nmsrs; i++)
		msrs->entries[i].index = list->indices[i];
	/* KVM_GET_MSRS on the system fd: KVM's supported value of each. */
	n = ioctl(sys, KVM_GET_MSRS, msrs);
	if (n < 0) {
		err = cf_diag_set(d, CF_EIO, "KVM_GET_MSRS (system): %s",
				  strerror(errno));
		goto cleanup;
	}
	for (int i = 0; i < n && err == CF_OK; i++) {
		uint64_t key = CF_X86_MSR_KEY(msrs->entries[i].index);
		/* The microcode revision changes with every update and says
		 * nothing a guest could depend on. */
		if (msrs->entries[i].index == 0x8b)
			continue;
		err = cf_config_set(cfg, key, msrs->entries[i].data);
		if (err == CF_OK)
			err = cf_config_set_writable(cfg, key, ~0ULL);
	}
	if (err != CF_OK)
		cf_diag_set(d, err, "feature MSRs: %s", cf_strerror(err));
cleanup:
	free(list);
	free(msrs);
	return err;
}

/* The rate a new vCPU's TSC runs at (the host's), and whether KVM can
 * give a guest another. */
static enum cf_err tsc(struct kvm *k, struct cf_config *cfg, struct cf_diag *d)
{
	int khz, scaling;
	enum cf_err err;

	scaling = ioctl(k->sys, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL);
	err = cf_config_set_fact(cfg, "TSC_SCALING", scaling > 0);
	if (err != CF_OK)
		return cf_diag_set(d, err, "catalogue lacks fact TSC_SCALING");
	if (ioctl(k->sys, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) <= 0)
		return CF_OK;
	khz = ioctl(k->vcpu, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return CF_OK;  /* -EIO: an unstable host TSC has no rate */
	err = cf_config_set_fact(cfg, "TSC_KHZ", (uint64_t)khz);
	if (err != CF_OK)
		return cf_diag_set(d, err, "catalogue lacks fact TSC_KHZ");
	return cf_x86_tsc_writable(cfg);
}

enum cf_err cf_x86_collect(const char *host_id, struct cf_report **out,
			   struct cf_diag *d)
{
	const struct cf_arch_ops *a = cf_arch_find("x86");
	struct kvm k = { -1, -1, -1 };
	struct cf_config *cfg = NULL;
	enum cf_err err;

	*out = NULL;
	k.sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k.sys < 0)
		return cf_diag_set(d, errno == ENOENT ? CF_EARCH : CF_EIO,
				   "/dev/kvm: %s", strerror(errno));
	if (ioctl(k.sys, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		err = cf_diag_set(d, CF_EIO, "/dev/kvm: API version is not %d",
				  KVM_API_VERSION);
		goto cleanup;
	}
	k.vm = ioctl(k.sys, KVM_CREATE_VM, 0);
	if (k.vm >= 0)
		k.vcpu = ioctl(k.vm, KVM_CREATE_VCPU, 0);
	if (k.vm < 0 || k.vcpu < 0) {
		err = cf_diag_set(d, CF_EIO, "KVM_CREATE_%s: %s",
				  k.vm < 0 ? "VM" : "VCPU", strerror(errno));
		goto cleanup;
	}
	err = cf_config_create(a, &cfg);
	if (err == CF_OK)
		err = supported_cpuid(k.sys, cfg, d);
	if (err == CF_OK)
		err = feature_msrs(k.sys, cfg, d);
	if (err == CF_OK)
		err = tsc(&k, cfg, d);
	if (err == CF_OK && (err = cf_config_set_caps(cfg, kvm_cap, &k)) != CF_OK)
		cf_diag_set(d, err, "capabilities: %s", cf_strerror(err));
	if (err != CF_OK)
		goto cleanup;
	/* KVM_GET_SUPPORTED_CPUID runs CPUID on the CPU this thread is on and
	 * passes some per-CPU fields through (leaf 1 EBX[31:24] APIC id, leaf
	 * 0xB/0x1F EDX x2APIC id, and on older kernels every topology
	 * subleaf and 0x8000001E): the catalogue's vcpu and runtime fields
	 * read 0, so every CPU of a host gives the same report. */
	cf_config_clear_per_vcpu(cfg);
	cfg->has_writable = true;
	err = cf_report_create_local(host_id, cfg, out, d);
	cfg = NULL;
cleanup:
	cf_config_unref(cfg);
	if (k.vcpu >= 0)
		close(k.vcpu);
	if (k.vm >= 0)
		close(k.vm);
	close(k.sys);
	return err;
}

#else

enum cf_err cf_x86_collect(const char *host_id, struct cf_report **out,
			   struct cf_diag *d)
{
	(void)host_id;
	*out = NULL;
	return cf_diag_set(d, CF_EARCH, "collecting an x86 report needs an "
			   "x86-64 host with KVM (this is not one)");
}

#endif
