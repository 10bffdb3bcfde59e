/* Programming an x86 profile into KVM in the order KVM requires
 * (research/x86-kvm.md §1.7): VM capabilities before any vCPU exists; per
 * vCPU, before the first KVM_RUN, KVM_SET_CPUID2 (immutable once the vCPU
 * has run), the feature MSRs, the TSC rate; then everything read back. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "arch/x86/apply.h"
#include "arch/x86/x86.h"
#include "engine/profile.h"
#include "util/diag.h"

/* ---- the CPUID table (no KVM needed) ---- */

struct table_ctx {
	struct cf_x86_cpuid_entry *tab;
	size_t max, n;
	bool full;
};

static int table_add(void *ctx, uint64_t key, uint64_t value, uint64_t wr)
{
	struct table_ctx *t = ctx;
	struct cf_x86_cpuid_entry *e;
	uint32_t leaf = CF_X86_LEAF(key), sub = CF_X86_SUB(key);

	(void)wr;
	if (!CF_X86_IS_CPUID(key))
		return 0;
	e = t->n > 0 ? &t->tab[t->n - 1] : NULL;
	if (!e || e->leaf != leaf || e->subleaf != sub) {
		if (t->n == t->max) {
			t->full = true;
			return 1;
		}
		e = &t->tab[t->n++];
		memset(e, 0, sizeof(*e));
		e->leaf = leaf;
		e->subleaf = sub;
		e->indexed = cf_x86_leaf_indexed(leaf);
	}
	e->r[CF_X86_REG(key)] = (uint32_t)value;
	return 0;
}

/* The per-vCPU parts a VMM must fill (KVM reports the topology leaves as
 * zeros, research §1.1), for a vCPU that is the only logical processor of
 * its package.  Nothing else is touched: a VMM with another topology fills
 * leaves 1, 4, 0xB, 0x1F and 0x8000001E itself. */
static void fill_vcpu(struct cf_x86_cpuid_entry *e, uint32_t apic_id)
{
	switch (e->leaf) {
	case 0x1:
		/* EBX[31:24] initial APIC id, [23:16] logical processors
		 * per package; brand index and CLFLUSH size stay. */
		e->r[1] = (e->r[1] & 0xffffu) | 1u << 16 | (apic_id & 0xffu) << 24;
		break;
	case 0xb:
	case 0x1f:
		/* x2APIC id on every subleaf; ECX[7:0] echoes the subleaf,
		 * ECX[15:8] (level type) and EAX/EBX stay. */
		e->r[3] = apic_id;
		e->r[2] = (e->r[2] & ~0xffu) | (e->subleaf & 0xffu);
		break;
	case 0x8000001e:
		e->r[0] = apic_id;  /* extended APIC id */
		break;
	default:
		break;
	}
}

enum cf_err cf_x86_cpuid_table(const struct cf_profile *pr, uint32_t apic_id,
			       struct cf_x86_cpuid_entry *tab, size_t max,
			       size_t *n, struct cf_diag *d)
{
	struct table_ctx t = { tab, max, 0, false };

	*n = 0;
	cf_config_walk(pr->cfg, table_add, &t);
	if (t.full)
		return cf_diag_set(d, CF_ETOOBIG, "the profile has more than %zu "
				   "CPUID entries", max);
	for (size_t i = 0; i < t.n; i++)
		fill_vcpu(&tab[i], apic_id);
	*n = t.n;
	return CF_OK;
}

void cf_x86_scratch_opts(const struct cf_profile *pr,
			 struct cf_x86_vm_opts *opts)
{
	const struct cf_catalog *cat = pr->arch->catalog;
	int i = cf_catalog_find_name(cat, "KVM_CAP_SPLIT_IRQCHIP");
	uint64_t v = 0;

	memset(opts, 0, sizeof(*opts));
	opts->split_irqchip = i >= 0 &&
			      cf_config_get(pr->cfg, cat->regs[i].key, &v, NULL) &&
			      v != 0;
}

const struct cf_x86_cpuid_entry *cf_x86_cpuid_find(
	const struct cf_x86_cpuid_entry *tab, size_t n, uint32_t leaf,
	uint32_t sub)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].leaf == leaf && (!tab[i].indexed || tab[i].subleaf == sub))
			return &tab[i];
	return NULL;
}

