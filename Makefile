# Two commands do all setup on a fresh machine:
#   make run    installs everything, migrates, and serves ClearSignal on http://127.0.0.1:8000
#   make test   installs everything the suite needs (Debian packages too), then runs it all

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
SNIPPET := js_snippet/dist/cs.js
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# command-or-path:Debian package. Node.js may come from elsewhere with npm bundled: check
# commands (a library is checked by a path its package installs).
# Go and golang.org/x/mod: the reference signed-note verifier that tests read our
# checkpoints and cosignatures with (tests/support/note_verify).
SYSTEM_TOOLS := chromium:chromium wrk:wrk node:nodejs npm:npm go:golang-go \
	/usr/share/gocode/src/golang.org/x/mod/sumdb/note:golang-golang-x-mod-dev

.PHONY: run test lint typecheck pytest system-deps snippet bench clean

run: $(STAMP) snippet
	$(BIN)/clearsignal migrate
	$(BIN)/clearsignal demo seed
	$(BIN)/clearsignal serve

test: $(STAMP) system-deps snippet lint typecheck pytest

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do \
	  command -v $${tool%%:*} >/dev/null 2>&1 || test -e $${tool%%:*} || missing="$$missing $${tool#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

snippet: $(SNIPPET)

$(SNIPPET): js_snippet/package.json js_snippet/package-lock.json $(wildcard js_snippet/src/*) js_snippet/build.mjs
	@command -v npm >/dev/null || $(MAKE) system-deps
	cd js_snippet && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

lint: $(STAMP) snippet
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	cd js_snippet && npm run --silent lint

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP) system-deps snippet
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/server_events.py
	$(BIN)/python bench/consent.py
	$(BIN)/python bench/signals.py

clean:
	rm -rf $(VENV) js_snippet/node_modules js_snippet/dist .pytest_cache .mypy_cache .ruff_cache
