# cadeia-bench build. `make V=1` shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:

BUILD      ?= build
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH_INC   := /usr/include/$(shell $(CC) -dumpmachine)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS     ?= -O2 -g
# override: `make CFLAGS=...` adds to the project's flags instead of dropping them.
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation \
              -Istages -Istages/loader -Itestbed -I$(BUILD)/skel
# SANITIZE=1: ASan and UBSan, any UB finding fatal (make asan).
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -I$(ARCH_INC) -Istages
LIBS       := -lbpf -lelf -lz -ljansson -lvirt-qemu -lvirt -lm -lpthread
STATIC_LIBS:= -Wl,-Bstatic -lbpf -lelf -lz -ljansson -Wl,-Bdynamic

BPF_SRCS     := $(wildcard stages/*.bpf.c)
BPF_OBJS     := $(BPF_SRCS:stages/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
SKELS        := $(BPF_SRCS:stages/%.bpf.c=$(BUILD)/skel/%.skel.h)
BPF_HDRS     := $(wildcard stages/*.h stages/bpf/*.h)

LOADER_SRCS  := $(filter-out stages/loader/main.c,$(wildcard stages/loader/*.c))
LOADER_OBJS  := $(LOADER_SRCS:%.c=$(BUILD)/obj/%.o)
LOADER_LIB   := $(BUILD)/libcadeia_stage.a

# The orchestrator's layers, one folder each (docs/architecture.md); the CLI
# (testbed/cli/) and the guest helper (testbed/guest/) are programs, not library.
MODEL_SRCS    := $(wildcard testbed/model/*.c)
SYS_SRCS      := $(wildcard testbed/sys/*.c)
VIRT_SRCS     := $(wildcard testbed/virt/*.c)
TRAFFIC_SRCS  := $(wildcard testbed/traffic/*.c)
ANALYSIS_SRCS := $(wildcard testbed/analysis/*.c)
BACKEND_SRCS  := $(wildcard testbed/backend/*.c)
RUN_SRCS      := $(wildcard testbed/run/*.c)
EXP_SRCS      := $(wildcard testbed/exp/*.c)
LAB_SRCS      := $(wildcard testbed/lab/*.c)
CLI_SRCS      := $(wildcard testbed/cli/*.c)
TESTBED_SRCS := $(MODEL_SRCS) $(SYS_SRCS) $(VIRT_SRCS) $(TRAFFIC_SRCS) $(ANALYSIS_SRCS) \
                $(BACKEND_SRCS) $(RUN_SRCS) $(EXP_SRCS) $(LAB_SRCS)
TESTBED_OBJS := $(TESTBED_SRCS:%.c=$(BUILD)/obj/%.o)
TESTBED_LIB  := $(BUILD)/libtestbed.a
CLI_OBJS     := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

# Helpers only tests and benches use (tests/support/support.h): linked into
# them, never into the product.
TESTSUPPORT_SRCS := $(wildcard tests/support/*.c)
TESTSUPPORT_OBJS := $(TESTSUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
TESTSUPPORT_LIB  := $(BUILD)/libtestsupport.a

TEST_SRCS    := $(wildcard tests/test_*.c)
TEST_BINS    := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
BENCH_SRCS   := $(wildcard tests/bench/*.c)
BENCH_BINS   := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

USER_HDRS    := $(wildcard stages/*.h stages/loader/*.h testbed/*/*.h tests/support/*.h)

CADEIA_STAGE := $(BUILD)/cadeia-stage
CADEIA_BENCH := $(BUILD)/cadeia-bench

.PHONY: all deps run test bench clean tests benches
all: $(BPF_OBJS) $(SKELS) $(CADEIA_STAGE) $(CADEIA_BENCH) tests benches

tests: $(TEST_BINS)
benches: $(BENCH_BINS)

$(BUILD)/bpf/%.bpf.o: stages/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Skeletons exist before any object is compiled (order-only); -MMD records
# which ones each object includes (the loader's attach.c, the floor
# backend), so a changed BPF program rebuilds only those objects.
# An object without its .d yet (an older build) is compiled again.
$(BUILD)/obj/%.o: %.c $(BUILD)/obj/%.d $(USER_HDRS) | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LOADER_LIB): $(LOADER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TESTBED_LIB): $(TESTBED_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TESTSUPPORT_LIB): $(TESTSUPPORT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Static, so the same binary runs inside guest VMs.
$(CADEIA_STAGE): $(BUILD)/obj/stages/loader/main.o $(LOADER_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -static -o $@ $^ -lbpf -lelf -lz -ljansson -lm -lpthread

# The guest helper: static, no libvirt; testbed/guest/ is outside TESTBED_SRCS.
CADEIA_GUEST := $(BUILD)/cadeia-guest
GUEST_OBJS   := $(addprefix $(BUILD)/obj/testbed/,guest/main.o traffic/probe.o traffic/fn.o traffic/fn_sf.o model/num.o sys/nl.o sys/netns.o sys/errmsg.o sys/ownmark.o)
$(CADEIA_GUEST): $(GUEST_OBJS) $(LOADER_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -static -o $@ $^ -lbpf -lelf -lz -ljansson -lm -lpthread

# The guest image (images/README.md); build.sh itself skips unchanged inputs.
.PHONY: image
image: $(CADEIA_GUEST) $(CADEIA_STAGE)
	$(Q)BUILD=$(BUILD) IMAGE_RECORD=$(IMAGE_RECORD) images/build.sh

$(CADEIA_BENCH): $(CLI_OBJS) $(TESTBED_LIB) $(LOADER_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(TESTSUPPORT_LIB) $(TESTBED_LIB) $(LOADER_LIB) $(USER_HDRS) $(SKELS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(TESTSUPPORT_LIB) $(TESTBED_LIB) $(LOADER_LIB) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(TESTSUPPORT_LIB) $(TESTBED_LIB) $(LOADER_LIB) $(USER_HDRS) $(SKELS)
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(TESTSUPPORT_LIB) $(TESTBED_LIB) $(LOADER_LIB) $(LIBS)

# Debian packages the project needs; idempotent (apt-get skips what is there).
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev \
            libvirt-dev gnuplot-nox iproute2 tcpdump tshark pkg-config make gcc \
            ethtool procps psmisc iputils-ping jq bc \
            lz4 cpio kmod xz-utils binutils qemu-system-x86 python3 \
            libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients \
            openvswitch-switch iperf3 nftables openssh-server
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$(echo $$missing)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all Debian packages present"; fi

SCENARIO ?= scenarios/chain8.json
run: deps all
	$(CADEIA_BENCH) run $(SCENARIO)

# Both suites run even when the first fails; either failing fails the target.
# tests/run.sh is on a line of its own: `make -n test` must not run it.
test: deps all
	tests/run.sh; echo $$? >$(BUILD)/test.rc
	$(MAKE) --no-print-directory asan
	@exit $$(cat $(BUILD)/test.rc)

# The unit tests (tests/test_*.c, the scenario fuzz among them) built with
# ASan and UBSan into their own directory, and run.
ASAN_BUILD ?= build-asan
.PHONY: asan
asan:
	$(MAKE) BUILD=$(ASAN_BUILD) SANITIZE=1 tests
	BUILD=$(ASAN_BUILD) TESTS=test_ tests/run.sh

bench: deps all
	tests/bench/run.sh

clean:
	rm -rf $(BUILD)

include docs/labs/labs.mk

# What each object includes, as the compiler saw it (-MMD above). Named
# explicitly: a missing one then counts as changed, not as intermediate.
OBJ_DEPS := $(sort $(patsubst %.o,%.d,$(LOADER_OBJS) $(TESTBED_OBJS) $(CLI_OBJS) \
              $(TESTSUPPORT_OBJS) $(GUEST_OBJS) $(BUILD)/obj/stages/loader/main.o))
$(OBJ_DEPS): ;
-include $(wildcard $(OBJ_DEPS))
