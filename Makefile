# sipc — the commands a developer and CI use. `make run` and `make test` work on a fresh clone.
# The interpreter the venv is made from. The distribution's python3 (Debian's /usr/bin/python3)
# is built with PGO and LTO and has libpython linked in; pyenv's default build has neither. On
# Debian's, sipc took 8-31% less CPU (live REGISTER 8-18%, live stateless call 16-22%, stateful
# call in process 20-31%; bench/run.py, bench/stateful_bench.py). So a /usr/bin/python3 of 3.11
# or newer that can make a venv wins; `make PYTHON=...` picks another.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' \
                  >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
SIPC   := $(BIN)/sipc
STAMP  := $(VENV)/.installed

.PHONY: venv native run test test-fast lint fmt-check bench clean print-python

venv: $(STAMP)

# The editable install also compiles the runtime's hot modules with mypyc (setup.py).
$(STAMP): pyproject.toml setup.py runtime/_native.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Recompile the hot modules after editing one (until then they run as Python source:
# runtime/_native.py never loads a compiled copy older than its source).
native: venv
	$(BIN)/python setup.py -q build_ext --inplace --force

# Check and build the sample proxy, then serve it on 127.0.0.1:5060 until Ctrl-C.
run: venv
	$(SIPC) build samples/proxy.cfg -o build/
	$(SIPC) run build/proxy.py

test: venv
	$(BIN)/python -m pytest -q

# The unit tests only: no SIPp, nothing slow.
test-fast: venv
	$(BIN)/python -m pytest -q -m "not sipp and not slow"

lint: venv
	$(BIN)/ruff check compiler runtime stdlib tests
	$(BIN)/mypy --strict

bench: venv
	$(BIN)/python bench/run.py
	$(BIN)/python bench/compiler_bench.py

# The interpreter `make venv` uses (see PYTHON above).
print-python:
	@echo $(PYTHON)

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find runtime -name '*.so' -delete
