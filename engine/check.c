/* Would KVM on a host accept a profile?  Per register this is KVM's own
 * rule (arm64_check_features, research/arm64-kvm.md §2.3): fields wholly
 * inside the writable mask follow their policy; every other bit must equal
 * the host's limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/check.h"
#include "engine/deps.h"
#include "engine/profile.h"
#include "engine/report.h"

struct cf_verdict {
	char host[CF_HOST_ID_MAX];
	const struct cf_arch_ops *arch;
	struct cf_reason *r;
	size_t n, cap;
};

struct cf_verdict *cf_verdict_create(void)
{
	return calloc(1, sizeof(struct cf_verdict));
}

void cf_verdict_destroy(struct cf_verdict *v)
{
	if (!v)
		return;
	free(v->r);
	free(v);
}

bool cf_verdict_compatible(const struct cf_verdict *v)
{
	return v->n == 0;
}

size_t cf_verdict_reason_count(const struct cf_verdict *v)
{
	return v->n;
}

const struct cf_reason *cf_verdict_reason(const struct cf_verdict *v, size_t i)
{
	return i < v->n ? &v->r[i] : NULL;
}

static enum cf_err add(struct cf_verdict *v, enum cf_reason_kind kind,
		       const struct cf_arch_ops *a, uint64_t key,
		       const struct cf_field *f, uint64_t want, uint64_t offer)
{
	struct cf_reason *r;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		r = realloc(v->r, cap * sizeof(*r));
		if (!r)
			return CF_ENOMEM;
		v->r = r;
		v->cap = cap;
	}
	r = &v->r[v->n++];
	r->kind = kind;
	cf_arch_regname(a, key, r->reg, sizeof(r->reg));
	r->field = f ? f->name : NULL;
	r->is_signed = f && f->is_signed;
	r->want = want;
	r->offer = offer;
	r->features[0] = '\0';
	r->needs[0] = '\0';
	if (f && cf_field_cmp(f, want, offer) > 0)
		cf_field_features_between(f, offer, want, r->features,
					  sizeof(r->features));
	return CF_OK;
}

static enum cf_err check_reg(struct cf_verdict *v, const struct cf_arch_ops *a,
			     const struct cf_reg *reg, uint64_t key,
			     uint64_t want, uint64_t lim, uint64_t wr)
{
	uint64_t mask = 0, diff, rest;
	enum cf_err err;

	for (int i = 0; reg && i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		uint64_t m = cf_field_mask(f);
		uint64_t w = cf_field_raw(f, want), l = cf_field_raw(f, lim);
		bool accepted = w == l || cf_field_accepts(f, l, (wr & m) == m, w);
		/* A field the host cannot change is reported below as not
		 * writable, unless KVM takes the value anyway (a TSC rate
		 * within tolerance). */
		if ((wr & m) != m && !accepted)
			continue;
		mask |= m;
		if (accepted)
			continue;
		/* Wanting more than the host has is "lacks"; anything else
		 * (a floor, an exact value, a prefix) KVM just does not take. */
		err = add(v, (f->policy == CF_POL_LOWER ||
			      f->policy == CF_POL_LOWER_IMPDEF ||
			      f->policy == CF_POL_HIGHER0) &&
			  cf_field_cmp(f, w, l) > 0
			  ? CF_REASON_LACKS : CF_REASON_NOT_ACCEPTED,
			  a, key, f, w, l);
		if (err != CF_OK)
			return err;
	}
	diff = (want ^ lim) & ~mask;
	if (!diff)
		return CF_OK;
	rest = diff;
	for (int i = 0; reg && i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		uint64_t m = cf_field_mask(f);
		if (!(diff & m))
			continue;
		rest &= ~m;
		err = add(v, CF_REASON_NOT_WRITABLE, a, key, f,
			  cf_field_raw(f, want), cf_field_raw(f, lim));
		if (err != CF_OK)
			return err;
	}
	if (rest)
		return add(v, CF_REASON_UNDESCRIBED, a, key, NULL, want & rest,
			   lim & rest);
	return CF_OK;
}

