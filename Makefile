# composeopt — build, test and demo targets.
GO ?= go
BIN := bin/composeopt

.PHONY: fuzz build test unit e2e demo bench bench-images golden-update vet lint

build:
	$(GO) build -o $(BIN) ./cmd/composeopt

# The test command CI runs: static checks, unit and golden tests, and the
# end-to-end tests (they skip with one loud line when no Docker engine is
# reachable, unless COMPOSEOPT_E2E=1 demands them).
test: vet unit e2e

vet:
	@test -z "$$(gofmt -l cmd compose migrate golden)" || { gofmt -l cmd compose migrate golden; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# staticcheck from the Go module proxy (not part of `make test`).
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /golden/e2e)

e2e:
	$(GO) test -count=1 -v -timeout 60m ./golden/e2e/

# Run `composeopt plan` on the bundled example (the matrix-studio monorepo).
demo:
	$(GO) run ./cmd/composeopt --project-directory golden/testdata/matrix-studio/in -f golden/testdata/matrix-studio/in/docker-compose.yml plan

golden-update:
	$(GO) test ./golden -update

# Plan benchmarks on synthetic projects (golden/synth), each beside the
# compose-go load of the same project, printed as a table; the slow cases
# run once. BENCH_COUNT=3 repeats each case.
BENCH_COUNT ?= 1
bench:
	@{ $(GO) test -run '^$$' -bench 'Plan/(services=10|services=100|lines=1000|lines=4000|node_modules=100000)$$' -benchtime 3x -count $(BENCH_COUNT) -benchmem ./cmd/composeopt && \
	   $(GO) test -run '^$$' -bench 'Plan/(services=1000|lines=16000)$$' -benchtime 1x -count $(BENCH_COUNT) -benchmem -timeout 30m ./cmd/composeopt; } | $(GO) run ./golden/benchtable

# Size and build-time ratios of the e2e fixtures (needs the engine of
# golden/e2e/env.sh). BENCH_IMAGES=BenchmarkImages/py-native runs one
# fixture; COMPOSEOPT_BENCH_CACHE_MOUNTS=0 measures the optimized files
# without their cache mounts.
BENCH_IMAGES ?= BenchmarkImages
bench-images:
	$(GO) test -run '^$$' -bench '$(BENCH_IMAGES)' -benchtime 1x -timeout 60m ./golden/e2e/

# The fuzz targets of golden/fuzz, one after the other (one core each):
# the rules and the compose editor; then compose's edit proof against the
# re-load. Crashers land in golden/fuzz/testdata/fuzz.
FUZZTIME ?= 10m
fuzz:
	$(GO) test ./golden/fuzz -run '^$$' -fuzz '^FuzzRules$$' -fuzztime $(FUZZTIME) -parallel 1
	$(GO) test ./golden/fuzz -run '^$$' -fuzz '^FuzzComposeEdit$$' -fuzztime $(FUZZTIME) -parallel 1
	$(GO) test ./compose -run '^$$' -fuzz '^FuzzProveEdits$$' -fuzztime $(FUZZTIME) -parallel 1