/* What KVM rewrites on its own (research §1.3): never compared. */
static const struct runtime_bits {
	uint32_t leaf, sub;
	unsigned reg;
	uint32_t bits;
	const char *why;
} runtime[] = {
	{ 0x1, 0, 2, 1u << 27, "OSXSAVE, from the guest's CR4.OSXSAVE" },
	{ 0x1, 0, 3, 1u << 9, "APIC, from the APIC_BASE enable bit" },
	{ 0x7, 0, 2, 1u << 4, "OSPKE, from the guest's CR4.PKE" },
	{ 0xd, 0, 1, 0xffffffffu, "XSAVE size of the enabled XCR0" },
	{ 0xd, 1, 1, 0xffffffffu, "XSAVE size of the enabled XCR0 | XSS" },
	{ 0x40000001, 0, 0, 1u << 7, "KVM_FEATURE_PV_UNHALT, cleared when "
	  "HLT exits are disabled" },
};

uint32_t cf_x86_runtime_bits(uint32_t leaf, uint32_t sub, unsigned reg)
{
	uint32_t bits = 0;

	for (size_t i = 0; i < sizeof(runtime) / sizeof(runtime[0]); i++)
		if (runtime[i].leaf == leaf && runtime[i].sub == sub &&
		    runtime[i].reg == reg)
			bits |= runtime[i].bits;
	return bits;
}

uint32_t cf_x86_compared_bits(const struct cf_arch_ops *a, uint64_t key)
{
	int i = cf_catalog_find_key(a->catalog, key);
	uint64_t ignore = 0;

	if (i >= 0) {
		const struct cf_reg *reg = &a->catalog->regs[i];
		for (uint16_t f = 0; f < reg->nfields; f++)
			if (reg->fields[f].policy == CF_POL_IGNORE)
				ignore |= cf_field_mask(&reg->fields[f]);
	}
	return ~(uint32_t)ignore &
	       ~cf_x86_runtime_bits(CF_X86_LEAF(key), CF_X86_SUB(key),
				    CF_X86_REG(key));
}

