# The front door. On a fresh machine:
#   make run    start the local gateway (127.0.0.1:3000) with the Ping simulator (127.0.0.1:3001)
#   make test   everything CI checks: format, lints, build, unit + end-to-end tests, template
#
# Needs: a Rust toolchain (cargo) and python3 with the venv module. Python tools (moto for the
# end-to-end tests, SAM CLI + cfn-lint for the template) are installed into ./.venv on first use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
# Installed once per change of requirements-dev.txt.
VENV_STAMP := $(VENV)/.installed

# Recipes (and the tests they run) find moto_server, sam and cfn-lint here first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

CARGO_FMT_CHECK := cargo fmt --all -- --check
CARGO_CLIPPY := cargo clippy --workspace --all-targets -- -D warnings
# `make test` lints while it builds: clippy-driver as the workspace's rustc wrapper, with the
# arguments `cargo clippy` itself hands it (CLIPPY_ARGS, "__CLIPPY_HACKERY__"-separated),
# compiles each workspace crate and lints it in the same pass, so the same lints as
# $(CARGO_CLIPPY) fail the build. `cargo clippy` then `cargo build` would type-check the whole
# dependency tree twice: about 4 of 13 minutes of a cold `make test` on 2 cores. Dependencies
# are compiled by plain rustc either way; the test step runs with the same environment so that
# nothing is compiled again.
LINTING_BUILD := RUSTC_WORKSPACE_WRAPPER=clippy-driver CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
CARGO_BUILD := cargo build --workspace --bins
# The end-to-end tests run the compiled function binaries, so they are built before testing,
# together with every test target: dev-dependencies widen the features of shared crates
# (serde_json, tokio, ...), and building the binaries with the same feature set as `cargo test`
# keeps the test step from compiling the whole dependency tree a second time.
CARGO_BUILD_FOR_TESTS := cargo build --workspace --all-targets
CARGO_TEST := cargo test --workspace
# A clean clone in CI builds everything once: incremental compilation's caches would only cost
# time there (and disk).
ifeq ($(CI),true)
export CARGO_INCREMENTAL := 0
endif
SAM_VALIDATE := sam validate --lint --template-file template.yaml
CFN_LINT := cfn-lint template.yaml

# The architecture `make build` compiles for: arm64 (the template's default, Graviton) when the
# Rust standard library for aarch64-unknown-linux-gnu is installed (`rustup target add
# aarch64-unknown-linux-gnu`), else this machine's x86_64. Deploy with the same value.
ARCH ?= $(shell rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu && echo arm64 || echo x86_64)

.PHONY: help venv browser run test lint validate build build-debug contract fidelity bench bench-quick clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## create .venv with the pinned Python dev tools (moto, SAM CLI, cfn-lint)

$(VENV_STAMP): requirements-dev.txt requirements-dev.lock
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; install Python 3 with venv (Debian: apt-get install python3-venv)" >&2; \
	  exit 1; }
	$(VENV)/bin/python -m pip install --quiet --no-input --disable-pip-version-check -r requirements-dev.txt -c requirements-dev.lock
	@touch $@

# Debian's Chromium and ChromeDriver for the browser tests (tests/src/browser.rs drives them over
# W3C WebDriver). Installed only when a binary is missing; as root (CI) directly, else with sudo.
# Nothing is downloaded outside Debian's packages: a browser build of a test tool's own would not be.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
APT_BROWSER_PACKAGES := chromium chromium-driver

browser: ## install Debian's chromium + chromium-driver if missing (for the browser tests)
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else \
	  echo "error: $(CHROMIUM) or $(CHROMEDRIVER) is missing and this is neither root nor passwordless sudo;" >&2; \
	  echo "  install them: sudo apt-get install chromium chromium-driver" >&2; \
	  exit 1; \
	fi; \
	echo "installing $(APT_BROWSER_PACKAGES) (Debian) for the browser tests"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_BROWSER_PACKAGES) || { \
	  echo "error: apt-get could not install $(APT_BROWSER_PACKAGES); the browser tests need them" >&2; \
	  exit 1; }; \
	test -x $(CHROMIUM) && test -x $(CHROMEDRIVER) || { \
	  echo "error: $(APT_BROWSER_PACKAGES) installed but $(CHROMIUM) or $(CHROMEDRIVER) is still missing" >&2; \
	  exit 1; }

run: ## start the local gateway + simulator with the demo tenant (Ctrl-C stops it)
	cargo run -p pingid-local

test: venv browser ## format check, clippy, build, all tests, template checks
	$(CARGO_FMT_CHECK)
	$(LINTING_BUILD) $(CARGO_BUILD_FOR_TESTS)
	$(LINTING_BUILD) $(CARGO_TEST)
	$(SAM_VALIDATE)
	$(CFN_LINT)

