# Two entry points, each of which sets everything up on a machine with Python 3.11 and make:
#   make verify the main job: every claim at quick size, report in heavytail-report/
#               (`make demo` is the same)
#   make test   ruff, mypy and pytest (slow tests skipped; `make test-slow` runs them too)
# `make test-anycpu` runs the fast tests again as other CPUs would compute them (below).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := -p heavytail._lib -p heavytail.theory -p heavytail.simulate -p heavytail.nn -p heavytail.reports
PYTEST_ARGS ?=

.PHONY: setup link demo verify test lint typecheck pytest test-slow test-anycpu bench clean

# Dependencies are installed once per change of pyproject.toml or constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,nn,dist]" \
		--config-settings editable_mode=strict
	touch $(STAMP)

setup: $(STAMP)

# The strict editable install is a tree of links (so that mypy can read it); a module added
# since the last install needs a new link. This re-links heavytail alone, in a few seconds.
link: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . \
		--config-settings editable_mode=strict

verify: link
	$(BIN)/heavytail verify --size quick --out heavytail-report

demo: verify

lint: link
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: link
	$(BIN)/mypy $(PACKAGES)

pytest: link
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

test-slow: link
	$(BIN)/python -m pytest -n 2 --runslow $(PYTEST_ARGS)

# The same fast tests with the numerical libraries forced onto the code paths of other
# CPUs: MKL's conditional-numerical-reproducibility mode (torch's BLAS and LAPACK),
# OpenBLAS's oldest x86-64 kernels (numpy and scipy), and ATen's kernels without SIMD
# (torch). A tolerance that holds only on the developer's CPU fails here.
ANYCPU_SETTINGS ?= MKL_CBWR=COMPATIBLE OPENBLAS_CORETYPE=Prescott ATEN_CPU_CAPABILITY=default

test-anycpu: link
	for setting in $(ANYCPU_SETTINGS); do \
		echo "== $$setting"; \
		env $$setting $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS) || exit 1; \
	done

bench: link
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