/* Every rule of the dependency table the profile breaks: a feature kept
 * without one it needs, whatever the host (a register whose gates the
 * profile lacks describes nothing the guest has, and is left alone). */
static enum cf_err check_deps(const struct cf_config *pc,
			      const struct cf_config *hc, struct cf_verdict *v)
{
	const struct cf_arch_ops *a = pc->arch;
	const struct cf_deps *ds = a->deps;
	enum cf_err err;

	for (size_t i = 0; ds && i < ds->n; i++) {
		const struct cf_dep *d = &ds->d[i];
		int ri = cf_catalog_find_key(a->catalog, d->feature.key);
		int need = cf_dep_unmet(pc, d);
		const struct cf_field *f;
		struct cf_reason *r;
		uint64_t val = 0, hv = 0;
		if (need < 0 || ri < 0 || !cf_dep_present(pc, &d->feature) ||
		    cf_arch_gate_closed(a, pc, d->feature.key))
			continue;
		f = d->feature.field >= 0 ?
		    &a->catalog->regs[ri].fields[d->feature.field] : NULL;
		cf_config_get(pc, d->feature.key, &val, NULL);
		cf_config_get(hc, d->feature.key, &hv, NULL);
		err = add(v, CF_REASON_DEPENDS, a, d->feature.key, NULL,
			  f ? cf_field_raw(f, val) : val,
			  f ? cf_field_raw(f, hv) : hv);
		if (err != CF_OK)
			return err;
		r = &v->r[v->n - 1];
		r->field = f ? f->name : NULL;
		cf_dep_term_name(a, &d->feature, r->features, sizeof(r->features));
		cf_dep_needs_text(a, d, need, r->needs, sizeof(r->needs));
	}
	return CF_OK;
}

static enum cf_err check_config(const struct cf_config *pc,
				const struct cf_config *hc,
				struct cf_verdict *v)
{
	const struct cf_arch_ops *a = pc->arch;
	const struct cf_catalog *cat = a->catalog;
	enum cf_err err;

	if (hc->arch != a) {
		/* The register is the host's architecture, by name. */
		err = add(v, CF_REASON_ARCH, a, 0, NULL, 0, 0);
		if (err == CF_OK)
			snprintf(v->r[v->n - 1].reg, sizeof(v->r[0].reg), "%s",
				 hc->arch->name);
		return err;
	}
	err = check_deps(pc, hc, v);
	if (err != CF_OK)
		return err;
	for (size_t i = 0; i < pc->ncat; i++) {
		/* A capability is no CPU feature: the pool's common value is
		 * advice (check_enabled judges what the VMs enable). */
		if (!pc->present[i] || cat->regs[i].pseudo == 2)
			continue;
		if (hc->present[i] ? pc->val[i] == hc->val[i] :
		    a->absent_is_zero && pc->val[i] == 0)
			continue;
		/* It describes a feature the profile leaves out. */
		if (cf_arch_gate_closed(a, pc, cat->regs[i].key))
			continue;
		if (!hc->present[i] && a->absent_is_zero)
			err = check_reg(v, a, &cat->regs[i], cat->regs[i].key,
					pc->val[i], 0, ~0ULL);
		else if (!hc->present[i])
			err = add(v, CF_REASON_MISSING_REG, a, cat->regs[i].key,
				  NULL, pc->val[i], 0);
		else if (!cf_config_wcap_offered(hc, i))
			/* Another value than the host's needs a capability
			 * the VM enables, which this host's KVM lacks. */
			err = add(v, CF_REASON_NEEDS_CAP, a, cat->regs[i].key,
				  NULL, pc->val[i], hc->val[i]);
		else
			err = check_reg(v, a, &cat->regs[i], cat->regs[i].key,
					pc->val[i], hc->val[i],
					cf_config_writable(hc, i));
		if (err != CF_OK)
			return err;
	}
	for (size_t x = 0; x < pc->nextra; x++) {
		const struct cf_extra *e = &pc->extra[x];
		uint64_t hv;
		bool have = cf_config_get(hc, e->key, &hv, NULL);
		if (!have && a->absent_is_zero)
			hv = 0, have = true;
		if (e->value == 0 && a->absent_is_zero)
			continue;
		if (!have)
			err = add(v, CF_REASON_MISSING_REG, a, e->key, NULL,
				  e->value, 0);
		else if (hv != e->value)
			err = check_reg(v, a, NULL, e->key, e->value, hv, 0);
		else
			continue;
		if (err != CF_OK)
			return err;
	}
	return CF_OK;
}

