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

.PHONY: demo cli-demo test lint types pytest pytest-postgres bench bench-web bench-survey bench-bombs lock clean

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
demo: $(STAMP)
	$(BIN)/youjun-web migrate --verbosity 0
	$(BIN)/youjun-web load_divisions
	$(BIN)/youjun-web demo_setup
	@echo
	@echo "优均已启动：http://127.0.0.1:8000  （按 Ctrl+C 停止；命令行演示见 make cli-demo）"
	$(BIN)/youjun-web runserver 127.0.0.1:8000

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

## bench-survey: survey answering under load (PostgreSQL at 127.0.0.1:5432, gunicorn, 60 s of single-use tokens)
bench-survey: $(STAMP)
	$(BIN)/python bench/survey_load.py

## bench-bombs: what each upload bomb costs without and with the input guard
bench-bombs: $(DEV_STAMP)
	$(BIN)/python bench/upload_bombs.py

clean:
	rm -rf $(VENV) out var bench/data bench/out .pytest_cache .mypy_cache .ruff_cache .hypothesis
