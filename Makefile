# rootwatch — the commands a new user needs. `make demo` shows it working; `make test` checks it.
# Python tools (moto, cargo-lambda, SAM CLI, cfn-lint, pytest) go into a project-local .venv,
# pinned in requirements-dev.txt. The venv's bin comes first on PATH: cargo-lambda finds Zig there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
TOOLS := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Where cargo puts what it builds: target/ unless CARGO_TARGET_DIR or a cargo config says otherwise.
TARGET_DIR := $(shell cargo metadata --format-version 1 --no-deps 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null)

.PHONY: help tools demo test lint unit e2e template-test deploy-check build deploy deploy-cargo-lambda bench bench-coverage bench-size bench-memory bench-cold clean-demo org-home org-stackset org-management org-dry-run package package-bucket publish regions org-teardown workflow-lint locked declare declarations end-declaration

help:
	@echo "make demo    replay events/ through the real function against local SNS + DynamoDB + EventBridge; show the SMS, emails and PagerDuty/Opsgenie requests"
	@echo "make test    every check: fmt, clippy, unit/integration/property tests (local SNS + DynamoDB), demo check, template checks, sam build, package and publish against local S3 and SAR, workflow lint"
	@echo "make build   release arm64 bootstrap under $(TARGET_DIR)/lambda/rootwatch/"
	@echo "make deploy  sam build && sam deploy (--guided until a samconfig.toml exists: cp samconfig.toml.example samconfig.toml)"
	@echo "make package BUCKET=<bucket> [PREFIX=<prefix>]   upload the arm64 zip, write dist/ (packaged template, zip, forwarder.yaml, SHA256SUMS); prints the template's path last"
	@echo "make publish  sam publish the packaged template to the Serverless Application Repository (docs/install.md)"
	@echo "make regions HOME_REGION=us-east-1 REGIONS=eu-west-1,...   one home stack, forwarders in this account's other regions [STACK_NAME=rootwatch] [DRY_RUN=1]"
	@echo "make deploy-cargo-lambda   deploy with cargo lambda (see docs/deploy.md)"
	@echo "make org-home ORGANIZATION_ID=o-...   the home stack in organization mode (docs/organizations.md)"
	@echo "make org-stackset HOME_BUS_ARN=... OU_IDS=r-... REGIONS=us-east-1,eu-west-1   forwarders in every member account"
	@echo "make org-management HOME_BUS_ARN=... REGIONS=...   forwarders in the management account (StackSets skip it)"
	@echo "make org-teardown HOME_BUS_ARN=... REGIONS=...   remove the organization's forwarders: stack instances, stack set, management stacks [DRY_RUN=1 OU_IDS=...]"
	@echo "make org-dry-run   print every org, regions and teardown call without making one (run by make test)"
	@echo "make declare ACCOUNT=111122223333 MINUTES=60 REASON=\"...\" BY=<you> [SOURCE_CIDR=192.0.2.0/24] [REPLACE=1]   declare planned root use (docs/declaring.md) [STACK=rootwatch or STATE_TABLE=...]"
	@echo "make declarations   open declarations, and ended ones whose root-use report is to come"
	@echo "make end-declaration ACCOUNT=111122223333 [NO_WAIT=1]   end the account's declaration now, and wait for rootwatch to close its window"
	@echo "make bench   criterion benchmarks of the pure core; bench-size: the arm64 artifact; bench-memory: peak RSS"
	@echo "make bench-coverage   coverage at 1,000 accounts x 17 regions: the pure check, then against moto (requests, capacity, cost)"
	@echo "make bench-cold   cold start to first alert over TLS, Rust and a Python + boto3 peer, full CPU and a 128 MB CPU share"

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

tools: $(TOOLS)

demo: $(TOOLS)
	scripts/demo.sh

test: $(TOOLS) locked lint unit e2e deploy-check org-dry-run workflow-lint template-test

# Every build and test of a make run uses Cargo.lock as committed: this fails if it would have to
# change (cargo has no setting for --locked, so it is checked once, first; later cargo commands then
# find the lock file complete and leave it alone).
locked:
	cargo fetch --locked

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

unit: $(TOOLS)
	cargo test

e2e: $(TOOLS)
	scripts/demo.sh --check

# cfn-lint and sam validate see the source template; pytest also transforms every template as SAM
# would, lints that, creates it on moto's CloudFormation and evaluates its IAM policies
# (tests/template/test_deployable.py, test_policies.py).
# sam build: the rust-cargolambda build method is a SAM beta feature; it needs no Docker.
template-test: $(TOOLS)
	cfn-lint template.yaml
	sam validate --lint --template template.yaml
	rustup target add aarch64-unknown-linux-gnu
	sam build --beta-features
	pytest -q tests/template

build: $(TOOLS)
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --locked

