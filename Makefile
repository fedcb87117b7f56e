# snapper: build, test, lint, demo, bench and one-function runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

FUNCTIONS := plan discover apply report
GO        ?= go
VENV      := .venv
VENV_OK   := $(VENV)/.installed
# checkov pins a boto3 that aws-sam-cli cannot share: it gets its own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_OK   := $(CHECKOV_VENV)/.installed
GOBUILD   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
export SNAPPER_MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
export SAM_CLI_TELEMETRY := 0

.PHONY: all build test lint demo bench fuzz invoke venv clean

all: lint test build

# The pinned Python tools (moto, aws-sam-cli, cfn-lint), installed once into .venv.
$(VENV_OK): tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

$(CHECKOV_OK): tools/requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-checkov.txt
	touch $@

venv: $(VENV_OK) $(CHECKOV_OK)

# One bootstrap per function for provided.al2023 on arm64, as `sam build` makes them.
build:
	@for f in $(FUNCTIONS); do \
		$(GOBUILD) -o build/$$f/bootstrap ./functions/$$f && echo "build/$$f/bootstrap"; \
	done

# `sam build` (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-PlanFunction:
	$(GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/plan
build-DiscoverFunction:
	$(GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/discover
build-ApplyFunction:
	$(GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/apply
build-ReportFunction:
	$(GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/report

# Every test, no AWS account: unit tests, handlers on moto, the state machine end to end.
test: $(VENV_OK)
	$(GO) test -count=1 -timeout 20m ./...

lint: $(VENV_OK) $(CHECKOV_OK)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@tmp=$$(mktemp -d) && cp go.mod go.sum $$tmp/ && $(GO) mod tidy && \
		if ! cmp -s go.mod $$tmp/go.mod || ! cmp -s go.sum $$tmp/go.sum; then \
			diff $$tmp/go.mod go.mod; cp $$tmp/go.mod $$tmp/go.sum .; echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; fi
	$(VENV)/bin/cfn-lint template.yaml member-role.yaml
	$(GO) run ./cmd/snapper validate --template template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --skip-download
	@# and what CloudFormation receives: the roles SAM generates, the schedule, the functions
	@mkdir -p build && $(VENV)/bin/python tools/transform.py template.yaml > build/template.transformed.json
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --skip-download -f build/template.transformed.json

# The main job on a local AWS: demo fleet in two regions, the real state machine.
demo: $(VENV_OK)
	$(GO) run ./cmd/snapper demo

# SPEC 10: 10 regions x 1,000 volumes end to end on moto, and 20 x 10,000 on the simulator,
# each beside the naive baseline; a table, then one JSON line. Flags: go run ./cmd/snapper bench -h
bench: $(VENV_OK)
	$(GO) run ./cmd/snapper bench $(BENCH_FLAGS)

# The seed corpora (testdata/fuzz) run in every `make test`; this runs the fuzzers for longer.
FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/input/
	$(GO) test -run '^$$' -fuzz FuzzUntrustedTags -fuzztime $(FUZZTIME) ./internal/rules/
	$(GO) test -run '^$$' -fuzz FuzzPlanHandler -fuzztime $(FUZZTIME) ./internal/steps/

# One function on one event through the Lambda Runtime Interface Emulator, no Docker:
#   make invoke FUNCTION=plan EVENT=events/plan-defaults.json
invoke: $(VENV_OK)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<$(FUNCTIONS)> EVENT=events/<file>.json"; exit 2; }
	GOBIN=$(CURDIR)/bin $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc -o bin/host/$(FUNCTION)/bootstrap ./functions/$(FUNCTION)
	$(GO) build -o bin/snapper ./cmd/snapper
	tools/invoke.sh bin/aws-lambda-rie bin/host/$(FUNCTION)/bootstrap bin/snapper $(EVENT)

clean:
	rm -rf build bin .aws-sam
