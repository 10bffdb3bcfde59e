/* Property tests over random pools (fixed seeds, so failures reproduce):
 *  - every host accepts a feasible baseline;
 *  - per field, the baseline conflicts exactly when no value is accepted by
 *    every host, and otherwise picks the richest accepted value (so raising
 *    a lower-safe field one step makes some host reject it);
 *  - check() gives the answer of a transcription of KVM's
 *    arm64_check_features() (research/arm64-kvm.md §2.3). */
#include <stdlib.h>
#include <string.h>
#include "arch/driver.h"
#include "engine/profile.h"
#include "engine/report.h"
#include "tests/unit/suites.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const struct cf_catalog *cat = &cf_arm64_catalog;

/* A random host: small field values so that hosts often agree. */
static struct cf_report *random_host(int id, const uint64_t *base,
				     unsigned wr_pct, bool undescribed)
{
	struct cf_config *c = NULL;
	struct cf_report *r = NULL;
	char name[32];

	CU_ASSERT_EQUAL_FATAL(cf_config_create(&cf_arm64_ops, &c), CF_OK);
	for (size_t i = 0; i < cat->nregs; i++) {
		const struct cf_reg *reg = &cat->regs[i];
		uint64_t v = base[i], w = 0;
		for (int f = 0; f < reg->nfields; f++) {
			const struct cf_field *fd = &reg->fields[f];
			uint64_t m = cf_field_mask(fd);
			if (below(100) < 40) {
				uint64_t lim = fd->width >= 3 ? 4 : 1ULL << fd->width;
				uint64_t fv = below(lim);
				if ((fd->is_signed ||
				     fd->policy == CF_POL_LOWER_IMPDEF) &&
				    below(4) == 0)
					fv = (1ULL << fd->width) - 1; /* -1, IMP DEF */
				v = (v & ~m) | ((fv << fd->shift) & m);
			}
			if (below(100) < wr_pct)
				w |= m;
			else if (below(100) < 10)
				w |= m & (m - 1) & ~(m >> 1); /* partial */
		}
		if (undescribed && below(100) < 3)
			v ^= ~cf_reg_described(reg) & (1ULL << below(64));
		cf_config_set(c, reg->key, v);
		cf_config_set_writable(c, reg->key, w);
	}
	snprintf(name, sizeof(name), "h%d", id);
	CU_ASSERT_EQUAL_FATAL(cf_report_create(name, c, &r), CF_OK);
	return r;
}

/* arm64_check_features(), transcribed: per field in the writable mask,
 * the safe value of (requested, limit) must be the requested value; every
 * other bit must equal the limit. */
static int64_t ftr_safe(const struct cf_field *f, int64_t nv, int64_t cur)
{
	switch (f->policy) {
	case CF_POL_EXACT: return (int64_t)f->safe;
	case CF_POL_LOWER:
	case CF_POL_LOWER_IMPDEF: return nv < cur ? nv : cur;
	case CF_POL_HIGHER: return nv > cur ? nv : cur;
	case CF_POL_HIGHER0:
		if (nv == 0 || cur == 0)
			return 0;
		return nv > cur ? nv : cur;
	case CF_POL_ANY:
	case CF_POL_ANY_MAX: return nv;
	case CF_POL_AND: return nv & cur;
	case CF_POL_PREFIX: {
		uint64_t w = (uint64_t)nv, l = (uint64_t)cur, upto;
		if (w == 0)
			return cur;
		upto = __builtin_clzll(w) == 0 ? ~0ULL :
		       (2ULL << (63 - __builtin_clzll(w))) - 1;
		return (l & upto) == w ? nv : cur;
	}
	}
	return cur;
}

/* The PMU version fields (alternative ID scheme, 4 bits): 0xf is an
 * IMPLEMENTATION DEFINED PMU. */
static bool impdef(const struct cf_field *f, uint64_t raw)
{
	return f->policy == CF_POL_LOWER_IMPDEF && raw == 0xf;
}

