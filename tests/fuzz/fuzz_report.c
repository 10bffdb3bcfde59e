/* libFuzzer target: report documents, the agent's untrusted input, of both
 * architectures (seeds: tests/fuzz/corpus/report).  A parsed report R must
 *  - round-trip: print, parse, print gives the same text and the same report,
 *    content identity and fingerprint included (fz_report_round_trip), and
 *    so must its own profile;
 *  - run its own profile (cf_check compatible);
 *  - refuse a profile that wants more than R has: one `lower` field (a flag,
 *    a count, an arm64 lower field) one step above R's value, on a register
 *    R has or lacks (x86: a leaf R lacks reads as 0, so a flag set there is
 *    one R lacks; arm64: a register R does not report cannot be set), with
 *    the register's gate flag (cpuid.txt `gate=`) set so that it is judged;
 *  - refuse a profile that changes a field R cannot change (not wholly in
 *    R's writable mask): KVM takes only the host's own value there.
 * The refusals must name the register and field.  The oracles are those
 * rules (research/arm64-kvm.md §2.3, research/x86-kvm.md §2), applied by
 * bit manipulation here, not the engine's cf_field_accepts.  A survey of
 * the engine's answers over the whole input (decode, baseline of {R})
 * must also not crash. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <cpufleet.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRIES 3   /* fields changed per input and property */

static int count(void *ctx, const struct cf_decoded *d)
{
	(void)d;
	(*(size_t *)ctx)++;
	return 0;
}

struct ctx {
	const struct cf_report *r;
	const struct cf_profile *own;  /* R's own profile */
	struct fz_rng *g;
};

/* A profile like OWN with register I's field F set to RAW (the register
 * created with only that field when OWN lacks it) and the register's gate
 * open, so that a check judges it. */
static struct cf_profile *with_field(const struct cf_profile *own, size_t i,
				     const struct cf_field *f, uint64_t raw)
{
	struct cf_config *c = NULL;
	uint64_t key = own->arch->catalog->regs[i].key, v = 0;

	if (cf_config_clone(own->cfg, &c) != CF_OK)
		return NULL;
	cf_config_get(c, key, &v, NULL);
	if (cf_config_set(c, key, fz_field_put(f, v, raw)) != CF_OK ||
	    fz_open_gate(c, key) != CF_OK) {
		cf_config_unref(c);
		return NULL;
	}
	return fz_profile_with(own, c);
}

/* R refuses its own profile with P's field at RAW, naming the field. */
static void refuses_with(const struct ctx *c, const struct fz_pick *p,
			 uint64_t raw, const char *why)
{
	struct cf_profile *p2 = with_field(c->own, p->ri, p->f, raw);

	if (p2)
		fz_require_refuses(p2, c->r, p->reg->name, p->f->name, why);
	cf_profile_destroy(p2);
}

/* Wanting one step more than R has in a `lower` field is refused. */
static bool wants_more(void *vctx, const struct fz_pick *p)
{
	const struct ctx *c = vctx;
	uint64_t hv = 0, up;

	cf_config_get(c->r->cfg, p->reg->key, &hv, NULL);
	if (!fz_field_is_lower(p->f) ||
	    !fz_field_up(p->f, cf_field_raw(p->f, hv), &up))
		return false;
	refuses_with(c, p, up, "a profile wanting more than the host has in "
		     "a lower field is refused");
	return true;
}

/* Any other value in a field R cannot write is refused (not TSC rates,
 * which KVM takes within 250 ppm, nor lower-impdef, whose all-ones value
 * KVM rewrites to 0). */
static bool changes_fixed(void *vctx, const struct fz_pick *p)
{
	const struct ctx *c = vctx;
	uint64_t hv, wr, m = cf_field_mask(p->f), top = m >> p->f->shift;

	if (!cf_config_get(c->r->cfg, p->reg->key, &hv, &wr) ||
	    (wr & m) == m || p->f->policy == CF_POL_RATE ||
	    p->f->policy == CF_POL_LOWER_IMPDEF)
		return false;
	refuses_with(c, p, (cf_field_raw(p->f, hv) ^
			    (1 + fz_rng_next(c->g) % top)) & top,
		     "a profile changing a field the host cannot write is "
		     "refused");
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_report *r = NULL;
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL, *own = NULL;
	struct cf_diag d;
	struct fz_rng g;
	size_t n = 0;

	if (cf_report_parse((const char *)data, size, "fuzz", &r, &d) != CF_OK)
		return 0;
	fz_rng_seed(&g, data, size);
	fz_report_round_trip(r);
	cf_report_decode(r, count, &n);
	if (cf_profile_from_report(r, &own) == CF_OK) {
		fz_profile_round_trip(own);
		struct ctx c = { r, own, &g };
		fz_require_accepts(own, r, "a host runs its own profile");
		fz_each_field(own->arch->catalog, &g, TRIES, wants_more, &c);
		fz_each_field(own->arch->catalog, &g, TRIES, changes_fixed, &c);
	}
	if (cf_pool_create(cf_report_arch(r), &p) == CF_OK &&
	    cf_pool_add(p, r, &d) == CF_OK && cf_baseline(p, &pr) == CF_OK) {
		char *json = NULL;
		if (cf_profile_to_json(pr, &json) == CF_OK)
			free(json);
	}
	cf_profile_destroy(own);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
	cf_report_destroy(r);
	return 0;
}
