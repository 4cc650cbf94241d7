# The lab course (docs/labs/), included by the top Makefile.
# `make` builds the templates and reference solutions (into $(BUILD)/labs/) so
# that they stay compilable; `make labs LAB=lab` also builds a student's lab
# directory in place: LAB/3/portfilter and LAB/4/spi_count.bpf.o.

LAB_CFLAGS := -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Istages
LAB_KINDS  := templates solutions
LAB_FNS    := $(LAB_KINDS:%=$(BUILD)/labs/%/3/portfilter)
LAB_BPFS   := $(LAB_KINDS:%=$(BUILD)/labs/%/4/spi_count.bpf.o)

$(LAB_FNS): $(BUILD)/labs/%/3/portfilter: docs/labs/%/3/portfilter.c
	$(call msg,CC-LAB,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LAB_CFLAGS) -o $@ $<

$(LAB_BPFS): $(BUILD)/labs/%/4/spi_count.bpf.o: docs/labs/%/4/spi_count.bpf.c $(BPF_HDRS)
	$(call msg,BPF-LAB,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

LAB_STUDENT :=
ifneq ($(LAB),)
LAB_STUDENT := $(patsubst %.c,%,$(wildcard $(LAB)/3/portfilter.c)) \
               $(patsubst %.bpf.c,%.bpf.o,$(wildcard $(LAB)/4/spi_count.bpf.c))
$(LAB)/3/portfilter: $(LAB)/3/portfilter.c
	$(call msg,CC-LAB,$@)
	$(Q)$(CC) $(LAB_CFLAGS) -o $@ $<
$(LAB)/4/spi_count.bpf.o: $(LAB)/4/spi_count.bpf.c $(BPF_HDRS)
	$(call msg,BPF-LAB,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
endif

.PHONY: labs lab-refs
lab-refs: $(LAB_FNS) $(LAB_BPFS)
labs: lab-refs $(LAB_STUDENT)
all: lab-refs
