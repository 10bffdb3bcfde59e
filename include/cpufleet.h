/* cpufleet: CPU-feature baselines for KVM fleets.  The one public header.
 *
 * Reports say what KVM on one host can offer a guest; a pool of reports has a
 * baseline profile that every host can present; a check says whether a
 * profile runs on a host and, if not, every reason why.  Functions return an
 * enum cf_err; on failure a struct cf_diag, when given, holds a message that
 * names the file, the JSON path and the reason.  Nothing here prints or
 * exits. */
#ifndef CPUFLEET_H
#define CPUFLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values are never reused; new codes go before CF_ERR_LAST. */
enum cf_err {
	CF_OK = 0,
	CF_ENOMEM = 1,      /* out of memory */
	CF_EIO = 2,         /* a file could not be read or written */
	CF_ESYNTAX = 3,     /* not well-formed JSON */
	CF_ESCHEMA = 4,     /* JSON that breaks the v1 contract */
	CF_EARCH = 5,       /* unknown architecture, or mixed in one pool */
	CF_ETOOBIG = 6,     /* input over a documented limit */
	CF_EINVAL = 7,      /* bad argument from the caller */
	CF_EDUPLICATE = 8,  /* a host id seen twice in one pool */
	CF_EEMPTY = 9,      /* an empty pool */
	CF_ENOTFOUND = 10,  /* no such host, pool, profile, version or token */
	CF_ECONFLICT = 11,  /* clashes with what is stored (same id, other body) */
	CF_EDB = 12,        /* the database failed or is corrupt */
	CF_ENET = 13,       /* the server could not be reached */
	CF_EDENIED = 14,    /* the server refused the credentials */
	CF_ECANCELED = 15,  /* stopped: whoever asked has gone */
	CF_EREVOKED = 16,   /* the credentials are revoked or gone */
	CF_ERR_LAST
};

const char *cf_strerror(enum cf_err err);

#define CF_DIAG_MAX 512
struct cf_diag {
	char msg[CF_DIAG_MAX];
};

/* Limits on untrusted input. */
#define CF_DOC_MAX_BYTES (8u << 20)  /* one report or profile document */
#define CF_HOST_ID_MAX 128           /* host.id, bytes incl. NUL */
#define CF_TEXT_MAX 256              /* other strings, bytes incl. NUL */
#define CF_REPORT_ID_MAX 65          /* report_id: [A-Za-z0-9._:-]{1,64} */
#define CF_EXTRA_REGS_MAX 512        /* registers unknown to the catalogue */

struct cf_report;
struct cf_pool;
struct cf_profile;
struct cf_verdict;
struct cf_explain;

/* ---- reports (cpufleet.report/v1) ---- */
enum cf_err cf_report_parse(const char *text, size_t len, const char *origin,
			    struct cf_report **out, struct cf_diag *diag);
enum cf_err cf_report_load(const char *path, struct cf_report **out,
			   struct cf_diag *diag);
/* Parsing many reports: a cache of the architecture sections read so far.
 * A report whose section has the bytes of one read before reuses that
 * reading (a copy of its configuration); the report, and any error, are
 * those cf_report_parse/cf_report_load give.  Not thread-safe: one cache
 * per thread.  A NULL cache parses as usual. */
struct cf_report_cache;
enum cf_err cf_report_cache_create(struct cf_report_cache **out);
void cf_report_cache_destroy(struct cf_report_cache *c);
enum cf_err cf_report_parse_cached(struct cf_report_cache *c, const char *text,
				   size_t len, const char *origin,
				   struct cf_report **out, struct cf_diag *diag);
enum cf_err cf_report_load_cached(struct cf_report_cache *c, const char *path,
				  struct cf_report **out, struct cf_diag *diag);
/* The text report document TEXT's configuration is read from (its
 * architecture, that architecture's section and kvm.caps, printed
 * compactly: no host id, name, kernel or time), malloc'd into OUT.  Two
 * documents with the same text have the same configuration (the converse
 * need not hold: cf_matrix_group decides that); cheaper than parsing.
 * CF_ESYNTAX or CF_ESCHEMA for what is no report. */
enum cf_err cf_report_config_text(const char *text, size_t len, char **out);
void cf_report_destroy(struct cf_report *r);
const char *cf_report_host_id(const struct cf_report *r);
const char *cf_report_arch(const struct cf_report *r);
/* The CPU vendor the report names into BUF (x86: "GenuineIntel",
 * "AuthenticAMD", "HygonGenuine"...); false if its architecture names
 * none (arm64) or the report lacks it. */
bool cf_report_vendor(const struct cf_report *r, char *buf, size_t len);
/* The report's "report_id", the server's idempotency key ("" if none). */
const char *cf_report_id(const struct cf_report *r);
/* The host's name and the collection time as the report says them ("" if
 * it says none). */
const char *cf_report_hostname(const struct cf_report *r);
const char *cf_report_collected_at(const struct cf_report *r);
/* What names the cause of a change in what the host offers ("" if the
 * report says nothing): the kernel release, the x86 microcode revision as
 * the kernel prints it ("0x2b000590") and the firmware (BIOS) version. */
const char *cf_report_kernel(const struct cf_report *r);
const char *cf_report_microcode(const struct cf_report *r);
const char *cf_report_firmware(const struct cf_report *r);
/* Sets it: 1 to 64 of [A-Za-z0-9._:-], else CF_EINVAL. */
enum cf_err cf_report_set_id(struct cf_report *r, const char *id);
/* Sets the collection time: an RFC 3339 UTC time (util/text.h's rule),
 * else CF_EINVAL. */
enum cf_err cf_report_set_collected_at(struct cf_report *r, const char *t);
/* 64-bit fingerprint of the CPU configuration (values, writable masks),
 * canonical as the content identity below: the same configuration has the
 * same fingerprint whatever the catalogue's layout and whatever CPU of the
 * host the report was collected on. */