static bool kvm_accepts(const struct cf_reg *reg, uint64_t val, uint64_t limit,
			uint64_t writable)
{
	uint64_t mask = 0;

	/* set_id_aa64dfr0_el1()/set_id_dfr0_el1(): a written IMP DEF PMU
	 * version is rewritten to 0 before set_id_reg() checks anything
	 * (unless it is the host's own value: KVM's limit never holds IMP
	 * DEF since it reads it as none, so a report showing it shows a
	 * kernel that takes its own value back). */
	for (int i = 0; i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		if (impdef(f, cf_field_raw(f, val)) &&
		    cf_field_raw(f, val) != cf_field_raw(f, limit))
			val &= ~cf_field_mask(f);
	}
	for (int i = 0; i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		uint64_t fm = cf_field_mask(f);
		int64_t fv, fl, safe;
		if ((fm & writable) != fm)
			continue;
		fv = cf_field_get(f, val);
		fl = cf_field_get(f, limit);
		/* The kernel has no 64-bit fields; ours (MIDR's neighbours,
		 * capabilities) compare unsigned, so bias them into order. */
		if (!f->is_signed && f->width == 64 && f->policy != CF_POL_AND &&
		    f->policy != CF_POL_PREFIX) {
			fv = (int64_t)((uint64_t)fv ^ (1ULL << 63));
			fl = (int64_t)((uint64_t)fl ^ (1ULL << 63));
		}
		mask |= fm;
		/* KVM's PMU limit reads an IMP DEF PMU as none
		 * (kvm_arm_pmu_get_pmuver_limit()). */
		if (fv != fl && impdef(f, (uint64_t)fl))
			fl = 0;
		safe = fv == fl ? fv : ftr_safe(f, fv, fl);
		if (f->policy == CF_POL_EXACT && fv != fl)
			safe = cf_field_get(f, f->safe << f->shift);
		if (safe != fv)
			return false;
		/* set_id_dfr0_el1()/set_id_aa64dfr0_el1(): DebugVer and CopDbg
		 * below Armv8, PerfMon non-zero below PMUv3. */
		if (f->floor_kind && fv != fl && fv < (int64_t)f->floor &&
		    (f->floor_kind == 1 || fv != 0))
			return false;
	}
	return (val & ~mask) == (limit & ~mask);
}

/* set_imp_id_reg() (arch/arm64/kvm/sys_regs.c, 6.15): MIDR_EL1 (3,0,0,0,0),
 * REVIDR_EL1 (3,0,0,0,6) and AIDR_EL1 (3,1,0,0,7) take any value but the
 * host's only in a VM that enabled KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (239 in
 * include/uapi/linux/kvm.h; api.rst 7.42: "By default, these registers are
 * visible to userspace but treated as invariant"), which a VMM can do only
 * where KVM_CHECK_EXTENSION offers it, whatever the masks say. */
static bool kernel_imp_id(uint64_t key)
{
	return key == (3u << 14) || key == (3u << 14 | 6) ||
	       key == (3u << 14 | 1u << 11 | 7);
}

static bool imp_id_writable(const struct cf_config *host)
{
	uint64_t v = 0;

	return cf_config_get(host, CF_CAP_KEY(239), &v, NULL) && v != 0;
}

/* The mask by which KVM judges register RI of HOST: none for the
 * implementation ID registers where they stay invariant. */
static uint64_t kernel_mask(const struct cf_config *host, size_t ri)
{
	return kernel_imp_id(cat->regs[ri].key) && !imp_id_writable(host) ?
	       0 : host->wr[ri];
}

/* kvm_arm_set_fw_reg() (arch/arm64/kvm/hypercalls.c): the SMCCC workaround
 * levels (KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1..3, ONE_REG ids
 * 0x6030000000140001..3) are checked against the host's and stored
 * nowhere; kvm_arm_get_fw_reg() reads the host's back.  A guest carries
 * its host's level, whatever was written. */
static bool kernel_keeps_nothing(uint64_t key)
{
	return key >= 0x140001 && key <= 0x140003;
}

