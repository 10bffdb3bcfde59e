/* Register catalogues: which registers an architecture has, their fields,
 * how each field combines across hosts and what its values mean.  The
 * arm64 table is generated from arch/arm64/idregs.txt. */
#ifndef CF_CATALOG_H
#define CF_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum cf_policy {
	CF_POL_LOWER,   /* min; accepts v <= limit */
	CF_POL_HIGHER,  /* max; accepts v >= limit */
	CF_POL_HIGHER0, /* 0 if any is 0, else max; accepts 0 or v >= limit */
	CF_POL_EXACT,   /* equal, else safe; accepts limit or safe */
	CF_POL_ANY,     /* accepts anything; baseline takes the smallest */
	CF_POL_AND,     /* bit sets: AND; accepts a subset of the limit */
	CF_POL_PREFIX,  /* bit sets where only a prefix can be chosen (SVE
			   lengths): accepts a non-empty set equal to the
			   limit up to its highest bit */
	CF_POL_EQUAL,   /* identical on every host, else no baseline; accepts
			   the limit only (x86 vendor, XSAVE layout) */
	CF_POL_OR,      /* bit sets: OR; accepts a superset of the limit (VMX
			   allowed-0 halves: a 1 is a control that must be 1) */
	CF_POL_IGNORE,  /* never intersected: the VMM or KVM fills it per vCPU
			   (x86 topology, APIC ids, OSXSAVE); accepts
			   anything, baseline 0 */
	CF_POL_ZERO,    /* reserved as 0 for guests: baseline 0, accepts 0 */
	CF_POL_RATE,    /* a TSC rate (kHz): writable (the host scales) takes
			   any; fixed takes its own within 250 ppm */
	CF_POL_LOWER_IMPDEF, /* lower, but all ones is an IMPLEMENTATION
			   DEFINED unit that counts as 0 (the Arm ARM's
			   alternative ID scheme of the PMU version fields) */
	CF_POL_ANY_MAX, /* accepts anything; baseline takes the largest (CLIDR
			   levels: a guest told of more levels only does more
			   cache maintenance) */
};

struct cf_fvalue {
	uint64_t value;
	const char *features; /* "FEAT_A,FEAT_B"; "" = not implemented */
};

/* A written value KVM takes as another before judging it (idregs.txt
 * `as=FROM:TO`). */
struct cf_fas {
	uint64_t from, to;
};

struct cf_field {
	const char *name;
	uint8_t shift;
	uint8_t width;
	uint8_t is_signed;
	uint8_t policy; /* enum cf_policy */
	uint64_t safe;  /* only for CF_POL_EXACT */
	const struct cf_fvalue *values;
	uint16_t nvalues;
	uint8_t floor_kind; /* 0 none, 1 nothing below floor, 2 nothing
			       non-zero below floor (the host's own value
			       always goes) */
	uint64_t floor;
	const struct cf_fas *as; /* value map, NULL for none */
	uint8_t nas;
	/* What a value means as a size in bits, for messages (idregs.txt
	 * `bits=V:N`: PARange 5 is 48 bits), NULL for none. */
	const struct cf_fas *bits;
	uint8_t nbits;
	/* A set of sizes, for messages: bit i set is a size of
	 * (i + 1) * bits_step bits (idregs.txt `bits=*N`: SVE vector
	 * lengths), 0 for none. */
	uint16_t bits_step;
};

/* A KVM capability's key in every catalogue (arch/caps/caps.awk makes
 * them): its KVM_CAP_* number above this base. */
#define CF_CAP_KEY_BASE 0x1000000ULL
#define CF_CAP_KEY(nr) (CF_CAP_KEY_BASE + (uint64_t)(nr))
#define CF_CAP_NR(key) ((long)((key) - CF_CAP_KEY_BASE))

/* What a KVM capability is to a guest (the ROLE of arch/caps/caps.txt);
 * every other register is CF_ROLE_NONE.  No role makes the pool's common
 * value a requirement: see check.c. */
enum cf_cap_role {
	CF_ROLE_NONE,
	CF_ROLE_CAPACITY,  /* a size limit of one VM: judged only when asked
			      (cf_check_vcpus) */
	CF_ROLE_SETTING,   /* KVM's default of a VM setting: never compared */
	CF_ROLE_MECHANISM, /* VMM plumbing the guest never sees: never compared */
	CF_ROLE_GUEST,     /* a VM enables it and the guest sees it: judged when
			      a profile's VMs enable it */
};