uint64_t cf_report_fingerprint(const struct cf_report *r);
/* The report's content identity: "cfid1:" and the SHA-256 (64 lower-case
 * hex digits) of what it says about its host, without its report_id and
 * collected_at: the host's id, hostname, kernel and machine id, every
 * register by its encoding and capability by its name in sorted order, and
 * the members the engine does not model (keys sorted).  Bits filled per
 * vCPU or at run time (x86 APIC ids, OSXSAVE...) count as 0, and a
 * register or capability at 0 as absent where that means the same (every
 * x86 register, every capability).  The catalogue counts only through
 * which bits are per-vCPU or run-time: adding a register, capability or
 * field of another kind to it changes no identity.  Equal identities: the
 * host did not change.  BUF holds at least CF_CONTENT_ID_MAX bytes (else
 * CF_EINVAL). */
#define CF_CONTENT_ID_MAX 72
enum cf_err cf_report_content_id(const struct cf_report *r, char *buf,
				 size_t len);
/* The report as JSON text (malloc'd); keys it does not model are kept. */
enum cf_err cf_report_to_json(const struct cf_report *r, char **out);
/* A copy of R with another host id, sharing R's configuration. */
enum cf_err cf_report_clone_as(const struct cf_report *r, const char *host_id,
			       struct cf_report **out);

/* ---- pools ---- */
enum cf_err cf_pool_create(const char *arch, struct cf_pool **out);
void cf_pool_destroy(struct cf_pool *p);
/* Adds R's host; R may be destroyed afterwards.  Host ids must be unique. */
enum cf_err cf_pool_add(struct cf_pool *p, const struct cf_report *r,
			struct cf_diag *diag);
/* Adds host HOST_ID with R's configuration (R's own host id is not used):
 * a service that keeps one parsed report per configuration adds each of
 * that configuration's hosts this way, with the same result as adding
 * each host's own report. */
enum cf_err cf_pool_add_as(struct cf_pool *p, const struct cf_report *r,
			   const char *host_id, struct cf_diag *diag);
/* cf_pool_add of RS[0..N-1] in order, the same result, for many at once:
 * the host table grown once, each host's slot fetched ahead.  On an error
 * the hosts before the one named stay added. */
enum cf_err cf_pool_add_many(struct cf_pool *p,
			     const struct cf_report *const *rs, size_t n,
			     struct cf_diag *diag);
size_t cf_pool_host_count(const struct cf_pool *p);
/* Distinct CPU configurations among the hosts. */
size_t cf_pool_config_count(const struct cf_pool *p);

/* ---- baseline and profiles (cpufleet.profile/v1) ---- */
enum cf_err cf_baseline(const struct cf_pool *p, struct cf_profile **out);
bool cf_profile_feasible(const struct cf_profile *pr);
size_t cf_profile_conflict_count(const struct cf_profile *pr);
/* Human text of conflict I ("ID_AA64PFR0_EL1.SVE (FEAT_SVE): ..."). */
enum cf_err cf_profile_conflict_text(const struct cf_profile *pr, size_t i,
				     char *buf, size_t len);
/* A baseline is closed under the architecture's dependency table (the
 * catalogue's `needs` rules: AVX-512 needs the AVX-512 XSAVE state, SVE2
 * needs SVE...): it never keeps a feature whose prerequisite it lost.
 * What it left out for that reason, in order, each as a sentence ("dropped
 * avx512f: needs XCR0 bits 5-7 (opmask, ZMM_Hi256, Hi16_ZMM), which not
 * every host offers (spr-07 lacks xcr0_opmask)"); the profile document
 * lists them under "dropped". */
size_t cf_profile_dropped_count(const struct cf_profile *pr);
enum cf_err cf_profile_dropped_text(const struct cf_profile *pr, size_t i,
				    char *buf, size_t len);
const char *cf_profile_arch(const struct cf_profile *pr);
/* The profile as JSON text (malloc'd, NUL-terminated). */
enum cf_err cf_profile_to_json(const struct cf_profile *pr, char **out);
/* Writes durably: temporary file, fsync, rename. */
enum cf_err cf_profile_save(const struct cf_profile *pr, const char *path,
			    struct cf_diag *diag);
enum cf_err cf_profile_parse(const char *text, size_t len, const char *origin,
			     struct cf_profile **out, struct cf_diag *diag);
enum cf_err cf_profile_load(const char *path, struct cf_profile **out,
			    struct cf_diag *diag);
/* KVM capabilities (arch/caps/caps.txt) are no CPU features.  A profile's
 * "kvm.caps" is the pool's common set (bool: on every host, count: the
 * minimum, bitmask: the AND): advice for the VMM, never a refusal.  What
 * the profile's VMs enable ("kvm.enabled") is judged: every host must
 * offer it.  This marks capability NAME, one a VM enables (role "guest"),
 * as enabled with VALUE (bool: any non-zero; bitmask: the bits the VMs
 * enable; count: the least they need).  With P, the pool PR is the
 * baseline of, each host of P that lacks it is a conflict of PR.
 * CF_EINVAL (DIAG says why, without the name) for a name that is no
 * capability of PR's architecture or not one a VM enables, or VALUE 0. */
enum cf_err cf_profile_enable_cap(struct cf_profile *pr, const struct cf_pool *p,
				  const char *name, uint64_t value,
				  struct cf_diag *diag);
/* Manual masks on a profile (a baseline).  FEATURE is a name `show`
 * prints (FEAT_SVE2, or SVE2; avx512f), case ignored.
 * cf_profile_disable lowers every field whose value shows FEATURE to the
 * richest value that does not (exact fields: to their safe value), then
 * the features that need what went (the catalogue's `needs`), each added
 * to the profile's dropped list.  cf_profile_max_level does so for every
 * feature of a named level LEVEL does not include (arm64
 * arch/arm64/levels.txt, Armv8.0 .. Armv9.3; x86 x86-64-v1 .. v4).
 * CF_ENOTFOUND: no such feature or level; CF_EINVAL: a field naming it
 * cannot be lowered (DIAG says which); PR is unchanged on error. */
