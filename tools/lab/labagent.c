/* The lab agent: /init of each emulated arm64 host (tools/lab/PROTOCOL.md).
 * It reads its job from /lab/in, drives KVM through the library
 * (cf_arm64_collect, cf_arm64_apply) and small generated guests, and sends
 * files back over the console.  aarch64 only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <cpufleet.h>
#include "arch/arm64/a64guest.h"
#include "arch/arm64/apply.h"
#include "arch/arm64/kvm_uapi.h"
#include "arch/arm64/smccc.h"
#include "engine/check.h"
#include "engine/profile.h"
#include "profiles/export.h"
#include <cjson/cJSON.h>

#define IN "/lab/in/"
#define MAX_REGS 1024
#define CODE_MAX 8192            /* words */
#define AREA_A 0x4000u           /* ID registers read before saving */
#define AREA_B 0x6000u           /* the same, read at every exit */
#define COUNTER 0x8000u
#define ITERS 0xffffu            /* loop iterations between exits */
#define SAVE_EXITS 3
#define STATE_MAGIC "CFSTATE1"
#define SVE_VLS_ID 0x606000000015ffffULL

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	printf("@@CF STEP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void emit(const char *name, const void *data, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char line[80];
	size_t col = 0;

	printf("@@CF FILE %s %zu\n", name, len);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		line[col++] = b64[(v >> 18) & 63];
		line[col++] = b64[(v >> 12) & 63];
		line[col++] = n > 1 ? b64[(v >> 6) & 63] : '=';
		line[col++] = n > 2 ? b64[v & 63] : '=';
		if (col >= 76) {
			fwrite(line, 1, col, stdout);
			putchar('\n');
			col = 0;
		}
	}
	if (col) {
		fwrite(line, 1, col, stdout);
		putchar('\n');
	}
	printf("@@CF END %s\n", name);
	fflush(stdout);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void read_word(const char *path, char *out, size_t len, const char *dflt)
{
	size_t n = 0;
	char *s = slurp(path, &n);

	snprintf(out, len, "%s", s ? s : dflt);
	free(s);
	out[strcspn(out, " \r\n")] = '\0';
}

/* ---- guest code, generated: MRS of every register of a list ---- */

struct gen {
	uint32_t w[CODE_MAX];
	size_t n;
};

static void put(struct gen *g, uint32_t insn)
{
	if (g->n < CODE_MAX)
		g->w[g->n++] = insn;
}

/* mrs x0, <key>; str x0, [xBASE, #8*i] for each register. */
static void idread(struct gen *g, const uint64_t *keys, size_t n, unsigned base)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];
		unsigned op0 = (k >> 14) & 3, op1 = (k >> 11) & 7;
		unsigned crn = (k >> 7) & 15, crm = (k >> 3) & 15, op2 = k & 7;
		put(g, 0xd5300000u | (op0 - 2) << 19 | op1 << 16 | crn << 12 |
		       crm << 8 | op2 << 5);
		put(g, 0xf9000000u | (uint32_t)i << 10 | base << 5);
	}
}

static uint32_t branch(size_t from, size_t to)
{
	return 0x14000000u | ((uint32_t)((int32_t)(to - from)) & 0x3ffffff);
}

/* x2 = exit address, x3 = counter value, x4 = &counter, x5 = area A,
 * x6 = area B, x7 = iterations left. */
static void counter_guest(struct gen *g, const uint64_t *keys, size_t n)
{
	size_t loop, cbnz;

	g->n = 0;
	idread(g, keys, n, 5);
	put(g, 0xd2800000u | ITERS << 5 | 7);         /* movz x7, #ITERS */
	loop = g->n;
	put(g, 0x91000463u);                          /* add x3, x3, #1 */
	put(g, 0xf9000083u);                          /* str x3, [x4] */
	put(g, 0xd10004e7u);                          /* sub x7, x7, #1 */
	cbnz = g->n;
	put(g, 0xb5000000u | (((uint32_t)(int32_t)(loop - cbnz)) & 0x7ffff) << 5 | 7);
	put(g, 0xd2800000u | ITERS << 5 | 7);         /* movz x7, #ITERS */
	idread(g, keys, n, 6);
	put(g, 0xf9000043u);                          /* str x3, [x2]: exit */
	put(g, branch(g->n, loop));                   /* b loop */
}

static void read_guest(struct gen *g, const uint64_t *keys, size_t n)
{
	g->n = 0;
	idread(g, keys, n, 5);
	put(g, 0xf9000043u);                          /* str x3, [x2]: exit */
	put(g, branch(g->n, g->n));                   /* b . */
}

static const uint64_t guest_x[8] = {
	0, 0, CF_A64_MMIO_EXIT, 0, CF_A64_RAM_BASE + COUNTER,
	CF_A64_RAM_BASE + AREA_A, CF_A64_RAM_BASE + AREA_B, 0,
};

/* The system registers of a profile, in key order. */
static size_t profile_keys(const struct cf_profile *pr, uint64_t *keys)
{
	const struct cf_config *c = pr->cfg;
	size_t n = 0;

	for (size_t i = 0; i < c->ncat && n < MAX_REGS; i++)
		if (c->present[i] && !c->arch->catalog->regs[i].pseudo)
			keys[n++] = c->arch->catalog->regs[i].key;
	for (size_t x = 0; x < c->nextra && n < MAX_REGS; x++)
		keys[n++] = c->extra[x].key;
	return n;
}

/* KVM_SET_ONE_REG's answer; 0 = KVM took the write but kept another value. */
static const char *errno_name(int err)
{
	return err == 0 ? "readback" : err == EINVAL ? "EINVAL" :
	       err == E2BIG ? "E2BIG" : err == EBUSY ? "EBUSY" :
	       err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : "other";
}

static void refusal_json(char *buf, size_t len, const struct cf_apply_refusal *r)
{
	if (!r->refused) {
		snprintf(buf, len, "null");
		return;
	}
	snprintf(buf, len, "{\"register\": \"%s\", \"field\": %s%s%s, "
		 "\"errno\": \"%s\", \"text\": \"%s\"}", r->reg,
		 r->field[0] ? "\"" : "", r->field[0] ? r->field : "null",
		 r->field[0] ? "\"" : "", errno_name(r->err), r->text);
}

