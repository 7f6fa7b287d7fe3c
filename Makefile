# greenhub: make build | make test | make clean
# `make test` works from a fresh clone on a Debian machine with Node 20, npm, g++, make and
# python3: it installs what it needs (npm ci; cmake and curl from Debian when missing) itself.
SHELL := /bin/bash
NATIVE_SRC := $(wildcard native/*.cc native/*.h) binding.gyp
TS_SRC := $(shell find lib -name '*.ts')

.PHONY: all build test clean deps native ts typecheck dts-check vitest cmake-check apt-tools prebuilds dist-test bench soak

# node-gyp builds against the running Node's own headers (no download): <prefix>/include/node.
export npm_config_nodedir ?= $(shell node -p "require('path').resolve(process.execPath, '..', '..')")

all: build

# npm ci runs the package's install script, which builds the addon (no prebuild matches in a clone).
node_modules/.greenhub-deps: package.json package-lock.json
	npm ci
	touch $@

deps: node_modules/.greenhub-deps

build/Release/greenhub.node: $(NATIVE_SRC) | deps
	npm run build:native

native: build/Release/greenhub.node

dist/index.js: $(TS_SRC) tsconfig.json | deps
	npm run build:ts
	touch $@

ts: dist/index.js

build: native ts

typecheck: deps
	npm run typecheck

# The shipped .d.ts, as a consumer's compiler sees it (stripInternal may leave a class that no
# longer matches an interface it names): caught here, before the slower dist-test.
dts-check: ts
	npx tsc --noEmit --strict --module node16 --moduleResolution node16 --target ES2022 --types node dist/index.d.ts

# Tools the tests use from Debian, installed only when missing (curl: the hello example's test).
apt-tools:
	scripts/apt-ensure.sh cmake:cmake curl:curl openssl:openssl

# The unit tests and the Zig prebuilds run side by side (the tests leave the CPU half idle,
# waiting on sockets and timers; the prebuilds take a core and a half for two minutes on a fresh
# machine); the serial, time-sensitive tests run after both, on an otherwise idle machine.
vitest: build apt-tools
	@mkdir -p .cache; $(MAKE) --no-print-directory prebuilds > .cache/prebuilds.log 2>&1 & pb=$$!; \
	  npx vitest run --project unit; unit=$$?; \
	  if ! wait $$pb; then cat .cache/prebuilds.log; echo "make prebuilds failed" >&2; exit 1; fi; \
	  cat .cache/prebuilds.log; exit $$unit
	npx vitest run --project serial

# The second build of the same addon (cmake-js, offline), loaded once.
cmake-check: apt-tools deps
	npm run build:cmake
	node -e "const a = require('./build-cmake/Release/greenhub.node'); \
	  const ep = a.epollCreate(); if (ep < 0) throw new Error('epollCreate ' + ep); a.close(ep); \
	  console.log('cmake-js build loads: ' + Object.keys(a).length + ' exports')"

# Prebuilt binaries for linux-x64 and linux-arm64, for glibc (2.17 and newer, the host's
# libstdc++ not needed) and for musl (Alpine): cross-built with Zig 0.11 from npm
# (scripts/prebuild.sh) and checked (scripts/check-prebuilds.sh: versioned symbols, needed
# libraries; musl's loader resolves the x64 musl build). Rebuilt when a native source changes;
# never committed. node-gyp builds the addon once (npm ci), for the tests; Zig builds these.
PREBUILDS := $(foreach a,x64 arm64,$(foreach l,glibc musl,prebuilds/linux-$(a)/greenhub.$(l).node))
$(PREBUILDS) &: $(NATIVE_SRC) scripts/prebuild.sh scripts/check-prebuilds.sh | deps
	scripts/apt-ensure.sh readelf:binutils /lib/ld-musl-x86_64.so.1:musl
	scripts/prebuild.sh

prebuilds: $(PREBUILDS)

# The packed tarball installs without a compiler and runs on x64 and (qemu) arm64.
dist-test: prebuilds ts
	scripts/apt-ensure.sh qemu-aarch64:qemu-user /usr/aarch64-linux-gnu/lib/libstdc++.so.6:libstdc++6-arm64-cross
	scripts/dist-test.sh

test: build typecheck dts-check vitest cmake-check dist-test

# Side by side with a C epoll server (the floor), Go's net, Node's net and http (and eventlet
# and gevent, from Debian, when they install): one table on stdout, bench/results/latest.json.
# BENCH_QUICK=1 for a short check; BENCH_ONLY=<mode or client>, BENCH_BEFORE=<dist dir>,
# BENCH_CPU_PROF=1 (greenhub's CPU profiles), BENCH_SYSCALLS=1 (syscalls per op): bench/run.js.
bench/loadgen: bench/loadgen.c
	$(CC) -O2 -Wall -Wextra -o $@ $<

# The floor beside greenhub: the same servers in C on epoll, and in Go (Debian's golang-go,
# when it installs; the bench says so when it does not).
bench/servers/c-epoll-server: bench/servers/c-epoll-server.c
	$(CC) -O2 -Wall -Wextra -o $@ $<

bench/servers/go-net-server: bench/servers/go-net-server.go
	-scripts/apt-ensure.sh go:golang-go
	-cd bench/servers && GO111MODULE=off go build -o go-net-server go-net-server.go

bench: build bench/loadgen bench/servers/c-epoll-server bench/servers/go-net-server
	-scripts/apt-ensure.sh taskset:util-linux wrk:wrk strace:strace
	-/usr/bin/python3 -c 'import eventlet, gevent' 2>/dev/null || \
	  scripts/apt-ensure.sh eventlet-missing:python3-eventlet gevent-missing:python3-gevent || true
	node bench/run.js

# The full soak (make test runs a short one): 1,000 clients for 2 minutes, 10,000 idle
# connections, fd exhaustion. Prints its figures; under 10 minutes.
soak: build
	SOAK_SECONDS=120 SOAK_CLIENTS=1000 SOAK_IDLE=10000 SOAK_GREENTHREADS=1000000 npx vitest run --project serial test/soak/

clean:
	rm -rf build build-cmake dist prebuilds node_modules/.greenhub-deps