# With a samconfig.toml (samconfig.toml.example is the usual single-account setup) sam deploy asks
# no questions (it shows the change set and asks to apply it); without one, --guided asks for every parameter and offers to save the answers there.
deploy: $(TOOLS) locked
	rustup target add aarch64-unknown-linux-gnu
	sam build --beta-features
	sam deploy $(if $(wildcard samconfig.toml),,--guided)

# The function only (no topic, rules or alarms): see docs/deploy.md. Needs AWS credentials.
# An env file, not --env-var, because cargo lambda splits --env-var values on commas.
DEPLOY_ENV := $(TARGET_DIR)/lambda/rootwatch.env
deploy-cargo-lambda: build
	@[[ -n "$${ALERT_TOPIC_ARN:-}" && -n "$${IAM_ROLE:-}" ]] || \
	  { echo "usage: make deploy-cargo-lambda ALERT_TOPIC_ARN=arn:aws:sns:... IAM_ROLE=arn:aws:iam::...:role/... [ACCOUNT_NAMES=...] [RUNBOOK_URL=...]"; exit 2; }
	printf 'ALERT_TOPIC_ARN="%s"\nACCOUNT_NAMES="%s"\nRUNBOOK_URL="%s"\n' \
	  "$${ALERT_TOPIC_ARN}" "$${ACCOUNT_NAMES:-}" "$${RUNBOOK_URL:-}" > $(DEPLOY_ENV)
	cargo lambda deploy rootwatch --binary-name rootwatch --iam-role "$${IAM_ROLE}" \
	  --memory 128 --timeout 30 --log-retention 365 --env-file $(DEPLOY_ENV) $(DEPLOY_FLAGS)

# Organization mode (docs/organizations.md). The home stack: sam deploy --guided asks
# for the other parameters. Then forwarders: a StackSet over the OUs, and the management account.
ORG_DRY := $(if $(DRY_RUN),--dry-run,)
org-home: $(TOOLS) locked
	@[[ -n "$${ORGANIZATION_ID:-}" ]] || { echo "usage: make org-home ORGANIZATION_ID=o-... (sam deploy --guided asks for the rest)"; exit 2; }
	rustup target add aarch64-unknown-linux-gnu
	sam build --beta-features
	sam deploy --guided --parameter-overrides OrganizationId=$${ORGANIZATION_ID}

org-stackset: $(TOOLS)
	@[[ -n "$${HOME_BUS_ARN:-}" && -n "$${OU_IDS:-}" && -n "$${REGIONS:-}" ]] || \
	  { echo "usage: make org-stackset HOME_BUS_ARN=arn:aws:events:... OU_IDS=r-abcd[,ou-...] REGIONS=us-east-1,eu-west-1 [CALL_AS=DELEGATED_ADMIN] [DRY_RUN=1]"; exit 2; }
	python3 scripts/org.py stackset --home-bus-arn "$${HOME_BUS_ARN}" --ou-ids "$${OU_IDS}" \
	  --regions "$${REGIONS}" --call-as "$${CALL_AS:-SELF}" $(ORG_DRY)

org-management: $(TOOLS)
	@[[ -n "$${HOME_BUS_ARN:-}" && -n "$${REGIONS:-}" ]] || \
	  { echo "usage: make org-management HOME_BUS_ARN=arn:aws:events:... REGIONS=us-east-1,eu-west-1 [DRY_RUN=1]"; exit 2; }
	python3 scripts/org.py management --home-bus-arn "$${HOME_BUS_ARN}" --regions "$${REGIONS}" $(ORG_DRY)

# Teardown, the reverse of steps 2 and 3: the forwarders go before the home stack, so that none
# is left forwarding to a bus that no longer exists. (The home stack: sam delete, docs/install.md.)
org-teardown: $(TOOLS)
	@[[ -n "$${HOME_BUS_ARN:-}" && -n "$${REGIONS:-}" ]] || \
	  { echo "usage: make org-teardown HOME_BUS_ARN=arn:aws:events:... REGIONS=us-east-1,eu-west-1 [CALL_AS=DELEGATED_ADMIN] [DRY_RUN=1 OU_IDS=r-...]"; exit 2; }
	python3 scripts/org.py delete --home-bus-arn "$${HOME_BUS_ARN}" --regions "$${REGIONS}" \
	  --call-as "$${CALL_AS:-SELF}" $${OU_IDS:+--ou-ids "$${OU_IDS}"} $(ORG_DRY)

