# rootwatch — the commands a new user needs. `make demo` shows it working; `make test` checks it.
# Python tools (moto, cargo-lambda, SAM CLI, cfn-lint, pytest) go into a project-local .venv,
# pinned in requirements-dev.txt. The venv's bin comes first on PATH: cargo-lambda finds Zig there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
TOOLS := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help tools demo test lint unit e2e template-test build deploy deploy-cargo-lambda clean-demo

help:
	@echo "make demo    replay events/ through the real function against a local SNS; show the SMS and emails"
	@echo "make test    every check: fmt, clippy, unit + integration tests (local SNS), demo check, template checks"
	@echo "make build   release arm64 bootstrap under target/lambda/rootwatch/"
	@echo "make deploy  sam build && sam deploy --guided"
	@echo "make deploy-cargo-lambda   deploy with cargo lambda (see README)"

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

tools: $(TOOLS)

demo: $(TOOLS)
	scripts/demo.sh

test: $(TOOLS) lint unit e2e template-test

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

unit: $(TOOLS)
	cargo test

e2e: $(TOOLS)
	scripts/demo.sh --check

template-test: $(TOOLS)
	cfn-lint template.yaml
	sam validate --lint --template template.yaml
	pytest -q tests/template

build: $(TOOLS)
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64

deploy: $(TOOLS)
	rustup target add aarch64-unknown-linux-gnu
	sam build
	sam deploy --guided

clean-demo:
	rm -rf .demo
