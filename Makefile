# youjun — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Where the embedded demo database lives (SQLite); set DATABASE_URL to use PostgreSQL instead.
export YOUJUN_DATA_DIR ?= $(CURDIR)/var
# PostgreSQL for the second run of the web tests (skipped when nothing answers there, unless CI requires it).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/youjun

.PHONY: demo cli-demo test lint types pytest pytest-postgres bench bench-web bench-survey bench-bombs bench-load lock wheelhouse offline-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come from the lock files (exact versions, hashes checked); the project itself is installed editable.
$(STAMP): pyproject.toml requirements/web.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/web.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): pyproject.toml requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(STAMP)

## lock: pin every dependency with its hashes (after a change of the ranges in pyproject.toml)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "pip-tools>=7.4,<8"
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --extra web -o requirements/web.txt pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --extra web --extra dev -o requirements/dev.txt pyproject.toml

## demo: install, prepare the embedded database with a demo province and accounts, start the web app
## (make demo HOST=0.0.0.0 PORT=8080: listen on the network too, so that phones can answer the survey)
# Where the demo listens; set on the command line (a plain assignment: some shells export HOST as the machine name).
HOST = 127.0.0.1
PORT = 8000
demo: export YOUJUN_DEMO := 1
demo: export YOUJUN_DEMO_HOST := $(HOST)
demo: export YOUJUN_DEMO_PORT := $(PORT)
# The web server and, beside it, the background worker (recomputes, reminders, the daily jobs); Ctrl+C stops both.
demo: $(STAMP)
	@mkdir -p "$(YOUJUN_DATA_DIR)"
	@$(BIN)/youjun-web migrate --verbosity 0
	@$(BIN)/youjun-web load_divisions
	@$(BIN)/youjun-web demo_setup
	@$(BIN)/youjun-web worker --id demo-1 --verbosity 0 > "$(YOUJUN_DATA_DIR)/worker.log" 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "后台任务进程已启动（日志：$(YOUJUN_DATA_DIR)/worker.log）"; \
	$(BIN)/gunicorn youjun.web.wsgi:application --bind $(HOST):$(PORT) --workers 1 --threads 8 --timeout 120 \
		--graceful-timeout 5 --log-level warning

## cli-demo: the command-line tools on a synthetic province (template, check, evaluate to table/xlsx/json)
cli-demo: $(STAMP)
	@mkdir -p out
	$(BIN)/youjun synth --counties 12 --seed 2024 --province 34 --out out/demo-province.xlsx
	$(BIN)/youjun check out/demo-province.xlsx --quiet
	$(BIN)/youjun evaluate out/demo-province.xlsx --format table --limit 5
	$(BIN)/youjun evaluate out/demo-province.xlsx --format xlsx --out out/demo-report.xlsx
	$(BIN)/youjun evaluate out/demo-province.xlsx --format json --out out/demo-report.json
	$(BIN)/youjun template out/学校年度数据表-模板.xlsx

## test: lint, types and the whole suite (SQLite; the web tests again on PostgreSQL when it is there)
test: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/pytest
	@$(MAKE) --no-print-directory pytest-postgres

pytest-postgres: $(DEV_STAMP)
	@if $(BIN)/python -c "import psycopg, sys; psycopg.connect('$(TEST_POSTGRES_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "web tests on PostgreSQL ($(TEST_POSTGRES_URL))"; \
		DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest tests/web; \
	elif [ -n "$$YOUJUN_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required but does not answer at $(TEST_POSTGRES_URL)"; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(TEST_POSTGRES_URL): web tests ran on SQLite only"; \
	fi

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench tools

types: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP)
	$(BIN)/pytest

## bench: national-scale benchmark (2,900 counties, ~200,000 schools)
bench: $(STAMP)
	$(BIN)/python bench/run.py

## bench-web: server time of the web pages and of a 300-school county upload (set DATABASE_URL for PostgreSQL)
bench-web: $(STAMP)
	$(BIN)/python bench/web_pages.py

## bench-load: national data for two years on PostgreSQL, 20 concurrent sessions for 60 s (add ARGS=--prepare once)
bench-load: $(STAMP)
	$(BIN)/python bench/web_load.py $(ARGS)

## bench-survey: survey answering under load (PostgreSQL at 127.0.0.1:5432, gunicorn, 60 s of single-use tokens)
bench-survey: $(STAMP)
	$(BIN)/python bench/survey_load.py

## bench-bombs: what each upload bomb costs without and with the input guard
bench-bombs: $(DEV_STAMP)
	$(BIN)/python bench/upload_bombs.py

## wheelhouse: every wheel of the lock file and youjun's own, in one folder, for machines without a registry
wheelhouse: | $(BIN)/python
	rm -rf wheelhouse
	$(BIN)/pip wheel --quiet --require-hashes -r requirements/web.txt -w wheelhouse
	$(BIN)/pip wheel --quiet --no-deps . -w wheelhouse
	cp requirements/web.txt wheelhouse/requirements.txt
	@echo "离线安装包已生成：wheelhouse/（安装方法见 docs/deploy.md）"

## offline-check: install from the wheelhouse into a fresh venv with pip's network cut off, then run both programs
offline-check: wheelhouse
	tools/offline_install_check.sh wheelhouse

clean:
	rm -rf $(VENV) out var bench/data bench/out .pytest_cache .mypy_cache .ruff_cache .hypothesis wheelhouse
