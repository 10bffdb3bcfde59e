/* The QEMU export: a `-cpu` value.
 *
 * x86: the named model libvirt would decode the profile into (export.c),
 * then vendor, family, model, stepping, level, xlevel (xlevel2),
 * phys-bits, tsc-frequency, +NAME for each bit the profile adds and -NAME
 * for each it removes, in QEMU's names (arch/x86/qemu.txt, QEMU 7.2), and
 * `enforce`, so that a host that cannot give a bit stops the VM instead
 * of dropping it.  Properties: qemu/qemu target/i386/cpu.c
 * x86_cpu_properties[].
 *
 * arm64: `host` with the vCPU features QEMU has properties for (pmu, sve
 * and each sve<N> length, pauth; docs/system/arm/cpu-features.rst).  QEMU
 * cannot set ID registers (the SYSREG_<REG>_<FIELD> properties proposed
 * on qemu-devel in 2024-2026 are not merged), so every ID and firmware
 * register of the profile is listed as what a VMM that writes registers
 * must program. */
#include <stdio.h>
#include <string.h>
#include "profiles/export.h"
#include "arch/x86/x86.h"
#include "util/diag.h"

#define CPUID(l, s, r) CF_X86_CPUID_KEY(l, s, r)
#define TSC_KHZ_KEY 0x2000002ULL

static void comment_notes(struct cf_buf *b, const struct cf_export *e)
{
	char origin[CF_TEXT_MAX + 128];

	cf_export_origin(e, origin, sizeof(origin));
	cf_buf_printf(b, "# %s\n", origin);
	for (size_t i = 0; i < e->nnotes; i++)
		cf_buf_printf(b, "# %s\n", e->notes[i]);
	if (e->ndropped) {
		cf_buf_printf(b, "# left out (QEMU has no property for them):");
		for (size_t i = 0; i < e->ndropped; i++)
			cf_buf_printf(b, " %s", e->dropped[i]);
		cf_buf_printf(b, "\n");
	}
}

/* Fields the x86 -cpu value carries, or that QEMU derives by itself. */
static bool x86_handled(uint64_t key, const char *field)
{
	static const char *const fields[] = {
		"max_basic_leaf", "vendor", "signature", "max_ext_leaf",
		"phys_bits", "khz", NULL,
	};
	if (CF_X86_IS_CPUID(key) && CF_X86_LEAF(key) == 0xd)
		return true;   /* XSAVE layout: QEMU's own table */
	for (size_t i = 0; fields[i]; i++)
		if (!strcmp(field, fields[i]))
			return true;
	return false;
}

static enum cf_err qemu_x86(const struct cf_profile *pr,
			    const struct cf_export_opts *o, struct cf_export *e,
			    struct cf_diag *d)
{
	struct cf_x86_plan plan;
	struct cf_buf b = { 0 };
	uint64_t level = cf_export_reg(pr, CPUID(0, 0, 0), NULL);
	uint64_t xlevel = cf_export_reg(pr, CPUID(0x80000000, 0, 0), NULL);
	uint64_t xlevel2 = cf_export_reg(pr, CPUID(0xc0000000, 0, 0), NULL);
	uint64_t a8 = xlevel >= 0x80000008 ?
		cf_export_reg(pr, CPUID(0x80000008, 0, 0), NULL) : 0;
	uint64_t khz = 0;
	enum cf_err err;

	err = cf_x86_plan_make(pr, &cf_x86_qemu_vmm, o, e, &plan, d);
	if (err != CF_OK)
		return err;
	cf_config_get(cf_profile_config(pr), TSC_KHZ_KEY, &khz, NULL);
	err = cf_export_add_note(e, "model %s: the one libvirt's CPU map (libvirt "
			     "9.0) decodes this profile into; feature names "
			     "are QEMU 7.2's, matched by CPUID bit", plan.model->name);
	if (err == CF_OK)
		err = cf_export_note_numbers(pr, e, x86_handled,
					     "QEMU's -cpu has no property for it");
	if (err != CF_OK) {
		cf_x86_plan_free(&plan);
		return cf_diag_set(d, err, "out of memory");
	}
	comment_notes(&b, e);
	cf_buf_printf(&b, "-cpu %s", plan.model->name);
	if (plan.vendor[0])
		cf_buf_printf(&b, ",vendor=%s", plan.vendor);
	if (cf_export_reg(pr, CPUID(1, 0, 0), NULL))
		cf_buf_printf(&b, ",family=%u,model=%u,stepping=%u", plan.family,
			      plan.model_nr, plan.stepping);
	if (level)
		cf_buf_printf(&b, ",level=%llu", (unsigned long long)level);
	if (xlevel)
		cf_buf_printf(&b, ",xlevel=%llu", (unsigned long long)xlevel);
	if (xlevel2)
		cf_buf_printf(&b, ",xlevel2=%llu", (unsigned long long)xlevel2);
	if (a8 & 0xff)
		cf_buf_printf(&b, ",phys-bits=%llu", (unsigned long long)(a8 & 0xff));
	if (khz)
		cf_buf_printf(&b, ",tsc-frequency=%llu",
			      (unsigned long long)khz * 1000);
	for (size_t i = 0; i < plan.nplus; i++)
		cf_buf_printf(&b, ",+%s", plan.plus_name[i]);
	for (size_t i = 0; i < plan.nminus; i++)
		cf_buf_printf(&b, ",-%s", plan.minus_name[i]);
	cf_buf_printf(&b, ",enforce\n");
	cf_x86_plan_free(&plan);
	err = cf_buf_done(&b, e);
	return err == CF_OK ? CF_OK : cf_diag_set(d, err, "out of memory");
}

