# Every target bootstraps its own virtual environment on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The chatjs interop tests (tests/interop/) run amazon-connect-chatjs under Node, pinned by this lockfile.
CHATJS := tests/interop/chatjs
NODE_STAMP := $(CHATJS)/node_modules/.installed-$(shell cat $(CHATJS)/package-lock.json | cksum | cut -d' ' -f1)
LINTED := src tests $(wildcard bench)

.PHONY: serve test lint bench bench-throughput bench-latency format clean

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NODE_STAMP): $(CHATJS)/package.json $(CHATJS)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; } || \
		{ echo "make: npm is missing: install Node.js 20 and npm for the chatjs tests in $(CHATJS)" >&2; exit 1; }
	npm ci --prefix $(CHATJS) --no-audit --no-fund
	touch $@

serve: $(STAMP)
	$(BIN)/parley serve

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy --strict src

test: lint $(NODE_STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

# Both benchmarks, see BENCHMARKS.md: CreateParticipant throughput (wrk), then SendMessage-to-socket latency.
bench: bench-throughput bench-latency

bench-throughput: $(STAMP)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

bench-latency: $(STAMP)
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(CHATJS)/node_modules
