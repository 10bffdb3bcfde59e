/* The guest check: what a guest's CPUID instruction returns under a
 * profile, on this host's KVM.  A scratch VM gets the profile (apply.c),
 * then a real-mode guest executes CPUID for every (leaf, subleaf) of the
 * profile's table and stores the four registers; the host compares them
 * with what KVM_SET_CPUID2 was given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/apply.h"
#include "arch/x86/x86.h"
#include "arch/x86/x86vm.h"
#include "engine/profile.h"
#include "util/diag.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* Guest memory (64 KiB at GPA 0, real mode, DS = 0):
 *   0x1000  the code below
 *   0x2000  u16 number of entries N (<= CF_X86_GUEST_LEAVES_MAX)
 *   0x2004  N x { u32 leaf, u32 subleaf }
 *   0x4000  N x { u32 eax, ebx, ecx, edx }  (what CPUID returned)
 * When done the guest writes DONE to port PORT (KVM_EXIT_IO). */
#define CODE_ADDR 0x1000u
#define COUNT_ADDR 0x2000u
#define TABLE_ADDR 0x2004u
#define RESULT_ADDR 0x4000u
#define PORT 0xf4u
#define DONE 0x5au

/* 16-bit real-mode code, hand-assembled (no assembler at build time; the
 * bytes were checked with `objdump -D -b binary -m i8086`).  Offsets are
 * from CODE_ADDR; 0x66 is the operand-size prefix (32-bit registers in
 * 16-bit code).
 *
 *   00  31 c0           xor   ax, ax
 *   02  8e d8           mov   ds, ax
 *   04  be 04 20        mov   si, TABLE_ADDR
 *   07  bf 00 40        mov   di, RESULT_ADDR
 *   0a  8b 2e 00 20     mov   bp, [COUNT_ADDR]
 * next:
 *   0e  85 ed           test  bp, bp
 *   10  74 21           jz    done
 *   12  66 8b 04        mov   eax, [si]        ; leaf
 *   15  66 8b 4c 04     mov   ecx, [si+4]      ; subleaf
 *   19  0f a2           cpuid
 *   1b  66 89 05        mov   [di], eax
 *   1e  66 89 5d 04     mov   [di+4], ebx
 *   22  66 89 4d 08     mov   [di+8], ecx
 *   26  66 89 55 0c     mov   [di+12], edx
 *   2a  83 c6 08        add   si, 8
 *   2d  83 c7 10        add   di, 16
 *   30  4d              dec   bp
 *   31  eb db           jmp   next
 * done:
 *   33  b0 5a           mov   al, DONE
 *   35  e6 f4           out   PORT, al         ; KVM_EXIT_IO to the host
 *   37  f4              hlt                    ; not reached: the host
 *   38  eb fd           jmp   0x37             ; stops at the out
 */
static const uint8_t guest_code[] = {
	0x31, 0xc0, 0x8e, 0xd8, 0xbe, 0x04, 0x20, 0xbf, 0x00, 0x40,
	0x8b, 0x2e, 0x00, 0x20, 0x85, 0xed, 0x74, 0x21, 0x66, 0x8b,
	0x04, 0x66, 0x8b, 0x4c, 0x04, 0x0f, 0xa2, 0x66, 0x89, 0x05,
	0x66, 0x89, 0x5d, 0x04, 0x66, 0x89, 0x4d, 0x08, 0x66, 0x89,
	0x55, 0x0c, 0x83, 0xc6, 0x08, 0x83, 0xc7, 0x10, 0x4d, 0xeb,
	0xdb, 0xb0, 0x5a, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd,
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* This host's own CPUID (under a hypervisor: what it answers us). */
static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	unsigned a, b, c, dx;

	__cpuid_count(leaf, sub, a, b, c, dx);
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = dx;
}

/* Per register: a vendor string (leaf 0 EBX, ECX, EDX) other than this
 * host's CPU's is a MISMATCH.  Otherwise ok when the guest saw the
 * profile's value in the compared bits.  Otherwise NOT_HONOURED only if what this process gave KVM was the
 * profile's value (so the difference is not ours) and the guest saw a
 * value this host chose: what KVM here read back after rewriting it, or
 * (nested) this host's own CPUID; anything else is a MISMATCH. */
static void classify(const struct cf_arch_ops *a, bool nested,
		     struct cf_x86_guest_leaf *l)
{
	l->status = CF_X86_GUEST_OK;
	for (unsigned r = 0; r < 4; r++) {
		uint64_t key = CF_X86_CPUID_KEY(l->leaf, l->subleaf, r);
		uint32_t m = cf_x86_compared_bits(a, key);
		uint8_t st = CF_X86_GUEST_OK, why = CF_X86_WHY_NONE;

		l->compared[r] = m;
		if (l->leaf == 0 && r > 0 && l->seen[r] != l->host[r]) {
			/* The vendor string: a guest must see this host's. */
			st = CF_X86_GUEST_MISMATCH;
			why = CF_X86_WHY_VENDOR;
		} else if (!((l->seen[r] ^ l->want[r]) & m)) {
			/* as wanted */
		} else if ((l->set[r] ^ l->want[r]) & m) {
			st = CF_X86_GUEST_MISMATCH;
		} else if (((l->kept[r] ^ l->set[r]) & m) &&
			   !((l->seen[r] ^ l->kept[r]) & m)) {
			st = CF_X86_GUEST_NOT_HONOURED;
			why = CF_X86_WHY_KVM_REWROTE;
		} else if (nested && !((l->seen[r] ^ l->host[r]) & m)) {
			st = CF_X86_GUEST_NOT_HONOURED;
			why = CF_X86_WHY_OUTER;
		} else {
			st = CF_X86_GUEST_MISMATCH;
		}
		l->reg_status[r] = st;
		l->why[r] = why;
		if (st > l->status)
			l->status = st;
	}
}