/* Rules of KVM's setters across fields, transcribed from
 * arch/arm64/kvm/sys_regs.c (not from the catalogue):
 *  - set_clidr(): CLIDR_EL1 (3,1,0,0,1) with LoC (bits 26:24) 0, or with
 *    LoUU (29:27) and LoUIS (23:21) both 0, is EINVAL where the host's
 *    sanitised CTR_EL0 (3,3,0,0,1) has IDC (bit 28) 0;
 *  - set_id_aa64pfr0_el1() (Linux 6.15 on; these random hosts report no
 *    kernel, so the newer rule): ID_AA64PFR0_EL1 (3,0,0,4,0) with EL0
 *    (bits 3:0) or EL1 (7:4) 0 is EINVAL.
 * KVM never reports a value its own setter refuses (it starts from it),
 * so a random host whose register already is the profile's takes it. */
#define KEY(op0, op1, crn, crm, op2) \
	((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))

static bool reg_of(const struct cf_config *c, uint64_t key, uint64_t *v)
{
	return cf_config_get(c, key, v, NULL);
}

static bool kvm_setter_refuses(const struct cf_config *prof,
			       const struct cf_config *host)
{
	uint64_t clidr, hclidr, ctr = 0, pfr0, hpfr0;

	if (reg_of(prof, KEY(3, 1, 0, 0, 1), &clidr) &&
	    !(reg_of(host, KEY(3, 1, 0, 0, 1), &hclidr) && hclidr == clidr) &&
	    (!reg_of(host, KEY(3, 3, 0, 0, 1), &ctr) || !((ctr >> 28) & 1)) &&
	    (((clidr >> 24) & 7) == 0 ||
	     (((clidr >> 27) & 7) == 0 && ((clidr >> 21) & 7) == 0)))
		return true;
	return reg_of(prof, KEY(3, 0, 0, 4, 0), &pfr0) &&
	       !(reg_of(host, KEY(3, 0, 0, 4, 0), &hpfr0) && hpfr0 == pfr0) &&
	       ((pfr0 & 0xf) == 0 || ((pfr0 >> 4) & 0xf) == 0);
}

/* KVM_SET_ONE_REG of every register of PROF.  A capability is no register:
 * KVM_CHECK_EXTENSION reports it and nothing writes the pool's value (a VM
 * enables what it needs with KVM_ENABLE_CAP, api.rst 4.37), so it is not
 * part of this rule. */
static bool kvm_accepts_all(const struct cf_config *prof,
			    const struct cf_config *host)
{
	if (kvm_setter_refuses(prof, host))
		return false;
	for (size_t i = 0; i < cat->nregs; i++) {
		if (!prof->present[i] || cat->regs[i].pseudo == 2)
			continue;
		if (!host->present[i] ||
		    !kvm_accepts(&cat->regs[i], prof->val[i], host->val[i],
				 kernel_mask(host, i)))
			return false;
	}
	return true;
}

static bool conflict_on(const struct cf_profile *pr, size_t ri, int fi)
{
	for (size_t i = 0; i < pr->nconf; i++)
		if (pr->conf[i].key == cat->regs[ri].key && pr->conf[i].field == fi)
			return true;
	return false;
}

static bool reg_conflict(const struct cf_profile *pr, size_t ri)
{
	for (size_t i = 0; i < pr->nconf; i++)
		if (pr->conf[i].key == cat->regs[ri].key &&
		    (pr->conf[i].field < 0 ||
		     pr->conf[i].kind == CF_CONFLICT_KVM_RULE))
			return true;
	return false;
}

/* Is field FI of register RI at value FV accepted by every host, the other
 * bits being the profile's?  Judged field by field as KVM does. */
