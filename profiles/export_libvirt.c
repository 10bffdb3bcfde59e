/* The libvirt export: a domain <cpu mode='custom' match='exact'> element
 * (libvirt docs/formatdomain.rst, "CPU model and topology"): the named
 * model libvirt's own decoder would pick (export.c), the vendor,
 * <maxphysaddr mode='emulate'> for the physical address width, and a
 * <feature policy='require'|'disable'> for every bit the profile adds to
 * the model or takes from it, in libvirt's names from its CPU map
 * (arch/x86/libvirt.txt), matched by CPUID bit.  check='full': libvirt
 * compares what QEMU gave the guest with this definition at start.
 *
 * arm64: libvirt has no CPU definition that sets arm64 ID registers
 * (aarch64 guests are host-passthrough; its cpu_map's arm files name a
 * vendor and a part number only), so the format refuses arm64 profiles. */
#include <stdio.h>
#include <string.h>
#include "profiles/export.h"
#include "arch/x86/x86.h"
#include "util/diag.h"

#define CPUID(l, s, r) CF_X86_CPUID_KEY(l, s, r)
#define TSC_KHZ_KEY 0x2000002ULL

/* An XML comment may not hold "--". */
static void xml_comment(struct cf_buf *b, const char *text)
{
	cf_buf_printf(b, "<!-- ");
	for (const char *p = text; *p; p++) {
		if (p[0] == '-' && p[1] == '-')
			cf_buf_printf(b, "- ");
		else
			cf_buf_printf(b, "%c", *p);
	}
	cf_buf_printf(b, " -->\n");
}

static bool lv_handled(uint64_t key, const char *field)
{
	if (CF_X86_IS_CPUID(key) && CF_X86_LEAF(key) == 0xd)
		return true;   /* XSAVE layout: QEMU's own table */
	return !strcmp(field, "vendor") || !strcmp(field, "phys_bits") ||
	       !strcmp(field, "khz");
}

static enum cf_err libvirt_x86(const struct cf_profile *pr,
			       const struct cf_export_opts *o,
			       struct cf_export *e, struct cf_diag *d)
{
	struct cf_x86_plan plan;
	struct cf_buf b = { 0 };
	char origin[CF_TEXT_MAX + 128];
	uint64_t xlevel = cf_export_reg(pr, CPUID(0x80000000, 0, 0), NULL);
	uint64_t a8 = xlevel >= 0x80000008 ?
		cf_export_reg(pr, CPUID(0x80000008, 0, 0), NULL) : 0;
	uint64_t khz = 0;
	enum cf_err err;

	err = cf_x86_plan_make(pr, &cf_x86_libvirt_vmm, o, e, &plan, d);
	if (err != CF_OK)
		return err;
	cf_config_get(cf_profile_config(pr), TSC_KHZ_KEY, &khz, NULL);
	err = cf_export_add_note(e, "model %s: the one libvirt's CPU map (libvirt "
			     "9.0) decodes this profile into; features matched by "
			     "CPUID bit", plan.model->name);
	if (err == CF_OK && khz)
		err = cf_export_add_note(e, "the profile pins the TSC at %llu kHz: put "
				     "<timer name='tsc' frequency='%llu'/> in the "
				     "domain's <clock>", (unsigned long long)khz,
				     (unsigned long long)khz * 1000);
	if (err == CF_OK)
		err = cf_export_note_numbers(pr, e, lv_handled,
					     "libvirt's <cpu> has no element for "
					     "it (QEMU takes the model's)");
	if (err != CF_OK) {
		cf_x86_plan_free(&plan);
		return cf_diag_set(d, err, "out of memory");
	}
	cf_export_origin(e, origin, sizeof(origin));
	xml_comment(&b, origin);
	for (size_t i = 0; i < e->nnotes; i++)
		xml_comment(&b, e->notes[i]);
	for (size_t i = 0; i < e->ndropped; i++) {
		char t[160];
		snprintf(t, sizeof(t), "left out, libvirt has no name for it: %s",
			 e->dropped[i]);
		xml_comment(&b, t);
	}
	cf_buf_printf(&b, "<cpu mode='custom' match='exact' check='full'>\n");
	cf_buf_printf(&b, "  <model fallback='forbid'>%s</model>\n",
		      plan.model->name);
	if (plan.vendor_name)
		cf_buf_printf(&b, "  <vendor>%s</vendor>\n", plan.vendor_name);
	if (a8 & 0xff)
		cf_buf_printf(&b, "  <maxphysaddr mode='emulate' bits='%llu'/>\n",
			      (unsigned long long)(a8 & 0xff));
	for (size_t i = 0; i < plan.nplus; i++)
		cf_buf_printf(&b, "  <feature policy='require' name='%s'/>\n",
			      plan.plus_name[i]);
	for (size_t i = 0; i < plan.nminus; i++)
		cf_buf_printf(&b, "  <feature policy='disable' name='%s'/>\n",
			      plan.minus_name[i]);
	cf_buf_printf(&b, "</cpu>\n");
	cf_x86_plan_free(&plan);
	err = cf_buf_done(&b, e);
	return err == CF_OK ? CF_OK : cf_diag_set(d, err, "out of memory");
}

const struct cf_export_ops cf_export_libvirt = {
	.name = "libvirt",
	.x86 = libvirt_x86,
	.arm64 = NULL,
	.no_arm64 = "libvirt cannot set arm64 ID registers: aarch64 guests are "
		    "host-passthrough, and its CPU map names only a vendor and a "
		    "part number per arm model (use --format firecracker, or "
		    "cpufleet's library)",
};
