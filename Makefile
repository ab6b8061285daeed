# youjun — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint types pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## demo: install, generate a demo province, evaluate it and show the result
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/youjun synth --counties 12 --seed 2024 --province 34 --out out/demo-province.xlsx
	$(BIN)/youjun check out/demo-province.xlsx --quiet
	$(BIN)/youjun evaluate out/demo-province.xlsx --format table --limit 5
	$(BIN)/youjun evaluate out/demo-province.xlsx --format xlsx --out out/demo-report.xlsx
	$(BIN)/youjun evaluate out/demo-province.xlsx --format json --out out/demo-report.json
	$(BIN)/youjun template out/学校年度数据表-模板.xlsx
	@echo
	@echo "演示完成 / demo done: out/demo-report.xlsx, out/demo-report.json, out/学校年度数据表-模板.xlsx"

## test: lint, types and the whole suite
test: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench

types: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP)
	$(BIN)/pytest

## bench: national-scale benchmark (2,900 counties, ~200,000 schools)
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out bench/data bench/out .pytest_cache .mypy_cache .ruff_cache .hypothesis
