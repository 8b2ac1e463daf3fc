# Entry points. Each installs what it needs first (scripts/setup is
# idempotent), so a fresh Debian 12 machine needs only these commands.
PRESET       ?= release
BUILD_DIR    := build/$(PRESET)
JOBS         ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CTEST_ARGS   ?=

.PHONY: all setup configure build test unit integration fuzz bench demo clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Unit and integration tests through CTest; CTest prints the summary.
test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -L unit

integration: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L integration

# libFuzzer targets (clang), FUZZ_SECONDS each.
fuzz: setup
	@scripts/fuzz $(FUZZ_SECONDS)

# Benchmarks, each against its named baseline in the same run.
bench: build
	@scripts/bench $(BUILD_DIR)

# The example app from Docker image to a running (simulated) enclave.
demo: build
	@scripts/demo $(BUILD_DIR)

clean:
	rm -rf build