/* The capabilities the profile's VMs enable (EN, role guest): the host
 * must offer each, as KVM_ENABLE_CAP or KVM_ARM_VCPU_INIT would need. */
static enum cf_err check_enabled(const struct cf_config *en,
				 const struct cf_config *hc, struct cf_verdict *v)
{
	const struct cf_arch_ops *a = en->arch;
	const struct cf_catalog *cat = a->catalog;
	enum cf_err err = CF_OK;

	if (hc->arch != a)
		return CF_OK;
	for (size_t i = 0; i < en->ncat && err == CF_OK; i++) {
		const struct cf_field *f = &cat->regs[i].fields[0];
		uint64_t lim = hc->present[i] ? hc->val[i] : 0;
		if (!en->present[i])
			continue;
		if (!hc->present[i] && !a->absent_is_zero)
			err = add(v, CF_REASON_MISSING_REG, a, cat->regs[i].key,
				  NULL, en->val[i], 0);
		else if (!cf_field_accepts(f, lim, true, en->val[i]))
			err = add(v, CF_REASON_LACKS, a, cat->regs[i].key, f,
				  en->val[i], lim);
	}
	return err;
}

/* Linux release KERNEL ("6.12.95+deb12-arm64") as major * 1000 + minor,
 * or 0 where it does not start so. */