size_t cf_x86_fields_in(const struct cf_arch_ops *a, uint64_t key,
			uint64_t bits, char *buf, size_t len)
{
	int i = cf_catalog_find_key(a->catalog, key);
	size_t n = 0, used = 0;

	if (len)
		buf[0] = '\0';
	if (i < 0)
		return 0;
	const struct cf_reg *reg = &a->catalog->regs[i];
	for (uint16_t f = 0; f < reg->nfields; f++) {
		if (!(cf_field_mask(&reg->fields[f]) & bits))
			continue;
		if (used < len) {
			int w = snprintf(buf + used, len - used, "%s%s",
					 n ? "," : "", reg->fields[f].name);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

#if defined(__x86_64__)
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>

#define CPUID_NENT_MAX 4096
#define TSC_TOLERANCE_PPM 250  /* KVM's tsc_tolerance_ppm default */

/* Fills the refusal, unless one is there: register KEY (or NAME when KEY
 * is 0), DIFF the bits that differ (the field named is the first's). */
__attribute__((format(printf, 9, 10)))
static void refuse(struct cf_x86_apply_result *res, const struct cf_arch_ops *a,
		   uint64_t key, const char *name, int err, uint64_t want,
		   uint64_t got, uint64_t diff, const char *fmt, ...)
{
	struct cf_apply_refusal *r = &res->refusal;
	va_list ap;

	if (r->refused)
		return;  /* the first one is kept */
	memset(r, 0, sizeof(*r));
	r->refused = true;
	r->err = err;
	r->want = want;
	r->got = got;
	if (key)
		cf_arch_regname(a, key, r->reg, sizeof(r->reg));
	else
		snprintf(r->reg, sizeof(r->reg), "%s", name);
	/* The catalogue field of the lowest differing bit. */
	if (key && diff)
		cf_x86_fields_in(a, key, diff & -diff, r->field, sizeof(r->field));
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* ---- step 1: VM capabilities, as data ---- */

enum cap_arg {
	ARG_ROUTES,     /* opts->split_irqchip: the IOAPIC routes */
	ARG_MASK,       /* the profile's bitmask & what this host supports */
	ARG_REQUESTED,  /* opts->disable_exits & the profile's bitmask */
	ARG_ONE,        /* 1 when the profile has the capability */
};

static const struct vm_cap {
	uint32_t nr;
	enum cap_arg arg;
} vm_caps[] = {
	/* In-kernel LAPIC: x2APIC, TSC deadline and PV unhalt need it. */
	{ KVM_CAP_SPLIT_IRQCHIP, ARG_ROUTES },
	/* LAPIC state and MSI routing formats: equal on both ends. */
	{ KVM_CAP_X2APIC_API, ARG_MASK },
	/* Guest-visible (MWAIT usable, PV unhalt hidden); refused once a
	 * vCPU exists. */
	{ KVM_CAP_X86_DISABLE_EXITS, ARG_REQUESTED },
	/* The guest may read MSR_PLATFORM_INFO instead of taking #GP. */
	{ KVM_CAP_MSR_PLATFORM_INFO, ARG_ONE },
	/* Pending #PF/#DB payloads kept apart, for nested guests' events. */
	{ KVM_CAP_EXCEPTION_PAYLOAD, ARG_ONE },
};

static bool is_x86(const struct cf_profile *pr, struct cf_diag *d,
		   enum cf_err *err)
{
	if (strcmp(pr->arch->name, "x86") == 0)
		return true;
	*err = cf_diag_set(d, CF_EARCH, "profile is for %s, not x86",
			   pr->arch->name);
	return false;
}

/* The AMX tile data state (XSAVE component 18) is a dynamic feature: the
 * kernel lets a guest have it only after the VMM asked for it with
 * arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM, 18), before the process's first
 * vCPU exists (Linux 980fe2fddcff, "x86/fpu: Extend fpu_xstate_prctl()
 * with guest permissions"; Documentation/arch/x86/xstate.rst), and
 * KVM_SET_CPUID2 refuses a table with it otherwise.  Asked here, as QEMU
 * does; a kernel that refuses means this host lacks AMX for guests.
 * False (after a refusal in RES) when the profile needs it and the
 * kernel said no. */
#define ARCH_REQ_XCOMP_GUEST_PERM_NR 0x1025   /* uapi asm/prctl.h */
#define XFEATURE_XTILEDATA 18
static bool amx_permitted(const struct cf_profile *pr,
			  struct cf_x86_apply_result *res)
{
	uint64_t xcr0 = 0;
	long rc;

	cf_config_get(pr->cfg, CF_X86_CPUID_KEY(0xd, 0, 0), &xcr0, NULL);
	if (!(xcr0 & (1ULL << XFEATURE_XTILEDATA)))
		return true;
	rc = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_GUEST_PERM_NR,
		     (unsigned long)XFEATURE_XTILEDATA);
	if (rc == 0)
		return true;
	refuse(res, pr->arch, CF_X86_CPUID_KEY(0xd, 0, 0), NULL, errno, xcr0,
	       0, 1ULL << XFEATURE_XTILEDATA, "this host lacks AMX for guests: "
	       "the profile has the AMX tile state (XCR0 bit 18) and "
	       "arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM, 18) failed: %s",
	       strerror(errno));
	return false;
}

enum cf_err cf_x86_apply_vm(int vm_fd, const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts,
			    struct cf_x86_apply_result *res, struct cf_diag *d)
{
	static const struct cf_x86_vm_opts none = { false, 0 };
	const struct cf_arch_ops *a = pr->arch;
	enum cf_err err = CF_OK;

	memset(res, 0, sizeof(*res));
	if (!opts)
		opts = &none;
	if (!is_x86(pr, d, &err))
		return err;
	if (!amx_permitted(pr, res))
		return CF_OK;
	for (size_t i = 0; i < sizeof(vm_caps) / sizeof(vm_caps[0]); i++) {
		const struct vm_cap *c = &vm_caps[i];
		uint64_t key = CF_CAP_KEY(c->nr), want = 0, arg;
		struct kvm_enable_cap ec;
		char name[40];
		int sup;

		cf_config_get(pr->cfg, key, &want, NULL);
		cf_arch_regname(a, key, name, sizeof(name));
		sup = ioctl(vm_fd, KVM_CHECK_EXTENSION, c->nr);
		if (sup < 0)
			sup = 0;
		switch (c->arg) {
		case ARG_ROUTES:
			if (!opts->split_irqchip)
				continue;
			if (!want) {
				refuse(res, a, key, NULL, 0, 1, want, 0, "%s: asked "
				       "for, but the profile lacks it (a host of "
				       "the pool has no split irqchip)", name);
				return CF_OK;
			}
			arg = CF_X86_SPLIT_IRQCHIP_ROUTES;
			break;
		case ARG_MASK:
			if (!want)
				continue;
			arg = want & (uint64_t)sup;
			if (arg != want) {
				refuse(res, a, key, NULL, 0, want, (uint64_t)sup, 0,
				       "%s: the profile enables 0x%llx, this host "
				       "supports only 0x%x", name,
				       (unsigned long long)want, sup);
				return CF_OK;
			}
			break;
		case ARG_REQUESTED:
			arg = opts->disable_exits & want;
			if (!arg)
				continue;
			break;
		case ARG_ONE:
		default:
			if (!want)
				continue;
			arg = 1;
			break;
		}
		if (sup <= 0) {
			refuse(res, a, key, NULL, 0, want, 0, 0, "%s: this host "
			       "lacks it", name);
			return CF_OK;
		}
		memset(&ec, 0, sizeof(ec));
		ec.cap = c->nr;
		ec.args[0] = arg;
		if (ioctl(vm_fd, KVM_ENABLE_CAP, &ec) != 0) {
			int e = errno;
			refuse(res, a, key, NULL, e, arg, (uint64_t)sup, 0,
			       "KVM_ENABLE_CAP(%s, 0x%llx): %s (VM capabilities "
			       "must come before any vCPU)", name,
			       (unsigned long long)arg, strerror(e));
			return CF_OK;
		}
		if (res->ncaps < CF_X86_CAPS_MAX) {
			struct cf_x86_cap_enabled *ce = &res->caps[res->ncaps++];
			snprintf(ce->name, sizeof(ce->name), "%s", name);
			ce->want = want;
			ce->arg = arg;
		}
	}
	return CF_OK;
}

/* ---- step 2: CPUID, feature MSRs, TSC rate ----
 * CPUID first, always: since Linux 6.13 (commit a5d563890b8f) userspace
 * access to an MSR that CPUID enumerates is subject to the vCPU's CPUID:
 * before KVM_SET_CPUID2 advertises it, KVM_GET_MSRS of IA32_ARCH_
 * CAPABILITIES reads 0 (Firecracker PR 6120 hit this).  No feature MSR of
 * a vCPU is read or written before its KVM_SET_CPUID2. */

/* Why KVM_SET_CPUID2 refused TAB, from KVM's own checks (research §1.3). */
static void cpuid_refused(struct cf_x86_apply_result *res,
			  const struct cf_arch_ops *a,
			  const struct cf_x86_cpuid_entry *tab, size_t n, int e)
{
	for (size_t i = 0; i < n; i++) {
		const struct cf_x86_cpuid_entry *t = &tab[i];
		uint32_t va = (t->r[0] >> 8) & 0xff;
		if (t->leaf == 0x80000008 && va != 0 && va != 48 && va != 57) {
			refuse(res, a, CF_X86_CPUID_KEY(t->leaf, 0, 0), NULL, e,
			       t->r[0], 0, 0xff00, "KVM_SET_CPUID2: %s: KVM takes "
			       "only 0, 48 or 57 linear-address bits, the "
			       "profile has %u", strerror(e), va);
			return;
		}
		if (t->leaf == 0xd && t->subleaf == 0 && (t->r[0] & 0x60000)) {
			/* cf_x86_apply_vm asked for the permission: KVM still
			 * refuses the tile state this host cannot give. */
			refuse(res, a, CF_X86_CPUID_KEY(0xd, 0, 0), NULL, e,
			       t->r[0], 0, t->r[0] & 0x60000, "KVM_SET_CPUID2: "
			       "%s: this host's KVM does not offer the AMX tile "
			       "state (XCR0 bits 17-18) the profile has",
			       strerror(e));
			return;
		}
	}
	refuse(res, a, 0, "CPUID", e, n, 0, 0, "KVM_SET_CPUID2 of %zu entries: "
	       "%s", n, strerror(e));
}

static enum cf_err set_cpuid(int fd, const struct cf_profile *pr,
			     const struct cf_x86_cpuid_entry *tab, size_t n,
			     struct cf_x86_apply_result *res, struct cf_diag *d)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (!c)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	c->nent = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		e->function = tab[i].leaf;
		e->index = tab[i].subleaf;
		e->flags = tab[i].indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		e->eax = tab[i].r[0];
		e->ebx = tab[i].r[1];
		e->ecx = tab[i].r[2];
		e->edx = tab[i].r[3];
	}
	if (ioctl(fd, KVM_SET_CPUID2, c) != 0)
		cpuid_refused(res, pr->arch, tab, n, errno);
	else
		res->cpuid_entries = n;
	free(c);
	return CF_OK;
}

static void add_diff(struct cf_x86_readback_diff *list, size_t *n,
		     const struct cf_arch_ops *a, uint64_t key, uint64_t want,
		     uint64_t got, uint64_t mask)
{
	if (*n < CF_X86_DIFFS_MAX) {
		struct cf_x86_readback_diff *x = &list[*n];
		cf_arch_regname(a, key, x->reg, sizeof(x->reg));
		x->want = want;
		x->got = got;
		x->mask = mask;
	}
	(*n)++;
}

enum cf_err cf_x86_get_cpuid(int fd, struct cf_x86_cpuid_entry **out,
			     size_t *n, struct cf_diag *d)
{
	struct cf_x86_cpuid_entry *tab = NULL;
	struct kvm_cpuid2 *c = NULL;
	enum cf_err err = CF_OK;
	uint32_t nent = 64;

	*out = NULL;
	*n = 0;
	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c) {
			err = cf_diag_set(d, CF_ENOMEM, "out of memory");
			goto cleanup;
		}
		c->nent = nent;
		if (ioctl(fd, KVM_GET_CPUID2, c) == 0)
			break;
		if (errno != E2BIG || nent >= CPUID_NENT_MAX) {
			err = cf_diag_set(d, CF_EIO, "KVM_GET_CPUID2: %s",
					  strerror(errno));
			goto cleanup;
		}
		/* KVM says how many it has; else try twice as many. */
		nent = c->nent > nent ? c->nent : nent * 2;
		if (nent > CPUID_NENT_MAX)
			nent = CPUID_NENT_MAX;
	}
	tab = calloc(c->nent ? c->nent : 1, sizeof(*tab));
	if (!tab) {
		err = cf_diag_set(d, CF_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		tab[i].leaf = e->function;
		tab[i].subleaf = e->index;
		tab[i].indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		tab[i].r[0] = e->eax;
		tab[i].r[1] = e->ebx;
		tab[i].r[2] = e->ecx;
		tab[i].r[3] = e->edx;
	}
	*out = tab;
	*n = c->nent;
cleanup:
	free(c);
	return err;
}