lint: ## format check and clippy (no tests)
	$(CARGO_FMT_CHECK)
	$(CARGO_CLIPPY)

validate: venv ## check template.yaml with sam validate --lint and cfn-lint
	$(SAM_VALIDATE)
	$(CFN_LINT)

# The function packages, one per folder of functions/ (each function's CodeUri in template.yaml
# is target/lambda/<package>/).
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_ARCH_FLAG := $(if $(filter arm64,$(ARCH)),--arm64,--x86-64)

# One cargo invocation builds every function (cargo-lambda over cargo-zigbuild, linked against
# Amazon Linux 2023's glibc for either architecture) and leaves each as
# target/lambda/<package>/bootstrap, the template's CodeUri: `sam deploy` zips it as it is.
build: venv ## build every function for Lambda into target/lambda/ (ARCH=arm64|x86_64)
	@echo "building for $(ARCH): deploy with --parameter-overrides Architecture=$(ARCH)"
	cargo lambda build --release $(LAMBDA_ARCH_FLAG) $(addprefix --package ,$(FUNCTIONS))
	@for package in $(FUNCTIONS); do \
	  artifact=$${CARGO_TARGET_DIR:-target}/lambda/$$package/bootstrap; \
	  printf '%-58s %6s KiB\n' "$$artifact" "$$(( $$(stat -c %s "$$artifact") / 1024 ))"; \
	done

build-debug: ## build every binary (debug, this machine), as the tests run them
	$(CARGO_BUILD)

contract: ## regenerate openapi.yaml, docs/davinci/ and docs/api.md's route table from the schemas
	cargo run --quiet -p pingid-local --bin pingid-contract

# The simulator and simulator/contract/ compared with Ping's published OpenAPI description of the
# MFA API, which lives beside the repository (never in it), so `make test` cannot read it:
#   make fidelity PINGONE_MFA_OPENAPI=../shared/reference/openapi/pingone-mfa.yaml
# The path is made absolute because cargo runs the test from simulator/.
fidelity: ## compare the simulator with Ping's OpenAPI document (PINGONE_MFA_OPENAPI=<path>)
	@test -n "$(PINGONE_MFA_OPENAPI)" || { \
	  echo "error: PINGONE_MFA_OPENAPI is not set; run: make fidelity PINGONE_MFA_OPENAPI=<path of Ping's pingone-mfa.yaml>" >&2; \
	  exit 1; }
	@test -f "$(PINGONE_MFA_OPENAPI)" || { \
	  echo "error: PINGONE_MFA_OPENAPI=$(PINGONE_MFA_OPENAPI) is not a file" >&2; \
	  exit 1; }
	PINGONE_MFA_OPENAPI="$(abspath $(PINGONE_MFA_OPENAPI))" cargo test -p pingid-sim --features fidelity --test fidelity

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): bench/requirements.txt $(VENV_STAMP)
	$(VENV)/bin/python -m pip install --quiet --no-input --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# The harness is built first (not timed). It then times a cold `make build` into target/bench
# and the same under the LTO table's other release profiles, measures the binaries against the
# floor (baseline-echo) and the reference (baseline-reqwest), and last times `make run` and
# `make test` from fresh clones. About two hours on 2 cores; nothing else should run meanwhile.
bench: $(BENCH_STAMP) ## measure against the Rust Lambda floor; writes bench/REPORT.md and its chart
	cargo build --release -p pingid-bench
	target/release/pingid-bench --cold-build --lto-table --make-run --make-test --out bench/results.json
	$(VENV)/bin/python bench/report.py

# The host's architecture, for binaries the bench runs here.
HOST_ARCH := $(if $(filter aarch64,$(shell uname -m)),arm64,x86_64)

# Tries the harness: a tenth of the samples, on what `make build` left in target/lambda (built
# for this machine), no build timings; the report goes to target/bench-quick/ so
# bench/REPORT.md keeps the last full run.
bench-quick: $(BENCH_STAMP) ## a quick try of the benchmark harness (not for the report)
	cargo build --release -p pingid-bench
	$(MAKE) build ARCH=$(HOST_ARCH)
	cargo lambda build --release $(if $(filter arm64,$(HOST_ARCH)),--arm64,--x86-64) --package baseline-echo --package baseline-reqwest
	mkdir -p target/bench-quick
	PINGID_BIN_DIR=$(CURDIR)/target/lambda target/release/pingid-bench --quick --out target/bench-quick/results.json
	$(VENV)/bin/python bench/report.py target/bench-quick/results.json target/bench-quick/REPORT.md target/bench-quick/cold-start.png

clean: ## remove build outputs (keeps .venv)
	cargo clean
	rm -rf .aws-sam

distclean: clean ## also remove .venv
	rm -rf $(VENV)