static uint32_t kernel_release(const char *kernel)
{
	uint32_t major = 0, minor = 0;
	const char *p = kernel;

	while (*p >= '0' && *p <= '9' && major < 1000)
		major = major * 10 + (uint32_t)(*p++ - '0');
	if (p == kernel || *p++ != '.' || *p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9' && minor < 1000)
		minor = minor * 10 + (uint32_t)(*p++ - '0');
	return major < 1000 && minor < 1000 ? major * 1000 + minor : 0;
}

/* T holds in C: its field at T's value (or, ABSENT_HOLDS, C lacks the
 * register). */
static bool term_holds(const struct cf_config *c, const struct cf_refuse_term *t,
		       bool absent_holds)
{
	int ri = cf_catalog_find_key(c->arch->catalog, t->key);
	uint64_t v;

	if (ri < 0 || !cf_config_get(c, t->key, &v, NULL))
		return absent_holds;
	return cf_field_raw(&c->arch->catalog->regs[ri].fields[t->field], v) ==
	       t->value;
}

bool cf_check_refused(const struct cf_refusal *r, const struct cf_config *pc,
		      const struct cf_config *hc, uint32_t kernel)
{
	bool own = true;

	if (r->since && kernel && kernel < r->since)
		return false;
	for (uint8_t i = 0; i < r->nwant; i++) {
		uint64_t pv, hv;
		if (!term_holds(pc, &r->want[i], false))
			return false;
		cf_config_get(pc, r->want[i].key, &pv, NULL);
		if (!cf_config_get(hc, r->want[i].key, &hv, NULL) || hv != pv)
			own = false;
	}
	for (uint8_t i = 0; i < r->nhost; i++)
		if (!term_holds(hc, &r->host[i], true))
			return false;
	return !own;
}

static enum cf_err check_refusals(const struct cf_config *pc,
				  const struct cf_config *hc, uint32_t kernel,
				  struct cf_verdict *v)
{
	const struct cf_arch_ops *a = pc->arch;
	const struct cf_refusals *rs = a->refusals;

	for (size_t i = 0; rs && hc->arch == a && i < rs->n; i++) {
		const struct cf_refuse_term *t = &rs->r[i].want[0];
		const struct cf_field *f;
		uint64_t pv = 0, hv = 0;
		enum cf_err err;
		if (!cf_check_refused(&rs->r[i], pc, hc, kernel))
			continue;
		f = &a->catalog->regs[cf_catalog_find_key(a->catalog, t->key)]
			     .fields[t->field];
		cf_config_get(pc, t->key, &pv, NULL);
		cf_config_get(hc, t->key, &hv, NULL);
		err = add(v, CF_REASON_KVM_RULE, a, t->key, f, cf_field_raw(f, pv),
			  cf_field_raw(f, hv));
		if (err != CF_OK)
			return err;
		snprintf(v->r[v->n - 1].needs, sizeof(v->r[v->n - 1].needs), "%s",
			 rs->r[i].text);
	}
	return CF_OK;
}

enum cf_err cf_check(const struct cf_profile *pr, const struct cf_report *r,
		     struct cf_verdict *v)
{
	enum cf_err err;

	v->n = 0;
	memcpy(v->host, r->host_id, strlen(r->host_id) + 1);
	v->arch = pr->arch;
	err = check_config(pr->cfg, r->cfg, v);
	if (err == CF_OK)
		err = check_refusals(pr->cfg, r->cfg, kernel_release(cf_report_kernel(r)), v);
	if (err == CF_OK && pr->enabled)
		err = check_enabled(pr->enabled, r->cfg, v);
	return err;
}

/* The host's capability NAME, if its report has it. */
static bool host_cap(const struct cf_config *c, const char *name, uint64_t *val)
{
	int i = cf_catalog_find_name(c->arch->catalog, name);

	if (i < 0 || !c->present[i])
		return false;
	*val = c->val[i];
	return true;
}

enum cf_err cf_check_vcpus(const struct cf_profile *pr, const struct cf_report *r,
			   uint64_t nvcpus, struct cf_verdict *v)
{
	const struct cf_arch_ops *a = r->cfg->arch;
	const char *cap = "KVM_CAP_MAX_VCPUS";
	int i = cf_catalog_find_name(a->catalog, cap);
	uint64_t max;
	enum cf_err err;

	if (nvcpus == 0)
		return CF_EINVAL;
	if (pr) {
		err = cf_check(pr, r, v);
		if (err != CF_OK)
			return err;
	} else {
		v->n = 0;
		memcpy(v->host, r->host_id, strlen(r->host_id) + 1);
		v->arch = a;
	}
	/* api.rst 4.7: without KVM_CAP_MAX_VCPUS, max_vcpus is what
	 * KVM_CAP_NR_VCPUS returns. */
	if (i < 0)
		return CF_EINVAL;
	if (!host_cap(r->cfg, cap, &max)) {
		if (!host_cap(r->cfg, "KVM_CAP_NR_VCPUS", &max))
			return add(v, CF_REASON_MISSING_REG, a,
				   a->catalog->regs[i].key, NULL, nvcpus, 0);
		i = cf_catalog_find_name(a->catalog, "KVM_CAP_NR_VCPUS");
	}
	if (nvcpus <= max)
		return CF_OK;
	return add(v, CF_REASON_LACKS, a, a->catalog->regs[i].key,
		   &a->catalog->regs[i].fields[0], nvcpus, max);
}

enum cf_err cf_check_register(struct cf_verdict *v, const struct cf_arch_ops *a,
			      const char *host, uint64_t key, uint64_t want,
			      uint64_t lim, uint64_t wr, bool wcap_offered)
{
	int i = cf_catalog_find_key(a->catalog, key);

	v->n = 0;
	v->arch = a;
	snprintf(v->host, sizeof(v->host), "%s", host);
	if (want == lim)
		return CF_OK;
	if (i >= 0 && a->catalog->regs[i].wcap && !wcap_offered)
		return add(v, CF_REASON_NEEDS_CAP, a, key, NULL, want, lim);
	return check_reg(v, a, i >= 0 ? &a->catalog->regs[i] : NULL, key, want,
			 lim, wr);
}

static const char *policy_name(const struct cf_arch_ops *a, const char *reg,
			       const char *field)
{
	int ri = cf_catalog_find_name(a->catalog, reg), fi;

	if (ri < 0 || !field)
		return "";
	fi = cf_catalog_find_field(&a->catalog->regs[ri], field);
	if (fi < 0)
		return "";
	switch (a->catalog->regs[ri].fields[fi].policy) {
	case CF_POL_LOWER: return "lower-safe";
	case CF_POL_HIGHER: return "higher-safe";
	case CF_POL_HIGHER0: return "higher-or-zero-safe";
	case CF_POL_EXACT: return "exact";
	case CF_POL_ANY:
	case CF_POL_ANY_MAX: return "any";
	case CF_POL_AND: return "subset";
	case CF_POL_PREFIX: return "prefix";
	case CF_POL_EQUAL: return "equal";
	case CF_POL_OR: return "superset";
	case CF_POL_IGNORE: return "per-vCPU";
	case CF_POL_ZERO: return "zero";
	case CF_POL_RATE: return "TSC rate";
	case CF_POL_LOWER_IMPDEF: return "lower-safe, 0xf as 0";
	}
	return "";
}

/* Small values in decimal, large in hex, signed fields sign-extended
 * ("offers -1" for a 0xf "not implemented"). */
static void fmt_val(const struct cf_reason *r, uint64_t v, char *buf, size_t len)
{
	if (r->is_signed && r->field && (v & 0x8))
		snprintf(buf, len, "%lld", (long long)(v | ~0xfULL));
	else if (v < 10)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)v);
}