/* KVM_GET_CPUID2 against what KVM_SET_CPUID2 was given. */
static enum cf_err readback_cpuid(int fd, const struct cf_profile *pr,
				  const struct cf_x86_cpuid_entry *tab, size_t n,
				  struct cf_x86_apply_result *res,
				  struct cf_diag *d)
{
	const struct cf_arch_ops *a = pr->arch;
	struct cf_x86_cpuid_entry *back = NULL;
	size_t nback = 0;
	enum cf_err err;

	err = cf_x86_get_cpuid(fd, &back, &nback, d);
	if (err != CF_OK)
		return err;
	for (size_t i = 0; i < nback; i++)
		if (!cf_x86_cpuid_find(tab, n, back[i].leaf, back[i].subleaf))
			res->cpuid_added++;
	for (size_t i = 0; i < n; i++) {
		const struct cf_x86_cpuid_entry *e =
			cf_x86_cpuid_find(back, nback, tab[i].leaf, tab[i].subleaf);
		for (unsigned r = 0; r < 4; r++) {
			uint64_t key = CF_X86_CPUID_KEY(tab[i].leaf, tab[i].subleaf, r);
			uint32_t mask = ~cf_x86_runtime_bits(tab[i].leaf,
							     tab[i].subleaf, r);
			uint32_t got = e ? e->r[r] : 0;
			res->cpuid_regs++;
			/* Only real differences: an entry KVM dropped reads as
			 * zero, which is no difference where 0 was given. */
			if ((got ^ tab[i].r[r]) & mask)
				add_diff(res->rewritten, &res->nrewritten, a, key,
					 tab[i].r[r], got, mask);
		}
	}
	free(back);
	return CF_OK;
}

