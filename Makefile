# cpufleet: `make` builds, `make run` shows the example fleet, `make check`
# runs every test (plain and ASan/UBSan), `make bench` measures.
# `make deps` installs missing Debian packages; run and check call it.

BUILD    ?= build
SAN      ?= 0
CC       ?= cc
AWK      ?= awk
# The capability catalogue; another file builds a variant (the integration
# test rebuilds with one more capability in a temporary BUILD).
CAPS_TXT ?= arch/caps/caps.txt

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS = -D_GNU_SOURCE -I. -Iinclude -I$(BUILD)/gen
CFLAGS   = -std=c11 -O2 -g -fPIC $(WARN)
LDLIBS   = -lcjson
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# V=1 shows full compiler command lines.
ifeq ($(V),1)
Q =
else
Q = @
endif

DEB_PKGS = gcc make mawk pkg-config python3 libcjson-dev libcunit1-dev \
           clang libclang-rt-14-dev libsqlite3-dev libmicrohttpd-dev \
           libcurl4-gnutls-dev nettle-dev curl sqlite3 openssl libvirt-clients

GEN_C    = $(BUILD)/gen/arm64_catalog.c
GEN_X86  = $(BUILD)/gen/x86_catalog.c
LIB_SRC  = util/err.c util/diag.c util/sha256.c \
           engine/catalog.c engine/arch.c engine/config.c engine/identity.c \
           engine/report.c \
           engine/pool.c engine/profile.c engine/baseline.c engine/check.c \
           engine/explain.c engine/decode.c engine/pools.c \
           arch/arm64/arm64.c arch/arm64/collect.c arch/arm64/apply.c \
           profiles/doc.c profiles/regmap.c profiles/report_doc.c \
           profiles/profile_doc.c profiles/verdict_doc.c profiles/section.c \
           profiles/x86_doc.c arch/x86/x86.c arch/x86/collect.c \
           arch/x86/x86vm.c arch/x86/apply.c arch/x86/guest.c
CLI_SRC  = tools/cpufleet.c tools/cli_util.c tools/cmd_baseline.c \
           tools/cmd_check.c tools/cmd_explain.c tools/cmd_show.c \
           tools/cmd_matrix.c tools/cmd_pools.c tools/cmd_collect.c \
           tools/cmd_apply.c
