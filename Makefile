# GoStore: the two commands a user needs are `make run` and `make test`.
CARGO ?= cargo

.PHONY: all build run test lint bench bench-quick oracle clean

all: build

## build: release build of gostore and gostore-cli
build:
	$(CARGO) build --release

## run: the server with the shipped gostore.conf (port 6379, AOF in ./appendonlydir)
run: build
	./target/release/gostore gostore.conf

## test: every test, against a real redis-server as the oracle
test: oracle
	$(CARGO) test --all-targets

## bench: GoStore against redis-server side by side, as ratios (docs/performance.md)
bench: oracle
	$(CARGO) build --release --bin gostore --example bench
	./target/release/examples/bench $(BENCH_ARGS)

## bench-quick: the same in under two minutes (fewer requests, one round)
bench-quick:
	$(MAKE) bench BENCH_ARGS="--quick $(BENCH_ARGS)"

## lint: formatting and clippy, warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## oracle: make sure redis-server and redis-cli 7 (the tests' oracle) are installed
oracle:
	@if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing the test oracle: apt-get install -y redis-server redis-tools"; \
		(apt-get install -y redis-server redis-tools || (apt-get update && apt-get install -y redis-server redis-tools)) >/dev/null \
			|| { echo "apt-get could not install redis-server redis-tools"; exit 1; }; \
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then \
			echo "Stopping the redis-server service the package started (tests run their own)"; \
			systemctl disable --now redis-server >/dev/null 2>&1 || true; \
		fi; \
	else \
		echo "The tests compare GoStore with a real Redis 7 and need redis-server, redis-cli and redis-benchmark."; \
		echo "Install them first, e.g.: sudo apt-get install -y redis-server redis-tools"; \
		exit 1; \
	fi

clean:
	$(CARGO) clean
