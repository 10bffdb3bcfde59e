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
           libcurl4-gnutls-dev nettle-dev curl sqlite3 openssl libvirt-clients \
           qemu-system-x86 qemu-system-arm libxml2-utils libpq-dev postgresql \
           libjemalloc-dev
# The web page's tests: headless Chromium driven by Selenium (web-test).
DEB_PKGS += chromium chromium-driver python3-selenium

GEN_C    = $(BUILD)/gen/arm64_catalog.c
GEN_X86  = $(BUILD)/gen/x86_catalog.c
GEN_VMM  = $(BUILD)/gen/x86_qemu.c $(BUILD)/gen/x86_libvirt.c
GEN_LVL  = $(BUILD)/gen/arm64_levels.c
GEN_KW   = $(BUILD)/gen/arm64_kvmwr.c
LIB_SRC  = util/err.c util/diag.c util/sha256.c \
           engine/catalog.c engine/arch.c engine/config.c engine/identity.c \
           engine/report.c \
           engine/pool.c engine/profile.c engine/baseline.c engine/check.c \
           engine/explain.c engine/decode.c engine/pools.c engine/deps.c \
           engine/mask.c \
           arch/driver.c arch/dryrun.c arch/arm64/arm64.c arch/arm64/collect.c arch/arm64/apply.c \
           arch/arm64/levels.c arch/arm64/regid.c \
           profiles/doc.c profiles/regmap.c profiles/report_doc.c \
           profiles/profile_doc.c profiles/verdict_doc.c engine/matrix.c profiles/section.c \
           profiles/x86_doc.c arch/x86/x86.c arch/x86/collect.c \
           arch/x86/x86vm.c arch/x86/apply.c arch/x86/guest.c \
           arch/x86/vmm.c profiles/export.c profiles/export_qemu.c \
           profiles/export_libvirt.c profiles/export_firecracker.c
# What-if on a pool: on engine objects only, for the server and the CLI.
LIB_SRC += fleet/whatif.c fleet/members.c profiles/whatif_doc.c
# Kernel planning and advice over arch/arm64/kvm-writable.txt.
LIB_SRC += engine/kernel.c
CLI_SRC  = tools/cpufleet.c tools/cli_util.c tools/cli_source.c tools/cmd_baseline.c \
           tools/cmd_check.c tools/cmd_explain.c tools/cmd_show.c \
           tools/cmd_matrix.c tools/cmd_pools.c tools/cmd_collect.c \
           tools/cmd_apply.c tools/cmd_export.c
