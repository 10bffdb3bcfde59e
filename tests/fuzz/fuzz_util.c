/* Round trips and check oracles for the fuzz targets (fuzz_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/fuzz/fuzz_util.h"

void fz_require(bool cond, const char *what, const char *detail)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz property broken: %s%s%s\n", what,
		detail ? ": " : "", detail ? detail : "");
	abort();
}

void fz_rng_seed(struct fz_rng *g, const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	g->s = h;
}

uint64_t fz_rng_next(struct fz_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);   /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fz_each_field(const struct cf_catalog *cat, struct fz_rng *g, int tries,
		   bool (*fn)(void *ctx, const struct fz_pick *p), void *ctx)
{
	for (int draw = 0, taken = 0; draw < 64 && taken < tries; draw++) {
		struct fz_pick p;
		p.ri = fz_rng_next(g) % cat->nregs;
		p.reg = &cat->regs[p.ri];
		if (p.reg->pseudo != 0 || !p.reg->nfields)
			continue;
		p.f = &p.reg->fields[fz_rng_next(g) % p.reg->nfields];
		if (fn(ctx, &p))
			taken++;
	}
}

/* Two configurations hold the same registers: presence, values, and (for
 * reports, WITH_WR) the writable masks, catalogue and unknown registers. */
/* Equal texts, NULL being "". */
static bool same_text(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void same_config(const struct cf_config *a, const struct cf_config *b,
			bool with_wr, const char *what)
{
	char name[40];

	fz_require(a->arch == b->arch && a->ncat == b->ncat, what,
		   "architecture differs");
	for (size_t i = 0; i < a->ncat; i++) {
		const char *reg = a->arch->catalog->regs[i].name;
		fz_require(a->present[i] == b->present[i], what, reg);
		fz_require(!a->present[i] || a->val[i] == b->val[i], what, reg);
		fz_require(!with_wr || a->wr[i] == b->wr[i], what, reg);
	}
	fz_require(a->nextra == b->nextra, what, "unknown registers");
	for (size_t x = 0; x < a->nextra; x++) {
		cf_arch_regname(a->arch, a->extra[x].key, name, sizeof(name));
		fz_require(a->extra[x].key == b->extra[x].key &&
			   a->extra[x].value == b->extra[x].value &&
			   (!with_wr ||
			    a->extra[x].writable == b->extra[x].writable),
			   what, name);
	}
	fz_require(!with_wr || a->has_writable == b->has_writable, what,
		   "writable section");
}

void fz_report_round_trip(const struct cf_report *r)
{
	struct cf_report *back = NULL;
	struct cf_diag d;
	char *a = NULL, *b = NULL, ia[CF_CONTENT_ID_MAX], ib[CF_CONTENT_ID_MAX];

	if (cf_report_to_json(r, &a) == CF_ENOMEM)
		return;
	fz_require(a != NULL, "report round trip", "not printed");
	fz_require(cf_report_parse(a, strlen(a), "again", &back, &d) == CF_OK,
		   "report round trip: the printed text parses", d.msg);
	fz_require(cf_report_to_json(back, &b) == CF_OK && b,
		   "report round trip", "not printed again");
	fz_require(strcmp(a, b) == 0, "report round trip",
		   "printed twice, the texts differ");
	fz_require(!strcmp(r->host_id, back->host_id) &&
		   !strcmp(cf_report_id(r), cf_report_id(back)) &&
		   !strcmp(cf_report_hostname(r), cf_report_hostname(back)) &&
		   !strcmp(cf_report_kernel(r), cf_report_kernel(back)) &&
		   same_text(cf_report_field(r, CF_REPORT_MACHINE_ID),
			cf_report_field(back, CF_REPORT_MACHINE_ID)) &&
		   !strcmp(cf_report_collected_at(r),
			   cf_report_collected_at(back)),
		   "report round trip", "host identity differs");
	same_config(r->cfg, back->cfg, true, "report round trip");
	fz_require(cf_report_fingerprint(r) == cf_report_fingerprint(back),
		   "report round trip", "fingerprint differs");
	fz_require(cf_report_content_id(r, ia, sizeof(ia)) == CF_OK &&
		   cf_report_content_id(back, ib, sizeof(ib)) == CF_OK &&
		   !strcmp(ia, ib), "report round trip", "content identity differs");
	free(a);
	free(b);
	cf_report_destroy(back);
}

void fz_profile_round_trip(const struct cf_profile *pr)
{
	struct cf_profile *back = NULL;
	struct cf_diag d;
	char *a = NULL, *b = NULL, ta[512], tb[512];
	size_t n;

	if (cf_profile_to_json(pr, &a) == CF_ENOMEM)
		return;
	fz_require(a != NULL, "profile round trip", "not printed");
	fz_require(cf_profile_parse(a, strlen(a), "again", &back, &d) == CF_OK,
		   "profile round trip: the printed text parses", d.msg);
	fz_require(cf_profile_to_json(back, &b) == CF_OK && b,
		   "profile round trip", "not printed again");
	fz_require(strcmp(a, b) == 0, "profile round trip",
		   "printed twice, the texts differ");
	fz_require(pr->arch == back->arch, "profile round trip", "arch");
	fz_require(cf_profile_feasible(pr) == cf_profile_feasible(back),
		   "profile round trip", "feasible");
	for (size_t i = 0; cf_profile_host(pr, i) || cf_profile_host(back, i);
	     i++)
		fz_require(cf_profile_host(pr, i) && cf_profile_host(back, i) &&
			   !strcmp(cf_profile_host(pr, i),
				   cf_profile_host(back, i)),
			   "profile round trip", "hosts differ");
	n = cf_profile_conflict_count(pr);
	fz_require(n == cf_profile_conflict_count(back), "profile round trip",
		   "number of conflicts");
	for (size_t i = 0; i < n; i++) {
		fz_require(cf_profile_conflict_text(pr, i, ta, sizeof(ta)) ==
			   CF_OK && cf_profile_conflict_text(back, i, tb,
							       sizeof(tb)) ==
			   CF_OK, "profile round trip", "conflict text");
		fz_require(!strcmp(ta, tb), "profile round trip: conflict", ta);
	}
	fz_require(pr->nimpl == back->nimpl &&
		   (!pr->nimpl || !memcmp(pr->impl, back->impl,
					  pr->nimpl * sizeof(*pr->impl))),
		   "profile round trip", "implementations differ");
	same_config(pr->cfg, back->cfg, false, "profile round trip");
	fz_require(!pr->enabled == !back->enabled, "profile round trip",
		   "enabled capabilities");
	if (pr->enabled)
		same_config(pr->enabled, back->enabled, false,
			    "profile round trip: enabled capabilities");
	free(a);
	free(b);
	cf_profile_destroy(back);
}

struct cf_profile *fz_profile_with(const struct cf_profile *pr,
				   struct cf_config *cfg)
{
	struct cf_profile *out = NULL;

	if (cf_profile_alloc(pr->arch, &out) != CF_OK) {
		cf_config_unref(cfg);
		return NULL;
	}
	cf_config_unref(out->cfg);
	cf_config_seal(cfg);
	out->cfg = cfg;
	return out;
}

struct cf_report *fz_host_with(const char *host_id, struct cf_config *cfg)
{
	struct cf_report *r = NULL;

	cf_config_seal(cfg);
	if (cf_report_create(host_id, cfg, &r) != CF_OK)
		return NULL;
	return r;
}

bool fz_gate_open(const struct cf_config *cfg, uint64_t key)
{
	const struct cf_gates *gs = cfg->arch->gates;
	bool gated = false;

	for (size_t i = 0; gs && i < gs->n; i++) {
		uint64_t v;
		if (gs->g[i].key != key)
			continue;
		gated = true;
		if (cf_config_get(cfg, gs->g[i].gate_key, &v, NULL) &&
		    (v >> gs->g[i].gate_bit) & 1)
			return true;
	}
	return !gated;
}

enum cf_err fz_open_gate(struct cf_config *cfg, uint64_t key)
{
	const struct cf_gates *gs = cfg->arch->gates;

	for (size_t i = 0; gs && i < gs->n; i++) {
		uint64_t v = 0;
		if (gs->g[i].key != key)
			continue;
		cf_config_get(cfg, gs->g[i].gate_key, &v, NULL);
		return cf_config_set(cfg, gs->g[i].gate_key,
				     v | 1ULL << gs->g[i].gate_bit);
	}
	return CF_OK;
}

bool fz_field_is_lower(const struct cf_field *f)
{
	return f->policy == CF_POL_LOWER;
}

/* The field's value as a number in its own order. */
static int64_t ordinal(const struct cf_field *f, uint64_t raw)
{
	if (f->is_signed && f->width < 64 && (raw >> (f->width - 1)) & 1)
		return (int64_t)(raw | ~((1ULL << f->width) - 1));
	return (int64_t)raw;
}

static bool in_range(const struct cf_field *f, int64_t v)
{
	if (f->width >= 63)
		return false;   /* no 64-bit lower field: keep arithmetic simple */
	if (f->is_signed)
		return v >= -(1LL << (f->width - 1)) &&
		       v < (1LL << (f->width - 1));
	return v >= 0 && v < (1LL << f->width);
}

bool fz_field_up(const struct cf_field *f, uint64_t raw, uint64_t *out)
{
	int64_t v = ordinal(f, raw) + 1;

	if (!in_range(f, v))
		return false;
	*out = (uint64_t)v & ((1ULL << f->width) - 1);
	return true;
}

bool fz_field_down(const struct cf_field *f, uint64_t raw, uint64_t *out)
{
	int64_t v = ordinal(f, raw) - 1;

	if (!in_range(f, v))
		return false;
	*out = (uint64_t)v & ((1ULL << f->width) - 1);
	return true;
}

uint64_t fz_field_put(const struct cf_field *f, uint64_t v, uint64_t raw)
{
	uint64_t m = cf_field_mask(f);

	return (v & ~m) | ((raw << f->shift) & m);
}

void fz_require_accepts(const struct cf_profile *pr, const struct cf_report *r,
			const char *why)
{
	struct cf_verdict *v = cf_verdict_create();
	char t[512] = "";

	if (!v)
		return;
	fz_require(cf_check(pr, r, v) == CF_OK, why, "check failed");
	/* KVM's acceptance: a fuzzed profile may also keep a feature without
	 * one it needs, which refuses it on every host whatever the host
	 * offers (CF_REASON_DEPENDS; tests/unit/test_deps.c tests that). */
	for (size_t i = 0; i < cf_verdict_reason_count(v) && !t[0]; i++)
		if (cf_verdict_reason(v, i)->kind != CF_REASON_DEPENDS)
			cf_verdict_reason_text(v, i, t, sizeof(t));
	fz_require(!t[0], why, t);
	cf_verdict_destroy(v);
}

void fz_require_refuses(const struct cf_profile *pr, const struct cf_report *r,
			const char *reg, const char *field, const char *why)
{
	struct cf_verdict *v = cf_verdict_create();
	char t[256];
	bool named = false;

	if (!v)
		return;
	snprintf(t, sizeof(t), "%s%s%s", reg, field ? "." : "",
		 field ? field : "");
	fz_require(cf_check(pr, r, v) == CF_OK, why, "check failed");
	fz_require(!cf_verdict_compatible(v), why, t);
	for (size_t i = 0; i < cf_verdict_reason_count(v) && !named; i++) {
		const struct cf_reason *x = cf_verdict_reason(v, i);
		/* CF_REASON_NEEDS_CAP names the register: KVM refuses the
		 * whole identity register without the capability
		 * (KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, api.rst). */
		named = !strcmp(x->reg, reg) &&
			(!field || x->kind == CF_REASON_MISSING_REG ||
			 x->kind == CF_REASON_NEEDS_CAP ||
			 (x->field && !strcmp(x->field, field)));
	}
	fz_require(named, why, t);
	cf_verdict_destroy(v);
}