static bool all_accept_field(struct cf_report **hs, int n, size_t ri, int fi,
			     uint64_t base, uint64_t fv)
{
	const struct cf_field *f = &cat->regs[ri].fields[fi];
	uint64_t m = cf_field_mask(f);
	uint64_t want = (base & ~m) | ((fv << f->shift) & m);

	for (int h = 0; h < n; h++) {
		const struct cf_config *c = hs[h]->cfg;
		bool wr = (kernel_mask(c, ri) & m) == m;
		if (!cf_field_accepts(f, cf_field_raw(f, c->val[ri]), wr,
				      cf_field_raw(f, want)))
			return false;
	}
	return true;
}

/* The richest of the accepted values, by the field's policy. */
static bool better(const struct cf_field *f, uint64_t a, uint64_t b,
		   struct cf_report **hs, int n, size_t ri)
{
	switch (f->policy) {
	case CF_POL_LOWER:
		return cf_field_cmp(f, a, b) > 0;
	case CF_POL_LOWER_IMPDEF:
		return (impdef(f, a) ? 0 : a) > (impdef(f, b) ? 0 : b);
	case CF_POL_HIGHER:
		return cf_field_cmp(f, a, b) < 0;
	case CF_POL_HIGHER0:
		if (b == 0)
			return a != 0;
		return a != 0 && a < b;
	case CF_POL_EXACT: {
		/* the common limit beats the safe value */
		uint64_t l0 = cf_field_raw(f, hs[0]->cfg->val[ri]);
		(void)n;
		return a == l0 && b != l0;
	}
	case CF_POL_ANY:
		return a < b;
	case CF_POL_ANY_MAX:
		return a > b;
	case CF_POL_AND:
		return (a & b) == b && a != b;
	case CF_POL_PREFIX:
		return a > b;
	}
	return false;
}

static bool offered(struct cf_report **hs, int n, size_t ri,
		    const struct cf_field *f, uint64_t fv)
{
	for (int h = 0; h < n; h++)
		if (cf_field_raw(f, hs[h]->cfg->val[ri]) == fv)
			return true;
	return false;
}

/* Does every host accept host C's identity registers (MIDR, REVIDR,
 * AIDR: catalogue flag `identity`), field by field? */
static bool identity_ok(struct cf_report **hs, int n, int c)
{
	for (size_t ri = 0; ri < cat->nregs; ri++) {
		const struct cf_reg *reg = &cat->regs[ri];
		if (!(reg->flags & CF_REG_IDENTITY))
			continue;
		for (int fi = 0; fi < reg->nfields; fi++)
			if (!all_accept_field(hs, n, ri, fi, hs[c]->cfg->val[ri],
					      cf_field_raw(&reg->fields[fi],
							   hs[c]->cfg->val[ri])))
				return false;
	}
	return true;
}

/* Host A's identity registers, in catalogue order, below host B's? */
static bool identity_below(struct cf_report **hs, int a, int b)
{
	for (size_t ri = 0; ri < cat->nregs; ri++) {
		uint64_t x = hs[a]->cfg->val[ri], y = hs[b]->cfg->val[ri];
		if ((cat->regs[ri].flags & CF_REG_IDENTITY) && x != y)
			return x < y;
	}
	return false;
}

/* The identity registers come whole from one host: the lowest identity
 * every host accepts; if none is, some identity field conflicts. */
static void check_identity(struct cf_report **hs, int n,
			   const struct cf_profile *pr)
{
	int best = -1;
	bool conflict = false;

	/* Bits outside the fields that differ are a conflict of their own. */
	for (size_t ri = 0; ri < cat->nregs; ri++)
		if ((cat->regs[ri].flags & CF_REG_IDENTITY) && reg_conflict(pr, ri))
			return;
	for (int h = 0; h < n; h++)
		if (identity_ok(hs, n, h) && (best < 0 || identity_below(hs, h, best)))
			best = h;
	for (size_t ri = 0; ri < cat->nregs; ri++) {
		uint64_t v = 0;
		if (!(cat->regs[ri].flags & CF_REG_IDENTITY))
			continue;
		for (int fi = 0; fi < cat->regs[ri].nfields; fi++)
			conflict |= conflict_on(pr, ri, fi);
		if (best >= 0) {
			CU_ASSERT_TRUE(cf_config_get(pr->cfg, cat->regs[ri].key, &v,
						     NULL));
			CU_ASSERT_EQUAL(v, hs[best]->cfg->val[ri]);
		}
	}
	CU_ASSERT_EQUAL(conflict, best < 0);
}