/* ---- arm64 ---- */

static enum cf_err qemu_arm64(const struct cf_profile *pr,
			      const struct cf_export_opts *o,
			      struct cf_export *e, struct cf_diag *d)
{
	const struct cf_catalog *cat = cf_profile_ops(pr)->catalog;
	struct cf_buf b = { 0 };
	uint64_t vls = 0;
	bool sve = cf_export_arm64_sve(pr);
	bool have_vls = false;
	size_t nregs = 0;
	enum cf_err err = CF_OK;
	int f = cf_catalog_find_name(cat, "SVE_VLS");

	(void)o;
	if (f >= 0)
		have_vls = cf_config_get(cf_profile_config(pr), cat->regs[f].key, &vls, NULL);
	for (size_t i = 0; i < cat->nregs; i++) {
		uint64_t v;
		if ((cat->regs[i].pseudo == 0 || cat->regs[i].pseudo == 1) &&
		    cf_config_get(cf_profile_config(pr), cat->regs[i].key, &v, NULL))
			nregs++;
	}
	nregs += cf_profile_config(pr)->nextra;
	err = cf_export_add_note(e, "QEMU cannot set arm64 ID registers: -cpu host "
			     "gives the guest this host's, and the "
			     "SYSREG_<REG>_<FIELD> properties that would set them "
			     "are not in any QEMU release.  The %zu registers "
			     "below must be programmed by a VMM that writes them "
			     "(cpufleet's cf_arm64_apply, or a Firecracker "
			     "template: cpufleet export --format firecracker)",
			     nregs);
	for (size_t i = 0; err == CF_OK && i < cat->nregs; i++) {
		const struct cf_reg *r = &cat->regs[i];
		uint64_t v;
		if ((r->pseudo != 0 && r->pseudo != 1) ||
		    !cf_config_get(cf_profile_config(pr), r->key, &v, NULL))
			continue;
		err = cf_export_add_note(e, "not set by QEMU: %s = 0x%016llx", r->name,
				     (unsigned long long)v);
	}
	for (size_t x = 0; err == CF_OK && x < cf_profile_config(pr)->nextra; x++) {
		char name[48];
		cf_arch_regname(cf_profile_ops(pr), cf_profile_config(pr)->extra[x].key, name, sizeof(name));
		err = cf_export_add_note(e, "not set by QEMU: %s = 0x%016llx", name,
					 (unsigned long long)cf_profile_config(pr)->extra[x].value);
	}
	if (err == CF_OK && sve && !have_vls)
		err = cf_export_add_note(e, "the profile has SVE but no vector "
				     "lengths: QEMU gives the host's");
	if (err == CF_OK)
		err = cf_export_note_facts(pr, e, "QEMU");
	if (err != CF_OK)
		return cf_diag_set(d, err, "out of memory");
	comment_notes(&b, e);
	cf_buf_printf(&b, "-cpu host,pmu=%s,sve=%s",
		      cf_export_arm64_pmu(pr) ? "on" : "off", sve ? "on" : "off");
	/* Each length up to the longest, on or off (QEMU turns off the
	 * longer ones once one is given). */
	for (unsigned q = 0; sve && have_vls && q < 16 && vls >> q; q++)
		cf_buf_printf(&b, ",sve%u=%s", 128 * (q + 1),
			      vls >> q & 1 ? "on" : "off");
	if (cf_export_arm64_pauth(pr))
		cf_buf_printf(&b, ",pauth=on");
	cf_buf_printf(&b, "\n");
	err = cf_buf_done(&b, e);
	return err == CF_OK ? CF_OK : cf_diag_set(d, err, "out of memory");
}

const struct cf_export_ops cf_export_qemu = {
	.name = "qemu",
	.x86 = qemu_x86,
	.arm64 = qemu_arm64,
};
