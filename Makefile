# nostrbazaar: `make run` and `make test` set everything up on a fresh machine.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
JS_DIR  := tests/interop/js
JS_STAMP := $(JS_DIR)/node_modules/.installed-stamp
CHROMIUM := /usr/bin/chromium

.PHONY: install run test test-deps check format bench clean package serve-package

# PYTHONWARNINGS: setuptools always says that an editable install of this layout is one.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/nostrbazaar serve

# Test-only peers: nostr-tools (npm, pinned by the lock file) and Debian's chromium.
$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund --silent
	touch $(JS_STAMP)

# Waits for the dpkg lock rather than failing when another install is running.
APT := apt-get -o DPkg::Lock::Timeout=600 -qq
$(CHROMIUM):
	($(APT) update && DEBIAN_FRONTEND=noninteractive $(APT) install -y chromium) >/dev/null

test-deps: $(JS_STAMP) $(CHROMIUM)

test: install test-deps
	$(VENV)/bin/pytest -q

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	npx --yes prettier@3 --check "static/**/*.{js,css}" "templates/**/*.html" --ignore-path .prettierignore

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	npx --yes prettier@3 --write "static/**/*.{js,css}" "templates/**/*.html" --ignore-path .prettierignore

bench: install
	$(PY) -m bench

# The LNbits extension: dist/nostrbazaar-<version>.zip and dist/manifest.json, whose
# archive URL starts with PACKAGE_URL (where dist/ is served; see "Install into LNbits").
PACKAGE_URL ?= http://127.0.0.1:8765
DIST ?= dist
package:
	python3 scripts/package.py --out $(DIST) --base-url $(PACKAGE_URL)

# Serve dist/ on this machine, for an LNbits on the same host (the default PACKAGE_URL).
serve-package: package
	python3 -m http.server 8765 --bind 127.0.0.1 --directory $(DIST)

clean:
	rm -rf $(VENV) $(JS_DIR)/node_modules dist
