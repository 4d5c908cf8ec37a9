# GoStore: the two commands a user needs are `make run` and `make test`.
CARGO ?= cargo

.PHONY: all build run test lint bench bench-quick oracle clean install uninstall

all: build

## build: release build of gostore and gostore-cli
build:
	$(CARGO) build --release

## run: the server with the shipped gostore.conf (port 6379, AOF in ./appendonlydir,
##   which git ignores; remove it to start with an empty dataset)
run: build
	@echo "make run: the AOF is in $(CURDIR)/appendonlydir and snapshots go to dump.rdb (both ignored by git); remove them to start empty"
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

## oracle: install what the tests compare against when missing: Redis 7
##   (redis-server, redis-tools, redis-sentinel), twemproxy (nutcracker) for
##   the scale-out test, Python's rq package (pip) for the job queue test,
##   and as root systemd's unit checker
##   (systemd-analyze). Without root, a missing systemd-analyze only skips
##   the check of deploy/gostore.service; as root (CI) it is required.
oracle:
	@if ! python3 -c 'import rq' >/dev/null 2>&1; then \
		if [ "$$(id -u)" != "0" ] && ! python3 -c '' >/dev/null 2>&1; then \
			echo "python3 does not run for this user: tests/rq_app.rs (an rq job queue) will fail until it does, with the rq package (python3 -m pip install --user rq)."; \
		else \
			if ! python3 -m pip --version >/dev/null 2>&1 && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
				echo "Installing pip for the rq job queue test: apt-get install -y python3-pip"; \
				(apt-get install -y python3-pip || (apt-get update && apt-get install -y python3-pip)) >/dev/null; \
			fi; \
			user=""; [ "$$(id -u)" = "0" ] || user="--user"; \
			echo "Installing the Python rq package (tests/rq_app.rs runs an rq job queue): python3 -m pip install --quiet $$user rq"; \
			python3 -m pip install --quiet $$user rq || python3 -m pip install --quiet $$user --break-system-packages rq \
				|| { echo "pip could not install rq: python3 -m pip install $$user rq"; exit 1; }; \
		fi; \
	fi
	@missing=""; \
	for t in redis-server:redis-server redis-cli:redis-tools redis-benchmark:redis-tools redis-check-aof:redis-tools redis-sentinel:redis-sentinel nutcracker:nutcracker; do \
		PATH="$$PATH:/usr/sbin:/sbin" command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; \
	done; \
	if ! command -v systemd-analyze >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			missing="$$missing systemd"; \
		else \
			echo "systemd-analyze is not installed and you are not root: the tests will skip the check of deploy/gostore.service (sudo apt-get install -y systemd to run it)."; \
		fi; \
	fi; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -z "$$(echo $$missing | tr -d ' ')" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing the tests' oracle: apt-get install -y $$missing"; \
		(apt-get install -y $$missing || (apt-get update && apt-get install -y $$missing)) >/dev/null \
			|| { echo "apt-get could not install $$missing"; exit 1; }; \
		for unit in redis-server redis-sentinel nutcracker; do \
			if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet $$unit 2>/dev/null; then \
				echo "Stopping the $$unit service the package started (tests run their own)"; \
				systemctl disable --now $$unit >/dev/null 2>&1 || true; \
			fi; \
		done; \
	else \
		echo "The tests compare GoStore with a real Redis 7; as root they also check the systemd unit with systemd-analyze."; \
		echo "Install the missing packages first: sudo apt-get install -y $$missing"; \
		exit 1; \
	fi

clean:
	$(CARGO) clean

## install: binaries, config, systemd unit, user and docs (see docs/operations.md)
##   make && sudo make install      PREFIX (/usr/local) and DESTDIR are honoured
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= /etc/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
# The docs the unit's Documentation= points to.
DOCDIR ?= $(PREFIX)/share/doc/gostore
DOCS := README.md $(wildcard docs/*.md)
# The unit's StateDirectory=gostore: systemd creates it for the gostore user.
DATADIR := /var/lib/gostore
BUILD_DIR ?= $(or $(CARGO_TARGET_DIR),target)/release
INSTALL ?= install
# gostore-check-aof comes with the AOF tooling; it is installed when built.
TOOLS := gostore gostore-cli gostore-check-aof

install:
	@for b in gostore gostore-cli; do \
		[ -x "$(BUILD_DIR)/$$b" ] || { echo "$(BUILD_DIR)/$$b is missing: run 'make' first (as your user), then 'sudo make install'"; exit 1; }; \
	done
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	@for b in $(TOOLS); do \
		if [ -x "$(BUILD_DIR)/$$b" ]; then \
			echo "$(INSTALL) -m 0755 $(BUILD_DIR)/$$b $(DESTDIR)$(BINDIR)/$$b"; \
			$(INSTALL) -m 0755 "$(BUILD_DIR)/$$b" "$(DESTDIR)$(BINDIR)/$$b" || exit 1; \
		fi; \
	done
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|/usr/local/bin/gostore|$(BINDIR)/gostore|' \
	    -e 's|/usr/local/share/doc/gostore|$(DOCDIR)|g' \
	    -e 's|/etc/gostore|$(SYSCONFDIR)/gostore|g' \
	    deploy/gostore.service > $(DESTDIR)$(UNITDIR)/gostore.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gostore.service
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 deploy/gostore.sysusers $(DESTDIR)$(SYSUSERSDIR)/gostore.conf
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/gostore
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf ]; then \
		echo "Keeping the existing $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf; the shipped one is gostore.conf.dist"; \
		sed -e 's|^dir \./$$|dir $(DATADIR)|' gostore.conf > $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf.dist; \
		chmod 0640 $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf.dist; \
	else \
		sed -e 's|^dir \./$$|dir $(DATADIR)|' gostore.conf > $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf; \
		chmod 0640 $(DESTDIR)$(SYSCONFDIR)/gostore/gostore.conf; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = "0" ]; then \
		if ! id gostore >/dev/null 2>&1; then \
			if command -v systemd-sysusers >/dev/null 2>&1; then \
				systemd-sysusers $(SYSUSERSDIR)/gostore.conf; \
			else \
				useradd --system --home-dir $(DATADIR) --no-create-home --shell /usr/sbin/nologin gostore; \
			fi; \
		fi; \
		chown -R gostore:gostore $(SYSCONFDIR)/gostore; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
		echo "Installed. Start it with: systemctl enable --now gostore"; \
	fi

## uninstall: removes what install put in place, except the config and the data
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOLS))
	rm -f $(DESTDIR)$(UNITDIR)/gostore.service $(DESTDIR)$(SYSUSERSDIR)/gostore.conf
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	@rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "Kept $(DESTDIR)$(SYSCONFDIR)/gostore and $(DATADIR) (your configuration and data); remove them by hand if you mean to."
