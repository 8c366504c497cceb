# Spindle — a distributed task queue in C on Redis.
#
#   make            build the library, spindle-worker, spindle and the example tasks into build/
#   make deps       install the Debian packages Spindle needs (apt-get, as root)
#   make demo       run the demo on a private redis-server (see README.md)
#   make test       run the test suites against a private redis-server
#   make test SANITIZE=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind   the suites under valgrind memcheck
#   make bench      the benchmark (BENCH_N tasks, default 50000)
#   make bench-cluster  enqueue and drain throughput, 3-master Redis Cluster vs 1 redis-server
#                   (BENCH_CLUSTER_N tasks, default 30000; bench/cluster.sh)
#   make bench-peers  the benchmark beside BullMQ, bee-queue and Sidekiq (../shared/peers)
#   make chaos      kill -9 slots, supervisors and redis-server (AOF) under CHAOS_N tasks
#                   (default 20000); checks that every task succeeded (tests/chaos/chaos.c)
#   make install PREFIX=/usr/local DESTDIR=
#   make fuzz      each libFuzzer target of tests/fuzz/ for FUZZ_SECONDS (default 30) from its
#                  committed seeds (tests/fuzz/corpus/TARGET/); built in build-fuzz/
#   make install-check  make install into a temp DESTDIR (the Dockerfile's step), run the tree
#   make deploy-check   install-check, systemd-analyze verify, deploy/ YAML, a local fleet of 3
#   make fleet FLEET_N=4 [REDIS_URL=...]  N workers on this host (deploy/local-fleet); make fleet-stop
#   make format / make lint   (lint: cppcheck + clang-tidy, zero findings; .ci/lint.sh)

VERSION := $(shell sed -n 's/^\#define SPINDLE_VERSION "\(.*\)"/\1/p' include/spindle/version.h)
MAJOR := $(shell sed -n 's/^\#define SPINDLE_VERSION_MAJOR \([0-9]*\)/\1/p' include/spindle/version.h)

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
BENCH_N ?= 50000
FLEET_N ?= 2
CHAOS_N ?= 20000
BENCH_RTT_N ?= 10000
BENCH_CLUSTER_N ?= 30000
FUZZ_SECONDS ?= 30

# Debian packages: build and test dependencies.
DEPS_PKGS := build-essential pkg-config libhiredis-dev libmsgpack-dev uuid-dev libcunit1-dev \
	libjansson-dev libncurses-dev tmux libmicrohttpd-dev redis-server redis-tools clang \
	libclang-rt-14-dev valgrind iproute2 python3-yaml cppcheck clang-tidy

# jansson: the worker's JSON log lines and the CLI. libmicrohttpd (the worker's metrics
# endpoint) is compiled against but loaded only when served (worker/mhd.h): not linked.
PKGS := hiredis msgpack uuid jansson
SPINDLE_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -MMD -MP \
	-Iinclude -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || \
	echo -lhiredis -lmsgpackc -luuid -ljansson) \
	-ldl -lpthread
# The CLI links jansson itself too (its JSON output).
JSON_LIBS := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
# Only the CLI draws on a terminal (`spindle watch`).
CURSES_LIBS := $(shell pkg-config --libs ncurses 2>/dev/null || echo -lncurses)

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
CC := clang
CFLAGS := -O1 -g -fno-omit-frame-pointer
SPINDLE_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD ?= build
endif