/* The catalogue's field of reason R, or NULL (a whole register). */
static const struct cf_field *reason_field(const struct cf_verdict *v,
					   const struct cf_reason *r)
{
	int ri = r->field ? cf_catalog_find_name(v->arch->catalog, r->reg) : -1;
	int fi = ri < 0 ? -1 : cf_catalog_find_field(&v->arch->catalog->regs[ri],
						     r->field);

	return fi < 0 ? NULL : &v->arch->catalog->regs[ri].fields[fi];
}

/* A field's value in users' words where the catalogue says what it is
 * (cf_field_unit_text); false for any other field (fmt_val's numbers). */
static bool fmt_unit(const struct cf_verdict *v, const struct cf_reason *r,
		     uint64_t val, char *buf, size_t len)
{
	const struct cf_field *f = reason_field(v, r);

	return f && cf_field_unit_text(f, val, buf, len);
}

/* The whole CPU vendor string of each side ("GenuineIntel"), from V's
 * reasons on the equal fields named "vendor": x86 CPUID leaf 0 holds it in
 * EBX, EDX, ECX, in that order (SDM Vol. 2A, CPUID leaf 0).  False when
 * a register of the three did not differ (it has no reason here) or a
 * byte is not printable. */
static bool vendor_words(const struct cf_verdict *v, char *want, char *offer)
{
	static const char *const order[] = { "_EBX", "_EDX", "_ECX" };

	for (int k = 0; k < 3; k++) {
		const struct cf_reason *r = NULL;
		for (size_t i = 0; i < v->n && !r; i++) {
			size_t n = strlen(v->r[i].reg);
			if (v->r[i].field && !strcmp(v->r[i].field, "vendor") &&
			    n > 4 && !strcmp(v->r[i].reg + n - 4, order[k]))
				r = &v->r[i];
		}
		if (!r)
			return false;
		for (int b = 0; b < 4; b++) {
			want[4 * k + b] = (char)(r->want >> (8 * b));
			offer[4 * k + b] = (char)(r->offer >> (8 * b));
			if (want[4 * k + b] < 0x20 || want[4 * k + b] > 0x7e ||
			    offer[4 * k + b] < 0x20 || offer[4 * k + b] > 0x7e)
				return false;
		}
	}
	want[12] = offer[12] = '\0';
	return true;
}

/* A reason in the words users know first, where the catalogue says what
 * the field is: the CPU vendor, the TSC frequency.  False for others. */
