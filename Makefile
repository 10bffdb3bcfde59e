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

# Errata targets: answers to the guest's SMCCC discovery calls (every
# build); serving them through KVM needs an aarch64 build.
LIB_SRC += arch/arm64/smccc.c
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

.PHONY: all deps run check unit gen-test cli-test fuzz fuzz-smoke fuzz-merge bench clean \
        integration-test x86-test \
        lab lab-setup lab-agent kvm-test harness-test lab-build lab-boot-test lab-sve lab-all lab-pool
.PHONY: lab-errata

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
# the KVM scripts' skips (counted, by name) against a fake cpufleet.
harness-test: $(BUILD)/cpufleet
	python3 tests/lab/strict.py $(BUILD)/cpufleet
	python3 tests/lab/errata_rules.py
	sh tests/kvm/selftest.sh $(BUILD)/cpufleet
	sh tests/check/run.sh

# The real server on loopback with temporary databases, driven by real
# agents and HTTP requests: crash, outage, auth matrix, bad input, TLS.
integration-test: $(BUILD)/cpufleet
	python3 tests/integration/run.py $(BUILD)/cpufleet

# libFuzzer targets, built with clang over the library sources (objects
# shared by the targets in build-fuzz/obj); fuzz_server adds the service.
FUZZ_TARGETS = fuzz_report fuzz_profile fuzz_x86 fuzz_server
FUZZ_CFLAGS  = -std=c11 -g -O1 -D_GNU_SOURCE -I. -Iinclude -Ibuild-fuzz/gen \
               -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_GEN     = build-fuzz/gen/arm64_catalog.c build-fuzz/gen/x86_catalog.c
FUZZ_OBJ     = $(patsubst %.c,build-fuzz/obj/%.o,$(LIB_SRC) \
                 tests/fuzz/fuzz_util.c $(FUZZ_GEN:build-fuzz/%=%))
FUZZ_NET_OBJ = $(patsubst %.c,build-fuzz/obj/%.o,db/db.c server/server.c \
                 server/writer.c server/api.c)
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
build-fuzz/obj/gen/%.o: build-fuzz/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build-fuzz/obj/%.o: %.c | $(FUZZ_GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(filter-out build-fuzz/fuzz_server,$(FUZZ_TARGETS:%=build-fuzz/%)): \
build-fuzz/%: build-fuzz/obj/tests/fuzz/%.o $(FUZZ_OBJ)
	clang $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS)
build-fuzz/fuzz_server: build-fuzz/obj/tests/fuzz/fuzz_server.o $(FUZZ_OBJ) \
                        $(FUZZ_NET_OBJ)
	clang $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS) -lsqlite3 -lmicrohttpd -lpthread
-include $(wildcard build-fuzz/obj/*/*.d build-fuzz/obj/*/*/*.d)

# `make fuzz` explores each target for FUZZ_S seconds (FUZZ_SECONDS, the
# older name, works too) or FUZZ_RUNS executions, whichever ends first (60
# seconds if neither is given), growing its corpus in build-fuzz/corpus
# (seeded from the committed inputs and tests/data); `fuzz-merge`
# minimises what it found (libFuzzer -merge=1) into the committed
# tests/fuzz/corpus; `fuzz-smoke` (part of check) replays the committed
# inputs and runs a fixed number of new ones per target.  FUZZ_TARGETS=
# picks targets.  tests/fuzz/run.sh runs them.
FUZZ_SECONDS ?=
FUZZ_S       ?= $(FUZZ_SECONDS)
FUZZ_RUNS    ?=
fuzz: $(FUZZ_TARGETS:%=build-fuzz/%)
	@FUZZ_S=$(FUZZ_S) FUZZ_RUNS=$(FUZZ_RUNS) sh tests/fuzz/run.sh fuzz \
	  $(FUZZ_TARGETS)

fuzz-merge: $(FUZZ_TARGETS:%=build-fuzz/%)
	@sh tests/fuzz/run.sh merge $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_TARGETS:%=build-fuzz/%)
	@sh tests/fuzz/run.sh smoke $(FUZZ_TARGETS)

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

# Errata targets (KVM 6.15+, tools/lab/errata.py): on each lab kernel
# (LAB_ERRATA_KERNELS, a shell pattern: every kernel setup.sh fetched) a
# guest asks for its pool's implementations through the SMCCC discovery
# hypercalls and must read back exactly its pool profile's list, the
# models with their real MIDRs; a kernel without the ABI (6.12) skips.
LAB_ERRATA_KERNELS ?= $(LAB_OUT)/kernel*/vmlinuz
LAB_ERRATA_MODELS  ?= cortex-a53,cortex-a57,cortex-a72
LAB_ERRATA_ARGS    ?=
lab-errata: lab-build
	@rc=0; for k in $(LAB_ERRATA_KERNELS); do \
	  python3 tools/lab/errata.py --cpufleet $(BUILD)/cpufleet \
	    --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz --kernel $$k \
	    --out $(LAB_OUT)/errata/$$(basename $$(dirname $$k)) \
	    --models $(LAB_ERRATA_MODELS) --midr real $(LAB_ERRATA_ARGS) || rc=1; \
	done; exit $$rc

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
ifeq ($(LAB),1)
CHECK_SUITES += lab-errata="$(MAKE) --no-print-directory lab-errata"
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