enum cf_err cf_profile_disable(struct cf_profile *pr, const char *feature,
			       struct cf_diag *diag);
enum cf_err cf_profile_max_level(struct cf_profile *pr, const char *level,
				 struct cf_diag *diag);
/* Whether the registers of R (or PR) show FEATURE (some field at a value
 * naming it); CF_ENOTFOUND if no field of the catalogue names it. */
enum cf_err cf_report_shows(const struct cf_report *r, const char *feature,
			    bool *out, struct cf_diag *diag);
enum cf_err cf_profile_shows(const struct cf_profile *pr, const char *feature,
			     bool *out, struct cf_diag *diag);
/* A host's own profile: exactly what KVM offers there. */
enum cf_err cf_profile_from_report(const struct cf_report *r,
				   struct cf_profile **out);
void cf_profile_destroy(struct cf_profile *pr);

/* ---- pools: splitting a fleet into pools that each have a baseline ---- */
/* Hosts of different architectures, and x86 hosts of different CPU
 * vendors, never share a pool: the reports are split into such parts
 * first (in architecture, then vendor order).  Within a part the hosts
 * are taken in host-id order (bytes): each joins the first pool of its
 * part whose baseline stays feasible with it, else starts a new pool.  So
 * the result depends on the set of reports only, never on their order,
 * and pools are numbered by (architecture, vendor, first host id).
 * POOL_OF[i] gets the pool of REPORTS[i] (0-based); *NPOOLS the number of
 * pools.  Hosts with the same configuration always share a pool.
 * CF_EDUPLICATE if a host id appears twice. */
enum cf_err cf_pools_partition(const struct cf_report *const *reports, size_t n,
			       size_t *pool_of, size_t *npools);

/* Partitions that give up the fewest features.  A pool gives up a feature
 * (a name `show` prints: FEAT_SVE2, avx512f, as cf_explain_profiles finds
 * them) when the baseline of some member alone shows it and the pool's
 * baseline does not (so what no baseline keeps, x86 invtsc, is no loss of
 * sharing); a pool's count is
 * the number of such distinct names, a partition's the sum over its pools
 * (per feature and pool, never per host: hosts of one configuration count
 * once).  Parts (architecture, vendor) as cf_pools_partition; within a
 * part the strategy decides:
 *  - CF_POOLS_FEWEST: the fewest feasible pools, and among partitions with
 *    that many the fewest features given up, ties to the earliest in a
 *    fixed order (configurations by smallest host id).  Exact for a part
 *    of up to CF_POOLS_EXACT_MAX distinct configurations, unless the
 *    search spends CF_POOLS_SEARCH_BASELINES baselines or
 *    CF_POOLS_SEARCH_NODES steps first: then the best answer found so
 *    far, never worse than first fit (its first answer).  Beyond the
 *    limit, first fit.  Either way cf_pools_exact says false.
 *  - CF_POOLS_FIRST_FIT: cf_pools_partition's pools.
 * Hosts of one configuration always share a pool; the same reports in any
 * order give the same pools, numbered as cf_pools_partition numbers them.
 * CF_EDUPLICATE if a host id appears twice, CF_EINVAL for another HOW. */
#define CF_POOLS_EXACT_MAX 32
#define CF_POOLS_SEARCH_BASELINES 5000
#define CF_POOLS_SEARCH_NODES 2000000
enum cf_pools_strategy {
	CF_POOLS_FEWEST = 0,
	CF_POOLS_FIRST_FIT = 1,
};
struct cf_pools;
enum cf_err cf_pools_plan(const struct cf_report *const *reports, size_t n,
			  enum cf_pools_strategy how, struct cf_pools **out);
void cf_pools_destroy(struct cf_pools *p);
size_t cf_pools_count(const struct cf_pools *p);
/* The pool (0-based) of REPORTS[I]. */
size_t cf_pools_pool_of(const struct cf_pools *p, size_t i);
/* Whether every part was searched to the end (always true for first fit). */
bool cf_pools_exact(const struct cf_pools *p);
/* Pool POOL's features given up, sorted by name (NULL past the end), and
 * their number; the total over every pool. */
size_t cf_pools_given_up_count(const struct cf_pools *p, size_t pool);
const char *cf_pools_given_up(const struct cf_pools *p, size_t pool, size_t i);
size_t cf_pools_given_up_total(const struct cf_pools *p);

/* ---- checks ---- */
enum cf_reason_kind {
	CF_REASON_LACKS = 1,        /* host's limit is below what is wanted */
	CF_REASON_NOT_WRITABLE = 2, /* field differs and the host cannot change it */
	CF_REASON_NOT_ACCEPTED = 3, /* writable, but the policy refuses the value */
	CF_REASON_UNDESCRIBED = 4,  /* bits outside described fields differ */
	CF_REASON_MISSING_REG = 5,  /* host does not report the register */
	CF_REASON_ARCH = 6,         /* different architecture */
	CF_REASON_NEEDS_CAP = 7,    /* register differs, and the host's KVM
				       lacks the capability a VM enables to
				       change it (MIDR_EL1 and
				       KVM_CAP_ARM_WRITABLE_IMP_ID_REGS):
				       want/offer are the whole registers */
	CF_REASON_DEPENDS = 8,      /* the profile keeps a feature without one
				       it needs (no host is asked) */
	CF_REASON_KVM_RULE = 9,     /* the host's KVM refuses these values by
				       a rule of its own (the catalogue's
				       `refuse`): reg/field/want name the
				       first value, needs the rule in words */
};

struct cf_reason {
	enum cf_reason_kind kind;
	char reg[40];         /* register name (catalogue or encoding name) */
	const char *field;    /* field name, or NULL */
	bool is_signed;       /* the field compares as two's complement */
	uint64_t want;        /* field value (or register bits) wanted */
	uint64_t offer;       /* host's value */
	char features[CF_TEXT_MAX]; /* FEAT_* the host lacks, or ""; for
				       CF_REASON_DEPENDS the feature kept */
	char needs[CF_TEXT_MAX];    /* CF_REASON_DEPENDS: what it needs and
				       the profile lacks; CF_REASON_KVM_RULE:
				       the rule; else "" */
};