/* Does V hold a reason of KVM's (not the profile's own dependency rules,
 * which no host is asked about: a random profile may break them)? */
static bool kvm_refusals(const struct cf_verdict *v)
{
	for (size_t i = 0; i < cf_verdict_reason_count(v); i++)
		if (cf_verdict_reason(v, i)->kind != CF_REASON_DEPENDS)
			return true;
	return false;
}

static void check_pool(struct cf_report **hs, int n)
{
	struct cf_pool *p = NULL;
	struct cf_profile *pr = NULL;
	struct cf_verdict *v = cf_verdict_create();
	struct cf_diag d;

	CU_ASSERT_EQUAL_FATAL(cf_pool_create("arm64", &p), CF_OK);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(cf_pool_add(p, hs[i], &d), CF_OK);
	CU_ASSERT_EQUAL_FATAL(cf_baseline(p, &pr), CF_OK);
	for (int h = 0; h < n; h++) {
		CU_ASSERT_EQUAL(cf_check(pr, hs[h], v), CF_OK);
		if (cf_profile_feasible(pr))
			CU_ASSERT_TRUE(cf_verdict_compatible(v));
		/* check() and the KVM transcription agree. */
		CU_ASSERT_EQUAL(cf_verdict_compatible(v),
				kvm_accepts_all(pr->cfg, hs[h]->cfg));
	}
	check_identity(hs, n, pr);
	for (size_t ri = 0; ri < cat->nregs; ri++) {
		const struct cf_reg *reg = &cat->regs[ri];
		uint64_t base = 0;
		if (reg_conflict(pr, ri) || (reg->flags & CF_REG_IDENTITY))
			continue;
		CU_ASSERT_FATAL(cf_config_get(pr->cfg, reg->key, &base, NULL));
		for (int fi = 0; fi < reg->nfields; fi++) {
			const struct cf_field *f = &reg->fields[fi];
			uint64_t got = cf_field_raw(f, base), best = 0;
			bool any = false;
			/* A random host may keep a feature it lost a need
			 * of; the baseline then lowers the field further and
			 * says so (tests/unit/test_deps.c tests that). */
			if (test_said_dropped(pr, reg->key, fi))
				continue;
			if (kernel_keeps_nothing(reg->key)) {
				/* Every host's own value must go everywhere:
				 * a conflict iff one does not. */
				bool refused = false;
				for (int h = 0; h < n; h++)
					refused |= !all_accept_field(hs, n, ri, fi, base,
						cf_field_raw(f, hs[h]->cfg->val[ri]));
				CU_ASSERT_EQUAL(conflict_on(pr, ri, fi), refused);
				continue;
			}
			if (f->width > 6)
				continue;
			for (uint64_t fv = 0; fv < (1ULL << f->width); fv++) {
				if (!all_accept_field(hs, n, ri, fi, base, fv))
					continue;
				/* `any` fields take the smallest value a host
				 * offers (any-max the largest), not an
				 * invented one. */
				if ((f->policy == CF_POL_ANY ||
				     f->policy == CF_POL_ANY_MAX) &&
				    !offered(hs, n, ri, f, fv))
					continue;
				if (!any || better(f, fv, best, hs, n, ri))
					best = fv;
				any = true;
			}
			if (conflict_on(pr, ri, fi) == any) {
				fprintf(stderr, "\n  %s.%s: conflict=%d but "
					"accepted-by-all=%d\n", reg->name,
					f->name, conflict_on(pr, ri, fi), any);
				CU_FAIL("conflict iff no common value");
			}
			/* IMP DEF (0xf) and 0 are the same offer. */
			if (any && got != best &&
			    !(impdef(f, got) && best == 0) &&
			    !(impdef(f, best) && got == 0)) {
				fprintf(stderr, "\n  %s.%s: baseline %llu, richest "
					"common %llu\n", reg->name, f->name,
					(unsigned long long)got,
					(unsigned long long)best);
				CU_FAIL("baseline is the richest common value");
			}
		}
	}
	cf_verdict_destroy(v);
	cf_profile_destroy(pr);
	cf_pool_destroy(p);
}

