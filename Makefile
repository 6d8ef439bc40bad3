# mlagent — build, test, demo, install.
#   make test    install what is missing, build, run every test
#   make demo    a real research session: mlagentd (state in ./.mlagent/), 6 directions by
#                the reference agent, leaderboard, summary and dashboard.html; the daemon
#                stays up (make stop)
#   make bench   release-mode benchmarks (figures in README.md)
#   make fuzz    a long fuzzing pass over the request path (FUZZ_ITERATIONS, FUZZ_SEED)
#   make install PREFIX=/usr DESTDIR=/tmp/pkg

SHELL := /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR ?= $(PREFIX)/share/doc/mlagent
SHAREDIR ?= $(PREFIX)/share/mlagent
DATADIR ?= $(SHAREDIR)/data
STATEDIR ?= /var/lib/mlagent
RUNDIR ?= /run/mlagent

SWIFT ?= swift
PYTHON ?= python3
DEBIAN_PACKAGES := libsqlite3-dev libsystemd-dev pkg-config systemd git bubblewrap python3 python3-venv
# Only the tests need a browser (the dashboard is rendered in headless Chromium) and a Slurm
# cluster (slurmctld, slurmd and munge, started by the tests on localhost).
TEST_PACKAGES := chromium slurm-wlm procps
# Relative to the checkout make runs in: make splits target names at spaces, and a clone's path
# may hold some.
VENV := .venv
STATE := .mlagent

.PHONY: all build release deps apt test-deps venv test demo bench fuzz install uninstall clean stop

all: build

deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(DEBIAN_PACKAGES)"
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH: install a Swift 6 toolchain"; exit 1; }

test-deps: deps venv
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_PACKAGES)"

# Installs the Debian packages in PACKAGES that are missing (as root), or says which.
apt:
	@missing=""; for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

# The Python environment of the reference agent and the dataset script.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	@[ -x "$(VENV)/bin/python" ] || $(PYTHON) -m venv "$(VENV)"
	"$(VENV)/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product mlagentd
	$(SWIFT) build -c release --product mlagentctl

test: test-deps
	$(SWIFT) build --build-tests
	MLAGENT_BIN_DIR="$$($(SWIFT) build --show-bin-path)" $(SWIFT) test --skip-build

FUZZ_ITERATIONS ?= 100000
fuzz: deps
	$(SWIFT) build --build-tests
	MLAGENT_BIN_DIR="$$($(SWIFT) build --show-bin-path)" MLAGENT_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) \
	  $(if $(FUZZ_SEED),MLAGENT_FUZZ_SEED=$(FUZZ_SEED)) $(SWIFT) test --skip-build --filter FuzzTests

demo: release venv
	@scripts/demo.sh

stop:
	@if [ -f "$(STATE)/mlagentd.lock" ] && pid=$$(cat "$(STATE)/mlagentd.lock") && [ -n "$$pid" ] && kill -0 $$pid 2>/dev/null; then \
	  kill -TERM $$pid && echo "stopped mlagentd (pid $$pid)"; else echo "mlagentd is not running under $(STATE)"; fi

bench: deps venv
	$(SWIFT) build -c release --product mlagentd
	$(SWIFT) build -c release --product mlagent-bench
	"$$($(SWIFT) build -c release --show-bin-path)/mlagent-bench" --daemon "$$($(SWIFT) build -c release --show-bin-path)/mlagentd" \
	  --mlflow "$(VENV)/bin/mlflow" --replay-python "$(VENV)/bin/python"

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/mlagent $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)
	bin="$$($(SWIFT) build -c release --show-bin-path)"; \
	  install -m 0755 "$$bin/mlagentd" "$$bin/mlagentctl" $(DESTDIR)$(BINDIR)/
	sed -e 's|^socket = .*|socket = "$(RUNDIR)/mlagentd.sock"|' \
	    -e 's|^state_dir = .*|state_dir = "$(STATEDIR)"|' \
	    -e 's|^workspace = .*|workspace = "$(STATEDIR)/workspace"|' \
	    -e 's|^data_dir = .*|data_dir = "$(DATADIR)"|' \
	    -e 's|^prompts_dir = .*|prompts_dir = "$(SHAREDIR)/prompts"|' \
	    config/mlagentd.toml > $(DESTDIR)$(SYSCONFDIR)/mlagent/mlagentd.toml.new
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mlagent/mlagentd.toml ]; then \
	  echo "keeping existing $(SYSCONFDIR)/mlagent/mlagentd.toml; new defaults in mlagentd.toml.new"; \
	else mv $(DESTDIR)$(SYSCONFDIR)/mlagent/mlagentd.toml.new $(DESTDIR)$(SYSCONFDIR)/mlagent/mlagentd.toml; fi
	sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/usr/local/etc|$(SYSCONFDIR)|g' \
	  systemd/mlagentd.service > $(DESTDIR)$(UNITDIR)/mlagentd.service
	install -m 0644 systemd/mlagentd.socket $(DESTDIR)$(UNITDIR)/mlagentd.socket
	install -m 0644 systemd/mlagent.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/mlagent.conf
	install -m 0644 systemd/mlagent.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/mlagent.conf
	install -m 0644 README.md docs/protocol.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(SHAREDIR)/prompts $(DESTDIR)$(DATADIR)
	install -m 0644 config/prompts/*.md $(DESTDIR)$(SHAREDIR)/prompts/
	install -m 0644 data/* $(DESTDIR)$(DATADIR)/
	@echo "installed; as root: systemd-sysusers; systemctl daemon-reload; systemctl enable --now mlagentd.socket"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mlagentd $(DESTDIR)$(BINDIR)/mlagentctl \
	  $(DESTDIR)$(UNITDIR)/mlagentd.service $(DESTDIR)$(UNITDIR)/mlagentd.socket \
	  $(DESTDIR)$(SYSUSERSDIR)/mlagent.conf $(DESTDIR)$(TMPFILESDIR)/mlagent.conf
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf .build