struct cf_verdict *cf_verdict_create(void);
void cf_verdict_destroy(struct cf_verdict *v);
/* Would KVM on R's host accept every register of the profile?  Fills V.
 * A profile that keeps a feature without one it needs (the dependency
 * rules above) is refused on every host: one CF_REASON_DEPENDS reason per
 * broken rule, before KVM's. */
enum cf_err cf_check(const struct cf_profile *pr, const struct cf_report *r,
		     struct cf_verdict *v);
/* cf_check (PR NULL: nothing of it), and whether a VM of NVCPUS vCPUs can
 * be created on R's host: KVM_CREATE_VCPU takes no more than max_vcpus,
 * which KVM_CAP_MAX_VCPUS gives, or KVM_CAP_NR_VCPUS on a KVM without it
 * (api.rst 4.7; KVM_CAP_NR_VCPUS is otherwise only the recommended count,
 * never a refusal).  A host that reports neither is refused: nothing says
 * it can.  CF_EINVAL for NVCPUS 0. */
enum cf_err cf_check_vcpus(const struct cf_profile *pr, const struct cf_report *r,
			   uint64_t nvcpus, struct cf_verdict *v);
bool cf_verdict_compatible(const struct cf_verdict *v);
size_t cf_verdict_reason_count(const struct cf_verdict *v);
const struct cf_reason *cf_verdict_reason(const struct cf_verdict *v, size_t i);
/* "host n2-17 lacks FEAT_SVE2: ID_AA64ZFR0_EL1.SVEver wants 1, host offers 0" */
/* The reasons as a JSON array of {"kind", "register", "field", "features",
 * "wants", "offers", "text"} (malloc'd text); README "JSON: verdicts and
 * matrices". */
enum cf_err cf_verdict_to_json(const struct cf_verdict *v, char **out);
enum cf_err cf_verdict_reason_text(const struct cf_verdict *v, size_t i,
				   char *buf, size_t len);
/* The verdict in one line: "compatible", or "incompatible, 3 blockers
 * (FEAT_SVE2, avx512f, MIDR_EL1.PartNum)": the count of reasons and the
 * distinct names they block on (feature names, else REGISTER.FIELD), the
 * first four, then "...".  Cut short to LEN. */
void cf_verdict_summary(const struct cf_verdict *v, char *buf, size_t len);
/* What VALUE of register REG means in the catalogue of V's architecture
 * (arm64 MIDR_EL1: the core, "Neoverse N1"), or NULL. */
const char *cf_verdict_value_name(const struct cf_verdict *v, const char *reg,
				  uint64_t value);
/* What reason R of V is about in users' words where the catalogue's
 * policy says it ("TSC frequency" for a TSC rate field), or NULL. */
const char *cf_verdict_reason_topic(const struct cf_verdict *v,
				    const struct cf_reason *r);

/* ---- the pair matrix ---- */
/* One cell of a pair matrix: is the profile accepted, and for how many
 * reasons not. */
struct cf_matrix_cell {
	bool compatible;
	size_t reasons;
};
/* PR checked on R (V is scratch) into C. */
enum cf_err cf_matrix_check_cell(const struct cf_profile *pr,
				 const struct cf_report *r,
				 struct cf_verdict *v, struct cf_matrix_cell *c);
/* R[0..N) grouped by configuration, exactly: what the engine reads of a
 * report (every register value, writable mask and register present, as
 * cf_pool groups hosts: the fingerprint first, then everything compared),
 * never host ids, names or times.  GROUP[i] (N entries) gets R[i]'s group,
 * groups numbered by first appearance; FIRST (N entries) gets the index of
 * each group's first report; *NGROUPS the number of groups. */
enum cf_err cf_matrix_group(const struct cf_report *const *r, size_t n,
			    size_t *group, size_t *first, size_t *ngroups);
/* Every ordered pair of R[0..N): a VM started on R[i]'s own profile,
 * moved to R[j], into CELL[i * N + j].  On failure (two architectures)
 * FROM and TO name the pair.  STOP (may be NULL) is asked before each row:
 * true stops with CF_ECANCELED. */
enum cf_err cf_matrix_pairs(const struct cf_report *const *r, size_t n,
			    struct cf_matrix_cell *cell, size_t *from,
			    size_t *to, bool (*stop)(void *ctx), void *ctx);

/* ---- decoding into feature names ---- */
struct cf_decoded {
	const char *reg;        /* register name */
	uint64_t reg_value;
	uint64_t reg_writable;  /* 0 for profiles */
	const char *field;      /* NULL: the whole-register entry */
	uint64_t value;         /* field value (raw) */
	bool writable;          /* field wholly inside the writable mask */
	const char *features;   /* FEAT_* names this value means, or "" */
	const char *role;       /* a KVM capability's role (arch/caps/caps.txt:
				   "capacity", "setting", "mechanism",
				   "guest"), else "" */
	bool enabled;           /* a capability the profile's VMs enable
				   (kvm.enabled: judged), not the pool's
				   common value (kvm.caps: advice) */
};
/* Calls FN for each register (field NULL) then each of its fields; a
 * non-zero return from FN stops the walk and is returned as CF_EINVAL.  A
 * profile's enabled capabilities come last. */
typedef int (*cf_decode_fn)(void *ctx, const struct cf_decoded *d);
enum cf_err cf_report_decode(const struct cf_report *r, cf_decode_fn fn,
			     void *ctx);
enum cf_err cf_profile_decode(const struct cf_profile *pr, cf_decode_fn fn,
			      void *ctx);
const char *cf_profile_host(const struct cf_profile *pr, size_t i);

/* ---- arm64 KVM: collection and apply (need an arm64 host with /dev/kvm;
 * elsewhere they return CF_EARCH) ---- */
