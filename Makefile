PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rdscan demo

test: $(STAMP)
	ALIBABA_CLOUD_ECS_METADATA_DISABLED=true $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check scanner tests bench
	$(BIN)/ruff check scanner tests bench
	$(BIN)/mypy scanner

format: $(STAMP)
	$(BIN)/ruff format scanner tests bench
	$(BIN)/ruff check --fix scanner tests bench

bench: $(STAMP)
	$(BIN)/python bench/whole_scan.py
	$(BIN)/python bench/scan_throughput.py
	$(BIN)/python bench/scan_quota_pacing.py

# Re-extract the report and summary strings (babel.cfg), merge them into the zh-CN catalog and
# compile it (rdscan.mo, as the install's build hook does: hatch_build.py); then translate the
# new entries in scanner/locales/zh_CN/LC_MESSAGES/rdscan.po and run `make messages` again.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k N_plural:1,2 --no-location --sort-output --width 100 \
		--project rdscan --copyright-holder "rdscan authors" -o scanner/locales/rdscan.pot .
	$(BIN)/pybabel update -i scanner/locales/rdscan.pot -d scanner/locales -D rdscan -l zh_CN --width 100 --ignore-obsolete \
		--no-fuzzy-matching
	$(BIN)/python -c "from pathlib import Path; from scanner.i18n_build import compile_all; \
		print(*compile_all(Path('scanner/locales')), sep='\n')"

clean:
	rm -rf $(VENV) rdscan-report .pytest_cache .mypy_cache .ruff_cache