static struct cf_profile *load_profile(const char *path)
{
	struct cf_profile *pr = NULL;
	struct cf_diag d;

	if (cf_profile_load(path, &pr, &d) != CF_OK) {
		step("cannot load %s: %s", path, d.msg);
		return NULL;
	}
	return pr;
}

/* A VM with PR applied; *ref says whether KVM refused it. */
static struct cf_a64vm *vm_with(uint32_t features, const struct cf_profile *pr,
				struct cf_apply_refusal *ref)
{
	struct cf_a64vm *vm = NULL;
	struct cf_diag d;

	if (cf_a64guest_create_applied(features, pr, ref, &vm, &d) != CF_OK)
		step("VM with the profile failed: %.150s", d.msg);
	return vm;
}

/* ---- saved guests ---- */

struct state_writer {
	unsigned char *buf;
	size_t len, cap;
};

static int sw_put(struct state_writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = (w->cap + n) * 2;
		unsigned char *b = realloc(w->buf, cap);
		if (!b)
			return -1;
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static size_t reg_size(uint64_t id)
{
	return (size_t)1 << ((id >> 52) & 0xf); /* KVM_REG_SIZE_SHIFT */
}

/* Every register KVM_GET_REG_LIST names, and the guest's memory. */
static int save_state(struct cf_a64vm *vm, uint32_t features, uint64_t counter,
		      struct state_writer *w)
{
	uint64_t *ids = NULL;
	size_t n = 0;
	unsigned char val[256];
	uint32_t nregs, ram = CF_A64_RAM_SIZE;
	int rc = -1;

	if (cf_a64vm_reg_list(vm, &ids, &n) != CF_OK)
		return -1;
	nregs = (uint32_t)n;
	if (sw_put(w, STATE_MAGIC, 8) || sw_put(w, &features, 4) ||
	    sw_put(w, &nregs, 4) || sw_put(w, &counter, 8))
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t sz = reg_size(ids[i]);
		if (sz > sizeof(val) || cf_a64vm_get_raw(vm, ids[i], val) != 0) {
			step("cannot save register 0x%llx", (unsigned long long)ids[i]);
			goto out;
		}
		if (sw_put(w, &ids[i], 8) || sw_put(w, val, sz))
			goto out;
	}
	if (sw_put(w, &ram, 4) || sw_put(w, cf_a64vm_ram(vm), ram))
		goto out;
	rc = 0;
out:
	free(ids);
	return rc;
}

static const char *job_collect(const char *host, uint32_t features)
{
	struct cf_report *r = NULL;
	struct cf_diag d;
	char *json = NULL;

	step("collecting with vCPU features 0x%x", features);
	if (cf_arm64_collect(features, host, &r, &d) != CF_OK) {
		step("collect failed: %.150s", d.msg);
		return "collect";
	}
	if (cf_report_to_json(r, &json) != CF_OK) {
		cf_report_destroy(r);
		return "report";
	}
	emit("report.json", json, strlen(json));
	free(json);
	cf_report_destroy(r);
	return NULL;
}

/* Runs `cpufleet apply --check-only PROFILE` (the command-line path VMM
 * operators use) and returns its exit status, its first line in LINE. */
static const char *g_features = "psci,pmu";