struct cf_reg {
	const char *name;
	uint64_t key; /* arch encoding; arm64: op0<<14|op1<<11|CRn<<7|CRm<<3|op2,
			 pseudo-registers above 0xffff */
	const struct cf_field *fields;
	uint16_t nfields;
	uint8_t pseudo;          /* 0 system register, 1 other ONE_REG
				    register, 2 KVM capability, 3 KVM fact */
	uint64_t fixed_writable; /* pseudo: what KVM lets userspace change */
	uint8_t flags;           /* CF_REG_* */
	uint8_t role;            /* enum cf_cap_role (capabilities only) */
	const char *wcap;        /* the capability a VM must enable before KVM
				    takes any value but the host's here,
				    whatever the writable mask says (MIDR,
				    REVIDR, AIDR: KVM_CAP_ARM_WRITABLE_IMP_ID_REGS),
				    or NULL */
	const char *since;       /* capabilities: the Linux version that
				    brought it ("6.15"), or NULL */
};

/* cf_reg.flags */
#define CF_REG_CHECKONLY 1u /* KVM checks a write but keeps nothing: reads
			       give the host's value */
#define CF_REG_REQUIRED 2u  /* every KVM reports it: a report lacking it is
			       malformed */
#define CF_REG_IDENTITY 4u  /* implementation identity (MIDR, REVIDR, AIDR):
			       a baseline takes all such registers whole
			       from one member */

/* A register that describes something only a feature enables (an XSAVE
 * component's sub-leaf, the leaf of SGX or Processor Trace): the gate is a
 * one-bit flag field elsewhere in the catalogue.  A register may have
 * several gates; it matters when the wanted side has any of them. */
struct cf_gate {
	uint64_t key;      /* the gated register */
	uint64_t gate_key; /* the register holding the gate flag */
	uint8_t gate_bit;
	const char *gate;  /* the flag's name */
};

/* A catalogue's gates, ascending by key (a key repeats for each gate). */
struct cf_gates {
	const struct cf_gate *g;
	size_t n;
};

/* Features that need others (the catalogues' `needs` lines, generated by
 * arch/deps.awk): a guest that sees one must see the other, or it uses a
 * feature whose prerequisite the CPU model lacks. */
enum cf_dep_kind {
	CF_DEP_ATLEAST, /* the field at VALUE or above, in its order (signed
			   fields two's complement) */
	CF_DEP_BITS,    /* bits VALUE of the field (or of the register, field
			   -1): a need wants them all, a feature is there
			   with any of them */
};

struct cf_dep_term {
	uint64_t key;   /* the register (a KVM capability's pseudo-register:
			   field 0 at 1 or above, offered) */
	int16_t field;  /* index in its fields, -1: the register's own bits */
	uint8_t kind;   /* enum cf_dep_kind */
	uint64_t value;
	uint8_t alts;   /* as a need: the next ALTS terms are alternatives to
			   this one, and any one of them will do */
};

/* FEATURE needs every one of NEEDS, a need being a term and the
 * alternatives its `alts` counts (NNEEDS counts terms).  TEXT names the
 * needs in operator words ("XCR0 bits 5-7 (opmask, ZMM_Hi256,
 * Hi16_ZMM)"), or NULL; LINE is the line of the catalogue file, where the
 * rule's sources are cited. */
struct cf_dep {
	struct cf_dep_term feature;
	const struct cf_dep_term *needs;
	uint8_t nneeds;
	const char *text;
	uint16_t line;
};

struct cf_deps {
	const struct cf_dep *d;
	size_t n;
};

/* A value KVM refuses whatever each field's policy says (idregs.txt
 * `refuse`): a profile whose fields are all at WANT, on a host whose
 * fields are all at HOST (a register the host does not report counts as
 * matching) and whose Linux is SINCE or later (major * 1000 + minor, 0 for
 * any; a report without a readable kernel release counts as later).  TEXT
 * says why in KVM's words; LINE is the catalogue line citing the source. */
struct cf_refuse_term {
	uint64_t key;
	int16_t field; /* index in the register's fields */
	uint64_t value;
};

struct cf_refusal {
	const struct cf_refuse_term *want;
	uint8_t nwant;
	const struct cf_refuse_term *host;
	uint8_t nhost;
	uint32_t since;
	const char *text;
	uint16_t line;
};

struct cf_refusals {
	const struct cf_refusal *r;
	size_t n;
};

struct cf_catalog {
	const char *arch;
	const struct cf_reg *regs; /* ascending key */
	size_t nregs;
};

/* Index of the register with KEY, or -1. */
int cf_catalog_find_key(const struct cf_catalog *cat, uint64_t key);
/* Index of the register named NAME, or -1. */
int cf_catalog_find_name(const struct cf_catalog *cat, const char *name);
/* The first field named NAME (x86 flag names are unique) and its register's
 * key, or NULL. */
const struct cf_field *cf_catalog_field_named(const struct cf_catalog *cat,
					      const char *name, uint64_t *key);
