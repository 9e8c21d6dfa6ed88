# The two commands a newcomer needs: `make demo` and `make test`.
# Everything is installed into .venv by these targets; nothing by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The development install links each module into build/ (a strict editable install,
# which type checkers and IDEs follow): a new or renamed module needs a reinstall, so
# the stamp's name follows the list of the package's files.
PACKAGE_FILES := $(shell find minari_namespaces -name '*.py' -o -name py.typed | LC_ALL=C sort | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-dev-$(PACKAGE_FILES)
# Azurite (the Azure Blob emulator) from the npm registry, into the project, not
# globally: 3.35.0 is the last release that runs on Node 20.
AZURITE := .tools/azurite/node_modules/.bin/azurite-blob
# Headless Chromium and its WebDriver from Debian, for the browser test of the catalog
# page; chromium-driver depends on chromium, so its binary stands for both.
CHROMEDRIVER := /usr/bin/chromedriver
# rclone from Debian, the baseline of the S3 transfer benchmarks.
RCLONE := /usr/bin/rclone

.PHONY: demo test quick floors lint typecheck unit docs bench constraints clean

# The lanes: `make quick` while working (no server, no subprocess, under a
# minute); `make test` before stopping and in CI (everything, nothing skipped).
QUICK_LANE := not (s3 or gcs or azure or hub or compat or processes or slow or browser)

# The floors lane: the oldest Python and the oldest release of every dependency that
# pyproject.toml allows (constraints-floor.txt), on the quick lane's tests and the
# stand-in Hub's (it runs in the pytest process, so the hf floor is proven here too).
# python3.10 from PATH, else from pyenv. tests/compat is left out: minari 0.5.4 needs
# Python 3.11; so are the modules outside it that import minari, gymnasium or numpy
# (through tests/compat or benchmarks/) to collect: their tests are in compat's lane.
# The MyST test parses with the docs' myst-parser 5, which needs Python 3.11 too.
# The parsers and the WebDriver client are only imported by tests: the dev set's pins.
FLOOR_LANE := not (s3 or gcs or azure or compat or processes or slow or browser)
FLOOR_IGNORE := tests/compat tests/integration/test_hub_processes.py \
	tests/integration/test_benchmark_harness.py tests/integration/test_cli_dataset_downloads.py
FLOOR_DESELECT := tests/unit/test_catalog_pages.py::test_myst_comments_and_targets_are_escaped_like_all_markup
FLOOR_PYTHON ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10; do \
	"$$p" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
FLOOR_VENV := .venv-floors
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(PACKAGE_FILES)
FLOOR_TEST_TOOLS := $(shell grep -iE '^(beautifulsoup4|markdown-it-py|selenium)==' constraints-dev.txt)

$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --quiet --upgrade pip

# constraints-dev.txt pins every dependency to a set the whole suite passed with, so
# a fresh install resolves at once (pip backtracks for minutes without it).
$(STAMP): pyproject.toml constraints-dev.txt | $(BIN)/python
	@echo "Installing minari-namespaces (editable) and its development tools into $(VENV)"
	@$(BIN)/python -m pip install --quiet --quiet -c constraints-dev.txt \
		--config-settings editable_mode=strict -e '.[dev]'
	@rm -f $(VENV)/.installed-dev*
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m minari_namespaces.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict minari_namespaces tests benchmarks

$(AZURITE):
	@echo "Installing Azurite 3.35.0 into .tools/azurite (npm)"
	npm install --prefix .tools/azurite --no-audit --no-fund --silent azurite@3.35.0

# make test runs as root on a fresh Debian machine; the lock timeout waits for another
# apt-get instead of failing at once.
$(CHROMEDRIVER):
	@echo "Installing Chromium and chromium-driver (apt-get)"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=600 chromium chromium-driver

$(RCLONE):
	@echo "Installing rclone (apt-get)"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=600 rclone

unit: $(STAMP) $(AZURITE) $(CHROMEDRIVER)
	$(BIN)/python -m pytest

test: lint typecheck unit

quick: lint typecheck
	$(BIN)/python -m pytest -q -m "$(QUICK_LANE)" -p no:randomly

$(FLOOR_STAMP): pyproject.toml constraints-floor.txt constraints-dev.txt
	@test -n "$(FLOOR_PYTHON)" || { echo "make floors needs python3.10"; exit 1; }
	@echo "Creating $(FLOOR_VENV) with $(FLOOR_PYTHON) and the floors of every dependency"
	@rm -rf $(FLOOR_VENV)
	@$(FLOOR_PYTHON) -m venv $(FLOOR_VENV)
	@$(FLOOR_VENV)/bin/python -m pip install --quiet --quiet --upgrade pip
	@$(FLOOR_VENV)/bin/python -m pip install --quiet --quiet -c constraints-floor.txt \
		-e '.[testing,s3,gcs,azure,hf,cli]' $(FLOOR_TEST_TOOLS)
	@touch $@

floors: $(FLOOR_STAMP)
	$(FLOOR_VENV)/bin/python -m pytest -q -m "$(FLOOR_LANE)" -p no:randomly \
		$(addprefix --ignore=,$(FLOOR_IGNORE)) --deselect $(FLOOR_DESELECT)

bench: $(STAMP) $(AZURITE) $(RCLONE)
	$(BIN)/python -m benchmarks

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# Re-pin after changing dependencies (and run make test with the new set).
constraints: $(STAMP)
	head -4 constraints-dev.txt > constraints-dev.new
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^minari-namespaces' >> constraints-dev.new
	mv constraints-dev.new constraints-dev.txt

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .tools build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
