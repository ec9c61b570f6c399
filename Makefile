# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lumina needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "error: the Python 'venv' module (with ensurepip) is missing."; \
	  echo "       On Debian/Ubuntu: sudo apt install python3-venv; then run make again."; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

# Seeds the demo workspace the first time (idempotent), then opens the composer.
run: $(STAMP)
	$(BIN)/lumina demo --quiet
	$(BIN)/lumina

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