static bool words_text(const struct cf_verdict *v, const struct cf_reason *r,
		       const char *w, const char *o, char *buf, size_t len)
{
	const struct cf_field *f = reason_field(v, r);
	const char *host = v->host[0] ? v->host : "this host";
	char vw[13], vo[13];

	if (!f)
		return false;
	if (f->policy == CF_POL_RATE && r->kind == CF_REASON_NOT_WRITABLE) {
		/* KVM_SET_TSC_KHZ without TSC scaling: 250 ppm at most
		 * (arch/x86/kvm/x86.c, tsc_tolerance_ppm). */
		snprintf(buf, len, "TSC frequency %s, host %s %s: more than "
			 "250 ppm apart and %s cannot scale the guest's TSC "
			 "(%s.%s)", w, host, o, host, r->reg, r->field);
		return true;
	}
	if (!strcmp(r->field, "vendor") && r->kind == CF_REASON_NOT_ACCEPTED &&
	    vendor_words(v, vw, vo)) {
		snprintf(buf, len, "CPU vendor %s, host %s has %s: %s.%s wants "
			 "%s, host offers %s", vw, host, vo, r->reg, r->field,
			 w, o);
		return true;
	}
	return false;
}

/* The bit numbers set in M, "3, 5, 24", cut short to LEN. */
static void bit_list(uint64_t m, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int b = 0; b < 64 && at < len; b++)
		if (m >> b & 1) {
			int w = snprintf(buf + at, len - at, "%s%d", at ? ", " : "",
					 b);
			if (w < 0)
				return;
			at += (size_t)w;
		}
}

/* A capability's reason: one the profile's VMs enable, or a VM's size
 * (cf_check_vcpus).  False if R is about no capability. */
static bool cap_text(const struct cf_verdict *v, const struct cf_reason *r,
		     const char *who, const char *w, const char *o, char *buf,
		     size_t len)
{
	int ri = cf_catalog_find_name(v->arch->catalog, r->reg);
	const struct cf_reg *reg = ri < 0 ? NULL : &v->arch->catalog->regs[ri];
	bool vcpus;

	if (!reg || reg->pseudo != 2 ||
	    (r->kind != CF_REASON_LACKS && r->kind != CF_REASON_MISSING_REG))
		return false;
	vcpus = reg->role == CF_ROLE_CAPACITY;
	if (r->kind == CF_REASON_MISSING_REG && vcpus)
		snprintf(buf, len, "%s does not report %s, so no vCPU count can "
			 "be judged", who, r->reg);
	else if (r->kind == CF_REASON_MISSING_REG)
		snprintf(buf, len, "%s does not report %s, which the profile's "
			 "VMs enable", who, r->reg);
	else if (vcpus)
		snprintf(buf, len, "%s takes at most %llu vCPUs per VM (%s); the "
			 "VM has %llu", who, (unsigned long long)r->offer, r->reg,
			 (unsigned long long)r->want);
	else if (!strcmp(r->field, "bool"))
		snprintf(buf, len, "%s lacks %s, which the profile's VMs enable",
			 who, r->reg);
	else if (!strcmp(r->field, "bitmask"))
		snprintf(buf, len, "%s lacks bits 0x%llx of %s, which the "
			 "profile's VMs enable (host offers 0x%llx)", who,
			 (unsigned long long)(r->want & ~r->offer), r->reg,
			 (unsigned long long)r->offer);
	else
		snprintf(buf, len, "%s offers %s %s, below the %s the profile's "
			 "VMs enable", who, r->reg, o, w);
	return true;
}

const char *cf_verdict_value_name(const struct cf_verdict *v, const char *reg,
				  uint64_t value)
{
	return v && v->arch && v->arch->value_name ?
	       v->arch->value_name(reg, value) : NULL;
}

const char *cf_verdict_reason_topic(const struct cf_verdict *v,
				    const struct cf_reason *r)
{
	const struct cf_field *f = reason_field(v, r);

	return f && f->policy == CF_POL_RATE ? "TSC frequency" : NULL;
}