OBJ := $(BUILD)/obj
LIB_SRC := $(wildcard common/*.c store/*.c producer/*.c) $(filter-out worker/main.c,$(wildcard worker/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(OBJ)/%.o)
CLI_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard cli/*.c))
# The CLI's pure helpers (argument typing, msgpack to JSON) are unit tested: tests link them.
CLI_HELPER_OBJ := $(filter-out $(OBJ)/cli/main.o,$(CLI_OBJ))
WORKER_OBJ := $(OBJ)/worker/main.o
# tests/*.c only: the chaos check in tests/chaos/ is a program of its own.
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(OBJ)/%.o)

STATIC := $(BUILD)/lib/libspindle.a
SHARED := $(BUILD)/lib/libspindle.so
SONAME := libspindle.so.$(MAJOR)
TASKS_SO := $(BUILD)/lib/spindle-example-tasks.so
MIDDLEWARE_SO := $(BUILD)/lib/spindle-example-middleware.so
MIDDLEWARE_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard examples/middleware*.c))
WORKER_BIN := $(BUILD)/bin/spindle-worker
CLI_BIN := $(BUILD)/bin/spindle
PRODUCER_BIN := $(BUILD)/bin/spindle-example-producer
BENCH_BIN := $(BUILD)/bin/spindle-bench
BENCH_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(filter-out bench/tasks.c bench/cluster.c,$(wildcard bench/*.c)))
BENCH_CLUSTER_BIN := $(BUILD)/bin/spindle-bench-cluster
BENCH_CLUSTER_OBJ := $(OBJ)/bench/cluster.o $(OBJ)/bench/common.o
BENCH_TASKS_SO := $(BUILD)/lib/spindle-bench-tasks.so
TEST_BIN := $(BUILD)/bin/spindle-tests
CHAOS_BIN := $(BUILD)/bin/spindle-chaos
CHAOS_TASKS_SO := $(BUILD)/lib/spindle-chaos-tasks.so
CHAOS_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(filter-out tests/chaos/tasks.c,$(wildcard tests/chaos/*.c)))
RPATH := -Wl,-rpath,'$$ORIGIN/../lib'

.PHONY: all deps demo test test-run valgrind bench bench-peers chaos install format lint clean
.PHONY: install-check deploy-check fleet fleet-stop
all: $(STATIC) $(SHARED) $(WORKER_BIN) $(CLI_BIN) $(TASKS_SO) $(PRODUCER_BIN) $(BENCH_BIN) \
	$(BENCH_CLUSTER_BIN) \
	$(CHAOS_BIN) $(CHAOS_TASKS_SO) $(MIDDLEWARE_SO)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SPINDLE_CFLAGS) $(CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS) -o $@.$(VERSION) $^ $(LIBS)
	ln -sf libspindle.so.$(VERSION) $(BUILD)/lib/$(SONAME)
	ln -sf libspindle.so.$(VERSION) $@

# Executables link the shared library so that task libraries loaded with dlopen() resolve
# spindle_* symbols against the same single copy.
# The worker types the arguments of --cron entries as the CLI types enqueue's.
$(WORKER_BIN): $(WORKER_OBJ) $(OBJ)/cli/argtype.o $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(WORKER_OBJ) $(OBJ)/cli/argtype.o -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS)

$(CLI_BIN): $(CLI_OBJ) $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS) $(JSON_LIBS) $(CURSES_LIBS)

$(PRODUCER_BIN): $(OBJ)/examples/producer.o $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS)

$(BENCH_BIN): $(BENCH_OBJ) $(SHARED) $(BENCH_TASKS_SO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(BENCH_OBJ) -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS)

$(BENCH_CLUSTER_BIN): $(BENCH_CLUSTER_OBJ) $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(BENCH_CLUSTER_OBJ) -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS)

$(BENCH_TASKS_SO): $(OBJ)/bench/tasks.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $<

$(TASKS_SO): $(OBJ)/examples/tasks.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $<

$(MIDDLEWARE_SO): $(MIDDLEWARE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ -lpthread

$(CHAOS_BIN): $(CHAOS_OBJ) $(SHARED)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CHAOS_OBJ) -L$(BUILD)/lib -lspindle $(RPATH) $(LIBS)

$(CHAOS_TASKS_SO): $(OBJ)/tests/chaos/tasks.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $<

$(TEST_BIN): $(TEST_OBJ) $(CLI_HELPER_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(CLI_HELPER_OBJ) $(STATIC) $(LIBS) $(JSON_LIBS) $(CURSES_LIBS) -lcunit

deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "deps: missing:$$missing — run 'sudo make deps' or install them with apt-get" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) bash examples/demo.sh

test: deps
	$(MAKE) $(TEST_BIN) all
	$(MAKE) test-run

# Runs the suites twice: over TCP with the default namespace, over a unix socket with
# another namespace.
test-run:
	SPINDLE_TEST_BUILD=$(BUILD) $(TEST_BIN)
	SPINDLE_TEST_BUILD=$(BUILD) SPINDLE_TEST_UNIX=1 SPINDLE_TEST_NS=spx-test $(TEST_BIN)

valgrind: deps
	$(MAKE) $(TEST_BIN) all
	SPINDLE_TEST_BUILD=$(BUILD) SPINDLE_TEST_VALGRIND=1 valgrind --error-exitcode=3 \
	  --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no \
	  --trace-children=no -q $(TEST_BIN)

# The binaries themselves under valgrind (worker with both pools, producer, CLI), against a
# private redis-server: tests/valgrind_binaries.sh.
.PHONY: valgrind-binaries
valgrind-binaries: deps all
	BUILD=$(BUILD) bash tests/valgrind_binaries.sh

bench: deps all
	BENCH_N=$(BENCH_N) BUILD=$(BUILD) bash bench/run.sh

# Spindle's enqueue and drain at 1 ms round-trip time: network namespaces and tc netem (root;
# skips with a message otherwise; see bench/rtt.sh).
.PHONY: bench-rtt
bench-rtt: deps all
	BENCH_RTT_N=$(BENCH_RTT_N) BUILD=$(BUILD) bash bench/rtt.sh

# Throughput on a 3-master Redis Cluster vs one redis-server, same queues (bench/cluster.sh):
# BENCH_CLUSTER_N tasks (default 30000) over BENCH_CLUSTER_QUEUES queues (3), drained by
# BENCH_CLUSTER_WORKERS spindle-worker processes (3).
.PHONY: bench-cluster
bench-cluster: deps all
	BENCH_N=$(BENCH_CLUSTER_N) BUILD=$(BUILD) bash bench/cluster.sh

# Spindle beside the peer queues of ../shared/peers on one redis-server (see bench/peers.sh).
bench-peers: deps all
	BENCH_N=$(BENCH_N) BUILD=$(BUILD) bash bench/peers.sh

chaos: deps all
	$(CHAOS_BIN) --build $(BUILD) --n $(CHAOS_N)

install: all
	install -d $(DESTDIR)$(PREFIX)/include/spindle $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/spindle
	install -m 644 include/spindle.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/spindle/*.h $(DESTDIR)$(PREFIX)/include/spindle/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED).$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libspindle.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf libspindle.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libspindle.so
	install -m 755 $(WORKER_BIN) $(CLI_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(TASKS_SO) $(MIDDLEWARE_SO) $(DESTDIR)$(PREFIX)/lib/spindle/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' spindle.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/spindle.pc

install-check: all
	BUILD=$(BUILD) bash deploy/check.sh install

deploy-check: deps all
	BUILD=$(BUILD) bash deploy/check.sh all

fleet: all
	BUILD=$(BUILD) deploy/local-fleet start -n $(FLEET_N) $(if $(REDIS_URL),--redis $(REDIS_URL))

fleet-stop:
	BUILD=$(BUILD) deploy/local-fleet stop

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# cppcheck and clang-tidy over all our C, zero findings (.ci/lint.sh, .clang-tidy,
# .cppcheck-suppressions).
lint:
	bash .ci/lint.sh

clean:
	rm -rf build $(FUZZ_BUILD)

# libFuzzer targets (tests/fuzz/*.c, one per input kind): the library and the CLI's pure
# helpers built with clang's fuzzer instrumentation into an archive, so that each target
# links only the objects it uses. Each run writes what it finds into a temp dir, never into
# the committed seeds; a crash leaves its input as build-fuzz/crash-*.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -Iinclude -I. \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC) cli/argtype.c cli/json.c)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/fuzz-%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libspindle-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/bin/fuzz-%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_BUILD)/libspindle-fuzz.a
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS) $(JSON_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  tmp=$$(mktemp -d); mkdir $$tmp/corpus; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/bin/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $$tmp/corpus tests/fuzz/corpus/$$t \
	    >$$tmp/log 2>&1; rc=$$?; \
	  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Test unit written' $$tmp/log; \
	  if [ $$rc != 0 ]; then tail -n 40 $$tmp/log >&2; rm -rf $$tmp; \
	    echo "fuzz: $$t failed (exit $$rc)" >&2; exit 1; fi; \
	  rm -rf $$tmp; \
	done

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
