# SPDX-License-Identifier: GPL-2.0-or-later
#
# make              build the static dependencies (once) and snp-unseal
# make check        every test, plain and under ASan+UBSan
# make bench        print the figures the benchmarks measure (sizes, times)
# make demo         as root: install QEMU and the rest, boot the simulated demo
# make e2e          as root: the QEMU end-to-end tests (after qemu-scripts/install-deps)
# make install      DESTDIR=... PREFIX=...
# make clean        our objects; `make distclean` also drops build/deps
# V=1               show the full commands

VERSION := 0.1.0

PREFIX ?= /usr
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DRACUTDIR ?= $(PREFIX)/lib/dracut/modules.d
INITRAMFSDIR ?= $(PREFIX)/share/initramfs-tools
KEYSCRIPTDIR ?= $(PREFIX)/lib/cryptsetup/scripts

BUILD := build
DEPS_DIR ?= $(BUILD)/deps
DEPS := $(DEPS_DIR)/prefix
DEPS_STAMP := $(DEPS_DIR)/stamp
DEPS_INPUTS := deps/pins deps/sources.list deps/mbedtls_config.h \
	deps/mbedtls_sha256_x86.c deps/mbedtls_sha256_x86.h deps/fetch deps/build

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

OPTFLAGS ?= -O2
WARNFLAGS := -Wall -Wextra -Werror
HARDENFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CPPFLAGS_ALL := -I. -I$(BUILD)/gen -isystem $(DEPS)/include -DSNP_UNSEAL_VERSION='"$(VERSION)"'
CFLAGS_ALL := -std=gnu11 $(WARNFLAGS) $(OPTFLAGS) $(HARDENFLAGS) \
	-ffunction-sections -fdata-sections -MMD -MP $(CFLAGS)
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all

# Order matters for static linking: users before what they use. json-c,
# libuuid and libblkid are Debian's static archives (-l: picks the .a).
DEP_LIBS := -L$(DEPS)/lib -l:libcryptsetup.a -l:libdevmapper.a -l:libjson-c.a \
	-l:libuuid.a -l:libblkid.a -l:libmbedtls.a -l:libmbedx509.a \
	-l:libmbedcrypto.a -lpthread -lm

