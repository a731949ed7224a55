# crossclimb — top-level build.
#
#   make            build build/crossclimb
#   make check      install missing Debian packages, build, run every test
#   make sanitize   the same tests in an ASan+UBSan build (build-san/)
#   make bench      print the benchmarks
#   make demo       run the main job on its built-in default
#   make fuzz       build libFuzzer targets with clang (build-fuzz/) and run each briefly
#   make install    PREFIX=/usr/local DESTDIR=
#
# Sources are found by folder: every .c in a module folder is part of that
# module; cli/ holds the front command; tests/check_*.c are Check suites,
# tests/*.sh shell/python integration tests, tests/bench/bench_*.c benchmarks,
# tests/fuzz/fuzz_*.c fuzz targets.

CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
PYTHON ?= /usr/bin/python3

PKGS := libmodbus libserialport json-c inih ncursesw
TEST_PKGS := check

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla -Wundef -Wcast-align \
        -Wnull-dereference -Wimplicit-fallthrough
OPT ?= -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -I.
CFLAGS_ALL = -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(filter-out -D_XOPEN_SOURCE=%,$(shell pkg-config --cflags $(PKGS))) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS)) -lm $(LDLIBS)
CHECK_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

MODULES := plc_bridge perception robot sim controller
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_SUPPORT_SRC := $(wildcard tests/support/*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
SCRIPT_TESTS := $(sort $(wildcard tests/test_*.sh))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
FUZZ_REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
LIB := $(BUILD)/libcrossclimb.a
BIN := $(BUILD)/crossclimb

.PHONY: all check check-unit check-scripts sanitize bench demo fuzz install deps clean
.DEFAULT_GOAL := all

all: $(BIN)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIB) $(LDLIBS_ALL) $(CHECK_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)

# Fuzz targets also build as plain programs that replay their seed corpus,
# so `make check` exercises every parser on its corpus without clang.
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/replay_main.o $(LIB) $(LDLIBS_ALL)

# Environment every test sees: where the binary, the sources and the peers are.
TEST_ENV = CROSSCLIMB_BIN=$(abspath $(BIN)) CROSSCLIMB_SRC=$(CURDIR) \
           CROSSCLIMB_SHARED=$(abspath ../shared) PYTHON=$(PYTHON) CK_DEFAULT_TIMEOUT=120

check: deps
	@$(MAKE) --no-print-directory check-unit check-scripts

check-unit: $(BIN) $(TEST_BIN) $(FUZZ_REPLAY_BIN)
	@set -e; fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; $(TEST_ENV) $$t || fail=1; done; \
	for f in $(FUZZ_REPLAY_BIN); do n=$$(basename $$f); \
	  echo "== $$f tests/fuzz/corpus/$$n"; $$f tests/fuzz/corpus/$$n || fail=1; done; \
	exit $$fail

check-scripts: $(BIN)
	@set -e; pass=0; failn=0; for t in $(SCRIPT_TESTS); do \
	  echo "== $$t"; if $(TEST_ENV) sh $$t; then pass=$$((pass+1)); else failn=$$((failn+1)); echo "FAILED: $$t"; fi; done; \
	echo "script tests: $$pass passed, $$failn failed"; test $$failn -eq 0

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 OPT="-O1 -g" check-unit check-scripts

bench: $(BIN) $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $(TEST_ENV) $$b || exit 1; done

demo: deps $(BIN)
	$(BIN) demo

fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined" fuzz-run

FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)

.PHONY: fuzz-run
fuzz-run: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p $(BUILD)/corpus/$$n; \
	  echo "== $$f (60 s)"; $$f -max_total_time=$${FUZZ_SECONDS:-60} $(BUILD)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

# Shipped fusion weights (perception/weights/, docs/perception-data.md):
# simulator data from seed 1, trained, then measured on data of another
# seed and other facades.  Deterministic; a few minutes; not part of check.
WEIGHTS_DIR := perception/weights
WEIGHTS_WORK := $(BUILD)/weights
.PHONY: weights
weights: $(BIN)
	@mkdir -p $(WEIGHTS_WORK)
	$(BIN) fusion dataset --out $(WEIGHTS_WORK)/train.ccfusion --n 12000 --seed 1 \
	  --facades sim/facades --gen-facades 32 --sequences 0.4 --faults-rate 0.5
	$(BIN) fusion train --data $(WEIGHTS_WORK)/train.ccfusion --hidden 16 --epochs 60 \
	  --lr 0.01 --batch 32 --seed 1 --out $(WEIGHTS_DIR)/fusion-default.safetensors
	cp $(WEIGHTS_WORK)/train.ccfusion.manifest $(WEIGHTS_DIR)/train.manifest
	$(BIN) fusion dataset --out $(WEIGHTS_WORK)/val.ccfusion --n 6000 --seed 2 --gen-facades 16
	$(BIN) fusion calibrate --weights $(WEIGHTS_DIR)/fusion-default.safetensors \
	  --data $(WEIGHTS_WORK)/val.ccfusion --far 0.05 --stop-far 0.01 \
	  --out $(WEIGHTS_DIR)/fusion-default.safetensors > $(WEIGHTS_WORK)/calibration.txt
	cp $(WEIGHTS_WORK)/calibration.txt $(WEIGHTS_DIR)/calibration.txt
	$(BIN) fusion dataset --out $(WEIGHTS_WORK)/eval.ccfusion --n 6000 --seed 1001 --gen-facades 16
	$(BIN) fusion eval --weights $(WEIGHTS_DIR)/fusion-default.safetensors \
	  --data $(WEIGHTS_WORK)/eval.ccfusion --train-manifest $(WEIGHTS_DIR)/train.manifest \
	  > $(WEIGHTS_WORK)/eval.txt
	cp $(WEIGHTS_WORK)/eval.txt $(WEIGHTS_DIR)/eval.txt

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/crossclimb
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/crossclimb
	install -m 0644 docs/plc/crossclimb.il $(DESTDIR)$(PREFIX)/share/crossclimb/
	install -m 0644 perception/weights/fusion-default.safetensors $(DESTDIR)$(PREFIX)/share/crossclimb/
	for m in docs/man/*.1; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true

clean:
	rm -rf build build-san build-fuzz build-clang

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
