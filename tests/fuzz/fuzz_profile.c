/* libFuzzer target: profile documents of both architectures (seeds:
 * tests/fuzz/corpus/profile).  A parsed profile P must
 *  - round-trip: print, parse, print gives the same text and the same
 *    profile (fz_profile_round_trip);
 *  - run on a host H that offers exactly P's values and the capabilities
 *    P's VMs enable (KVM takes a host's own value in every field, writable
 *    or not);
 *  - not run on H with one `lower` field of P (in a register P judges:
 *    not one whose cpuid.txt `gate=` flags P lacks) one step lower (the host
 *    offers less than P wants), nor on H without a register in which P
 *    wants a `lower` field above its bottom (x86: an absent leaf or MSR
 *    reads as 0, the bottom of every flag and count; arm64: an absent
 *    register cannot be set);
 *  - x86: run on H with one feature flag P lacks added (KVM_SET_CPUID2
 *    takes any CPUID value, so a richer host runs a poorer profile).
 * The refusals must name the register and field.  H's writable masks are
 * KVM's: every CPUID and MSR bit on x86 (KVM_SET_CPUID2, KVM_SET_MSRS,
 * research/x86-kvm.md §2), none on arm64 (the strictest host, where each
 * field must equal the limit).  The oracles are those rules, applied by
 * bit manipulation here, not the engine's cf_field_accepts. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cpufleet.h>
#include "arch/x86/x86.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRIES 3   /* changes per input and property */

static bool is_x86(const struct cf_profile *pr)
{
	return !strcmp(cf_profile_arch(pr), "x86");
}

/* KVM's writable mask of register KEY on H. */
static uint64_t kvm_writable(const struct cf_profile *pr, uint64_t key)
{
	if (!is_x86(pr))
		return 0;
	return CF_X86_IS_CPUID(key) ? 0xffffffffu : ~0ULL;
}

/* Host H: P's values, with KVM's writable masks, and each capability P's
 * VMs enable at the value they enable. */
static struct cf_report *host_of(const struct cf_profile *pr)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	struct cf_config *c = NULL;

	if (cf_config_clone(pr->cfg, &c) != CF_OK)
		return NULL;
	for (size_t i = 0; i < cat->nregs; i++) {
		if (c->present[i] && cat->regs[i].pseudo == 0)
			c->wr[i] = kvm_writable(pr, cat->regs[i].key);
		if (pr->enabled && pr->enabled->present[i]) {
			c->val[i] = pr->enabled->val[i];
			c->present[i] = 1;
		}
	}
	c->has_writable = is_x86(pr);
	return fz_host_with("fuzz-host", c);
}

/* H with register I set to V (PRESENT, writable as KVM has it) or
 * removed. */
static struct cf_report *host_with(const struct cf_profile *pr,
				   const struct cf_report *h, size_t i,
				   bool present, uint64_t v)
{
	const struct cf_catalog *cat = h->cfg->arch->catalog;
	struct cf_config *c = NULL;

	if (cf_config_clone(h->cfg, &c) != CF_OK)
		return NULL;
	if (!present) {
		cf_config_unset(c, cat->regs[i].key);
	} else {
		c->val[i] = v;
		c->wr[i] = kvm_writable(pr, cat->regs[i].key);
		c->present[i] = 1;
	}
	return fz_host_with("fuzz-host", c);
}

struct ctx {
	const struct cf_profile *pr;
	const struct cf_report *h;    /* offers exactly P */
};

/* P wants field P->f above its bottom (in a register P's gates open):
 * *DOWN is the step below. */
static bool wanted(const struct ctx *c, const struct fz_pick *p,
		   uint64_t *down)
{
	return c->pr->cfg->present[p->ri] && fz_field_is_lower(p->f) &&
	       fz_gate_open(c->pr->cfg, p->reg->key) &&
	       fz_field_down(p->f, cf_field_raw(p->f, c->pr->cfg->val[p->ri]),
			     down);
}

/* P on H with register P->ri set to V (PRESENT) or removed: refused,
 * naming the field. */
static void refused_on(const struct ctx *c, const struct fz_pick *p,
		       bool present, uint64_t v, const char *why)
{
	struct cf_report *h2 = host_with(c->pr, c->h, p->ri, present, v);

	if (h2)
		fz_require_refuses(c->pr, h2, p->reg->name, p->f->name, why);
	cf_report_destroy(h2);
}

/* One step less in a wanted `lower` field is refused. */
static bool offers_less(void *vctx, const struct fz_pick *p)
{
	const struct ctx *c = vctx;
	uint64_t down;

	if (!wanted(c, p, &down))
		return false;
	refused_on(c, p, true, fz_field_put(p->f, c->pr->cfg->val[p->ri], down),
		   "a host offering less than the profile wants in a lower "
		   "field refuses it");
	return true;
}

/* A host without a register in which P wants a `lower` field above its
 * bottom refuses P (x86 reads an absent register as 0: the bottom of an
 * unsigned field only). */
static bool lacks_register(void *vctx, const struct fz_pick *p)
{
	const struct ctx *c = vctx;
	uint64_t down;

	if (!wanted(c, p, &down) || (is_x86(c->pr) && p->f->is_signed))
		return false;
	refused_on(c, p, false, 0, "a host lacking a register the profile "
		   "needs refuses it");
	return true;
}

/* x86: a flag P lacks, added to H, keeps P running there. */
static bool richer_runs(void *vctx, const struct fz_pick *p)
{
	const struct ctx *c = vctx;
	struct cf_report *h2;
	uint64_t v = 0;

	cf_config_get(c->h->cfg, p->reg->key, &v, NULL);
	if (!fz_field_is_lower(p->f) || p->f->width != 1 ||
	    cf_field_raw(p->f, v) != 0)
		return false;
	h2 = host_with(c->pr, c->h, p->ri, true, fz_field_put(p->f, v, 1));
	if (h2)
		fz_require_accepts(c->pr, h2, "a host with one more feature "
				   "flag runs the profile");
	cf_report_destroy(h2);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_profile *pr = NULL;
	struct cf_report *h;
	struct cf_diag d;
	struct fz_rng g;

	if (cf_profile_parse((const char *)data, size, "fuzz", &pr, &d) != CF_OK)
		return 0;
	fz_rng_seed(&g, data, size);
	fz_profile_round_trip(pr);
	h = host_of(pr);
	if (h) {
		fz_require_accepts(pr, h, "a host offering exactly the "
				   "profile's values runs it");
		const struct cf_catalog *cat = pr->arch->catalog;
		struct ctx c = { pr, h };
		fz_each_field(cat, &g, TRIES, offers_less, &c);
		fz_each_field(cat, &g, TRIES, lacks_register, &c);
		if (is_x86(pr))
			fz_each_field(cat, &g, TRIES, richer_runs, &c);
	}
	cf_report_destroy(h);
	cf_profile_destroy(pr);
	return 0;
}