#define CF_ARM64_FEAT_PSCI   (1u << 2)  /* KVM_ARM_VCPU_PSCI_0_2 */
#define CF_ARM64_FEAT_PMU    (1u << 3)  /* KVM_ARM_VCPU_PMU_V3 */
#define CF_ARM64_FEAT_SVE    (1u << 4)  /* KVM_ARM_VCPU_SVE */
#define CF_ARM64_FEAT_PAUTH  (3u << 5)  /* PTRAUTH_ADDRESS | PTRAUTH_GENERIC */
#define CF_ARM64_FEAT_DEFAULT (CF_ARM64_FEAT_PSCI | CF_ARM64_FEAT_PMU)

/* "psci,pmu,sve,pauth" -> vCPU feature bits; CF_EINVAL on an unknown word. */
enum cf_err cf_arm64_parse_features(const char *list, uint32_t *out);

/* What KVM on this host offers a guest whose vCPUs use FEATURES: a scratch
 * VM (with an in-kernel vGICv3) and vCPU, every feature ID register, the
 * writable masks, firmware registers and KVM facts. */
enum cf_err cf_arm64_collect(uint32_t features, const char *host_id,
			     struct cf_report **out, struct cf_diag *diag);

/* Errata targets (KVM 6.15+): the guest learns the profile's
 * implementations (every pool member's MIDR_EL1, REVIDR_EL1, AIDR_EL1)
 * through the SMCCC hypercalls DISCOVER_IMPL_VER and DISCOVER_IMPL_CPUS
 * (kernel Documentation/virt/kvm/arm/hypercalls.rst), which the VMM
 * serves.  Useful together with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (the
 * guest reads the profile's MIDR, cf_arm64_apply_vm).  ARMED says whether
 * the calls are now forwarded and offered; when not, WHY says what this
 * KVM (or the profile) lacks. */
struct cf_arm64_errata {
	bool armed;
	size_t nimpl;             /* implementations the guest is told of */
	char why[CF_TEXT_MAX];
};

/* After cf_arm64_apply, before the first KVM_RUN: installs an SMCCC filter
 * range (KVM_ARM_VM_SMCCC_FILTER on the VM fd) forwarding both calls to
 * userspace as KVM_EXIT_HYPERCALL, and sets their bits in
 * KVM_REG_ARM_VENDOR_HYP_BMAP_2 on every vCPU so the guest is told they
 * exist.  A KVM without that register or filter, or a profile without
 * implementations, leaves the VM unchanged: CF_OK, OUT->armed false. */
enum cf_err cf_arm64_apply_errata(int vm_fd, const int *vcpu_fds,
				  size_t nvcpus, const struct cf_profile *pr,
				  struct cf_arm64_errata *out,
				  struct cf_diag *diag);

/* The VMM's run loop, on KVM_EXIT_HYPERCALL: answers the call NR
 * (kvm_run.hypercall.nr, the function ID) from PR on that vCPU (writes
 * x0..x3; KVM has already moved the PC past the HVC/SMC).  *HANDLED is
 * false, and nothing is written, for a call that is not one of these. */
enum cf_err cf_arm64_errata_exit(int vcpu_fd, uint64_t nr,
				 const struct cf_profile *pr, bool *handled,
				 struct cf_diag *diag);

/* ---- x86 (on other hosts collection returns CF_EARCH) ---- */

/* What KVM on this x86 host offers a guest: KVM_GET_SUPPORTED_CPUID (not
 * the emulated-only bits), the feature MSRs, the TSC rate and whether KVM
 * can scale it, and the KVM capabilities.  The fields the catalogue marks
 * `vcpu` or `runtime` (APIC ids, topology, cache geometry, OSXSAVE, XSAVE
 * sizes...) are 0: the report is the same whichever CPU of the host this
 * runs on. */
enum cf_err cf_x86_collect(const char *host_id, struct cf_report **out,
			   struct cf_diag *diag);

/* The named profile of psABI level NAME ("x86-64-v1" .. "x86-64-v4"): the
 * flags of that level and those below it, nothing else; CF_ENOTFOUND for
 * another name. */
enum cf_err cf_x86_level_profile(const char *name, struct cf_profile **out);

/* The highest x86-64 psABI level (x86-64-v1 .. v4) whose flags the
 * profile all offers, into LEVEL ("" if not even v1), and into MISSING the
 * flags of the next level it lacks ("" at v4).  CF_EARCH if not x86. */
enum cf_err cf_x86_profile_level(const struct cf_profile *pr, char *level,
				 size_t llen, char *missing, size_t mlen);

/* The Armv8.x/9.x level the profile's ID registers reach: the last level
 * of arch/arm64/levels.txt whose mandatory features (those the ID
 * registers show, per the Arm ARM) they all show, into LEVEL ("" if not
 * even Armv8.0), and into MISSING the features the next level lacks,
 * space-separated ("" at the last).  CF_EARCH if not arm64. */
enum cf_err cf_arm64_profile_level(const struct cf_profile *pr, char *level,
				   size_t llen, char *missing, size_t mlen);

/* The core the profile's MIDR_EL1 names, as "Neoverse N1 (MIDR 0x413fd0c1:
 * implementer Arm, part 0xd0c, r3p1)" ("unknown core (...)" for a part
 * arch/arm64/levels.txt lacks), into BUF.  CF_ENOTFOUND without MIDR_EL1,
 * CF_EARCH if not arm64. */
enum cf_err cf_arm64_profile_core(const struct cf_profile *pr, char *buf,
				  size_t len);

/* The richest libvirt named CPU model the profile satisfies, as VMware EVC
 * names a generation: every CPUID and MSR bit of the model's features (in
 * libvirt's CPU map, arch/x86/libvirt.txt) set, and the model's vendor
 * where it names one.  Richest: the most feature bits; a tie goes to the
 * model the map lists last.  The name into NAME ("" if none), the map into
 * SOURCE ("libvirt 9.0.0 cpu_map").  CF_ENOTFOUND if no model fits,
 * CF_EARCH if not x86. */