# Declared root use (docs/declaring.md). Values reach the tool through the environment, never
# through the recipe's text. Make expands a value given on the command line (`make declare
# REASON='$(shell ...)'` would run it, and `$$` would become `$`) before it exports it: each of
# these variables, when given there, is set to its text as written (`$(value ...)`, assigned with
# `:=`, is not expanded again) and exported. A value from the environment is passed as it is.
DECLARE_VARS := ACCOUNT MINUTES REASON BY SOURCE_CIDR REPLACE NO_WAIT STACK STATE_TABLE
define as_written
ifeq ($$(origin $(1)),command line)
override $(1) := $$(value $(1))
export $(1)
endif
endef
$(foreach name,$(DECLARE_VARS),$(eval $(call as_written,$(name))))
DECLARE_TABLE = $${STATE_TABLE:+--table "$${STATE_TABLE}"} $${STACK:+--stack "$${STACK}"}
# REPLACE and NO_WAIT: 1 is on; 0 or unset is off; anything else is refused.
DECLARE_SWITCH = case "$${$(1):-0}" in 0|1) ;; *) echo "$(1) is 1 (on) or 0 (off), not: $${$(1)}"; exit 2;; esac

declare: $(TOOLS)
	@[[ -n "$${ACCOUNT:-}" && -n "$${MINUTES:-}" && -n "$${REASON:-}" && -n "$${BY:-}" ]] || \
	  { echo "usage: make declare ACCOUNT=111122223333 MINUTES=60 REASON=\"Close support case 42\" BY=<you> [SOURCE_CIDR=192.0.2.0/24] [REPLACE=1] [NO_WAIT=1] (STACK=<stack> or STATE_TABLE=<table>)"; exit 2; }
	@$(call DECLARE_SWITCH,REPLACE); $(call DECLARE_SWITCH,NO_WAIT)
	python3 scripts/declare.py $(DECLARE_TABLE) declare --account "$${ACCOUNT}" --minutes "$${MINUTES}" \
	  --reason "$${REASON}" --by "$${BY}" $${SOURCE_CIDR:+--source-cidr "$${SOURCE_CIDR}"} \
	  $$([[ "$${REPLACE:-0}" == 1 ]] && echo --replace) $$([[ "$${NO_WAIT:-0}" == 1 ]] && echo --no-wait)

declarations: $(TOOLS)
	python3 scripts/declare.py $(DECLARE_TABLE) list

end-declaration: $(TOOLS)
	@[[ -n "$${ACCOUNT:-}" ]] || \
	  { echo "usage: make end-declaration ACCOUNT=111122223333 [NO_WAIT=1] (STACK=<stack> or STATE_TABLE=<table>)"; exit 2; }
	@$(call DECLARE_SWITCH,NO_WAIT)
	python3 scripts/declare.py $(DECLARE_TABLE) end --account "$${ACCOUNT}" \
	  $$([[ "$${NO_WAIT:-0}" == 1 ]] && echo --no-wait)

# One account, many regions: the stack in HOME_REGION admits this account's forwarders (its
# SourceAccountIds gains the account) and forwarder.yaml goes to every other region in REGIONS.
regions: $(TOOLS)
	@[[ -n "$${HOME_REGION:-}" && -n "$${REGIONS:-}" ]] || \
	  { echo "usage: make regions HOME_REGION=us-east-1 REGIONS=us-east-1,eu-west-1,... [STACK_NAME=rootwatch] [DRY_RUN=1 ACCOUNT_ID=...]"; exit 2; }
	python3 scripts/org.py regions --stack-name "$${STACK_NAME:-rootwatch}" --home-region "$${HOME_REGION}" \
	  --regions "$${REGIONS}" $${ACCOUNT_ID:+--account-id "$${ACCOUNT_ID}"} $(ORG_DRY)

# Offline: every call the org, regions and teardown targets would make, checked against the AWS API
# model; no credentials are used (the endpoint is a closed port, so a real call would fail).
ORG_EXAMPLE := HOME_BUS_ARN=arn:aws:events:us-east-1:111122223333:event-bus/rootwatch-root-events REGIONS=us-east-1,eu-west-1
OFFLINE := AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=none AWS_SECRET_ACCESS_KEY=none
org-dry-run: $(TOOLS)
	$(OFFLINE) $(MAKE) --no-print-directory org-stackset DRY_RUN=1 OU_IDS=r-ab12 $(ORG_EXAMPLE)
	$(OFFLINE) $(MAKE) --no-print-directory org-management DRY_RUN=1 $(ORG_EXAMPLE)
	$(OFFLINE) $(MAKE) --no-print-directory org-teardown DRY_RUN=1 OU_IDS=r-ab12 $(ORG_EXAMPLE)
	$(OFFLINE) $(MAKE) --no-print-directory regions DRY_RUN=1 ACCOUNT_ID=111122223333 HOME_REGION=us-east-1 \
	  REGIONS=us-east-1,us-east-2,eu-west-1