/* struct kvm_msrs with room for one entry. */
union one_msr {
	struct kvm_msrs h;
	uint8_t room[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
};

static int msr_get(int fd, uint32_t idx, uint64_t *v)
{
	union one_msr m;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.h.entries[0].index = idx;
	if (ioctl(fd, KVM_GET_MSRS, &m) != 1)
		return -1;
	*v = m.h.entries[0].data;
	return 0;
}

/* KVM_SET_MSRS returns how many MSRs it set: one at a time, 0 names the
 * refused MSR. */
static int msr_set(int fd, uint32_t idx, uint64_t v)
{
	union one_msr m;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.h.entries[0].index = idx;
	m.h.entries[0].data = v;
	return ioctl(fd, KVM_SET_MSRS, &m);
}

struct msr_ctx {
	int fd;
	const struct cf_arch_ops *a;
	struct cf_x86_apply_result *res;
	bool readback;
	enum cf_err err;
	struct cf_diag *d;
};

static int msr_one(void *ctx, uint64_t key, uint64_t want, uint64_t wr)
{
	struct msr_ctx *m = ctx;
	uint32_t idx = (uint32_t)key;
	char fields[CF_TEXT_MAX];
	uint64_t before = 0, got = 0;
	int n;

	(void)wr;
	if (!CF_X86_IS_MSR(key))
		return 0;
	if (m->readback) {
		if (msr_get(m->fd, idx, &got) != 0) {
			m->err = cf_diag_set(m->d, CF_EIO, "KVM_GET_MSRS 0x%x: %s",
					     idx, strerror(errno));
			return 1;
		}
		if (got != want) {
			add_diff(m->res->diffs, &m->res->ndiffs, m->a, key, want,
				 got, ~0ULL);
			refuse(m->res, m->a, key, NULL, 0, want, got, got ^ want,
			       "MSR 0x%x: KVM_SET_MSRS took 0x%llx but KVM_GET_MSRS "
			       "reads 0x%llx", idx, (unsigned long long)want,
			       (unsigned long long)got);
		}
		return 0;
	}
	if (msr_get(m->fd, idx, &before) != 0)
		before = 0;
	n = msr_set(m->fd, idx, want);
	if (n == 1) {
		m->res->msrs++;
		return 0;
	}
	if (n < 0) {
		int e = errno;
		refuse(m->res, m->a, key, NULL, e, want, before, 0, "MSR 0x%x: "
		       "KVM_SET_MSRS: %s", idx, strerror(e));
		return 1;
	}
	cf_x86_fields_in(m->a, key, want & ~before, fields, sizeof(fields));
	refuse(m->res, m->a, key, NULL, EINVAL, want, before, want ^ before,
	       "MSR 0x%x: KVM refused 0x%llx (the vCPU offers 0x%llx%s%s)",
	       idx, (unsigned long long)want, (unsigned long long)before,
	       fields[0] ? "; not offered: " : "", fields);
	return 1;
}

static void set_tsc(int fd, const struct cf_profile *pr, uint64_t khz,
		    struct cf_x86_apply_result *res)
{
	const struct cf_arch_ops *a = pr->arch;
	int host = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	int e;