static int cli_apply(const char *profile, char *line, size_t len)
{
	int fds[2], status = 0;
	pid_t pid;
	ssize_t n;

	line[0] = '\0';
	if (access("/bin/cpufleet", X_OK) != 0 || pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execl("/bin/cpufleet", "cpufleet", "apply", "--check-only",
		      "--features", g_features, profile, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = pid > 0 ? read(fds[0], line, len - 1) : -1;
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n\"\\")] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#define PMCR_EL0_ID 0x603000000013dce0ULL
#define PMCR_N(v) (((v) >> 11) & 0x1f)

/* A write KVM refused: the register named as the engine names it. */
static void refusal_named(char *buf, size_t len, const struct cf_apply_refusal *rf)
{
	snprintf(buf, len, "{\"register\": \"%s\", \"field\": %s%s%s, "
		 "\"errno\": \"%s\"}", rf->reg, rf->field[0] ? "\"" : "",
		 rf->field[0] ? rf->field : "null", rf->field[0] ? "\"" : "",
		 errno_name(rf->err));
}

/* PMCR_EL0.N is the KVM fact PMU_COUNTERS: KVM ignores a larger N than the
 * host's (set_pmcr()), so a write is judged by reading it back. */
static bool pmcr_refused(struct cf_a64vm *vm, const char *host, uint64_t want,
			 uint64_t lim, struct cf_apply_refusal *rf)
{
	const struct cf_arch_ops *a = cf_arch_find("arm64");
	int i = cf_catalog_find_name(a->catalog, "PMU_COUNTERS");
	uint64_t back = 0;

	if (i < 0 || (cf_a64vm_get(vm, PMCR_EL0_ID, &back) == 0 &&
		      PMCR_N(back) == PMCR_N(want)))
		return false;
	cf_arm64_refusal(rf, a, host, a->catalog->regs[i].key, PMCR_N(want),
			 PMCR_N(lim), a->catalog->regs[i].fixed_writable, true, 0,
			 PMCR_N(back));
	return true;
}

/* One variant of the own profile applied to VM (one VM for all: ID
 * registers can be rewritten until the first KVM_RUN), then the own
 * profile again, which KVM must take back.  A register only a capability
 * makes writable (catalogue `wcap`: MIDR/REVIDR/AIDR) gets a VM of its own,
 * made for the variant: cf_arm64_apply_vm enables the capability before
 * the vCPU exists where the variant's value is not this host's. */
static const char *apply_variant(struct cf_a64vm **shared, uint32_t features,
				 struct cf_profile *pr, uint64_t key,
				 uint64_t value, uint64_t orig,
				 struct cf_apply_refusal *ref, char *fault,
				 size_t flen)
{
	int ci = cf_catalog_find_key(pr->arch->catalog, key);
	bool own_vm = ci >= 0 && pr->arch->catalog->regs[ci].wcap;
	struct cf_a64vm *mine = NULL, **vm = own_vm ? &mine : shared;
	struct cf_apply_refusal back;
	struct cf_diag d;
	int vfd;

	cf_config_set(pr->cfg, key, value);
	if (own_vm ? cf_a64guest_create(features, pr, NULL, NULL, vm, &d) != CF_OK :
	    !*vm && cf_a64vm_create(features, vm, &d) != CF_OK) {
		cf_config_set(pr->cfg, key, orig);
		snprintf(fault, flen, "VM creation failed: %.150s", d.msg);
		return fault;
	}
	vfd = cf_a64vm_vcpu_fd(*vm);
	if (cf_arm64_apply(cf_a64vm_vm_fd(*vm), &vfd, 1, pr, ref, &d) != CF_OK)
		snprintf(fault, flen, "apply failed: %.150s", d.msg);
	cf_config_set(pr->cfg, key, orig);
	if (!fault[0] &&
	    (cf_arm64_apply(cf_a64vm_vm_fd(*vm), &vfd, 1, pr, &back, &d) != CF_OK ||
	     back.refused))
		snprintf(fault, flen, "the own profile was refused after the "
			 "variant: %.150s", back.refused ? back.text : d.msg);
	if (fault[0] || own_vm) {
		cf_a64vm_destroy(*vm);
		*vm = NULL;
	}
	return fault[0] ? fault : NULL;
}

/* A KVM fact: SVE lengths in a fresh VM (only before finalize), PMU
 * counters as PMCR_EL0.N read back (before the first run). */
static void apply_fact(uint32_t features, struct cf_profile *pr,
		       const char *host, const char *name, uint64_t key,
		       uint64_t value, uint64_t orig,
		       struct cf_apply_refusal *ref, char *fault, size_t flen)
{
	struct cf_a64vm *vm = NULL;
	struct cf_diag d;
	uint64_t pmcr = 0;

	cf_config_set(pr->cfg, key, value);
	if (!strcmp(name, "SVE_VLS")) {
		if (cf_a64guest_create(features, pr, NULL, ref, &vm, &d) != CF_OK)
			snprintf(fault, flen, "VM creation failed: %.150s", d.msg);
	} else if (!strcmp(name, "PMU_COUNTERS")) {
		if (cf_a64vm_create(features, &vm, &d) != CF_OK)
			snprintf(fault, flen, "VM creation failed: %.150s", d.msg);
		else if (cf_a64vm_get(vm, PMCR_EL0_ID, &pmcr) != 0)
			snprintf(fault, flen, "PMCR_EL0 unreadable");
		else {
			uint64_t want = (pmcr & ~(0x1fULL << 11)) | (value & 0x1f) << 11;
			int e = cf_a64vm_set(vm, PMCR_EL0_ID, want);
			if (e) {
				const struct cf_reg *r = &pr->arch->catalog->regs[
					cf_catalog_find_key(pr->arch->catalog, key)];
				cf_arm64_refusal(ref, pr->arch, host, key, value,
						 PMCR_N(pmcr), r->fixed_writable, true,
						 e, PMCR_N(pmcr));
			} else {
				pmcr_refused(vm, host, want, pmcr, ref);
			}
		}
	} else {
		snprintf(fault, flen, "the lab cannot program fact %s", name);
	}
	cf_config_set(pr->cfg, key, orig);
	cf_a64vm_destroy(vm);
}

/* variants.txt: "NAME KEY VALUE" a line (KEY and VALUE in hex), one-field
 * variants of the own profile (lab.py); each applied, KVM's answer in
 * variants.json. */
static const char *run_variants(const char *host, uint32_t features,
				struct cf_profile *own)
{
	size_t n = 0, used = 0, cap = 1 << 20;
	char *txt = slurp(IN "variants.txt", &n), *save = NULL, *line;
	char *out = malloc(cap);
	struct cf_config *priv = NULL, *orig_cfg = own->cfg;
	struct cf_a64vm *vm = NULL;
	unsigned count = 0, nref = 0, nerr = 0;

	if (!txt || !out || cf_config_clone(orig_cfg, &priv) != CF_OK) {
		free(txt);
		free(out);
		return "variants";
	}
	own->cfg = priv;
	used = (size_t)snprintf(out, cap, "{\"host\": \"%s\",\n \"results\": [", host);
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], fault[300] = "", ref_json[512];
		unsigned long long key, value;
		uint64_t orig = 0;
		struct cf_apply_refusal ref = { 0 };
		if (sscanf(line, "%127s %llx %llx", name, &key, &value) != 3)
			continue;
		int ci = cf_catalog_find_key(own->arch->catalog, key);
		if (!cf_config_get(priv, key, &orig, NULL))
			snprintf(fault, sizeof(fault), "not in the own profile");
		else if (ci >= 0 && own->arch->catalog->regs[ci].pseudo == 3)
			apply_fact(features, own, host,
				   own->arch->catalog->regs[ci].name, key, value,
				   orig, &ref, fault, sizeof(fault));
		else if (ci >= 0 && own->arch->catalog->regs[ci].pseudo == 2)
			snprintf(fault, sizeof(fault), "a capability is no register");
		else
			apply_variant(&vm, features, own, key, value, orig, &ref,
				      fault, sizeof(fault));
		count++;
		nref += ref.refused && !fault[0];
		nerr += fault[0] != 0;
		fault[strcspn(fault, "\"\\\n")] = '\0';
		refusal_json(ref_json, sizeof(ref_json), &ref);
		if (used + 1024 > cap) {
			char *b = realloc(out, cap * 2);
			if (!b)
				break;
			out = b;
			cap *= 2;
		}
		used += (size_t)snprintf(out + used, cap - used,
			"%s\n  {\"name\": \"%s\", \"accepted\": %s, \"refused\": %s, "
			"\"error\": %s%s%s}", count > 1 ? "," : "", name,
			fault[0] ? "null" : ref.refused ? "false" : "true",
			fault[0] ? "null" : ref_json, fault[0] ? "\"" : "",
			fault[0] ? fault : "null", fault[0] ? "\"" : "");
	}
	used += (size_t)snprintf(out + used, cap - used, "]}\n");
	step("%u variants of the own profile: %u accepted, %u refused, %u lab faults",
	     count, count - nref - nerr, nref, nerr);
	cf_a64vm_destroy(vm);
	own->cfg = orig_cfg;
	cf_config_unref(priv);
	emit("variants.json", out, used);
	free(out);
	free(txt);
	return NULL;
}

