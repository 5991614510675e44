# Every target bootstraps its own virtual environment on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The Node interop suites (tests/interop/): amazon-connect-chatjs and the AWS SDK for JavaScript v3, each
# pinned by its own lockfile and installed with `npm ci`; a stamp named after the lockfile's checksum.
NODE_SUITES := tests/interop/chatjs tests/interop/jssdk
node_stamp = $(1)/node_modules/.installed-$(shell cat $(1)/package-lock.json | cksum | cut -d' ' -f1)
NODE_STAMPS := $(foreach suite,$(NODE_SUITES),$(call node_stamp,$(suite)))
LINTED := src tests $(wildcard bench)

.PHONY: serve test lint chromium haproxy bench bench-throughput bench-latency bench-flows bench-streams bench-startup bench-sockets bench-store bench-cluster format clean

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m parley.protocol.generate_models  # the service models serving reads (not kept in git)
	touch $@

define node_suite
$(call node_stamp,$(1)): $(1)/package.json $(1)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; } || \
		{ echo "make: npm is missing: install Node.js 20 and npm for the interop tests in $(1)" >&2; exit 1; }
	npm ci --prefix $(1) --no-audit --no-fund
	touch $$@
endef
$(foreach suite,$(NODE_SUITES),$(eval $(call node_suite,$(suite))))

serve: $(STAMP)
	$(BIN)/parley serve

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy --strict $(LINTED)

# The console's browser tests drive Debian's Chromium through Playwright (tests/console/); never a downloaded browser.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; } || \
		{ echo "make: /usr/bin/chromium is missing: install Debian's chromium package for tests/console" >&2; exit 1; }

# The several-nodes test puts Debian's HAProxy in front of three nodes (tests/cluster/).
haproxy:
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || { apt-get update -qq && apt-get install -y -qq haproxy; } || \
		{ echo "make: haproxy is missing: install Debian's haproxy package for tests/cluster" >&2; exit 1; }

test: lint $(NODE_STAMPS) chromium haproxy
	$(BIN)/pytest -n 2 --dist loadfile

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

# The benchmarks, see BENCHMARKS.md: CreateParticipant throughput (wrk), SendMessage-to-socket latency, flows.
bench: bench-throughput bench-latency bench-flows bench-store bench-sockets bench-startup

bench-throughput: $(STAMP)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

# What the store costs a request, in process, per store (memory, SQLite :memory:, durable): CreateParticipant,
# DescribeInstance, and StartChatContact with 100 and with 20,000 active chats.
bench-store: $(STAMP)
	$(BIN)/python bench/store_cost.py

# Several nodes (bench/cluster.py): CreateParticipant rate and delivery latency at 1,000 chats, one to three nodes
# on PostgreSQL + Redis behind HAProxy, beside one SQLite node; needs this machine's PostgreSQL and Redis.
bench-cluster: $(STAMP) haproxy
	$(BIN)/python bench/cluster.py

# Launch to the first 200 of /_parley/health, median of 20 runs each of `python -m parley` and `parley`; fails over 0.25 s.
bench-startup: $(STAMP)
	$(BIN)/python bench/startup.py

# Idle subscribed WebSockets (10,000 and 50,000, offering permessage-deflate or not): the server's RSS per socket.
bench-sockets: $(STAMP)
	$(BIN)/python bench/sockets.py

bench-latency: $(STAMP)
	$(BIN)/python bench/latency.py

# SendMessage-to-delivery with no stream, one live stream, and a live plus a dead stream per chat.
bench-streams: $(STAMP)
	$(BIN)/python bench/stream_latency.py
# Chats per second with a six-action flow and an in-process Lambda, next to --flows off; greeting latency.
bench-flows: $(STAMP)
	$(BIN)/python bench/flows.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(addsuffix /node_modules,$(NODE_SUITES))