static void run_pools(unsigned wr_pct, bool undescribed, int iters)
{
	uint64_t *base = calloc(cat->nregs, sizeof(*base));

	for (int it = 0; it < iters; it++) {
		struct cf_report *hs[6];
		int n = 2 + (int)below(5);
		for (size_t i = 0; i < cat->nregs; i++)
			base[i] = rnd() & ~cf_reg_described(&cat->regs[i]) &
				  (below(2) ? 0 : ~0ULL);
		for (int h = 0; h < n; h++)
			hs[h] = random_host(h, base, wr_pct, undescribed);
		check_pool(hs, n);
		for (int h = 0; h < n; h++)
			cf_report_destroy(hs[h]);
	}
	free(base);
}

static void test_property_all_writable(void)
{
	rng = 1;
	run_pools(100, false, 150);
}

static void test_property_mostly_writable(void)
{
	rng = 2;
	run_pools(90, false, 150);
}

static void test_property_half_writable_with_undescribed(void)
{
	rng = 3;
	run_pools(50, true, 150);
}

/* Profiles near a host's own values: check() equals the KVM rule. */
static void test_property_check_matches_kvm_rule(void)
{
	uint64_t *base = calloc(cat->nregs, sizeof(*base));
	struct cf_verdict *v = cf_verdict_create();
	int agree = 0, rejected = 0;

	rng = 4;
	for (int it = 0; it < 2000; it++) {
		struct cf_report *h = random_host(0, base, 70, true);
		struct cf_profile *pr = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(h, &pr), CF_OK);
		/* The host's own values with a few fields or bits changed. */
		struct cf_config *c = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_config_create(&cf_arm64_ops, &c), CF_OK);
		memcpy(c->val, h->cfg->val, cat->nregs * (2 * sizeof(uint64_t) + 1));
		for (int k = 1 + (int)below(3); k > 0; k--) {
			size_t ri = below(cat->nregs);
			const struct cf_reg *reg = &cat->regs[ri];
			if (reg->nfields && below(8)) {
				const struct cf_field *f =
					&reg->fields[below(reg->nfields)];
				uint64_t m = cf_field_mask(f);
				c->val[ri] = (c->val[ri] & ~m) |
					     ((below(4) << f->shift) & m);
			} else {
				c->val[ri] ^= 1ULL << below(64);
			}
		}
		cf_config_seal(c);
		struct cf_report *w = NULL;
		CU_ASSERT_EQUAL_FATAL(cf_report_create("w", c, &w), CF_OK);
		cf_profile_destroy(pr);
		CU_ASSERT_EQUAL_FATAL(cf_profile_from_report(w, &pr), CF_OK);
		CU_ASSERT_EQUAL(cf_check(pr, h, v), CF_OK);
		if (kvm_refusals(v) == !kvm_accepts_all(pr->cfg, h->cfg))
			agree++;


		if (!cf_verdict_compatible(v))
			rejected++;
		cf_profile_destroy(pr);
		cf_report_destroy(h);
		cf_report_destroy(w);
	}
	CU_ASSERT_EQUAL(agree, 2000);
	CU_ASSERT_TRUE(rejected > 0 && rejected < 2000);
	cf_verdict_destroy(v);
	free(base);
}

static CU_TestInfo tests[] = {
	TEST(test_property_all_writable),
	TEST(test_property_mostly_writable),
	TEST(test_property_half_writable_with_undescribed),
	TEST(test_property_check_matches_kvm_rule),
	CU_TEST_INFO_NULL,
};
CU_SuiteInfo suite_property = { "property", NULL, NULL, NULL, NULL, tests };
