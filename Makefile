# The project's commands. `make run` and `make test` are the whole set-up (README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KPI_DB ?= data/kpi.duckdb
PORT ?= 8501
AS_OF ?=
SCALE ?= 100
# optional dependency groups installed into the venv; `make test EXTRAS=dev,spark` adds the Spark backend
# (docs/spark.md), which .ci/run does
EXTRAS ?= dev
# one stamp per set of extras: `make test EXTRAS=dev,spark` in a venv made with `dev` alone installs the rest
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install run demo test test-dates check format lint types bench bench-spark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP)

$(KPI_DB): | $(STAMP)
	$(VENV)/bin/kpi demo --db $(KPI_DB) $(if $(AS_OF),--as-of $(AS_OF))

demo: $(KPI_DB)

run: install $(KPI_DB)
	KPI_DB=$(KPI_DB) $(PY) -m dashboard.serve --server.port $(PORT) --server.address localhost

test: install
	$(PY) -m pytest -q

# The whole suite, browser tests included, with the machine's clock moved ahead (docs/time.md). libfaketime
# starts the clock at that moment and lets it run at the normal rate.
FAKE_DATES ?= 2027-02-15T09:00:00 2028-01-03T09:00:00
test-dates: install
	@command -v faketime >/dev/null || { echo "make test-dates needs faketime (Debian: apt-get install faketime)"; exit 1; }
	@for d in $(FAKE_DATES); do \
		echo "== make test-dates: the suite at $$d"; \
		faketime -f "@$$(echo $$d | tr T ' ')" $(PY) -m pytest -q -p no:cacheprovider || exit 1; \
	done

format: install
	$(VENV)/bin/ruff format metrics dashboard tests

lint: install
	$(VENV)/bin/ruff format --check metrics dashboard tests
	$(VENV)/bin/ruff check metrics dashboard tests
	$(VENV)/bin/lint-imports

types: install
	$(VENV)/bin/mypy metrics dashboard

check: lint types test

bench: install
	$(PY) -m tests.bench.run --scale $(SCALE)

# DuckDB and local Spark side by side on the same Parquet folder (docs/spark.md "Measured"); needs Java 17
# and the spark group (EXTRAS=dev,spark)
bench-spark: install
	$(PY) -m tests.bench.spark --scales 10 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