enum cf_err cf_x86_profile_model(const struct cf_profile *pr, char *name,
				 size_t nlen, char *source, size_t slen);

/* The CPU vendor ("GenuineIntel") a report or profile names, into BUF;
 * false when its architecture has no vendor or it lacks the register. */
bool cf_report_vendor(const struct cf_report *r, char *buf, size_t len);
bool cf_profile_vendor(const struct cf_profile *pr, char *buf, size_t len);

/* A KVM that offers less than its CPU (nested, restricted): the psABI
 * level flags (cpuid.txt `level` lines) that the "flags" line of
 * /proc/cpuinfo text CPUINFO names and report R (an x86 report, as this
 * host's KVM offers it) lacks, space-separated into BUF; returns how
 * many (0 for a report of another architecture or no flags line). */
size_t cf_x86_kvm_lacks(const struct cf_report *r, const char *cpuinfo,
			char *buf, size_t len);

struct cf_apply_refusal {
	bool refused;
	char reg[40];
	char field[48];       /* "" if KVM's refusal is not tied to one field */
	int err;              /* errno of KVM_SET_ONE_REG; 0: read back differs */
	uint64_t want;
	uint64_t got;         /* the host's value before, or what it read back */
	char text[CF_TEXT_MAX];
};

/* ---- x86: apply and guest verification ---- */

/* What the VMM wants of the VM beyond what the profile says.  A zeroed
 * struct (or NULL) asks for nothing optional. */
struct cf_x86_vm_opts {
	/* In-kernel LAPIC with a userspace IOAPIC: KVM_CAP_SPLIT_IRQCHIP with
	 * CF_X86_SPLIT_IRQCHIP_ROUTES routes.  Needs the profile's
	 * KVM_CAP_SPLIT_IRQCHIP (every host of the pool has it). */
	bool split_irqchip;
	/* KVM_X86_DISABLE_EXITS_* (MWAIT 1, HLT 2, PAUSE 4, CSTATE 8) the VMM
	 * wants, for dedicated pCPUs; KVM gets this & the profile's value. */
	uint32_t disable_exits;
};

#define CF_X86_SPLIT_IRQCHIP_ROUTES 24  /* IOAPIC pins, as QEMU reserves */
#define CF_X86_CAPS_MAX 8
#define CF_X86_GUEST_LEAVES_MAX 256  /* = KVM_MAX_CPUID_ENTRIES */
/* Room for every register of a full table: nothing read back goes unlisted. */
#define CF_X86_DIFFS_MAX (4 * CF_X86_GUEST_LEAVES_MAX)

/* One capability step 1 enabled: KVM_ENABLE_CAP(name) with args[0] = arg;
 * want is the profile's value (for bitmasks: what the pool shares). */
struct cf_x86_cap_enabled {
	char name[40];
	uint64_t want;
	uint64_t arg;
};

/* A register whose read-back differs from what was written, in the bits
 * compared (not the ones KVM recomputes itself). */
struct cf_x86_readback_diff {
	char reg[40];
	uint64_t want;   /* what was written */
	uint64_t got;    /* what KVM reads back */
	uint64_t mask;   /* bits compared */
};

struct cf_x86_apply_result {
	/* The first refusal: KVM refused a capability, KVM_SET_CPUID2, an
	 * MSR or the TSC rate, or an MSR or the rate read back differently.
	 * reg names the register (CPUID_00000007_0_EBX, IA32_ARCH_
	 * CAPABILITIES, TSC_KHZ, a capability, or CPUID for the whole
	 * table), field the catalogue field of its lowest differing bit ("" if
	 * none), err KVM's errno (0: taken but read back differently),
	 * want/got, text a sentence. */
	struct cf_apply_refusal refusal;
	/* Step 1 (cf_x86_apply_vm). */
	size_t ncaps;
	struct cf_x86_cap_enabled caps[CF_X86_CAPS_MAX];
	/* Step 2 (cf_x86_apply_vcpu). */
	size_t cpuid_entries;  /* entries given to KVM_SET_CPUID2 */
	size_t cpuid_regs;     /* CPUID registers read back and compared */
	size_t msrs;           /* feature MSRs set and read back */
	uint64_t tsc_khz;      /* KVM_GET_TSC_KHZ afterwards (0: no rate) */
	bool read_back;        /* every write was taken and read back */
	/* MSR and TSC read-back differences (each also a refusal). */
	size_t ndiffs;
	struct cf_x86_readback_diff diffs[CF_X86_DIFFS_MAX];
	/* CPUID registers KVM_SET_CPUID2 took but KVM_GET_CPUID2 reads
	 * differently: KVM on this host replaced what the VMM gave (upstream
	 * KVM keeps the table as given but for the bits it recomputes).  Not
	 * a refusal (KVM said yes); the VMM decides: a guest here does not
	 * see the profile in these registers.  The first CF_X86_DIFFS_MAX are
	 * listed. */
	size_t nrewritten;
	struct cf_x86_readback_diff rewritten[CF_X86_DIFFS_MAX];
	/* Entries KVM_GET_CPUID2 has that KVM_SET_CPUID2 was not given. */
	size_t cpuid_added;
};

/* Step 1, on a new VM before any vCPU exists: the VM capabilities the
 * profile enables, each with KVM_ENABLE_CAP and the argument KVM_CAP_
 * SPLIT_IRQCHIP (OPTS->split_irqchip: 24 routes), KVM_CAP_X2APIC_API (the
 * profile's bitmask & what this host supports), KVM_CAP_X86_DISABLE_EXITS
 * (OPTS->disable_exits & the profile's), KVM_CAP_MSR_PLATFORM_INFO and
 * KVM_CAP_EXCEPTION_PAYLOAD (1, when the profile has them).  Resets RES;
 * a refusal (KVM refused the cap, this host lacks bits the profile
 * enables, or OPTS asks for what the profile lacks) is not an error: CF_OK
 * with RES->refusal.refused.  OPTS may be NULL. */