enum cf_err cf_verdict_reason_text(const struct cf_verdict *v, size_t i,
				   char *buf, size_t len)
{
	const struct cf_reason *r = cf_verdict_reason(v, i);
	char w[200], o[200], who[CF_HOST_ID_MAX + 8], bits[200];

	if (!r)
		return CF_EINVAL;
	if (!fmt_unit(v, r, r->want, w, sizeof(w)) ||
	    !fmt_unit(v, r, r->offer, o, sizeof(o))) {
		fmt_val(r, r->want, w, sizeof(w));
		fmt_val(r, r->offer, o, sizeof(o));
	}
	/* An unnamed host is the one the caller runs on (apply). */
	if (v->host[0])
		snprintf(who, sizeof(who), "host %s", v->host);
	else
		snprintf(who, sizeof(who), "this host");
	if (cap_text(v, r, who, w, o, buf, len) ||
	    words_text(v, r, w, o, buf, len))
		return CF_OK;
	switch (r->kind) {
	case CF_REASON_LACKS:
		if (r->features[0])
			snprintf(buf, len, "%s lacks %s: %s.%s wants %s, "
				 "host offers %s", who, r->features, r->reg,
				 r->field, w, o);
		else
			snprintf(buf, len, "%s offers less: %s.%s wants %s, "
				 "host offers %s", who, r->reg, r->field, w, o);
		break;
	case CF_REASON_NOT_ACCEPTED:
		snprintf(buf, len, "%s.%s: %s does not accept %s (offers "
			 "%s, %s)", r->reg, r->field, who, w, o,
			 policy_name(v->arch, r->reg, r->field));
		break;
	case CF_REASON_NOT_WRITABLE:
		snprintf(buf, len, "%s.%s is not writable on %s and differs: "
			 "wants %s, host offers %s%s%s", r->reg, r->field,
			 v->host[0] ? v->host : "this host", w, o,
			 r->features[0] ? "; host lacks " : "", r->features);
		break;
	case CF_REASON_UNDESCRIBED:
		bit_list(r->want ^ r->offer, bits, sizeof(bits));
		snprintf(buf, len, "%s: bit%s %s, which the catalogue does not "
			 "name, differ%s on %s: wants 0x%llx, host offers 0x%llx",
			 r->reg, strchr(bits, ',') ? "s" : "", bits,
			 strchr(bits, ',') ? "" : "s",
			 v->host[0] ? v->host : "this host",
			 (unsigned long long)r->want, (unsigned long long)r->offer);
		break;
	case CF_REASON_MISSING_REG:
		snprintf(buf, len, "%s does not report %s", who, r->reg);
		break;
	case CF_REASON_ARCH:
		snprintf(buf, len, "%s is %s, the profile %s: a guest never "
			 "changes architecture", who, r->reg, v->arch->name);
		break;
	case CF_REASON_DEPENDS:
		snprintf(buf, len, "the profile keeps %s but not %s, which %s "
			 "needs", r->features, r->needs, r->features);
		break;
	case CF_REASON_KVM_RULE:
		snprintf(buf, len, "%s refuses %s.%s = %s: %s", who, r->reg,
			 r->field, w, r->needs);
		break;
	case CF_REASON_NEEDS_CAP: {
		int ri = cf_catalog_find_name(v->arch->catalog, r->reg);
		char cap[96];
		cf_catalog_cap_text(v->arch->catalog, ri >= 0 &&
				    v->arch->catalog->regs[ri].wcap ?
				    v->arch->catalog->regs[ri].wcap : "?",
				    cap, sizeof(cap));
		const char *nw = v->arch->value_name ?
				 v->arch->value_name(r->reg, r->want) : NULL;
		const char *no = v->arch->value_name ?
				 v->arch->value_name(r->reg, r->offer) : NULL;
		snprintf(buf, len, "%s differs from %s's (0x%llx vs 0x%llx%s%s%s%s) "
			 "and %s's KVM lacks %s", r->reg, who,
			 (unsigned long long)r->want, (unsigned long long)r->offer,
			 nw && no ? ": " : "", nw && no ? nw : "",
			 nw && no ? " vs " : "", nw && no ? no : "", who, cap);
		break;
	}
	}
	return CF_OK;
}
