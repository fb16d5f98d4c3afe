# Two commands: `make run` and `make test`. Each sets up whatever is missing first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# uv, pinned, in its own small virtual environment (from PyPI through pip, like any package).
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Never fetch a Python build: use the machine's python3.11.
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup run test lint browser clean-data messages bench bench-ledger bench-beds bench-analytics bench-events bench-pages bench-load lock

setup: $(VENV)/.installed node_modules/.installed meilisearch

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The project (editable) and exactly the versions in uv.lock, test and dev tools included.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --extra test --extra dev --quiet
	touch $@

# After changing dependencies in pyproject.toml: re-resolve uv.lock (and commit it).
lock: $(UV)
	$(UV) lock --python $(PYTHON)

# Front-end packages from the npm registry, as pinned by package-lock.json (never committed).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The pinned Meilisearch binary, verified by its integrity hash, kept in the user cache.
meilisearch: $(VENV)/.installed
	$(BIN)/marketplace fetch-meilisearch > /dev/null

# Debian's Chromium and a CJK font for the browser tests, when missing.
browser:
	@if ! command -v chromium > /dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk > /dev/null; \
	fi

run: setup
	$(BIN)/marketplace run

test: setup browser lint
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Lint, format and type checks (configured in pyproject.toml), run by `make test` before the suite.
# `uv lock --check` fails when pyproject.toml changed without `make lock`.
lint: $(VENV)/.installed
	@status=0; \
	$(UV) lock --check --python $(PYTHON) --quiet || status=1; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

# The search benchmark (bench/search.py, figures in README.md): 100,000 listings on its own services
# under .data/bench; BENCH_ARGS="--n 2000" for a quick run.
BENCH_ARGS ?=
bench: setup
	$(BIN)/python bench/search.py $(BENCH_ARGS)

# The ledger benchmark (bench/ledger.py, figures in README.md): 100,000 incomes on its own PostgreSQL
# under .data/bench-ledger; BENCH_ARGS="--n 5000" for a quick run.
bench-ledger: setup
	$(BIN)/python bench/ledger.py $(BENCH_ARGS)

# The beds benchmark (bench/beds.py, figures in README.md): a ward with 2,000 allocations over a year
# and 50 concurrent approvals, on its own PostgreSQL under .data/bench-beds; BENCH_ARGS="--n 200 --runs 10" for a quick run.
bench-beds: setup
	$(BIN)/python bench/beds.py $(BENCH_ARGS)

# The analytics benchmark (bench/analytics.py, figures in README.md): the platform dashboard for a year of
# 100,000 listings, 20,000 requests, 5,000 agreements and 50,000 payments, on its own PostgreSQL under
# .data/bench-analytics; BENCH_ARGS="--scale 0.05 --runs 5" for a quick run.
bench-analytics: setup
	$(BIN)/python bench/analytics.py $(BENCH_ARGS)

# The events scheduling benchmark (bench/events_schedule.py, figures in README.md): 2,000 accepted meetings
# of a 300-participant event placed into 2 days × 16 slots, no database; BENCH_ARGS="--time-limit 5" for a quick run.
bench-events: setup
	$(BIN)/python bench/events_schedule.py $(BENCH_ARGS)

# The search evaluation (bench/search_eval.py, figures in README.md): the queries of
# bench/data/search_eval.yaml on the demo catalogue, keyword-only and hybrid, on its own services in a
# temporary folder; BENCH_ARGS="--misses" lists the queries that find nothing relevant.
.PHONY: bench-search-eval
bench-search-eval: setup
	$(BIN)/python bench/search_eval.py $(BENCH_ARGS)

# Remove the local database, search index and generated secrets.
clean-data:
	rm -rf .data

# After changing strings: extract every message id into messages.pot; add the new ones to the
# zh_CN .po by hand (tests/app/test_i18n.py lists any that are missing).
KEYWORDS := -k _ -k gettext -k N_ -k FieldError:2 -k invalid:2 -k DomainError:1 -k Conflict:1 -k flash:2 -k NavItem:1
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output -o marketplace/locale/messages.pot .

# Page speed as ratios against a bare Litestar endpoint under Granian (bench/pages.py, issue 19): the
# demo data under .data/bench-pages; BENCH_ARGS="--seconds 10 --only SearchPage" for a quick run.
bench-pages: setup
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

# The load test (bench/load.py, figures in README.md): visitors, companies and TTOs together
# (bench/locust_mixed.py) against `marketplace run` and against `marketplace serve` + `marketplace worker`,
# users stepped up, on the demo data under .data/bench-load; BENCH_ARGS="--steps 5,10 --seconds 15 --warmup 5" for a quick run.
bench-load: setup
	$(BIN)/python bench/load.py $(BENCH_ARGS)