static const char *job_verify(const char *host, uint32_t features)
{
	static const char *const names[2] = { "own", "baseline" };
	struct cf_profile *prof[2] = {
		load_profile(IN "own.json"), load_profile(IN "baseline.json"),
	};
	static uint64_t keys[MAX_REGS];
	static struct gen g;
	char out[65536], ref_json[512], save_json[2][768];
	struct cf_apply_refusal ref;
	struct cf_diag d;
	size_t nkeys, used = 0, nmis = 0;
	const char *fail = NULL;
	uint64_t data;
	bool match = true;

	if (!prof[0] || !prof[1])
		return "profiles";
	char cli_line[200];
	int cli_rc = cli_apply(IN "baseline.json", cli_line, sizeof(cli_line));
	step("cpufleet apply --check-only baseline.json: exit %d: %s", cli_rc,
	     cli_line);
	/* Another host's own profile: exercises the refusal path. */
	char probe_line[200] = "";
	int probe_rc = -2;
	if (access(IN "probe.json", R_OK) == 0) {
		probe_rc = cli_apply(IN "probe.json", probe_line, sizeof(probe_line));
		step("cpufleet apply --check-only probe.json: exit %d: %s", probe_rc,
		     probe_line);
	}
	/* (c) the baseline, read back by a guest with MRS. */
	step("applying the pool baseline and reading it back in a guest");
	struct cf_a64vm *vm = vm_with(features, prof[1], &ref);
	if (!vm)
		return "vm";
	refusal_json(ref_json, sizeof(ref_json), &ref);
	used += (size_t)snprintf(out + used, sizeof(out) - used,
		"{\"host\": \"%s\",\n \"cli_apply\": {\"exit\": %d, \"output\": \"%s\"},"
		"\n \"cli_probe\": {\"exit\": %d, \"output\": \"%s\"},"
		"\n \"apply\": {\"profile\": \"baseline\", "
		"\"accepted\": %s, \"refused\": %s, \"guest_regs\": {",
		host, cli_rc, cli_line, probe_rc, probe_line,
		ref.refused ? "false" : "true", ref_json);
	nkeys = profile_keys(prof[1], keys);
	if (!ref.refused) {
		read_guest(&g, keys, nkeys);
		if (cf_a64vm_load(vm, g.w, g.n, guest_x, &d) != CF_OK ||
		    cf_a64vm_run_to_mmio(vm, &data, &d) != CF_OK) {
			step("guest failed: %.150s", d.msg);
			cf_a64vm_destroy(vm);
			return "guest";
		}
		const uint64_t *area = (const uint64_t *)(cf_a64vm_ram(vm) + AREA_A);
		for (size_t i = 0; i < nkeys; i++) {
			char name[40];
			uint64_t want = 0;
			cf_arch_regname(prof[1]->arch, keys[i], name, sizeof(name));
			cf_config_get(prof[1]->cfg, keys[i], &want, NULL);
			used += (size_t)snprintf(out + used, sizeof(out) - used,
				"%s\"%s\": \"0x%016llx\"", i ? ", " : "", name,
				(unsigned long long)area[i]);
			if (area[i] != want) {
				match = false;
				nmis++;
				step("MISMATCH %s: profile 0x%016llx guest 0x%016llx",
				     name, (unsigned long long)want,
				     (unsigned long long)area[i]);
			}
		}
	} else {
		match = false;
		step("baseline REFUSED: %s", ref.text);
	}
	cf_a64vm_destroy(vm);
	used += (size_t)snprintf(out + used, sizeof(out) - used,
		"}, \"mismatches\": %zu, \"match\": %s},\n \"save\": {",
		nmis, match ? "true" : "false");
	/* (d) a counting guest under each profile, saved. */
	for (int p = 0; p < 2; p++) {
		struct state_writer w = { 0 };
		uint64_t counter = 0;
		char fname[64];
		step("running a counting guest under the %s profile", names[p]);
		vm = vm_with(features, prof[p], &ref);
		if (!vm)
			return "vm";
		refusal_json(ref_json, sizeof(ref_json), &ref);
		if (!ref.refused) {
			nkeys = profile_keys(prof[p], keys);
			counter_guest(&g, keys, nkeys);
			if (cf_a64vm_load(vm, g.w, g.n, guest_x, &d) != CF_OK)
				fail = "load";
			for (int e = 0; !fail && e < SAVE_EXITS; e++)
				if (cf_a64vm_run_to_mmio(vm, &counter, &d) != CF_OK)
					fail = "run";
			if (!fail && cf_a64vm_settle(vm, &d) != CF_OK)
				fail = "settle";
			if (!fail && save_state(vm, features, counter, &w) != 0)
				fail = "save";
			if (fail) {
				step("%s failed: %s", fail, d.msg);
				free(w.buf);
				cf_a64vm_destroy(vm);
				return fail;
			}
			snprintf(fname, sizeof(fname), "state__%s.bin", names[p]);
			emit(fname, w.buf, w.len);
			free(w.buf);
		} else {
			step("%s profile REFUSED on its own host: %s", names[p],
			     ref.text);
		}
		snprintf(save_json[p], sizeof(save_json[p]),
			 "\"%s\": {\"accepted\": %s, \"refused\": %s, "
			 "\"counter\": %llu}", names[p],
			 ref.refused ? "false" : "true", ref_json,
			 (unsigned long long)counter);
		cf_a64vm_destroy(vm);
	}
	used += (size_t)snprintf(out + used, sizeof(out) - used, "%s, %s}}\n",
				 save_json[0], save_json[1]);
	emit("verify.json", out, strlen(out));
	if (access(IN "variants.txt", R_OK) == 0) {
		step("applying one-field variants of the own profile");
		fail = run_variants(host, features, prof[0]);
	}
	cf_profile_destroy(prof[0]);
	cf_profile_destroy(prof[1]);
	return fail;
}

/* Names the register KVM refused and, for a catalogue register, the field
 * the engine's rule blames with this host's limit and mask. */