/* "capacity", "setting", "mechanism", "guest" ("" for CF_ROLE_NONE). */
const char *cf_role_name(unsigned role);
/* "NAME (Linux 6.15+)" for the capability NAME, its version from the
 * catalogue (arch/caps/caps.txt since=), or "NAME" without one. */
void cf_catalog_cap_text(const struct cf_catalog *cat, const char *name,
			 char *buf, size_t len);
/* Index of field NAME in register REG, or -1. */
int cf_catalog_find_field(const struct cf_reg *reg, const char *name);

static inline uint64_t cf_field_mask(const struct cf_field *f)
{
	uint64_t m = f->width >= 64 ? ~0ULL : ((1ULL << f->width) - 1);
	return m << f->shift;
}

/* Union of the register's field masks. */
uint64_t cf_reg_described(const struct cf_reg *reg);
/* Union of the masks of its fields whose policy is POL. */
uint64_t cf_reg_policy_bits(const struct cf_reg *reg, enum cf_policy pol);

/* A raw value of field F in users' words where the catalogue says what
 * it is: a TSC rate (policy "rate", kHz) in MHz; a size (`bits=` maps,
 * `bits=*N` sets, fields named *_bits or *_width) in decimal bits; a
 * 32-bit equal field of four printable bytes (the CPUID vendor) as text.
 * False for any other value. */
bool cf_field_unit_text(const struct cf_field *f, uint64_t val, char *buf,
			size_t len);
/* The same, else the number: signed fields sign-extended, small values
 * in decimal, large ones (part numbers) in hex.  For a conflict or a
 * reason. */
void cf_field_value_text(const struct cf_field *f, uint64_t val, char *buf,
			 size_t len);

/* The field's raw (unsigned, unshifted) value in V. */
static inline uint64_t cf_field_raw(const struct cf_field *f, uint64_t v)
{
	return (v & cf_field_mask(f)) >> f->shift;
}

/* The field's value in V, sign-extended for signed fields. */
static inline int64_t cf_field_get(const struct cf_field *f, uint64_t v)
{
	uint64_t raw = cf_field_raw(f, v);
	if (f->is_signed && f->width < 64 && (raw >> (f->width - 1)) & 1)
		return (int64_t)(raw | ~((1ULL << f->width) - 1));
	return (int64_t)raw;
}

/* The value a raw field value stands for in comparisons: for the
 * alternative ID scheme, all ones (IMPLEMENTATION DEFINED) is 0; KVM reads
 * a host's so and rewrites a written one so.  A field's value map (`as=`)
 * is KVM's own reading of a written value (SMCCC workaround levels). */
static inline uint64_t cf_field_canon(const struct cf_field *f, uint64_t raw)
{
	if (f->policy == CF_POL_LOWER_IMPDEF && f->width < 64 &&
	    raw == (1ULL << f->width) - 1)
		return 0;
	for (uint8_t i = 0; i < f->nas; i++)
		if (f->as[i].from == raw)
			return f->as[i].to;
	return raw;
}

/* Compare two field values the way the field's signedness (and scheme)
 * says. */
static inline int cf_field_cmp(const struct cf_field *f, uint64_t a, uint64_t b)
{
	a = cf_field_canon(f, a);
	b = cf_field_canon(f, b);
	if (f->is_signed) {
		int64_t sa = cf_field_get(f, a << f->shift);
		int64_t sb = cf_field_get(f, b << f->shift);
		return sa < sb ? -1 : sa > sb;
	}
	return a < b ? -1 : a > b;
}

/* V with every field at the value it stands for (cf_field_canon): what
 * KVM keeps of a written V. */
uint64_t cf_reg_canon(const struct cf_reg *reg, uint64_t v);

/* Would KVM accept WANT for this field on a host whose limit is LIMIT?
 * (raw field values; WRITABLE = the field lies wholly in the host's mask) */
bool cf_field_accepts(const struct cf_field *f, uint64_t limit, bool writable,
		      uint64_t want);

/* The FEAT_* names a value range brings: features of the field's values v with
 * from < v <= to (in the field's order), comma-separated into BUF.  Returns
 * the number of names written. */
size_t cf_field_features_between(const struct cf_field *f, uint64_t from,
				 uint64_t to, char *buf, size_t len);

/* The features the field's value V means (all values <= V for lower/higher
 * fields), into BUF; "" if none. */
size_t cf_field_features_at(const struct cf_field *f, uint64_t v, char *buf,
			    size_t len);

extern const struct cf_catalog cf_arm64_catalog;
/* Its dependencies (arch/arm64/idregs.txt `needs`). */
extern const struct cf_deps cf_arm64_deps;
/* Its refusals (arch/arm64/idregs.txt `refuse`). */
extern const struct cf_refusals cf_arm64_refusals;

#endif
