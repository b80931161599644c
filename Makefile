# The two commands of the README. Everything they need is installed and started
# by scripts/ — see scripts/postgres.sh for what and where.
.PHONY: run test build bench seed-bench

GO ?= go

build:
	$(GO) build -o bin/atende ./cmd/atende

run:
	@scripts/run.sh

test:
	@scripts/test.sh

# Benchmarks against a real database (make bench BENCH=Append).
bench:
	@scripts/test.sh -run '^$$' -bench '$(or $(BENCH),.)' -benchmem