static void name_refusal(struct cf_a64vm *vm, const char *host, uint64_t id,
			 uint64_t want, uint64_t lim, const uint64_t *masks,
			 int err, uint64_t got, struct cf_apply_refusal *ref)
{
	const struct cf_catalog *cat = &cf_arm64_catalog;
	uint64_t key;

	if (cf_a64_classify(id, &key) == CF_A64_OTHER) {
		memset(ref, 0, sizeof(*ref));
		ref->refused = true;
		ref->err = err;
		snprintf(ref->reg, sizeof(ref->reg), "0x%016llx",
			 (unsigned long long)id);
		return;
	}
	/* Whether this KVM offers what the register needs to take another
	 * value (catalogue `wcap`), as check reads it from the report. */
	int ri = cf_catalog_find_key(cat, key);
	int ci = ri >= 0 && cat->regs[ri].wcap ?
		 cf_catalog_find_name(cat, cat->regs[ri].wcap) : -1;
	bool wcap = ci < 0 || cf_a64vm_cap(vm, CF_CAP_NR(cat->regs[ci].key)) > 0;
	cf_arm64_refusal(ref, cf_arch_find("arm64"), host, key, want, lim,
			 cf_a64_writable_of(key, masks), wcap, err, got);
}

struct saved {
	unsigned char *buf;
	uint32_t features, nregs;
	uint64_t counter;
	uint64_t *ids;
	const unsigned char **vals;
	const unsigned char *ram;
};

static int parse_state(unsigned char *s, size_t n, struct saved *st)
{
	size_t o = 24;

	if (n < 24 || memcmp(s, STATE_MAGIC, 8) != 0)
		return -1;
	memcpy(&st->features, s + 8, 4);
	memcpy(&st->nregs, s + 12, 4);
	memcpy(&st->counter, s + 16, 8);
	if (st->nregs > 65536)
		return -1;
	st->ids = calloc(st->nregs ? st->nregs : 1, sizeof(uint64_t));
	st->vals = calloc(st->nregs ? st->nregs : 1, sizeof(*st->vals));
	if (!st->ids || !st->vals)
		return -1;
	for (uint32_t i = 0; i < st->nregs; i++) {
		if (o + 8 > n)
			return -1;
		memcpy(&st->ids[i], s + o, 8);
		o += 8;
		st->vals[i] = s + o;
		o += reg_size(st->ids[i]);
		if (o > n)
			return -1;
	}
	uint32_t ram;
	if (o + 4 > n)
		return -1;
	memcpy(&ram, s + o, 4);
	if (ram != CF_A64_RAM_SIZE || o + 4 + ram > n)
		return -1;
	st->ram = s + o + 4;
	return 0;
}

/* The saved guest's ID registers as a profile, for cf_a64guest_create:
 * the VM capabilities they need on this host (KVM_CAP_ARM_WRITABLE_IMP_ID_REGS
 * where MIDR/REVIDR/AIDR are not this host's) are enabled before the vCPU
 * exists, as a VMM restoring the guest would. */
static struct cf_profile *state_profile(const struct saved *st)
{
	struct cf_profile *pr = NULL;

	if (cf_profile_alloc(cf_arch_find("arm64"), &pr) != CF_OK)
		return NULL;
	for (uint32_t i = 0; i < st->nregs; i++) {
		uint64_t key, v;
		if (cf_a64_classify(st->ids[i], &key) != CF_A64_ID ||
		    reg_size(st->ids[i]) != 8)
			continue;
		memcpy(&v, st->vals[i], 8);
		if (cf_config_set(pr->cfg, key, v) != CF_OK) {
			cf_profile_destroy(pr);
			return NULL;
		}
	}
	return pr;
}

/* Restores one saved guest: SVE lengths and the vCPU features (KVM facts
 * and capabilities the lab programs), feature ID registers, then the vGIC
 * and PMU, then every other register (PMCR_EL0.N read back) and the memory;
 * resumes it and checks it goes on where it stopped with the same ID
 * registers.  Only KVM refusing a named register is a refusal; anything
 * else that goes wrong is a lab fault ("error", kvm_ok null). */
