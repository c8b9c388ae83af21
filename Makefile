# ghost -- build, test, fuzz, bench.
#
#   make            build every binary into bin/
#   make test       unit + integration tests; ends with "N passed, N failed"
#   make asan       the same tests, built with AddressSanitizer + UBSan
#   make fuzz       build and run the libFuzzer harness of the frame decoder
#   make bench      the throughput benchmark (bench/)
#   make deps       install missing Debian packages (apt-get)
#
# Layout: lib/*.c, proto/*.c and every stages/<dir>/*.c that is not a main go
# into one static library; stages/<dir>/ghost*.c are mains, one binary each,
# named after the file.  tests/unit/test_*.c are test programs.

CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
BUILD    ?= build
BIN      ?= bin
PKGS     := libzmq hiredis msgpack libcurl jansson yajl libpcre2-8 libxxhash libmicrohttpd
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wwrite-strings
CPPFLAGS += -D_GNU_SOURCE -Ilib -Iproto -Istages -Itests
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SAN) -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
LDFLAGS  += $(SAN)

MAIN_SRC := $(wildcard stages/*/ghost*.c bench/ghost*.c)
LIB_SRC  := $(wildcard lib/*.c proto/*.c) $(filter-out $(MAIN_SRC),$(wildcard stages/*/*.c))
TEST_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
BINS     := $(foreach m,$(MAIN_SRC),$(BIN)/$(basename $(notdir $(m))))
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBGHOST := $(BUILD)/libghost.a

DEB_PKGS := build-essential pkg-config libzmq3-dev libhiredis-dev libmsgpack-dev \
            libcurl4-openssl-dev libjansson-dev libyajl-dev libpcre2-dev libxxhash-dev \
            libmicrohttpd-dev redis-server python3 clang

.PHONY: all deps test unit asan fuzz bench clean check-deps
.SECONDARY:

all: check-deps $(BINS) $(TESTS)

# Installs what is missing; does nothing (and needs no root) when all is there.
deps:
	@missing=""; \
	for p in $(PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v cc >/dev/null || missing="$$missing cc"; \
	if [ -n "$$missing" ]; then \
	  echo "ghost: installing missing packages (missing:$$missing)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PKGS) >/dev/null; \
	fi

check-deps:
	@for p in $(PKGS); do pkg-config --exists $$p || { echo "missing $$p: run 'make deps'" >&2; exit 1; }; done

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBGHOST): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# One rule per main (the stage directory is part of the object path).
define MAIN_RULE
$(BIN)/$(basename $(notdir $(1))): $(BUILD)/$(1:.c=.o) $(LIBGHOST)
	@mkdir -p $(BIN)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(LIBGHOST) $$(LDLIBS)
endef
$(foreach m,$(MAIN_SRC),$(eval $(call MAIN_RULE,$(m))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBGHOST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBGHOST) $(LDLIBS)

test: deps
	@$(MAKE) --no-print-directory all
	@GHOST_BIN=$(abspath $(BIN)) GHOST_TESTBIN=$(abspath $(BUILD)/tests) bash tests/run.sh

unit: deps
	@$(MAKE) --no-print-directory all
	@GHOST_BIN=$(abspath $(BIN)) GHOST_TESTBIN=$(abspath $(BUILD)/tests) GHOST_ONLY=unit bash tests/run.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  GHOST_SANITIZED=1 GHOST_BIN=$(abspath build/asan/bin) GHOST_TESTBIN=$(abspath build/asan/tests) bash tests/run.sh

ubsan: asan

FUZZ_SECONDS ?= 60
FUZZ_FLAGS = $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS))
PARSE_SRC  = $(wildcard stages/ingest/parse*.c) proto/codec.c lib/clock.c lib/log.c lib/hash.c
fuzz: deps
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/corpus-parse
	clang $(FUZZ_FLAGS) tests/fuzz/fuzz_decode.c proto/codec.c -o $(BUILD)/fuzz/fuzz_decode $(LDLIBS)
	clang $(FUZZ_FLAGS) tests/fuzz/fuzz_parse.c $(PARSE_SRC) -o $(BUILD)/fuzz/fuzz_parse $(LDLIBS)
	$(BUILD)/fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/corpus tests/fuzz/seeds
	$(BUILD)/fuzz/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(BUILD)/fuzz/corpus-parse tests/fuzz/seeds-parse

bench: all
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) $(BIN)

# make -s print-VAR prints a variable (bench/nab_sweep.sh compiles with the build's own flags).
print-%:
	@echo '$($*)'

-include $(LIB_OBJ:.o=.d) $(MAIN_SRC:%.c=$(BUILD)/%.d) $(TEST_SRC:%.c=$(BUILD)/%.d)
