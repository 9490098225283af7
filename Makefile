# The README's two set-up commands: `make site` and `make test`. Each works on a fresh Debian
# machine as root: it makes .venv, installs the package, Graphviz (and, for tests, Chromium)
# with apt-get when they are missing, and MathJax from npm, then does its job.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all site test lint pytest serve bench clean system-deps graphviz chromium mathjax

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# apt-get only when the binary is missing; otherwise say exactly what to install.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Graphviz with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz 'dot' is missing. Install it:"; \
	    echo "  Debian/Ubuntu: sudo apt-get install graphviz"; \
	    echo "  macOS:         brew install graphviz"; \
	    echo "  conda:         conda install -c conda-forge graphviz"; \
	    exit 1; \
	  fi; }
	@dot -V

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Chromium with apt-get (for the browser tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing (browser tests): sudo apt-get install chromium"; exit 1; \
	  fi; }

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "npm is missing: install Node.js (https://nodejs.org) for MathJax"; exit 1; fi; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

mathjax: node_modules/.installed

system-deps: graphviz mathjax

site: $(STAMP) system-deps
	$(BIN)/nndiagram build --strict

serve: $(STAMP) system-deps
	$(BIN)/nndiagram serve

lint: $(STAMP)
	$(BIN)/ruff check nndiagram tests benchmarks hooks
	$(BIN)/ruff format --check nndiagram tests benchmarks hooks
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP) system-deps chromium
	$(BIN)/python -m pytest

test: lint pytest

bench: $(STAMP) system-deps
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) node_modules site .pytest_cache .mypy_cache .ruff_cache
