/* One driver per architecture, reached from one registry (as libvirt's
 * cpuArchDriver): what the engine calls (struct cf_arch_ops), the codec of
 * the documents' architecture section, and how this machine's KVM is asked
 * what it offers.  Generic code finds a driver by name or as this
 * machine's, and never names an architecture itself. */
#ifndef CF_DRIVER_H
#define CF_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <cpufleet.h>

struct cf_arch_ops;
struct cf_section_codec;
struct cf_diag;

/* `cpufleet apply --check-only`: what a dry run is asked, and what KVM
 * did with it. */
struct cf_apply_opts {
	uint32_t features;   /* vCPU features (drivers with apply_features) */
	bool guest;          /* run the guest check too (apply_guest) */
};
struct cf_apply_run {
	struct cf_apply_refusal refusal;    /* the register KVM refused */
	/* x86: KVM's whole answer (capabilities, read-back; with GUEST the
	 * guest check, ran), malloc'd: free() it; NULL elsewhere. */
	struct cf_x86_guest_result *x86;
};

struct cf_driver {
	const char *arch;   /* the name its ops carry: "arm64" */
	const struct cf_arch_ops *ops;
	const struct cf_section_codec *codec;
	/* uname(2)'s machine of the hosts it runs on ("aarch64"). */
	const char *machine;
	/* A report of this machine's KVM (FEATURES: arm64 vCPU features,
	 * ignored elsewhere). */
	enum cf_err (*collect)(uint32_t features, const char *host_id,
			       struct cf_report **out, struct cf_diag *d);
	/* Dry-runs profile PR on a scratch VM of this machine's KVM: the
	 * profile programmed in the order KVM requires, every write read
	 * back; the VM is gone when it returns.  CF_EARCH (D naming the
	 * architecture) on a machine of another one; RUN is set on CF_OK and
	 * RUN->x86 is NULL on any error. */
	enum cf_err (*apply)(const struct cf_profile *pr,
			     const struct cf_apply_opts *o,
			     struct cf_apply_run *run, struct cf_diag *d);
	/* What apply takes: vCPU features (arm64), a guest check (x86); and
	 * whether the engine must judge the profile on this host first,
	 * because KVM takes any table (x86's KVM_SET_CPUID2). */
	bool apply_features, apply_guest, judge_first;
	/* The ISA features /proc/cpuinfo (CPUINFO) shows and report R's KVM
	 * does not offer, named into BUF; how many.  NULL: no comparison for
	 * this architecture. */
	size_t (*kvm_lacks)(const struct cf_report *r, const char *cpuinfo,
			    char *buf, size_t len);
};

/* What is registered, defined by each architecture (arch/<arch>/) and
 * its document codec (profiles/); declared here, the registry's one
 * header, so the registry needs nothing of the modules it lists. */
extern const struct cf_arch_ops cf_arm64_ops;
extern const struct cf_arch_ops cf_x86_ops;
extern const struct cf_section_codec cf_section_regmap; /* arm64 */
extern const struct cf_section_codec cf_section_x86;
/* Their dry runs (the drivers' apply; arch/dryrun.c). */
enum cf_err cf_arm64_dry_run(const struct cf_profile *pr,
			     const struct cf_apply_opts *o,
			     struct cf_apply_run *run, struct cf_diag *d);
enum cf_err cf_x86_dry_run(const struct cf_profile *pr,
			   const struct cf_apply_opts *o,
			   struct cf_apply_run *run, struct cf_diag *d);

/* The driver of architecture ARCH ("arm64", "x86"), or NULL. */
const struct cf_driver *cf_driver_find(const char *arch);
/* The driver of the machine this runs on, or NULL for none. */
const struct cf_driver *cf_driver_native(void);

#endif