static void restore_one(const char *host, const char *file, char *out,
			size_t len)
{
	char from[64], prof[32], path[512], refused_json[400] = "null";
	char fault[200] = "";
	struct cf_apply_refusal rf = { 0 };
	struct saved st = { 0 };
	struct cf_a64vm *vm = NULL;
	struct cf_diag d;
	uint64_t c1 = 0, c2 = 0, masks[192];
	size_t n = 0;
	bool refused = false;
	int err = 0;

	if (strlen(file) >= sizeof(from))
		return;
	memcpy(from, file, strlen(file) + 1);
	char *sep = strstr(from, "__");
	if (!sep)
		return;
	*sep = '\0';
	snprintf(prof, sizeof(prof), "%s", sep + 2);
	prof[strcspn(prof, ".")] = '\0';
	snprintf(path, sizeof(path), IN "states/%s", file);
	st.buf = (unsigned char *)slurp(path, &n);
	if (!st.buf || parse_state(st.buf, n, &st) != 0) {
		snprintf(fault, sizeof(fault), "bad state file");
		goto report;
	}
	step("restoring %s's guest (%s profile)", from, prof);
	/* SVE lengths go in before finalize, so before anything else. */
	const uint64_t *vls = NULL;
	uint64_t vls_buf[8];
	for (uint32_t i = 0; i < st.nregs; i++)
		if (st.ids[i] == SVE_VLS_ID) {
			memcpy(vls_buf, st.vals[i], sizeof(vls_buf));
			vls = vls_buf;
		}
	struct cf_profile *spr = state_profile(&st);
	if (!spr) {
		snprintf(fault, sizeof(fault), "out of memory");
		goto report;
	}
	enum cf_err cerr = cf_a64guest_create(st.features, spr, vls, &rf, &vm, &d);
	cf_profile_destroy(spr);
	if (cerr != CF_OK) {
		snprintf(fault, sizeof(fault), "VM creation failed: %.150s", d.msg);
		goto report;
	}
	if (!cf_a64vm_writable_masks(vm, masks))
		memset(masks, 0, sizeof(masks));
	if (rf.refused) {
		refused = true;
		err = rf.err;
		step("KVM refused %s", rf.text);
	}
	for (int pass = 0; pass < 2 && !refused && !fault[0]; pass++) {
		if (pass == 1 && cf_a64vm_finish(vm, &d) != CF_OK) {
			snprintf(fault, sizeof(fault), "vGIC/PMU init: %.150s", d.msg);
			break;
		}
		for (uint32_t i = 0; i < st.nregs && !refused; i++) {
			uint64_t id = st.ids[i], lim = 0, want = 0, back = 0, key;
			enum cf_a64_regclass cls = cf_a64_classify(id, &key);
			if ((cls == CF_A64_ID) != (pass == 0) || id == SVE_VLS_ID)
				continue;
			if (reg_size(id) == 8) {
				cf_a64vm_get(vm, id, &lim);
				memcpy(&want, st.vals[i], 8);
			}
			err = cf_a64vm_set_raw(vm, id, st.vals[i]);
			if (!err && id == PMCR_EL0_ID &&
			    pmcr_refused(vm, host, want, lim, &rf)) {
				refused = true;
				step("KVM kept PMCR_EL0.N %llu (wanted %llu)",
				     (unsigned long long)rf.got,
				     (unsigned long long)PMCR_N(want));
				continue;
			}
			/* ID and firmware registers must read back as written (a
			 * value KVM silently adjusted is a refusal too), except
			 * those KVM only checks. */
			if (!err && cls != CF_A64_OTHER && reg_size(id) == 8 &&
			    !(cf_arm64_catalog.regs[cf_catalog_find_key(
				    &cf_arm64_catalog, key)].flags & CF_REG_CHECKONLY) &&
			    (cf_a64vm_get(vm, id, &back) != 0 || back != want)) {
				refused = true;
				name_refusal(vm, host, id, want, lim, masks, 0, back,
					     &rf);
				step("KVM kept 0x%llx for %s (wanted 0x%llx)",
				     (unsigned long long)back, rf.reg,
				     (unsigned long long)want);
				continue;
			}
			if (!err)
				continue;
			refused = true;
			name_refusal(vm, host, id, want, lim, masks, err, lim, &rf);
			step("KVM refused %s (%s) %s", rf.reg, strerror(err), rf.text);
		}
	}
	if (refused) {
		refusal_named(refused_json, sizeof(refused_json), &rf);
	} else if (!fault[0]) {
		memcpy(cf_a64vm_ram(vm), st.ram, CF_A64_RAM_SIZE);
		if (cf_a64vm_run_to_mmio(vm, &c1, &d) != CF_OK ||
		    cf_a64vm_run_to_mmio(vm, &c2, &d) != CF_OK) {
			snprintf(fault, sizeof(fault), "resume failed: %.150s", d.msg);
		} else {
			const unsigned char *ram = cf_a64vm_ram(vm);
			if (c1 != st.counter + ITERS || c2 != c1 + ITERS)
				snprintf(fault, sizeof(fault), "counter did not go on: "
					 "saved %llu, then %llu, %llu",
					 (unsigned long long)st.counter,
					 (unsigned long long)c1,
					 (unsigned long long)c2);
			else if (memcmp(ram + AREA_A, ram + AREA_B,
					AREA_B - AREA_A) != 0)
				snprintf(fault, sizeof(fault),
					 "ID registers changed after the move");
		}
	}
report:
	if (fault[0])
		step("lab fault restoring %s/%s: %s", from, prof, fault);
	fault[strcspn(fault, "\"\\\n")] = '\0';
	snprintf(out, len, "{\"from\": \"%s\", \"profile\": \"%s\", "
		 "\"accepted\": %s, \"refused\": %s, \"error\": %s%s%s, "
		 "\"counter_saved\": %llu, \"counter_after\": %llu, "
		 "\"kvm_ok\": %s}",
		 from, prof, refused ? "false" : "true", refused_json,
		 fault[0] ? "\"" : "", fault[0] ? fault : "null",
		 fault[0] ? "\"" : "", (unsigned long long)st.counter,
		 (unsigned long long)c2,
		 fault[0] ? "null" : refused ? "false" : "true");
	cf_a64vm_destroy(vm);
	free(st.ids);
	free(st.vals);
	free(st.buf);
}

/* fctemplate: a Firecracker template (template.json, from `cpufleet export
 * --format firecracker` of own.json) applied the way Firecracker applies
 * one (firecracker-microvm/firecracker src/vmm/src/arch/aarch64/vcpu.rs
 * init: vcpu_features on kvm_vcpu_init.features over its default, PSCI
 * 0.2, then KVM_ARM_VCPU_INIT and finalize; cpu_config/aarch64/mod.rs:
 * every reg_modifier's register read with KVM_GET_ONE_REG, then each
 * written back as host & ~filter | value), then a guest reads every
 * system register of own.json with MRS. */