# snp/ is shared by agent and broker. snp/sim/ is the firmware simulator's
# core: it holds signing keys, so only snp-sim and the tests link it.
SNP_SRCS := $(wildcard snp/*.c)
SIM_SRCS := $(filter-out snp/sim/main.c,$(wildcard snp/sim/*.c))
# tls/ (TLS 1.3 and strict HTTP) and proto/ (the unseal protocol) serve
# both the agent and the broker.
TLS_SRCS := $(wildcard tls/*.c)
PROTO_SRCS := $(wildcard proto/*.c)
COMMON_SRCS := $(SNP_SRCS) $(TLS_SRCS) $(PROTO_SRCS)
# The broker's modules, without its main(), are also linked by the tests.
BROKER_LIB_SRCS := $(filter-out broker/main.c,$(wildcard broker/*.c))
# luks/ (libcryptsetup and libblkid) is the agent's alone. The agent's own
# modules, without main(), are also linked by the tests.
LUKS_SRCS := $(wildcard luks/*.c)
AGENT_LIB_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(LUKS_SRCS)
AGENT_SRCS := agent/main.c $(AGENT_LIB_SRCS) $(COMMON_SRCS)
BROKER_SRCS := broker/main.c $(BROKER_LIB_SRCS) $(COMMON_SRCS)
SIMD_SRCS := snp/sim/main.c $(SIM_SRCS) $(SNP_SRCS)
# owner/ is the guest owner's tooling (expected launch measurement, ID
# block, the broker policy from the same inputs). snp-owner links the
# broker's policy module to write policies in the broker's own form.
OWNER_LIB_SRCS := $(filter-out owner/main.c,$(wildcard owner/*.c))
OWNER_SRCS := owner/main.c $(OWNER_LIB_SRCS) $(BROKER_LIB_SRCS) $(COMMON_SRCS)
# Code the tests exercise: every library directory's sources.
LIB_SRCS := $(COMMON_SRCS) $(SIM_SRCS) $(BROKER_LIB_SRCS) $(AGENT_LIB_SRCS) \
	$(OWNER_LIB_SRCS)
TEST_SRCS := tests/harness.c tests/shared.c $(wildcard tests/unit/*_test.c)

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

AGENT_OBJS := $(call obj,obj,$(AGENT_SRCS))
BROKER_OBJS := $(call obj,obj,$(BROKER_SRCS))
SIMD_OBJS := $(call obj,obj,$(SIMD_SRCS))
OWNER_OBJS := $(call obj,obj,$(OWNER_SRCS))
TEST_OBJS := $(call obj,obj,$(TEST_SRCS) $(LIB_SRCS))
ASAN_TEST_OBJS := $(call obj,asan,$(TEST_SRCS) $(LIB_SRCS))

PROGRAMS := $(BUILD)/snp-unseal $(BUILD)/snp-keybroker $(BUILD)/snp-sim $(BUILD)/snp-owner

# The agent again, with agent/memscan.c built to scan its own memory for
# secrets at exit (agent/memscan.h): the tests' check that none outlives use.
MEMSCAN_AGENT := $(BUILD)/bin/snp-unseal-memscan
MEMSCAN_OBJS := $(BUILD)/memscan/agent/memscan.o \
	$(call obj,obj,$(filter-out agent/memscan.c,$(AGENT_SRCS)))

# Programs the tests and benchmarks run (a fake AMD KDS, load generators):
# tests/tools/NAME.c becomes build/bin/NAME, linked with every library.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/bin/%,$(TOOL_SRCS))
TOOL_LIB_OBJS := $(call obj,obj,tests/shared.c $(LIB_SRCS))

all: $(PROGRAMS)

# Tests find their fixtures under tests/ wherever they are run from.
$(TEST_OBJS) $(ASAN_TEST_OBJS) $(call obj,obj,$(TOOL_SRCS)): \
	CPPFLAGS_ALL += -DTESTS_DIR='"$(CURDIR)/tests"'

$(DEPS_STAMP): $(DEPS_INPUTS)
	$(call say,DEPS,$(DEPS))
	$(Q)deps/build $(DEPS_DIR)

# Versions of what deps/build produced, known only after it ran.
$(BUILD)/gen/dep_versions.h: $(DEPS_STAMP)
	$(call say,GEN,$@)
	@mkdir -p $(@D)
	$(Q)v=$$(sed -n 's/^Version: //p' $(DEPS)/lib/pkgconfig/libcryptsetup.pc) && \
		test -n "$$v" && \
		printf '#define LIBCRYPTSETUP_VERSION "%s"\n' "$$v" >$@

$(call obj,obj,agent/version.c): $(BUILD)/gen/dep_versions.h

$(BUILD)/obj/%.o: %.c $(DEPS_STAMP)
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/memscan/%.o: %.c $(DEPS_STAMP)
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) -DSNP_UNSEAL_MEMSCAN $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/asan/%.o: %.c $(DEPS_STAMP)
	$(call say,CC-SAN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) $(SANFLAGS) -c -o $@ $<

# The agent is fully static: it runs in an initrd with no libraries of its own.
$(BUILD)/snp-unseal: $(AGENT_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -static -Wl,--gc-sections -Wl,-Map,$@.map $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(MEMSCAN_AGENT): $(MEMSCAN_OBJS)
	$(call say,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -static -Wl,--gc-sections $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# The broker and the simulator run on the owner's host: dynamic glibc.
$(BUILD)/snp-keybroker: $(BROKER_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -Wl,--gc-sections $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/snp-sim: $(SIMD_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -Wl,--gc-sections $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# The guest owner's tool runs on the owner's machine, like the broker.
$(BUILD)/snp-owner: $(OWNER_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -Wl,--gc-sections $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# Tests link the same static archives, against a dynamic libc (ASan needs it).
$(BUILD)/bin/unit-tests: $(TEST_OBJS)
	$(call say,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/bin/unit-tests-asan: $(ASAN_TEST_OBJS)
	$(call say,LD-SAN,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/bin/%: $(BUILD)/obj/tests/tools/%.o $(TOOL_LIB_OBJS)
	$(call say,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

tools: $(TOOLS)

memscan: $(MEMSCAN_AGENT)

# libFuzzer harnesses live next to the code they fuzz (DIR/fuzz/). They
# and the code under test are built with clang; `make fuzz` runs each one
# for FUZZ_SECONDS, `make check` briefly over its seeds.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
FUZZ_SRCS := $(wildcard snp/fuzz/*.c tls/fuzz/*.c proto/fuzz/*.c broker/fuzz/*.c \
	luks/fuzz/*.c agent/fuzz/*.c owner/fuzz/*.c)
fuzz_bin = $(BUILD)/fuzz/fuzz-$(basename $(notdir $(1)))
FUZZ_BINS := $(foreach s,$(FUZZ_SRCS),$(call fuzz_bin,$(s)))
FUZZ_LIB_OBJS := $(call obj,fuzz/obj,$(COMMON_SRCS) $(BROKER_LIB_SRCS) $(AGENT_LIB_SRCS) \
	$(OWNER_LIB_SRCS))

$(BUILD)/fuzz/obj/%.o: %.c $(DEPS_STAMP)
	$(call say,CC-FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) $(CPPFLAGS) -std=gnu11 $(WARNFLAGS) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

# Each harness's name is its file's: tls/fuzz/http.c gives fuzz-http.
define fuzz_rule
$(call fuzz_bin,$(1)): $(call obj,fuzz/obj,$(1)) $$(FUZZ_LIB_OBJS)
	$$(call say,LD-FUZZ,$$@)
	$$(Q)$$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$(DEP_LIBS)
endef
$(foreach s,$(FUZZ_SRCS),$(eval $(call fuzz_rule,$(s))))

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run $(BUILD) $(FUZZ_SECONDS)

check: $(PROGRAMS) $(TOOLS) $(MEMSCAN_AGENT) $(FUZZ_BINS) $(BUILD)/bin/unit-tests \
	$(BUILD)/bin/unit-tests-asan
	$(Q)tests/run $(BUILD)

# The verifier's benchmark program; tests/bench/verify-rate runs it.
VERIFY_BENCH_OBJS := $(call obj,obj,tests/bench/verify_bench.c tests/shared.c $(SNP_SRCS))
$(call obj,obj,tests/bench/verify_bench.c tests/shared.c): CPPFLAGS_ALL += -DTESTS_DIR='"$(CURDIR)/tests"'

$(BUILD)/bin/verify-bench: $(VERIFY_BENCH_OBJS)
	$(call say,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# Every executable file in tests/bench/ (not the C sources there).
bench: $(PROGRAMS) $(TOOLS) $(BUILD)/bin/verify-bench
	$(Q)for b in tests/bench/*; do [ -f "$$b" ] && [ -x "$$b" ] || continue; \
		$$b $(BUILD) || exit 1; done

# The simulated end-to-end demo under QEMU, as root: installs what it needs
# (qemu-scripts/install-deps), builds, boots, prints the figures and a verdict.
demo:
	$(Q)qemu-scripts/install-deps
	$(Q)qemu-scripts/demo $(BUILD)

# The QEMU end-to-end tests (tests/e2e/), as root.
e2e: $(PROGRAMS) $(BUILD)/bin/broker-load $(BUILD)/bin/luks-fill
	$(Q)tests/e2e/run $(BUILD)

.PHONY: demo e2e

install: $(PROGRAMS)
	$(call say,INSTALL,$(DESTDIR)$(SBINDIR)/snp-unseal)
	$(Q)install -D -m 0755 $(BUILD)/snp-unseal $(DESTDIR)$(SBINDIR)/snp-unseal
	$(call say,INSTALL,$(DESTDIR)$(SBINDIR)/snp-keybroker)
	$(Q)install -D -m 0755 $(BUILD)/snp-keybroker $(DESTDIR)$(SBINDIR)/snp-keybroker
	$(call say,INSTALL,$(DESTDIR)$(MANDIR)/man8/snp-unseal.8)
	$(Q)install -D -m 0644 docs/snp-unseal.8 $(DESTDIR)$(MANDIR)/man8/snp-unseal.8
	$(call say,INSTALL,$(DESTDIR)$(MANDIR)/man8/snp-keybroker.8)
	$(Q)install -D -m 0644 docs/snp-keybroker.8 $(DESTDIR)$(MANDIR)/man8/snp-keybroker.8
	$(call say,INSTALL,$(DESTDIR)$(UNITDIR)/snp-keybroker.service)
	$(Q)install -D -m 0644 broker/snp-keybroker.service $(DESTDIR)$(UNITDIR)/snp-keybroker.service
	@# An owner's configuration is never overwritten.
	$(call say,INSTALL,$(DESTDIR)$(SYSCONFDIR)/snp-keybroker/snp-keybroker.conf)
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/snp-keybroker/snp-keybroker.conf ] || \
		install -D -m 0640 broker/snp-keybroker.conf \
		$(DESTDIR)$(SYSCONFDIR)/snp-keybroker/snp-keybroker.conf
	$(call say,INSTALL,$(DESTDIR)$(BINDIR)/snp-owner)
	$(Q)install -D -m 0755 $(BUILD)/snp-owner $(DESTDIR)$(BINDIR)/snp-owner
	$(call say,INSTALL,$(DESTDIR)$(MANDIR)/man1/snp-owner.1)
	$(Q)install -D -m 0644 docs/snp-owner.1 $(DESTDIR)$(MANDIR)/man1/snp-owner.1
	$(call say,INSTALL,$(DESTDIR)$(BINDIR)/snp-sim)
	$(Q)install -D -m 0755 $(BUILD)/snp-sim $(DESTDIR)$(BINDIR)/snp-sim
	$(call say,INSTALL,$(DESTDIR)$(MANDIR)/man1/snp-sim.1)
	$(Q)install -D -m 0644 docs/snp-sim.1 $(DESTDIR)$(MANDIR)/man1/snp-sim.1
	@# The initrd integrations: dracut's module, initramfs-tools' hook and
	@# scripts (mkinitramfs skips scripts that are not executable), the keyscript.
	$(call say,INSTALL,$(DESTDIR)$(DRACUTDIR)/91snp-unseal)
	$(Q)for f in dracut/91snp-unseal/*; do \
		case $$f in *.md) continue ;; *.sh) m=0755 ;; *) m=0644 ;; esac; \
		install -D -m $$m $$f $(DESTDIR)$(DRACUTDIR)/91snp-unseal/$${f##*/} || exit 1; done
	$(call say,INSTALL,$(DESTDIR)$(INITRAMFSDIR))
	$(Q)install -D -m 0755 initramfs-tools/hooks/snp-unseal $(DESTDIR)$(INITRAMFSDIR)/hooks/snp-unseal
	$(Q)install -D -m 0755 initramfs-tools/scripts/local-top/snp-unseal \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/local-top/snp-unseal
	$(Q)install -D -m 0755 initramfs-tools/scripts/local-bottom/snp-unseal \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/local-bottom/snp-unseal
	$(Q)install -D -m 0644 initramfs-tools/scripts/snp-unseal-functions \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/snp-unseal-functions
	$(call say,INSTALL,$(DESTDIR)$(KEYSCRIPTDIR)/snp-unseal-keyscript)
	$(Q)install -D -m 0755 initramfs-tools/keyscript/snp-unseal-keyscript \
		$(DESTDIR)$(KEYSCRIPTDIR)/snp-unseal-keyscript

clean:
	$(call say,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/memscan $(BUILD)/bin $(BUILD)/gen $(BUILD)/fuzz \
		$(PROGRAMS) $(BUILD)/snp-unseal.map

distclean: clean
	$(Q)rm -rf $(BUILD)

.PHONY: all check bench fuzz fuzz-build tools memscan install clean distclean
.DELETE_ON_ERROR:
# Keep chained objects (the fuzz harnesses') instead of deleting them as intermediate.
.SECONDARY:

-include $(shell find $(BUILD)/obj $(BUILD)/asan $(BUILD)/memscan $(BUILD)/fuzz -name '*.d' 2>/dev/null)