# --- Install without Rust (docs/install.md) ----------------------------------------------------
# The version is Cargo.toml's; the template's SemanticVersion and CHANGELOG.md agree with it
# (tests/template/test_release.py).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DIST ?= dist
PACKAGED := $(DIST)/rootwatch-$(VERSION).yaml
# What sam build leaves: redone only when something that shapes it changed since (make
# template-test runs sam build too, so make test packages its output, not a second build): the
# template, the crate and its lock, the sources, the toolchain and cargo's settings, and
# samconfig.toml (its build section is sam build's).
BUILT := .aws-sam/build/template.yaml
BUILD_INPUTS := template.yaml Cargo.toml Cargo.lock $(shell find src -name '*.rs') \
  $(wildcard rust-toolchain rust-toolchain.toml .cargo/config .cargo/config.toml samconfig.toml)
$(BUILT): $(BUILD_INPUTS) | $(TOOLS)
	cargo fetch --locked
	rustup target add aarch64-unknown-linux-gnu
	sam build --beta-features

# The arm64 zip goes to BUCKET (the standard AWS settings apply: AWS_PROFILE, AWS_REGION,
# AWS_ENDPOINT_URL, ...); dist/ gets the packaged template, the zip, forwarder.yaml and SHA256SUMS.
# (The bucket is checked first, before a build.)
package: package-bucket $(TOOLS) $(BUILT)
	python3 scripts/release.py package --bucket "$${BUCKET}" --prefix "$${PREFIX:-rootwatch/$(VERSION)}" --out $(DIST)

package-bucket:
	@[[ -n "$${BUCKET:-}" ]] || { echo "usage: make package BUCKET=<S3 bucket> [PREFIX=<key prefix, default rootwatch/$(VERSION)>]"; exit 2; }

# To the Serverless Application Repository, in the region of your AWS settings; the bucket must let
# serverlessrepo.amazonaws.com read the packaged objects (docs/install.md). A version published
# before is refused, not overwritten.
publish: $(TOOLS)
	@[[ -f $(PACKAGED) ]] || { echo "$(PACKAGED) is missing: run make package BUCKET=... first"; exit 2; }
	sam publish --template $(PACKAGED) --fail-on-same-version

# The release workflow, checked by actionlint (its PyPI build, pinned in requirements-dev.txt).
workflow-lint: $(TOOLS)
	actionlint .github/workflows/release.yml

# The cargo-lambda path, offline: package the arm64 binary and check what would be deployed.
# (Output goes to a file: a pipe closed early by grep would break cargo lambda's printing.)
deploy-check:
	@[[ -n "$(TARGET_DIR)" ]] || { echo "cargo metadata did not name a target directory" >&2; exit 1; }
	mkdir -p $(TARGET_DIR)/lambda
	$(MAKE) --no-print-directory deploy-cargo-lambda DEPLOY_FLAGS=--dry \
	  ALERT_TOPIC_ARN=arn:aws:sns:us-east-1:111122223333:rootwatch-alerts \
	  IAM_ROLE=arn:aws:iam::111122223333:role/rootwatch ACCOUNT_NAMES=111122223333=prod-payments \
	  > $(TARGET_DIR)/lambda/deploy-dry-run.txt
	grep -F 'runtime: "provided.al2023"' $(TARGET_DIR)/lambda/deploy-dry-run.txt
	grep -F '"ACCOUNT_NAMES": "111122223333=prod-payments"' $(TARGET_DIR)/lambda/deploy-dry-run.txt

bench:
	cargo bench --bench core

# Coverage at 1,000 accounts x 17 regions: the pure comparison (criterion), then one check against
# moto counting requests and capacity, with the monthly cost ($(TARGET_DIR)/bench-coverage.json).
bench-coverage: $(TOOLS)
	cargo bench --bench coverage
	cargo bench --bench coverage_org

# Deployment package size matters for cold starts: report the stripped arm64 bootstrap.
bench-size: build
	@ls -l $(TARGET_DIR)/lambda/rootwatch/bootstrap | awk '{ printf "bootstrap (arm64, release, stripped): %d bytes, %.2f MiB\n", $$5, $$5 / 1048576 }'

# Peak resident memory of the release build after every sample, through the demo's stack.
bench-memory: $(TOOLS)
	PROFILE=release scripts/demo.sh --check | grep -E 'peak resident memory|demo check'

# The cold path: process start -> first alert accepted by a local SNS over TLS, for the release
# build and a Python 3 + boto3 peer side by side, at full CPU and under a 128 MB Lambda's CPU share
# (a cgroup; needs root, otherwise it says so and reports full CPU only). See BENCHMARKS.md.
# RUNS=20 by default; medians, p90s and every run's figures go to $(TARGET_DIR)/bench-cold.json.
bench-cold: $(TOOLS)
	@[[ -n "$(TARGET_DIR)" ]] || { echo "cargo metadata did not name a target directory" >&2; exit 1; }
	cargo build --release --locked --bin rootwatch
	python3 benches/cold_start.py --json $(TARGET_DIR)/bench-cold.json

clean-demo:
	rm -rf .demo