enum cf_err cf_x86_apply_vm(int vm_fd, const struct cf_profile *pr,
			    const struct cf_x86_vm_opts *opts,
			    struct cf_x86_apply_result *res,
			    struct cf_diag *diag);

/* Step 2, on each vCPU before its first KVM_RUN (and before KVM_SET_SREGS):
 * KVM_SET_CPUID2 with the profile's CPUID table and the per-vCPU parts for
 * APIC_ID (leaf 1 EBX[31:24] APIC id and EBX[23:16] = 1 logical processor;
 * leaves 0xB/0x1F EDX = APIC id and ECX[7:0] = the subleaf; 0x8000001E EAX
 * = APIC id; a VMM with another topology fills those leaves itself), then
 * each feature MSR with its own KVM_SET_MSRS, then KVM_SET_TSC_KHZ with
 * the profile's TSC_KHZ (KVM takes a rate within 250 ppm of the host's as
 * is; without TSC scaling a lower rate fails and a higher one only
 * catches up).  Reads everything back (KVM_GET_CPUID2, KVM_GET_MSRS,
 * KVM_GET_TSC_KHZ), comparing all bits but the ones KVM recomputes
 * (1.ECX OSXSAVE, 1.EDX APIC, 7.0.ECX OSPKE, 0xD.0/0xD.1 EBX XSAVE sizes,
 * 0x40000001.EAX PV_UNHALT).  Resets RES's step-2 part and refusal; a
 * refusal is CF_OK with RES->refusal.refused, CPUID registers KVM
 * rewrote are in RES->rewritten. */
enum cf_err cf_x86_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
			      uint32_t apic_id,
			      struct cf_x86_apply_result *res,
			      struct cf_diag *diag);

/* The guest check: what a guest's CPUID instruction returns under the
 * profile. */
enum cf_x86_guest_status {
	CF_X86_GUEST_OK = 0,
	/* This host did not give the guest what KVM_SET_CPUID2 was given
	 * (see enum cf_x86_guest_why): a property of this host, not of the
	 * profile or of cpufleet; listed, never passed silently. */
	CF_X86_GUEST_NOT_HONOURED = 1,
	CF_X86_GUEST_MISMATCH = 2,
	/* The leaf lies beyond the profile's own maximum for its range
	 * (0x0, 0x40000000, 0x80000000 or 0xC0000000 EAX): the entry is
	 * unreachable, a guest asking gets the out-of-range answer (Intel:
	 * the highest basic leaf's values; AMD: zeros).  Listed, not
	 * compared. */
	CF_X86_GUEST_OUT_OF_RANGE = 3,
};

/* Why a register is NOT_HONOURED (or, for VENDOR, a MISMATCH). */
enum cf_x86_guest_why {
	CF_X86_WHY_NONE = 0,
	/* KVM here replaced it: KVM_GET_CPUID2 reads what the guest saw, not
	 * what KVM_SET_CPUID2 was given. */
	CF_X86_WHY_KVM_REWROTE = 1,
	/* KVM here kept it, but the guest saw this host's own CPUID value:
	 * the hypervisor below answered for the nested guest. */
	CF_X86_WHY_OUTER = 2,
	/* MISMATCH: the guest sees another CPU vendor (leaf 0) than this
	 * host's CPU: a guest that picks code paths by vendor would break. */
	CF_X86_WHY_VENDOR = 3,
};

struct cf_x86_guest_leaf {
	uint32_t leaf, subleaf;
	uint8_t status;        /* the worst of reg_status */
	uint8_t reg_status[4]; /* EAX, EBX, ECX, EDX */
	uint8_t why[4];        /* enum cf_x86_guest_why, for NOT_HONOURED */
	uint32_t want[4];      /* the profile's value */
	uint32_t set[4];       /* what KVM_SET_CPUID2 was given */
	uint32_t kept[4];      /* what KVM_GET_CPUID2 read back */
	uint32_t seen[4];      /* what the guest's CPUID returned */
	uint32_t compared[4];  /* bits compared: not per-vCPU, not runtime */
	uint32_t host[4];      /* this host's own CPUID */
};

struct cf_x86_guest_result {
	struct cf_x86_apply_result apply;  /* steps 1 and 2 on the scratch VM */
	bool ran;              /* false: apply refused, no guest ran */
	bool nested;           /* this host runs under a hypervisor */
	size_t nleaves;
	size_t nmatch, nnot_honoured, nmismatch, nout_of_range;
	struct cf_x86_guest_leaf leaves[CF_X86_GUEST_LEAVES_MAX];
};

/* Creates a scratch VM (one vCPU, APIC id 0; a split irqchip when the
 * profile has KVM_CAP_SPLIT_IRQCHIP), applies PR (cf_x86_apply_vm and
 * cf_x86_apply_vcpu), then runs a real-mode guest that executes CPUID for
 * every (leaf, subleaf) of the profile's table and compares each register
 * with the profile, except the bits the catalogue says KVM or the VMM fill
 * per vCPU or at run time (policy CF_POL_IGNORE).  A register that differs
 * (in those bits) is NOT_HONOURED when what KVM_SET_CPUID2 was given equals
 * the profile and either KVM_GET_CPUID2 reads something else and the
 * guest saw exactly that (KVM here rewrote it), or this host runs under a
 * hypervisor and the guest saw exactly this host's own CPUID value (the
 * outer hypervisor answered); else MISMATCH.  Leaves beyond the profile's
 * maximum leaf of their range are OUT_OF_RANGE.  An apply refusal is CF_OK
 * with RES->apply.refusal.refused and RES->ran false.  RES is large
 * (about 32 KiB): allocate it. */
enum cf_err cf_x86_guest_check(const struct cf_profile *pr,
			       struct cf_x86_guest_result *res,
			       struct cf_diag *diag);


/* Step 1, before any vCPU exists: the VM capabilities PR needs on this
 * host.  Where PR's MIDR_EL1, REVIDR_EL1 or AIDR_EL1 is not this host's
 * (read from a scratch VM; the rule `check` follows), enables
 * KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (6.15+), without which KVM keeps them
 * invariant; *ENABLED (if not NULL) says whether it did.  A KVM without
 * the capability is no error here: step 3 then reports KVM's refusal of
 * the register, naming the capability.  KVM refusing to enable it (EBUSY:
 * a vCPU exists already) is CF_EIO, saying so. */
