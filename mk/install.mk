# `make install` and `make uninstall` (included by the Makefile), and
# `make install-test` (tests/install/run.sh).  The usual variables:
#   make install PREFIX=/usr/local DESTDIR=/tmp/stage
# with BINDIR, LIBDIR, INCLUDEDIR, MANDIR, ... below to place each part
# elsewhere.  SYSCONFDIR is where the systemd units read their settings.

# The library's version; the soname changes with MAJOR (an ABI break).
VERSION  = 0.1.0
SO_MAJOR = $(firstword $(subst ., ,$(VERSION)))
SONAME   = libcpufleet.so.$(SO_MAJOR)

PREFIX         ?= /usr/local
EXEC_PREFIX    ?= $(PREFIX)
BINDIR         ?= $(EXEC_PREFIX)/bin
LIBDIR         ?= $(EXEC_PREFIX)/lib
INCLUDEDIR     ?= $(PREFIX)/include
DATADIR        ?= $(PREFIX)/share
MANDIR         ?= $(DATADIR)/man
DOCDIR         ?= $(DATADIR)/doc/cpufleet
PKGCONFIGDIR   ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR    ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR     ?= /etc
INSTALL        ?= install

# The install test renders the man page with man(1) and reads the units with
# systemd-analyze: `make deps` installs man-db and systemd (the package, not
# as init) when they are missing.
DEB_PKGS += man-db systemd

# Templates (*.in) get the directories above as they install: @PREFIX@,
# @EXEC_PREFIX@, @LIBDIR@, @INCLUDEDIR@ (relative to the prefix when under
# it, as pkg-config files have them), @BINDIR@, @SYSCONFDIR@, @VERSION@.
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' \
	-e 's|@EXEC_PREFIX@|$(patsubst $(PREFIX)%,$${prefix}%,$(EXEC_PREFIX))|g' \
	-e 's|@LIBDIR@|$(patsubst $(EXEC_PREFIX)%,$${exec_prefix}%,$(LIBDIR))|g' \
	-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)%,$${prefix}%,$(INCLUDEDIR))|g' \
	-e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@VERSION@|$(VERSION)|g'

# What install puts where, as SOURCE:DIRECTORY:MODE:NAME (a SOURCE *.in
# through SUBST); install and uninstall both walk this one table, plus the
# library's two links.
INSTALL_TABLE = \
	$(BUILD)/cpufleet:$(BINDIR):755:cpufleet \
	$(BUILD)/libcpufleet.so:$(LIBDIR):644:libcpufleet.so.$(VERSION) \
	$(BUILD)/libcpufleet.a:$(LIBDIR):644:libcpufleet.a \
	include/cpufleet.h:$(INCLUDEDIR):644:cpufleet.h \
	dist/cpufleet.pc.in:$(PKGCONFIGDIR):644:cpufleet.pc \
	man/cpufleet.1:$(MANDIR)/man1:644:cpufleet.1 \
	dist/bash-completion/cpufleet:$(BASHCOMPDIR):644:cpufleet \
	dist/systemd/cpufleet-server.service.in:$(SYSTEMDUNITDIR):644:cpufleet-server.service \
	dist/systemd/cpufleet-agent.service.in:$(SYSTEMDUNITDIR):644:cpufleet-agent.service \
	dist/systemd/cpufleet-agent.timer:$(SYSTEMDUNITDIR):644:cpufleet-agent.timer \
	dist/systemd/server.env:$(DOCDIR)/examples:644:server.env \
	dist/systemd/agent.env:$(DOCDIR)/examples:644:agent.env \
	dist/systemd/cpufleet-server-tls.conf.in:$(DOCDIR)/examples:644:cpufleet-server-tls.conf
# LINK:TARGET, in LIBDIR.
INSTALL_LINKS = $(SONAME):libcpufleet.so.$(VERSION) libcpufleet.so:$(SONAME)

.PHONY: install uninstall install-test

install: all
	@set -e; for e in $(INSTALL_TABLE); do \
	  src=$${e%%:*}; r=$${e#*:}; dir=$${r%%:*}; r=$${r#*:}; \
	  mode=$${r%%:*}; name=$${r#*:}; \
	  echo "  INSTALL $(DESTDIR)$$dir/$$name"; \
	  $(INSTALL) -d "$(DESTDIR)$$dir"; \
	  case $$src in \
	  *.in) $(SUBST) "$$src" > "$(DESTDIR)$$dir/$$name"; \
	        chmod "$$mode" "$(DESTDIR)$$dir/$$name" ;; \
	  *) $(INSTALL) -m "$$mode" "$$src" "$(DESTDIR)$$dir/$$name" ;; \
	  esac; \
	done; \
	for l in $(INSTALL_LINKS); do \
	  echo "  LN      $(DESTDIR)$(LIBDIR)/$${l%%:*} -> $${l#*:}"; \
	  ln -sfn "$${l#*:}" "$(DESTDIR)$(LIBDIR)/$${l%%:*}"; \
	done

# Removes exactly what install put there, and the directories that are
# cpufleet's own once empty.
uninstall:
	@for e in $(INSTALL_TABLE); do \
	  r=$${e#*:}; dir=$${r%%:*}; name=$${r##*:}; \
	  echo "  RM      $(DESTDIR)$$dir/$$name"; \
	  rm -f "$(DESTDIR)$$dir/$$name"; \
	done; \
	for l in $(INSTALL_LINKS); do \
	  echo "  RM      $(DESTDIR)$(LIBDIR)/$${l%%:*}"; \
	  rm -f "$(DESTDIR)$(LIBDIR)/$${l%%:*}"; \
	done; \
	rmdir "$(DESTDIR)$(DOCDIR)/examples" "$(DESTDIR)$(DOCDIR)" 2>/dev/null; true

# Installs into a temporary DESTDIR, builds and runs a VMM-style program
# against it with pkg-config alone, checks the soname, the man page, the
# bash completion and the systemd units, then uninstalls.
install-test: all
	MAKE="$(MAKE)" sh tests/install/run.sh $(BUILD)