static const char *job_fctemplate(const char *host)
{
	struct cf_profile *pr = load_profile(IN "own.json");
	size_t len = 0;
	char *text = slurp(IN "template.json", &len);
	cJSON *t = text ? cJSON_Parse(text) : NULL, *it;
	static uint64_t keys[MAX_REGS], ids[MAX_REGS], vals[MAX_REGS], filt[MAX_REGS],
		forced[MAX_REGS];
	static char out[65536];
	static struct gen g;
	uint32_t features = CF_A64_FEAT_PSCI;
	struct cf_a64vm *vm = NULL;
	struct cf_diag d = { "" };
	size_t n = 0, nkeys, used, nmis = 0;
	char refused[256] = "null";
	uint64_t data;
	const char *fail = NULL;

	free(text);
	if (!pr || !t)
		return "template.json or own.json";
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(t, "vcpu_features")) {
		uint64_t f, v;
		cJSON *bm = cJSON_GetObjectItem(it, "bitmap");
		if (cJSON_GetObjectItem(it, "index")->valueint != 0 ||
		    !cJSON_IsString(bm) || !cf_fc_bitmap(bm->valuestring, 32, &f, &v))
			return "vcpu_features";
		features = (uint32_t)((features & ~f) | v);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(t, "reg_modifiers")) {
		cJSON *a = cJSON_GetObjectItem(it, "addr"), *bm = cJSON_GetObjectItem(it, "bitmap");
		if (n == MAX_REGS || !cJSON_IsString(a) || !cJSON_IsString(bm) ||
		    !cf_fc_bitmap(bm->valuestring, 64, &filt[n], &forced[n]))
			return "reg_modifiers";
		ids[n++] = strtoull(a->valuestring, NULL, 16);
	}
	cJSON_Delete(t);
	step("template: vCPU features 0x%x, %zu reg_modifiers", features, n);
	if (cf_a64vm_create(features, &vm, &d) != CF_OK) {
		step("VM creation failed: %.150s", d.msg);
		return "vm";
	}
	for (size_t i = 0; i < n && !fail; i++)
		if (cf_a64vm_get(vm, ids[i], &vals[i]) != 0)
			fail = "KVM_GET_ONE_REG";
	for (size_t i = 0; i < n && !fail && !strcmp(refused, "null"); i++) {
		uint64_t want = (vals[i] & ~filt[i]) | (forced[i] & filt[i]), back = 0;
		int e = cf_a64vm_set(vm, ids[i], want);
		if (e || cf_a64vm_get(vm, ids[i], &back) != 0 || back != want) {
			snprintf(refused, sizeof(refused), "{\"addr\": \"0x%llx\", "
				 "\"errno\": \"%s\", \"want\": \"0x%016llx\", \"got\": "
				 "\"0x%016llx\"}", (unsigned long long)ids[i],
				 errno_name(e), (unsigned long long)want,
				 (unsigned long long)back);
			step("KVM refused 0x%llx: %s", (unsigned long long)ids[i],
			     errno_name(e));
		}
	}
	if (!fail && !strcmp(refused, "null") && cf_a64vm_finish(vm, &d) != CF_OK)
		fail = "vGIC/PMU init";
	used = (size_t)snprintf(out, sizeof(out), "{\"host\": \"%s\", \"features\": "
				"\"0x%x\", \"modifiers\": %zu, \"refused\": %s, "
				"\"guest_regs\": {", host, features, n, refused);
	nkeys = profile_keys(pr, keys);
	if (!fail && !strcmp(refused, "null")) {
		read_guest(&g, keys, nkeys);
		if (cf_a64vm_load(vm, g.w, g.n, guest_x, &d) != CF_OK ||
		    cf_a64vm_run_to_mmio(vm, &data, &d) != CF_OK)
			fail = "guest";
	}
	if (fail) {
		step("%s failed: %.150s", fail, d.msg);
		cf_a64vm_destroy(vm);
		cf_profile_destroy(pr);
		return fail;
	}
	const uint64_t *area = (const uint64_t *)(cf_a64vm_ram(vm) + AREA_A);
	for (size_t i = 0; !strcmp(refused, "null") && i < nkeys; i++) {
		char name[40];
		uint64_t want = 0;
		cf_arch_regname(pr->arch, keys[i], name, sizeof(name));
		cf_config_get(pr->cfg, keys[i], &want, NULL);
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s\"%s\": \"0x%016llx\"", i ? ", " : "",
					 name, (unsigned long long)area[i]);
		if (area[i] != want) {
			nmis++;
			step("MISMATCH %s: profile 0x%016llx guest 0x%016llx", name,
			     (unsigned long long)want, (unsigned long long)area[i]);
		}
	}
	used += (size_t)snprintf(out + used, sizeof(out) - used,
				 "}, \"read\": %zu, \"mismatches\": %zu}\n",
				 strcmp(refused, "null") ? 0 : nkeys, nmis);
	emit("fctemplate.json", out, used);
	cf_a64vm_destroy(vm);
	cf_profile_destroy(pr);
	return NULL;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static const char *job_restore(const char *host)
{
	struct dirent **ents = NULL;
	static char out[131072];
	char one[1024];
	size_t used;
	int n = scandir(IN "states", &ents, NULL, by_name), first = 1;

	if (n < 0)
		return "states";
	used = (size_t)snprintf(out, sizeof(out), "{\"host\": \"%s\",\n "
				"\"results\": [", host);
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			one[0] = '\0';
			restore_one(host, ents[i]->d_name, one, sizeof(one));
			if (one[0] && used < sizeof(out))
				used += (size_t)snprintf(out + used, sizeof(out) - used,
							 "%s\n  %s", first ? "" : ",",
							 one);
			first = 0;
		}
		free(ents[i]);
	}
	free(ents);
	if (used < sizeof(out))
		used += (size_t)snprintf(out + used, sizeof(out) - used, "]}\n");
	if (used >= sizeof(out))
		return "restore.json too large";
	emit("restore.json", out, strlen(out));
	return NULL;
}

/* ---- errata targets: the discovery hypercalls (arch/arm64/smccc.h) ----
 *
 * The guest calls KVM's features call (0x86000000: R2 is the bitmap of
 * vendor functions 64-95, where BMAP_2 shows), DISCOVER_IMPL_VER
 * (0xC6000040) and DISCOVER_IMPL_CPUS (0xC6000041) for every index from 0
 * to the count VER gave (capped at x7), one past the end included, and
 * stores x0..x3 of each call: features at x5+0, VER at x5+32, CPUS(i) at
 * x5+64+32*i.  Then it stores the number of CPUS calls to x6 (the exit).
 * Encodings from GNU as (aarch64-linux-gnu-as) of the source shown. */
static const uint32_t errata_guest[] = {
	0xd2b0c000, /* movz x0, #0x8600, lsl #16 */
	0xd4000002, /* hvc #0 */
	0xa90004a0, /* stp x0, x1, [x5] */
	0xa9010ca2, /* stp x2, x3, [x5, #16] */
	0xd2800800, /* movz x0, #0x40 */
	0xf2b8c000, /* movk x0, #0xc600, lsl #16 */
	0xd2800001, /* movz x1, #0 */
	0xd2800002, /* movz x2, #0 */
	0xd2800003, /* movz x3, #0 */
	0xd4000002, /* hvc #0 */
	0xa90204a0, /* stp x0, x1, [x5, #32] */
	0xa9030ca2, /* stp x2, x3, [x5, #48] */
	0xaa0203e9, /* mov x9, x2 */
	0xeb07013f, /* cmp x9, x7 */
	0x54000049, /* b.ls 1f */
	0xaa0703e9, /* mov x9, x7 */
	0xd280000a, /* 1: movz x10, #0 */
	0x910100ab, /* add x11, x5, #64 */
	0xeb09015f, /* 2: cmp x10, x9 */
	0x54000168, /* b.hi 3f */
	0xd2800820, /* movz x0, #0x41 */
	0xf2b8c000, /* movk x0, #0xc600, lsl #16 */
	0xaa0a03e1, /* mov x1, x10 */
	0xd2800002, /* movz x2, #0 */
	0xd2800003, /* movz x3, #0 */
	0xd4000002, /* hvc #0 */
	0xa8810560, /* stp x0, x1, [x11], #16 */
	0xa8810d62, /* stp x2, x3, [x11], #16 */
	0x9100054a, /* add x10, x10, #1 */
	0x17fffff5, /* b 2b */
	0xf90000ca, /* 3: str x10, [x6] */
	0x14000000, /* b . */
};
#define ERRATA_MAX 128 /* CPUS calls past index 0, within AREA_A..AREA_B */