TEST_SRC = $(sort $(wildcard tests/unit/*.c))
BENCH_SRC= tools/bench.c

# Errata targets: answers to the guest's SMCCC discovery calls (every
# build); serving them through KVM needs an aarch64 build.
LIB_SRC += arch/arm64/smccc.c
# Text validators (UTF-8, names, times) shared by every layer.
LIB_SRC += util/text.c util/strset.c
# KVM access for arm64 exists only in aarch64 builds.
ifneq ($(filter aarch64%,$(shell $(CC) -dumpmachine)),)
LIB_SRC += arch/arm64/a64vm.c arch/arm64/a64guest.c
endif
# The service side (database, server, agent) needs SQLite, libmicrohttpd
# and libcurl; NET=0 leaves it out (the lab's aarch64 cross build).
NET ?= 1
NET_SRC  = db/db.c agent/spool.c agent/client.c agent/agent.c \
           tools/cmd_server.c tools/cmd_token.c \
           tools/cmd_agent.c tools/cmd_remote.c tools/remote.c \
           tools/cmd_drift.c
# db/db.c's table families (backend-neutral), the SQLite backend and the
# PostgreSQL one (libpq).
DB_MORE  = db/args.c db/stmt.c db/sql.c db/hosts.c db/reports.c db/pools.c \
           db/profiles.c db/tokens.c db/audit.c db/events.c \
           db/sqlite.c db/sql_sqlite.c db/sqlite_schema.c \
           db/pg.c db/sql_pg.c db/pg_schema.c
NET_SRC += $(DB_MORE)
# The service: fleet/ (what it does, on typed structs), server/ (HTTP only:
# plumbing, the route table, one handler file per resource).
FLEET_SRC  = fleet/fleet.c fleet/upload.c fleet/compute.c fleet/drift.c
SERVER_SRC = server/server.c server/request.c server/admit.c server/conns.c \
             server/metrics.c server/writer.c server/api.c server/routes.c \
             server/tokcache.c \
             server/h_admin.c server/h_reports.c server/h_hosts.c \
             server/h_pools.c server/h_profiles.c server/h_check.c \
             server/h_events.c profiles/event_doc.c server/h_web.c
NET_SRC += $(FLEET_SRC) $(SERVER_SRC)
# The web page (web/), compiled into the server by web/gen_assets.awk.
WEB_FILES = $(sort $(wildcard web/*.html web/*.css web/*.js))
GEN_WEB  = $(BUILD)/gen/web_assets.c
ifeq ($(NET),1)
CLI_SRC += $(NET_SRC)
CPPFLAGS += -DCF_NET=1
NET_LIBS = -lsqlite3 -lpq -lmicrohttpd -lcurl -lpthread
CPPFLAGS += $(shell pkg-config --cflags libpq 2>/dev/null)
endif
# The cpufleet binary's allocator: jemalloc, whose per-thread caches take
# most of the cost of the server's many small and mid-sized allocations
# (glibc's malloc and free were a fifth of the server's CPU at 64
# uploading clients; README, "SQLite beside PostgreSQL").  Not under the
# sanitizers, which bring their own, nor in the lab's cross build.
ifeq ($(NET)$(SAN),10)
ALLOC_LIBS = -ljemalloc
endif
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/arm64_catalog.o \
           $(BUILD)/obj/gen/x86_catalog.o $(BUILD)/obj/gen/x86_qemu.o \
           $(BUILD)/obj/gen/x86_libvirt.o $(BUILD)/obj/gen/arm64_levels.o \
           $(BUILD)/obj/gen/arm64_kvmwr.o
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
NET_OBJ  = $(filter-out $(BUILD)/obj/tools/%,$(NET_SRC:%.c=$(BUILD)/obj/%.o)) \
           $(BUILD)/obj/gen/web_assets.o
ifeq ($(NET),1)
CLI_OBJ += $(BUILD)/obj/gen/web_assets.o
endif
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     = $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

.PHONY: all deps run check unit gen-test cli-test web-test fuzz fuzz-smoke fuzz-merge bench clean \
        integration-test integration-pg-test bench-server-pg adversarial-test x86-test exports-test \
        lab lab-setup lab-agent kvm-test harness-test lab-build lab-boot-test lab-sve lab-all lab-pool \
        lab-kernels lab-export lab-errata lab-midr mutate pools-compare \
        bench-libvirt

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
          arch/deps.awk arch/arm64/gen_catalog.awk
	@mkdir -p $(dir $@)
	$(AWK) -v sym=cf_arm64_catalog -v arch=arm64 \
	  -f arch/caps/caps.awk -f arch/deps.awk -f arch/arm64/gen_catalog.awk arch/arm64/idregs.txt \
	  $(CAPS_TXT) > $@.tmp && mv $@.tmp $@

$(GEN_X86): arch/x86/cpuid.txt $(CAPS_TXT) arch/caps/caps.awk \
            arch/deps.awk arch/x86/gen_cpuid.awk
	@mkdir -p $(dir $@)
	$(AWK) -v sym=cf_x86_catalog -f arch/caps/caps.awk -f arch/deps.awk -f arch/x86/gen_cpuid.awk arch/x86/cpuid.txt \
	  $(CAPS_TXT) > $@.tmp && mv $@.tmp $@

# QEMU's and libvirt's names of x86 feature bits, libvirt's models.
$(BUILD)/gen/x86_%.c: arch/x86/%.txt arch/x86/gen_vmm.awk
	@mkdir -p $(dir $@)
	$(AWK) -v sym=cf_x86_$*_vmm -v what=$(if $(filter qemu,$*),QEMU,libvirt) \
	  -f arch/x86/gen_vmm.awk $< > $@.tmp && mv $@.tmp $@

# arm64 levels and core names, checked against the catalogue's FEAT_* names.
$(GEN_LVL): arch/arm64/idregs.txt arch/arm64/levels.txt arch/arm64/gen_levels.awk
	@mkdir -p $(dir $@)
	$(AWK) -f arch/arm64/gen_levels.awk arch/arm64/idregs.txt \
	  arch/arm64/levels.txt > $@.tmp && mv $@.tmp $@

# From which Linux release KVM lets userspace write each field.
$(GEN_KW): arch/arm64/idregs.txt $(CAPS_TXT) arch/arm64/kvm-writable.txt \
           arch/arm64/gen_kvmwr.awk
	@mkdir -p $(dir $@)
	$(AWK) -f arch/arm64/gen_kvmwr.awk arch/arm64/idregs.txt $(CAPS_TXT) \
	  arch/arm64/kvm-writable.txt > $@.tmp && mv $@.tmp $@

$(GEN_WEB): $(WEB_FILES) web/gen_assets.awk
	@mkdir -p $(dir $@)
	$(AWK) -f web/gen_assets.awk $(WEB_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c | $(GEN_C) $(GEN_X86) $(GEN_VMM) $(GEN_LVL) $(GEN_KW)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcpufleet.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The soname (libcpufleet.so.MAJOR) and VERSION are in mk/install.mk;
# `cpufleet --version` prints VERSION.
$(BUILD)/obj/tools/cpufleet.o: CFLAGS += -DCPUFLEET_VERSION='"$(VERSION)"'
$(BUILD)/obj/tools/cpufleet.o: mk/install.mk
$(BUILD)/libcpufleet.so: $(LIB_OBJ) mk/install.mk
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/cpufleet: $(CLI_OBJ) $(BUILD)/libcpufleet.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcpufleet.a $(LDLIBS) \
	  $(NET_LIBS) $(ALLOC_LIBS)

$(BUILD)/test_unit: $(TEST_OBJ) $(NET_OBJ) $(BUILD)/libcpufleet.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(NET_OBJ) $(BUILD)/libcpufleet.a \
	  $(LDLIBS) $(NET_LIBS) -lcunit -lnettle

$(BUILD)/bench: $(BENCH_SRC) $(BUILD)/libcpufleet.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -O3 -o $@ $< $(BUILD)/libcpufleet.a $(LDLIBS)

# The service's baseline and matrix over 10,000 stored hosts.
$(BUILD)/bench_fleet: tools/bench_fleet.c $(NET_OBJ) $(BUILD)/libcpufleet.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(NET_OBJ) $(BUILD)/libcpufleet.a \
	  $(LDLIBS) $(NET_LIBS)

$(BUILD)/bench_server: tools/bench_server.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lcjson -lpthread

# The example fleet: 6 hosts (N1, V1, A72) as KVM 6.12 reports them, and the
# three real dumps with every field assumed writable (tests/data/README.md).
# The main job on the embedded default: server, agent, the example fleet,
# pools, a published baseline and its verdict matrix (tools/run.sh).
# KEEP=1 leaves the server running and says how to open its web page.
KEEP ?= 0
run: deps all
	KEEP=$(KEEP) sh tools/run.sh $(BUILD)/cpufleet $(BUILD)/run

# The db cases run a second time on PostgreSQL (suites db_pg, db_pg_only):
# a throw-away cluster in $(BUILD)/pg (tests/lib/pgcluster.py; stopped
# after unless it was running before), its base URL in CF_TEST_PG.  Without
# PostgreSQL's server binaries those suites print "skip: db_pg: ...".
# One line: tools/mutate/run.py runs what `make -n unit` prints line by line.
unit: $(BUILD)/test_unit
	python3 tests/lib/pgcluster.py run $(BUILD)/pg CF_TEST_PG $(BUILD)/test_unit

gen-test:
	sh tests/gen/run.sh
	sh tests/gen/x86.sh
	sh tests/gen/levels.sh
	sh tests/gen/kvmwr.sh
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
	sh tests/cli/exit.sh $(BUILD)/cpufleet
	sh tests/cli/ux.sh $(BUILD)/cpufleet
	sh tests/cli/layers.sh

# The web page in headless Chromium (Debian's chromium, chromium-driver and
# python3-selenium, so Debian's python3): log in, a pool's matrix, a refused
# cell's reasons, a wrong token, a matrix of 1,000 hosts timed; screenshots
# in $(BUILD)/web/.  Skips by name where no browser is installed.
web-test: $(BUILD)/cpufleet
	@if [ -x /usr/bin/python3 ]; then \
	  /usr/bin/python3 tests/web/run.py $(BUILD)/cpufleet $(BUILD)/web; \
	else echo "skip: web: no /usr/bin/python3 (make deps)"; \
	  echo "skip - web: no /usr/bin/python3"; fi

# Every profile of tests/data exported to QEMU, libvirt and Firecracker and
# judged by the consumers: qemu-system-x86_64 and qemu-system-aarch64 over
# QMP, libvirt's CPU map, Firecracker's template grammar and apply.
exports-test: $(BUILD)/cpufleet
	python3 tests/exports/run.py $(BUILD)/cpufleet

kvm-test: $(BUILD)/cpufleet
	sh tests/kvm/run.sh $(BUILD)/cpufleet
	sh tests/kvm/x86.sh $(BUILD)/cpufleet

# The harnesses' own rules, no KVM or QEMU needed: the lab's pass rules and
# variant generator (a lab fault is an error, a misnamed refusal fails), and
# the KVM scripts' skips (counted, by name) against a fake cpufleet;
# tools/check.sh's sums, with the integration suite's by-name skips; the
# mutation runner against mutants whose fate is known.
harness-test: $(BUILD)/cpufleet
	python3 tests/lab/strict.py $(BUILD)/cpufleet
	python3 tests/lab/kernels.py
	python3 tests/lab/errata_rules.py
	sh tests/kvm/selftest.sh $(BUILD)/cpufleet
	sh tests/check/run.sh $(BUILD)/cpufleet
	sh tests/mutate/selftest.sh

# Modules depend one way: no include cycle, no upward include from engine/,
# no call cycle in arch/ (host objects, and the aarch64 ones, built first where
# the cross compiler is, so never stale).
layering-test: all
	@if command -v $(LAB_CC) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory BUILD=$(LAB_OUT)/aarch64 CC=$(LAB_CC) SAN=0 \
	    NET=0 $(LAB_OUT)/aarch64/libcpufleet.a >/dev/null; fi
	python3 tools/dev/layering.py --objects $(BUILD) --objects $(LAB_OUT)/aarch64

# The mutation run (tools/mutate/run.py): mutants of the engine and of the
# catalogues, each built and judged by the fast suites in a scratch copy of
# the tree (build/mutate/), with a score and the survivors' reasons.  Not
# part of check: about 1 h 50 min on 2 shared cores.  MUTATE_ONLY=PATTERN[,PATTERN...]
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

# The same cases on PostgreSQL: a throw-away cluster in $(BUILD)/pg
# (tests/lib/pgcluster.py), a fresh database per case, plus two servers on
# one database.  Skipped by name where no PostgreSQL server is installed.
integration-pg-test: $(BUILD)/cpufleet
	python3 tests/integration/run.py $(BUILD)/cpufleet --backend postgresql \
	  --pg-dir $(BUILD)/pg

# Adversarial clients on loopback (slowloris, oversized requests, 10,000
# idle connections, revoked tokens, path tricks): each refused, /v1/health
# answered meanwhile, nothing written.  With SAN=1 latencies are printed,
# not judged: that run is for the sanitizers (tests/integration/adversarial.py).
adversarial-test: $(BUILD)/cpufleet
	python3 tests/integration/adversarial.py $(if $(filter 1,$(SAN)),--sanitized) \
	  $(BUILD)/cpufleet

# libFuzzer targets, built with clang over the library sources (objects
# shared by the targets in build-fuzz/obj); fuzz_server adds the service.
FUZZ_TARGETS = fuzz_report fuzz_profile fuzz_x86 fuzz_server
FUZZ_CFLAGS  = -std=c11 -g -O1 -D_GNU_SOURCE -I. -Iinclude -Ibuild-fuzz/gen \
               $(shell pkg-config --cflags libpq 2>/dev/null) \
               -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_GEN     = build-fuzz/gen/arm64_catalog.c build-fuzz/gen/x86_catalog.c \
               build-fuzz/gen/x86_qemu.c build-fuzz/gen/x86_libvirt.c \
               build-fuzz/gen/arm64_levels.c build-fuzz/gen/arm64_kvmwr.c
FUZZ_OBJ     = $(patsubst %.c,build-fuzz/obj/%.o,$(LIB_SRC) \
                 tests/fuzz/fuzz_util.c $(FUZZ_GEN:build-fuzz/%=%))
FUZZ_NET_OBJ = $(patsubst %.c,build-fuzz/obj/%.o,db/db.c server/server.c \
                 server/writer.c server/api.c)
FUZZ_NET_OBJ += $(patsubst %.c,build-fuzz/obj/%.o,$(DB_MORE) \
                 $(filter-out server/server.c server/writer.c server/api.c,$(SERVER_SRC)) \
                 $(FLEET_SRC)) build-fuzz/obj/gen/web_assets.o
build-fuzz/gen/web_assets.c: $(WEB_FILES) web/gen_assets.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -f web/gen_assets.awk $(WEB_FILES) > $@
build-fuzz/gen/arm64_catalog.c: arch/arm64/idregs.txt $(CAPS_TXT) \
                                arch/caps/caps.awk arch/deps.awk arch/arm64/gen_catalog.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -v arch=arm64 -f arch/caps/caps.awk -f arch/deps.awk -f arch/arm64/gen_catalog.awk \
	  arch/arm64/idregs.txt $(CAPS_TXT) > $@
build-fuzz/gen/x86_catalog.c: arch/x86/cpuid.txt $(CAPS_TXT) \
                              arch/caps/caps.awk arch/deps.awk arch/x86/gen_cpuid.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -v sym=cf_x86_catalog -f arch/caps/caps.awk -f arch/deps.awk -f arch/x86/gen_cpuid.awk arch/x86/cpuid.txt \
	  $(CAPS_TXT) > $@
build-fuzz/gen/arm64_levels.c: arch/arm64/idregs.txt arch/arm64/levels.txt \
                               arch/arm64/gen_levels.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -f arch/arm64/gen_levels.awk arch/arm64/idregs.txt \
	  arch/arm64/levels.txt > $@
build-fuzz/gen/arm64_kvmwr.c: arch/arm64/idregs.txt $(CAPS_TXT) \
                              arch/arm64/kvm-writable.txt arch/arm64/gen_kvmwr.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -f arch/arm64/gen_kvmwr.awk arch/arm64/idregs.txt $(CAPS_TXT) \
	  arch/arm64/kvm-writable.txt > $@
build-fuzz/gen/x86_%.c: arch/x86/%.txt arch/x86/gen_vmm.awk
	@mkdir -p build-fuzz/gen
	$(AWK) -v sym=cf_x86_$*_vmm -v what=$(if $(filter qemu,$*),QEMU,libvirt) \
	  -f arch/x86/gen_vmm.awk $< > $@
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
	clang $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS) -lsqlite3 -lpq -lmicrohttpd -lpthread
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
# TCG, each booting one of Debian's arm64 kernels with KVM built in, whose KVM
# is the ground truth. tools/lab/setup.sh fetches the kernels:
#   6.12  bookworm-backports  $(LAB_OUT)/kernel-6.12/
#   7.x   trixie-backports    $(LAB_OUT)/kernel-7.x/  (the newest 7.x there)
# LAB_KERNELS picks some (make lab LAB_KERNELS=7.x). Every run of a kernel K
# goes to $(LAB_OUT)/lab-K/ and ends with `lab K: N/N verdicts agree`.
LAB_OUT     ?= build-lab
LAB_CC      ?= aarch64-linux-gnu-gcc
LAB_ARGS    ?=
LAB_KERNELS ?= 6.12,7.x
comma := ,
LAB_KLIST = $(subst $(comma), ,$(LAB_KERNELS))
LAB_RUN = python3 tools/lab/lab.py --cpufleet $(BUILD)/cpufleet \
	  --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz
# $(call lab_each,ARGS): the lab on every kernel of LAB_KERNELS, all of them
# even when one fails; $$k is the kernel, $$o its output directory.
lab_each = rc=0; for k in $(LAB_KLIST); do o=$(LAB_OUT)/lab-$$k; \
	  $(LAB_RUN) --kernel $(LAB_OUT)/kernel-$$k/vmlinuz --label $$k $(1) || rc=1; \
	  done; exit $$rc

lab-setup:
	LAB_KERNELS=$(LAB_KERNELS) sh tools/lab/setup.sh

$(LAB_OUT)/labagent: tools/lab/labagent.c $(LIB_SRC) arch/arm64/a64vm.c arch/arm64/a64guest.c \
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

# A boot that dies before the kernel runs stops the lab with QEMU's message
# (before the kernel runs, so one kernel is enough: the first of LAB_KERNELS).
lab-boot-test: lab-build
	sh tests/lab/boot_fail.sh $(BUILD)/cpufleet $(LAB_OUT) $(firstword $(LAB_KLIST))

# SVE vCPUs on the models that have SVE.
lab-sve: lab-build
	$(call lab_each,--out $$o/sve --models a64fx$(comma)max --features psci$(comma)pmu$(comma)sve)

# Every model.
lab-all: lab-build
	$(call lab_each,--out $$o $(LAB_ARGS))

# A pool the engine splits, forced (--pool): its baseline is infeasible
# (CTR_EL0.L1Ip between a53 and a72 on 6.12, ID_AA64PFR0_EL1.RAS and more
# with n1), so hosts refuse it, and every refusal must be one the engine
# predicts and names. max is outside the pool and judged too.
lab-pool: lab-build
	$(call lab_each,--out $$o/pool --models cortex-a53$(comma)cortex-a72$(comma)neoverse-n1$(comma)max \
	  --pool cortex-a53$(comma)cortex-a72$(comma)neoverse-n1 --allow-infeasible --no-variants)

# Each model's own MIDR (--midr real) on every kernel: 6.12 refuses another
# model's MIDR, 7.x takes it once the VMM enables
# KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (the apply library does); every restore
# and identity-register variant must be a verdict the engine predicts.
LAB_MIDR_MODELS ?= cortex-a53,cortex-a57,cortex-a72
lab-midr: lab-build
	$(call lab_each,--out $$o/midr --models $(LAB_MIDR_MODELS) --midr real)

# The kernels side by side (after lab-all): which hosts pool on each, the
# fields that keep pools apart, every model that boots on the first kernel
# on the others; and arch/arm64/kvm-writable.txt against every kernel's
# writable masks. No QEMU: it reads the runs' outputs.
lab-kernels: $(BUILD)/cpufleet
	@rc=0; runs=; dirs=; for k in $(LAB_KLIST); do \
	  runs="$$runs $$k=$(LAB_OUT)/lab-$$k"; dirs="$$dirs $(LAB_OUT)/lab-$$k"; done; \
	if [ $(words $(LAB_KLIST)) -gt 1 ]; then \
	  python3 tools/lab/compare.py --cpufleet $(BUILD)/cpufleet $$runs || rc=1; fi; \
	python3 tools/lab/kvmtable.py check $$dirs || rc=1; exit $$rc

# Errata targets (KVM 6.15+, tools/lab/errata.py): on each lab kernel
# (LAB_ERRATA_KERNELS: the vmlinuz of every kernel of LAB_KERNELS) a
# guest asks for its pool's implementations through the SMCCC discovery
# hypercalls and must read back exactly its pool profile's list, the
# models with their real MIDRs; a kernel without the ABI (6.12) skips.
LAB_ERRATA_KERNELS ?= $(foreach k,$(LAB_KLIST),$(LAB_OUT)/kernel-$(k)/vmlinuz)
LAB_ERRATA_MODELS  ?= cortex-a53,cortex-a57,cortex-a72
LAB_ERRATA_ARGS    ?=
lab-errata: lab-build
	@rc=0; for k in $(LAB_ERRATA_KERNELS); do \
	  python3 tools/lab/errata.py --cpufleet $(BUILD)/cpufleet \
	    --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz --kernel $$k \
	    --out $(LAB_OUT)/errata/$$(basename $$(dirname $$k)) \
	    --models $(LAB_ERRATA_MODELS) --midr real $(LAB_ERRATA_ARGS) || rc=1; \
	done; exit $$rc

# An exported Firecracker template applied the way Firecracker applies it
# (KVM_SET_ONE_REG of each reg_modifier after vCPU init) on two models,
# and read back by a guest (tools/lab/export.py).  Not part of `make lab`.
LAB_EXPORT_MODELS ?= cortex-a72,neoverse-n1
lab-export: lab-build
	python3 tools/lab/export.py --cpufleet $(BUILD)/cpufleet \
	  --agent-initrd $(LAB_OUT)/initrd-base.cpio.gz \
	  --kernel $(LAB_OUT)/kernel-$(firstword $(LAB_KLIST))/vmlinuz --out $(LAB_OUT)/export \
	  --models $(LAB_EXPORT_MODELS) --jobs 1

# Every part runs even when one before it failed; the status is 1 if any did.
lab: lab-boot-test
	@rc=0; \
	echo "== lab, SVE vCPUs on the models that have SVE ($(LAB_KERNELS)) =="; \
	$(MAKE) lab-sve || rc=1; \
	echo "== lab, every model ($(LAB_KERNELS)) =="; \
	$(MAKE) lab-all || rc=1; \
	echo "== lab, a forced pool the engine splits ($(LAB_KERNELS)) =="; \
	$(MAKE) lab-pool || rc=1; \
	echo "== lab, each model's own MIDR ($(LAB_KERNELS)) =="; \
	$(MAKE) lab-midr || rc=1; \
	echo "== lab, the kernels side by side =="; \
	$(MAKE) lab-kernels || rc=1; \
	exit $$rc

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
  integration-postgresql="$(MAKE) --no-print-directory integration-pg-test" \
  adversarial="$(MAKE) --no-print-directory adversarial-test" \
  web="$(MAKE) --no-print-directory web-test" \
  x86-peers="$(MAKE) --no-print-directory x86-test" \
  exports="$(MAKE) --no-print-directory exports-test" \
  install="$(MAKE) --no-print-directory install-test" \
  unit-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 unit" \
  cli-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 cli-test" \
  integration-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 integration-test" \
  adversarial-asan="$(MAKE) --no-print-directory BUILD=build-asan SAN=1 adversarial-test" \
  fuzz-smoke="$(MAKE) --no-print-directory fuzz-smoke"
ifeq ($(LAB),1)
CHECK_SUITES += lab-build="$(MAKE) --no-print-directory lab-build && echo 'lab-build: 1 passed, 0 failed'" \
  lab-boot="$(MAKE) --no-print-directory lab-boot-test" \
  $(foreach k,$(LAB_KLIST),lab-sve-$(k)="$(MAKE) --no-print-directory lab-sve LAB_KERNELS=$(k)" \
    lab-$(k)="$(MAKE) --no-print-directory lab-all LAB_KERNELS=$(k)" \
    lab-pool-$(k)="$(MAKE) --no-print-directory lab-pool LAB_KERNELS=$(k)" \
    lab-midr-$(k)="$(MAKE) --no-print-directory lab-midr LAB_KERNELS=$(k)") \
  lab-kernels="$(MAKE) --no-print-directory lab-kernels"
endif
ifeq ($(LAB),1)
CHECK_SUITES += lab-errata="$(MAKE) --no-print-directory lab-errata"
endif
# Last: by then the lab has built the aarch64 objects whose calls it reads.
CHECK_SUITES += layering="$(MAKE) --no-print-directory layering-test"
check: deps
	$(MAKE) all $(BUILD)/test_unit
	$(MAKE) BUILD=build-asan SAN=1 all build-asan/test_unit
	sh tools/check.sh $(CHECK_SUITES)

# README "Pools": first fit against the fewest pools on the lab's and
# tests/data's reports, as a Markdown table.
pools-compare: $(BUILD)/cpufleet
	python3 tools/pools_compare.py $(BUILD)/cpufleet

bench: deps all $(BUILD)/bench $(BUILD)/bench_fleet $(BUILD)/bench_server
	@# Every part runs; a missed target in one fails the whole at the end.
	@rc=0; for step in "$(BUILD)/bench" "$(BUILD)/bench_fleet" \
	  "$(BUILD)/bench_server $(BUILD)/cpufleet" \
	  "$(MAKE) --no-print-directory bench-server-pg" \
	  "$(MAKE) --no-print-directory bench-libvirt"; do \
	  echo "== $$step"; $$step || { echo "bench: $$step: exit $$?"; rc=1; }; \
	done; exit $$rc

# bench_server again on PostgreSQL: a fresh database in the throw-away
# cluster of $(BUILD)/pg (started, and then stopped, here if not running).
bench-server-pg: $(BUILD)/cpufleet $(BUILD)/bench_server
	@was=$$(test -f $(BUILD)/pg/port && echo 1); \
	url=$$(python3 tests/lib/pgcluster.py createdb $(BUILD)/pg bench_server); \
	rc=$$?; if [ $$rc = 77 ]; then echo "skip: bench-server-pg: $$url"; exit 0; fi; \
	[ $$rc = 0 ] || exit $$rc; \
	echo "== bench_server on PostgreSQL ($$url)"; \
	$(BUILD)/bench_server $(BUILD)/cpufleet --db "$$url"; rc=$$?; \
	[ -n "$$was" ] || python3 tests/lib/pgcluster.py stop $(BUILD)/pg; exit $$rc

# x86 parse + baseline of 10,000 report files beside libvirt's
# `virsh cpu-baseline` on the same hosts, in one run ("skip: bench-libvirt"
# without virsh).
bench-libvirt: $(BUILD)/cpufleet
	python3 tools/bench_libvirt.py $(BUILD)/cpufleet

clean:
	rm -rf build build-asan build-fuzz

include mk/install.mk
-include $(DEPS)