enum cf_err cf_arm64_apply_vm(int vm_fd, const struct cf_profile *pr,
			      bool *enabled, struct cf_diag *diag);

/* Step 2, on each vCPU after KVM_ARM_VCPU_INIT (with KVM_ARM_VCPU_SVE) and
 * before KVM_ARM_VCPU_FINALIZE: the SVE vector lengths of PR's SVE_VLS.
 * Does nothing when PR has none.  A refusal fills REF as below. */
enum cf_err cf_arm64_apply_vcpu(int vcpu_fd, const struct cf_profile *pr,
				struct cf_apply_refusal *ref,
				struct cf_diag *diag);

/* Step 3: programs PR into a VM whose vCPUs are created and initialised but have
 * not run: ID registers first (VM-scoped ones once, vCPU-scoped ones on
 * every vCPU), then firmware registers, reading each write back.  A
 * refusal is not an error: CF_OK with REF->refused set, naming the register
 * and field KVM refused. */
enum cf_err cf_arm64_apply(int vm_fd, const int *vcpu_fds, size_t nvcpus,
			   const struct cf_profile *pr,
			   struct cf_apply_refusal *ref, struct cf_diag *diag);

/* ---- exports: a profile in the formats VMMs take ----
 *
 * FORMAT is "qemu" (a `-cpu` value; x86: a named model chosen as libvirt
 * chooses one, +feat/-feat in QEMU's names, level, xlevel, phys-bits,
 * tsc-frequency; arm64: `host` with the vCPU features QEMU has properties
 * for, and the ID registers QEMU cannot set listed), "libvirt" (x86: a
 * domain <cpu mode='custom' match='exact'> element in libvirt's feature
 * names) or "firecracker" (a custom CPU template: x86 cpuid_modifiers and
 * msr_modifiers, aarch64 reg_modifiers and vcpu_features).  Feature bits
 * are matched to a VMM's names by (CPUID leaf, subleaf, register, bit),
 * never by name.  Nothing is written until the whole export is made: an
 * error leaves *OUT NULL and DIAG naming the field. */
struct cf_export;

struct cf_export_opts {
	const char *name;   /* the profile's name ("" or NULL: a file) */
	int version;        /* its published version (0: none) */
	/* A feature bit the profile sets that the format has no name for is
	 * an error naming it (CF_EINVAL); with ALLOW_DROP it is left out of
	 * the export and listed (cf_export_dropped).  A bit the format cannot
	 * clear, or a vendor it has no model for, is an error either way. */
	bool allow_drop;
};

/* The formats, NULL-terminated ("qemu", "libvirt", "firecracker"). */
extern const char *const cf_export_formats[];
/* CF_EINVAL for an unknown FORMAT, CF_EARCH for one that cannot describe
 * a profile of PR's architecture (libvirt on arm64), CF_EINVAL for an
 * infeasible profile or a field the format cannot say. */
enum cf_err cf_profile_export(const struct cf_profile *pr, const char *format,
			      const struct cf_export_opts *opts,
			      struct cf_export **out, struct cf_diag *diag);
void cf_export_destroy(struct cf_export *e);
/* The export, as a VMM reads it (a text file's content, no final
 * newline). */
const char *cf_export_text(const struct cf_export *e);
/* "sha256:" and the SHA-256 of the profile's JSON text (cf_profile_to_json,
 * what the server stores for a published version). */
const char *cf_export_fingerprint(const struct cf_export *e);
/* Sentences about what the export does not carry and why (also written
 * into the text as comments where the format has them). */
size_t cf_export_note_count(const struct cf_export *e);
const char *cf_export_note(const struct cf_export *e, size_t i);
/* With allow_drop: the bits left out, "REGISTER.FIELD" each. */
size_t cf_export_dropped_count(const struct cf_export *e);
const char *cf_export_dropped(const struct cf_export *e, size_t i);
/* The export's facts as JSON text (malloc'd): format, arch, profile name,
 * version, fingerprint, notes, dropped, and the text itself. */
enum cf_err cf_export_to_json(const struct cf_export *e, char **out);

/* A Firecracker custom CPU template (JSON TEXT; its grammar as
 * Firecracker's src/vmm/src/cpu_config parses it) applied to HOST's
 * report the way Firecracker applies it: the guest's view on that host,
 * as a profile of one host (*OUT).  A template that changes a CPUID leaf,
 * MSR or register the report lacks is refused, as Firecracker refuses
 * it.  ORIGIN names TEXT in errors. */
enum cf_err cf_profile_import_firecracker(const char *text, size_t len,
					  const char *origin,
					  const struct cf_report *host,
					  struct cf_profile **out,
					  struct cf_diag *diag);

/* ---- explain: migration both ways between two hosts ---- */
enum cf_err cf_explain_create(const struct cf_report *a,
			      const struct cf_report *b,
			      struct cf_explain **out);
/* The features only one of two profiles (of one architecture, else
 * CF_EARCH) shows, as cf_explain_only_in_a/_b give them; no verdicts (both
 * empty). */
enum cf_err cf_explain_profiles(const struct cf_profile *a,
				const struct cf_profile *b,
				struct cf_explain **out);
void cf_explain_destroy(struct cf_explain *e);
/* Verdict for a guest started on FROM's own profile moving to the other. */
const struct cf_verdict *cf_explain_a_to_b(const struct cf_explain *e);
const struct cf_verdict *cf_explain_b_to_a(const struct cf_explain *e);
/* Features one host offers and the other does not (NULL past the end). */
const char *cf_explain_only_in_a(const struct cf_explain *e, size_t i);
const char *cf_explain_only_in_b(const struct cf_explain *e, size_t i);

#ifdef __cplusplus
}
#endif
#endif