static size_t hex4(char *buf, size_t len, const uint64_t *x)
{
	return (size_t)snprintf(buf, len, "[\"0x%llx\", \"0x%llx\", \"0x%llx\", "
				"\"0x%llx\"]", (unsigned long long)x[0],
				(unsigned long long)x[1], (unsigned long long)x[2],
				(unsigned long long)x[3]);
}

/* The pool baseline applied, the discovery calls armed
 * (cf_arm64_apply_errata) and served (cf_a64vm_serve_errata); what the
 * guest read, raw, in errata.json: the lab compares it with the list in
 * the profile file it gave. */
static const char *job_errata(const char *host, uint32_t features)
{
	static char out[65536];
	struct cf_profile *pr = load_profile(IN "baseline.json");
	struct cf_apply_refusal ref;
	struct cf_arm64_errata st = { 0 };
	struct cf_a64vm *vm;
	struct cf_diag d;
	struct utsname u;
	char ref_json[512], why[CF_TEXT_MAX + 8] = "null";
	const uint64_t x[8] = { 0, 0, 0, 0, 0, CF_A64_RAM_BASE + AREA_A,
				CF_A64_MMIO_EXIT, ERRATA_MAX };
	uint64_t calls = 0;
	size_t used;
	int vfd, cap;

	if (!pr)
		return "profile";
	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	step("applying the pool baseline and arming the discovery hypercalls");
	vm = vm_with(features, pr, &ref);
	if (!vm) {
		cf_profile_destroy(pr);
		return "vm";
	}
	cap = cf_a64vm_cap(vm, KVM_CAP_ARM_WRITABLE_IMP_ID_REGS);
	vfd = cf_a64vm_vcpu_fd(vm);
	if (!ref.refused && cf_arm64_apply_errata(cf_a64vm_vm_fd(vm), &vfd, 1, pr,
						  &st, &d) != CF_OK) {
		step("arming failed: %.150s", d.msg);
		cf_a64vm_destroy(vm);
		cf_profile_destroy(pr);
		return "errata";
	}
	refusal_json(ref_json, sizeof(ref_json), &ref);
	if (!st.armed && !ref.refused) {
		st.why[strcspn(st.why, "\"\\\n")] = '\0';
		snprintf(why, sizeof(why), "\"%s\"", st.why);
		step("not armed: %s", st.why);
	}
	used = (size_t)snprintf(out, sizeof(out), "{\"host\": \"%s\", \"kernel\": "
				"\"%s\", \"writable_imp_id_regs_cap\": %d,\n "
				"\"accepted\": %s, \"refused\": %s, \"armed\": %s, "
				"\"why\": %s", host, u.release, cap,
				ref.refused ? "false" : "true", ref_json,
				st.armed ? "true" : "false", why);
	if (st.armed) {
		const uint64_t *a = (const uint64_t *)(cf_a64vm_ram(vm) + AREA_A);
		cf_a64vm_serve_errata(vm, pr);
		if (cf_a64vm_load(vm, errata_guest, sizeof(errata_guest) / 4, x,
				  &d) != CF_OK ||
		    cf_a64vm_run_to_mmio(vm, &calls, &d) != CF_OK) {
			step("guest failed: %.150s", d.msg);
			cf_a64vm_destroy(vm);
			cf_profile_destroy(pr);
			return "guest";
		}
		step("guest made %llu DISCOVER_IMPL_CPUS calls",
		     (unsigned long long)calls);
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 ",\n \"features\": ");
		used += hex4(out + used, sizeof(out) - used, a);
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 ",\n \"version\": ");
		used += hex4(out + used, sizeof(out) - used, a + 4);
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 ",\n \"cpus\": [");
		for (uint64_t i = 0; i < calls && i <= ERRATA_MAX; i++) {
			used += (size_t)snprintf(out + used, sizeof(out) - used,
						 "%s\n  ", i ? "," : "");
			used += hex4(out + used, sizeof(out) - used, a + 8 + 4 * i);
		}
		used += (size_t)snprintf(out + used, sizeof(out) - used, "]");
	}
	snprintf(out + used, sizeof(out) - used, "}\n");
	cf_a64vm_destroy(vm);
	cf_profile_destroy(pr);
	emit("errata.json", out, strlen(out));
	return NULL;
}

int main(void)
{
	char job[32], host[64], feats[128];
	const char *fail = "unknown job";
	uint32_t features;

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	/* Kernel messages must not land inside the base64 on the console. */
	klogctl(8, NULL, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_word(IN "job", job, sizeof(job), "");
	read_word(IN "host-id", host, sizeof(host), "host");
	read_word(IN "features", feats, sizeof(feats), "psci,pmu");
	if (cf_arm64_parse_features(feats, &features) != CF_OK) {
		step("unknown vCPU feature in '%s'", feats);
		features = CF_ARM64_FEAT_DEFAULT;
	}
	g_features = feats;
	step("host %s: job %s", host, job);
	if (!strcmp(job, "collect"))
		fail = job_collect(host, features);
	else if (!strcmp(job, "verify"))
		fail = job_verify(host, features);
	else if (!strcmp(job, "restore"))
		fail = job_restore(host);
	else if (!strcmp(job, "errata"))
		fail = job_errata(host, features);
	else if (!strcmp(job, "fctemplate"))
		fail = job_fctemplate(host);
	if (fail)
		step("job failed: %s", fail);
	printf("@@CF DONE %d\n", fail ? 1 : 0);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