	if (ioctl(fd, KVM_SET_TSC_KHZ, (unsigned long)khz) == 0)
		return;
	e = errno;
	refuse(res, a, 0, "TSC_KHZ", e, khz, host > 0 ? (uint64_t)host : 0, 0,
	       "KVM_SET_TSC_KHZ(%llu): %s; this host's TSC runs at %d kHz and "
	       "KVM %s (a rate within %d ppm of the host's is taken as is; "
	       "without scaling a lower one fails)", (unsigned long long)khz,
	       strerror(e), host,
	       ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0 ?
	       "can scale it" : "cannot scale it", TSC_TOLERANCE_PPM);
}

enum cf_err cf_x86_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
			      uint32_t apic_id,
			      struct cf_x86_apply_result *res,
			      struct cf_diag *d)
{
	struct cf_x86_cpuid_entry *tab = NULL;
	struct msr_ctx m = { vcpu_fd, pr->arch, res, false, CF_OK, d };
	uint64_t khz = 0;
	enum cf_err err = CF_OK;
	size_t n = 0;
	int got;

	/* Step 1's capabilities stay; the rest is this vCPU's. */
	memset(&res->refusal, 0, sizeof(res->refusal));
	res->cpuid_entries = res->cpuid_regs = res->msrs = 0;
	res->tsc_khz = 0;
	res->read_back = false;
	res->ndiffs = res->nrewritten = res->cpuid_added = 0;
	if (!is_x86(pr, d, &err))
		return err;
	tab = calloc(CF_X86_GUEST_LEAVES_MAX, sizeof(*tab));
	if (!tab)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	err = cf_x86_cpuid_table(pr, apic_id, tab, CF_X86_GUEST_LEAVES_MAX, &n, d);
	if (err == CF_ETOOBIG) {
		refuse(res, pr->arch, 0, "CPUID", E2BIG, CF_X86_GUEST_LEAVES_MAX,
		       0, 0, "%s (KVM takes at most %d)", d ? d->msg : "too many "
		       "entries", CF_X86_GUEST_LEAVES_MAX);
		err = CF_OK;
		goto cleanup;
	}
	if (err != CF_OK)
		goto cleanup;
	/* Set, in KVM's order, stopping at the first refusal. */
	err = set_cpuid(vcpu_fd, pr, tab, n, res, d);
	if (err != CF_OK || res->refusal.refused)
		goto cleanup;
	cf_config_walk(pr->cfg, msr_one, &m);
	if (m.err != CF_OK || res->refusal.refused) {
		err = m.err;
		goto cleanup;
	}
	if (cf_config_get_fact(pr->cfg, "TSC_KHZ", &khz) && khz > 0) {
		set_tsc(vcpu_fd, pr, khz, res);
		if (res->refusal.refused)
			goto cleanup;
	}
	/* Read back: CPUID registers KVM rewrote are listed; an MSR or the
	 * rate read back differently is a refusal. */
	err = readback_cpuid(vcpu_fd, pr, tab, n, res, d);
	if (err != CF_OK)
		goto cleanup;
	m.readback = true;
	cf_config_walk(pr->cfg, msr_one, &m);
	err = m.err;
	if (err != CF_OK)
		goto cleanup;
	if (khz == 0) {
		res->read_back = true;
		goto cleanup;
	}
	got = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (got < 0) {
		err = cf_diag_set(d, CF_EIO, "KVM_GET_TSC_KHZ: %s", strerror(errno));
		goto cleanup;
	}
	res->tsc_khz = (uint64_t)got;
	res->read_back = true;
	if ((uint64_t)got != khz) {
		int ti = cf_catalog_find_name(pr->arch->catalog, "TSC_KHZ");
		add_diff(res->diffs, &res->ndiffs, pr->arch, ti >= 0 ?
			 pr->arch->catalog->regs[ti].key : 0, khz, (uint64_t)got,
			 ~0ULL);
		refuse(res, pr->arch, 0, "TSC_KHZ", 0, khz, (uint64_t)got, 0,
		       "KVM_SET_TSC_KHZ(%llu) took, KVM_GET_TSC_KHZ reads %d",
		       (unsigned long long)khz, got);
	}
cleanup:
	free(tab);
	return err;
}

#else

static enum cf_err no_kvm(struct cf_diag *d)
{
	return cf_diag_set(d, CF_EARCH, "applying an x86 profile needs an "
			   "x86-64 host with KVM (this is not one)");
}

enum cf_err cf_x86_get_cpuid(int vcpu_fd, struct cf_x86_cpuid_entry **out,
			     size_t *n, struct cf_diag *d)
{
	(void)vcpu_fd;
	*out = NULL;
	*n = 0;
	return no_kvm(d);
}

enum cf_err cf_x86_apply_vm(int vm_fd, const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts,
			    struct cf_x86_apply_result *res, struct cf_diag *d)
{
	(void)vm_fd;
	(void)pr;
	(void)opts;
	memset(res, 0, sizeof(*res));
	return no_kvm(d);
}

enum cf_err cf_x86_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
			      uint32_t apic_id,
			      struct cf_x86_apply_result *res,
			      struct cf_diag *d)
{
	(void)vcpu_fd;
	(void)pr;
	(void)apic_id;
	memset(&res->refusal, 0, sizeof(res->refusal));
	return no_kvm(d);
}

#endif