TEST_SRC = $(sort $(wildcard tests/unit/*.c))
BENCH_SRC= tools/bench.c

# KVM access for arm64 exists only in aarch64 builds.
ifneq ($(filter aarch64%,$(shell $(CC) -dumpmachine)),)
LIB_SRC += arch/arm64/a64vm.c
endif
# The service side (database, server, agent) needs SQLite, libmicrohttpd
# and libcurl; NET=0 leaves it out (the lab's aarch64 cross build).
NET ?= 1
NET_SRC  = db/db.c agent/spool.c agent/client.c agent/agent.c \
           server/server.c server/writer.c server/api.c tools/cmd_server.c tools/cmd_token.c \
           tools/cmd_agent.c tools/cmd_remote.c tools/remote.c
ifeq ($(NET),1)
CLI_SRC += $(NET_SRC)
CPPFLAGS += -DCF_NET=1
NET_LIBS = -lsqlite3 -lmicrohttpd -lcurl -lpthread
endif
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/arm64_catalog.o \
           $(BUILD)/obj/gen/x86_catalog.o
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
NET_OBJ  = $(filter-out $(BUILD)/obj/tools/%,$(NET_SRC:%.c=$(BUILD)/obj/%.o))
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     = $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

.PHONY: all deps run check unit gen-test cli-test fuzz fuzz-smoke bench clean \
        integration-test x86-test \
        lab lab-setup lab-agent kvm-test harness-test lab-build lab-boot-test lab-sve lab-all lab-pool \
        mutate

all: $(BUILD)/cpufleet $(BUILD)/libcpufleet.a $(BUILD)/libcpufleet.so

deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	else echo "deps: all present"; fi

$(GEN_C): arch/arm64/idregs.txt $(CAPS_TXT) arch/caps/caps.awk \
          arch/arm64/gen_catalog.awk
	@mkdir -p $(dir $@)
	$(AWK) -v sym=cf_arm64_catalog -v arch=arm64 \
	  -f arch/caps/caps.awk -f arch/arm64/gen_catalog.awk arch/arm64/idregs.txt \
	  $(CAPS_TXT) > $@.tmp && mv $@.tmp $@

$(GEN_X86): arch/x86/cpuid.txt $(CAPS_TXT) arch/caps/caps.awk \
            arch/x86/gen_cpuid.awk
	@mkdir -p $(dir $@)
	$(AWK) -v sym=cf_x86_catalog -f arch/caps/caps.awk -f arch/x86/gen_cpuid.awk arch/x86/cpuid.txt \
	  $(CAPS_TXT) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c | $(GEN_C) $(GEN_X86)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcpufleet.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The soname (libcpufleet.so.MAJOR) and VERSION are in mk/install.mk.
$(BUILD)/libcpufleet.so: $(LIB_OBJ) mk/install.mk
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/cpufleet: $(CLI_OBJ) $(BUILD)/libcpufleet.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcpufleet.a $(LDLIBS) \
	  $(NET_LIBS)

$(BUILD)/test_unit: $(TEST_OBJ) $(NET_OBJ) $(BUILD)/libcpufleet.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(NET_OBJ) $(BUILD)/libcpufleet.a \
	  $(LDLIBS) $(NET_LIBS) -lcunit -lnettle

$(BUILD)/bench: $(BENCH_SRC) $(BUILD)/libcpufleet.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -O3 -o $@ $< $(BUILD)/libcpufleet.a $(LDLIBS)

$(BUILD)/bench_server: tools/bench_server.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lcjson -lpthread

# The example fleet: 6 hosts (N1, V1, A72) as KVM 6.12 reports them, and the
# three real dumps with every field assumed writable (tests/data/README.md).
# The main job on the embedded default: server, agent, the example fleet,
# pools, a published baseline and its verdict matrix (tools/run.sh).
run: deps all
	sh tools/run.sh $(BUILD)/cpufleet $(BUILD)/run

unit: $(BUILD)/test_unit
	$(BUILD)/test_unit

gen-test:
	sh tests/gen/run.sh
	sh tests/gen/x86.sh
	python3 tests/gen/kernel_arm64.py
	python3 tests/gen/kernel_x86.py
	python3 tests/gen/golden.py

# x86 against peers: libvirt's offline cpu-baseline on the same CPUs, and
# Firecracker's T2CL template on its Cascade Lake and Ice Lake fingerprints.
x86-test: $(BUILD)/cpufleet
	python3 tests/x86/libvirt.py
	CPUFLEET=$(BUILD)/cpufleet python3 tests/x86/firecracker.py

cli-test: $(BUILD)/cpufleet
	sh tests/cli/run.sh $(BUILD)/cpufleet

kvm-test: $(BUILD)/cpufleet
	sh tests/kvm/run.sh $(BUILD)/cpufleet
	sh tests/kvm/x86.sh $(BUILD)/cpufleet

# The harnesses' own rules, no KVM or QEMU needed: the lab's pass rules and
# variant generator (a lab fault is an error, a misnamed refusal fails), and
# the KVM scripts' skips (counted, by name) against a fake cpufleet; the
# mutation runner against mutants whose fate is known.
harness-test: $(BUILD)/cpufleet
	python3 tests/lab/strict.py $(BUILD)/cpufleet
	sh tests/kvm/selftest.sh $(BUILD)/cpufleet
	sh tests/check/run.sh
	sh tests/mutate/selftest.sh

# The mutation run (tools/mutate/run.py): mutants of the engine and of the
# catalogues, each built and judged by the fast suites in a scratch copy of
# the tree (build/mutate/), with a score and the survivors' reasons.  Not
# part of check: about an hour on 2 cores.  MUTATE_ONLY=PATTERN[,PATTERN...]
# runs the mutants whose id or family contains (or globs) one of them;
# MUTATE_ARGS passes more options (--jobs 2, --list).
MUTATE_ONLY ?=
MUTATE_ARGS ?=
mutate: all $(BUILD)/test_unit
	python3 tools/mutate/run.py $(if $(MUTATE_ONLY),--only '$(MUTATE_ONLY)') $(MUTATE_ARGS)

# The real server on loopback with temporary databases, driven by real
# agents and HTTP requests: crash, outage, auth matrix, bad input, TLS.
integration-test: $(BUILD)/cpufleet
	python3 tests/integration/run.py $(BUILD)/cpufleet

# libFuzzer targets, built with clang over the library sources.
FUZZ_TARGETS = fuzz_report fuzz_profile
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -std=c11 -g -O1 -D_GNU_SOURCE -I. -Iinclude -Ibuild-fuzz/gen \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_UTIL    = tests/fuzz/fuzz_util.c
FUZZ_GEN     = build-fuzz/gen/arm64_catalog.c build-fuzz/gen/x86_catalog.c
build-fuzz/gen/arm64_catalog.c: arch/arm64/idregs.txt $(CAPS_TXT) \
                                arch/caps/caps.awk arch/arm64/gen_catalog.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -v arch=arm64 -f arch/caps/caps.awk -f arch/arm64/gen_catalog.awk \
	  arch/arm64/idregs.txt $(CAPS_TXT) > $@
build-fuzz/gen/x86_catalog.c: arch/x86/cpuid.txt $(CAPS_TXT) \
                              arch/caps/caps.awk arch/x86/gen_cpuid.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -v sym=cf_x86_catalog -f arch/caps/caps.awk -f arch/x86/gen_cpuid.awk arch/x86/cpuid.txt \
	  $(CAPS_TXT) > $@
build-fuzz/%: tests/fuzz/%.c $(FUZZ_UTIL) tests/fuzz/fuzz_util.h $(LIB_SRC) \
              $(FUZZ_GEN)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_UTIL) $(LIB_SRC) $(FUZZ_GEN) $(LDLIBS)

# `make fuzz` explores for FUZZ_SECONDS per target, growing the corpus in
# build-fuzz/corpus; `fuzz-smoke` (part of check) replays the committed
# corpus and runs 20000 new inputs per target (new finds go to
# build-fuzz/, never into the committed corpus).
fuzz: $(FUZZ_TARGETS:%=build-fuzz/%)
	@for t in $(FUZZ_TARGETS); do c=$${t#fuzz_}; \
	  mkdir -p build-fuzz/corpus/$$c; \
	  build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus/$$c \
	    tests/fuzz/corpus/$$c || exit 1; done

fuzz-smoke: $(FUZZ_TARGETS:%=build-fuzz/%)
	@for t in $(FUZZ_TARGETS); do c=$${t#fuzz_}; \
	  mkdir -p build-fuzz/smoke/$$c; \
	  build-fuzz/$$t -runs=20000 -seed=1 -max_len=65536 \
	    -artifact_prefix=build-fuzz/ build-fuzz/smoke/$$c tests/fuzz/corpus/$$c \
	    > build-fuzz/$$t.log 2>&1 || { tail -30 build-fuzz/$$t.log; exit 1; }; \
	  echo "fuzz-smoke: $$t: $$(tail -1 build-fuzz/$$t.log)"; done; \
	  echo "fuzz-smoke: $(words $(FUZZ_TARGETS)) passed, 0 failed"

# The arm64 lab (tools/lab/PROTOCOL.md): emulated arm64 hosts under QEMU
# TCG booting Debian's arm64 6.12 kernel, whose KVM is the ground truth.
LAB_OUT  ?= build-lab
LAB_CC   ?= aarch64-linux-gnu-gcc
LAB_ARGS ?=
lab-setup:
	sh tools/lab/setup.sh

$(LAB_OUT)/labagent: tools/lab/labagent.c $(LIB_SRC) arch/arm64/a64vm.c \
                     arch/arm64/a64vm.h arch/arm64/idregs.txt include/cpufleet.h
	$(MAKE) BUILD=$(LAB_OUT)/aarch64 CC=$(LAB_CC) SAN=0 NET=0 \
	  $(LAB_OUT)/aarch64/libcpufleet.a
	$(LAB_CC) $(CPPFLAGS) -I$(LAB_OUT)/aarch64/gen -std=c11 -O2 -g $(WARN) \
	  -o $@ tools/lab/labagent.c $(LAB_OUT)/aarch64/libcpufleet.a -lcjson

lab-agent: $(LAB_OUT)/labagent

# The aarch64 cpufleet goes in too, at /bin/cpufleet (same libraries as the
# agent), so the lab runs `cpufleet apply --check-only` on real KVM.
lab-build: deps all lab-setup
	$(MAKE) lab-agent
	$(MAKE) BUILD=$(LAB_OUT)/aarch64 CC=$(LAB_CC) SAN=0 NET=0 \
	  $(LAB_OUT)/aarch64/cpufleet
	sh tools/lab/mkinitrd.sh $(LAB_OUT)/labagent $(LAB_OUT)/initrd-base.cpio.gz
	rm -rf $(LAB_OUT)/bin-stage && mkdir -p $(LAB_OUT)/bin-stage/bin
	cp $(LAB_OUT)/aarch64/cpufleet $(LAB_OUT)/bin-stage/bin/cpufleet
	cd $(LAB_OUT)/bin-stage && find bin | cpio -o -H newc --quiet | gzip -n \
	  >> ../initrd-base.cpio.gz

# A boot that dies before the kernel runs stops the lab with QEMU's message.
lab-boot-test: lab-build
	sh tests/lab/boot_fail.sh $(BUILD)/cpufleet $(LAB_OUT)

# SVE vCPUs on the models that have SVE.
lab-sve: lab-build
	python3 tools/lab/lab.py --cpufleet $(BUILD)/cpufleet \
	  --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz \
	  --kernel $(LAB_OUT)/kernel/vmlinuz --out $(LAB_OUT)/sve \
	  --models a64fx,max --features psci,pmu,sve

# Every model.
lab-all: lab-build
	python3 tools/lab/lab.py --cpufleet $(BUILD)/cpufleet \
	  --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz \
	  --kernel $(LAB_OUT)/kernel/vmlinuz --out $(LAB_OUT) $(LAB_ARGS)

# A pool the engine splits, forced (--pool): its baseline is infeasible
# (CTR_EL0.L1Ip between a53 and a72, ID_AA64PFR0_EL1.RAS and more with n1),
# so hosts refuse it, and every refusal must be one the engine predicts and
# names. max is outside the pool and judged too.
lab-pool: lab-build
	python3 tools/lab/lab.py --cpufleet $(BUILD)/cpufleet \
	  --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz \
	  --kernel $(LAB_OUT)/kernel/vmlinuz --out $(LAB_OUT)/pool \
	  --models cortex-a53,cortex-a72,neoverse-n1,max \
	  --pool cortex-a53,cortex-a72,neoverse-n1 --allow-infeasible --no-variants

lab: lab-boot-test
	@echo "== lab, SVE vCPUs on the models that have SVE =="
	$(MAKE) lab-sve
	@echo "== lab, every model =="
	$(MAKE) lab-all
	@echo "== lab, a forced pool the engine splits =="
	$(MAKE) lab-pool

# LAB=0 skips the arm64 lab for quick iterations; CI runs it. Every suite
# runs even when one before it failed; tools/check.sh prints a line per
# suite and the closing `check: N passed, N failed, N skipped`.
LAB ?= 1
CHECK_SUITES = unit="$(MAKE) --no-print-directory unit" \
  gen="$(MAKE) --no-print-directory gen-test" \
  cli="$(MAKE) --no-print-directory cli-test" \
  kvm-arm64="sh tests/kvm/run.sh $(BUILD)/cpufleet" \
  kvm-x86="sh tests/kvm/x86.sh $(BUILD)/cpufleet" \
  harness="$(MAKE) --no-print-directory harness-test" \
  integration="$(MAKE) --no-print-directory integration-test" \
  x86-peers="$(MAKE) --no-print-directory x86-test" \
  install="$(MAKE) --no-print-directory install-test" \
  unit-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 unit" \
  cli-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 cli-test" \
  integration-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 integration-test" \
  fuzz-smoke="$(MAKE) --no-print-directory fuzz-smoke"
ifeq ($(LAB),1)
CHECK_SUITES += lab-build="$(MAKE) --no-print-directory lab-build && echo 'lab-build: 1 passed, 0 failed'" \
  lab-boot="$(MAKE) --no-print-directory lab-boot-test" \
  lab-sve="$(MAKE) --no-print-directory lab-sve" \
  lab="$(MAKE) --no-print-directory lab-all" \
  lab-pool="$(MAKE) --no-print-directory lab-pool"
endif
check: deps
	$(MAKE) all $(BUILD)/test_unit
	$(MAKE) BUILD=build-asan SAN=1 all build-asan/test_unit
	sh tools/check.sh $(CHECK_SUITES)

bench: deps all $(BUILD)/bench $(BUILD)/bench_server
	$(BUILD)/bench
	$(BUILD)/bench_server $(BUILD)/cpufleet

clean:
	rm -rf build build-asan build-fuzz

include mk/install.mk
-include $(DEPS)