/* Whether a guest of TAB reaches LEAF: each range (0, 0x40000000,
 * 0x80000000, 0xc0000000) ends at the EAX of its first leaf. */
static bool in_range(const struct cf_x86_cpuid_entry *tab, size_t n,
		     uint32_t leaf)
{
	uint32_t base = leaf >= 0xc0000000u ? 0xc0000000u :
			leaf >= 0x80000000u ? 0x80000000u :
			leaf >= 0x40000000u ? 0x40000000u : 0;
	const struct cf_x86_cpuid_entry *b = cf_x86_cpuid_find(tab, n, base, 0);

	return leaf == base || (b && leaf <= b->r[0]);
}

enum cf_err cf_x86_guest_check(const struct cf_profile *pr,
			       struct cf_x86_guest_result *res,
			       struct cf_diag *d)
{
	struct cf_x86_vm_opts opts;
	struct cf_x86_cpuid_entry *tab = NULL, *kept = NULL;
	struct cf_x86vm *vm = NULL;
	uint32_t one[4];
	enum cf_err err;
	uint8_t *ram, done = 0;
	size_t n = 0, nkept = 0;

	memset(res, 0, sizeof(*res));
	if (strcmp(pr->arch->name, "x86") != 0)
		return cf_diag_set(d, CF_EARCH, "profile is for %s, not x86",
				   pr->arch->name);
	/* As a VMM would run it: an in-kernel LAPIC when the pool has one. */
	cf_x86_scratch_opts(pr, &opts);
	tab = calloc(CF_X86_GUEST_LEAVES_MAX, sizeof(*tab));
	if (!tab)
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	err = cf_x86vm_create_applied(pr, &opts, 1, &res->apply, &vm, d);
	if (err != CF_OK || res->apply.refusal.refused)
		goto cleanup;
	/* APIC id 0: the table the vCPU was given. */
	err = cf_x86_cpuid_table(pr, 0, tab, CF_X86_GUEST_LEAVES_MAX, &n, d);
	if (err == CF_OK)
		err = cf_x86_get_cpuid(cf_x86vm_vcpu_fd(vm, 0), &kept, &nkept, d);
	if (err != CF_OK)
		goto cleanup;
	ram = cf_x86vm_ram(vm);
	memcpy(ram + CODE_ADDR, guest_code, sizeof(guest_code));
	put32(ram + COUNT_ADDR, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(ram + TABLE_ADDR + 8 * i, tab[i].leaf);
		put32(ram + TABLE_ADDR + 8 * i + 4, tab[i].subleaf);
	}
	memset(ram + RESULT_ADDR, 0xa5, 16 * n);
	err = cf_x86vm_enter_real(vm, 0, CODE_ADDR, d);
	if (err == CF_OK)
		err = cf_x86vm_run_to_out(vm, 0, PORT, &done, d);
	if (err != CF_OK)
		goto cleanup;
	if (done != DONE) {
		err = cf_diag_set(d, CF_EIO, "guest reported 0x%02x, not 0x%02x",
				  done, DONE);
		goto cleanup;
	}
	res->ran = true;
	host_cpuid(1, 0, one);
	res->nested = (one[2] >> 31) & 1;
	for (size_t i = 0; i < n; i++) {
		struct cf_x86_guest_leaf *l = &res->leaves[i];
		const struct cf_x86_cpuid_entry *k =
			cf_x86_cpuid_find(kept, nkept, tab[i].leaf, tab[i].subleaf);
		l->leaf = tab[i].leaf;
		l->subleaf = tab[i].subleaf;
		for (unsigned r = 0; r < 4; r++) {
			uint64_t want = 0;
			/* The profile itself, not the table built from it. */
			cf_config_get(pr->cfg, CF_X86_CPUID_KEY(l->leaf,
				      l->subleaf, r), &want, NULL);
			l->want[r] = (uint32_t)want;
			l->set[r] = tab[i].r[r];
			l->kept[r] = k ? k->r[r] : 0;
			l->seen[r] = get32(ram + RESULT_ADDR + 16 * i + 4 * r);
		}
		host_cpuid(l->leaf, l->subleaf, l->host);
		if (!in_range(tab, n, l->leaf)) {
			l->status = CF_X86_GUEST_OUT_OF_RANGE;
			res->nout_of_range++;
			continue;
		}
		classify(pr->arch, res->nested, l);
		if (l->status == CF_X86_GUEST_OK)
			res->nmatch++;
		else if (l->status == CF_X86_GUEST_NOT_HONOURED)
			res->nnot_honoured++;
		else
			res->nmismatch++;
	}
	res->nleaves = n;
cleanup:
	cf_x86vm_destroy(vm);
	free(kept);
	free(tab);
	return err;
}

#else

enum cf_err cf_x86_guest_check(const struct cf_profile *pr,
			       struct cf_x86_guest_result *res,
			       struct cf_diag *d)
{
	(void)pr;
	memset(res, 0, sizeof(*res));
	return cf_diag_set(d, CF_EARCH, "the x86 guest check needs an x86-64 "
			   "host with KVM (this is not one)");
}

#endif
