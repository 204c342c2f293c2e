# sipc — the commands a developer and CI use. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SIPC   := $(BIN)/sipc
STAMP  := $(VENV)/.installed

.PHONY: venv run test test-fast lint fmt-check bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Check and build the sample proxy, then serve it on 127.0.0.1:5060 until Ctrl-C.
# While the stateful modules (tm, registrar) are still being built, samples/proxy.cfg cannot
# compile yet; `make run` then says so and serves samples/stateless.cfg instead.
run: venv
	@mkdir -p build
	@if $(SIPC) build samples/proxy.cfg -o build/ 2>build/proxy-build.log; then \
		$(SIPC) run build/proxy.py; \
	else \
		grep -E "^error\[unsupported-function\]" build/proxy-build.log | sort -u || true; \
		echo "sipc: samples/proxy.cfg needs the functions above, which sipc does not implement yet"; \
		echo "      (full report: build/proxy-build.log);"; \
		echo "sipc: serving samples/stateless.cfg on 127.0.0.1:5060 instead; Ctrl-C stops it."; \
		$(SIPC) run samples/stateless.cfg; \
	fi

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

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache .hypothesis
