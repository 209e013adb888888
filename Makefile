# The two commands a newcomer needs:  make run  (set up and start the app)  ·  make test
# (make check: the same without the tests marked slow, for the edit-test loop)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test check lint bench bench-import bench-forms bench-export-forms bench-export-list bench-security bench-report bench-checks bench-office bench-browse bench-print bench-summary bench-bundle frozen deb check-upgrade clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## Start the app; on first run the database gets the demo township 青禾镇.
run: setup
	$(BIN)/govshare-desktop --demo $(ARGS)

## Lint, format check and the whole test suite (Qt offscreen).
test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

## The fast tier while working: lint, format check and every test not marked slow (Qt offscreen).
check: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Benchmark: 30,000 households (~100k persons, ~1.2M payments) beside raw sqlite3.
bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_township.py $(ARGS)

## Benchmark: 1,000,000 payment rows through the import, beside csv.reader + raw executemany.
bench-import: setup
	cd bench && ../$(BIN)/python bench_import.py $(ARGS)

## Benchmark: every computed 一表通 element for every village (ARGS="--db PATH" to reuse a township).
bench-forms: setup
	$(BIN)/python bench/bench_forms.py $(ARGS)

## Benchmark: 1,000 individual forms into one PDF, beside a bare reportlab loop.
bench-export-forms: setup
	$(BIN)/python bench/bench_export_forms.py $(ARGS)

## Benchmark: a 100,000-row x 15-column person list to .xlsx, beside a bare XlsxWriter loop.
bench-export-list: setup
	$(BIN)/python bench/bench_export_list.py $(ARGS)

## Benchmark: search and import on an encrypted database beside a plain one, and sign-in time.
bench-security: setup
	$(BIN)/python bench/bench_security.py $(ARGS)

## Benchmark: 上报 (signed report package) of a 3,477-person roster and the widest tables, beside their PDF alone.
bench-report: setup
	$(BIN)/python bench/bench_report_package.py $(ARGS)

## Benchmark: every 比对核查 check on 30,000 households, beside the same conditions in hand-written SQL.
bench-checks: setup
	$(BIN)/python bench/bench_checks.py $(ARGS)

## Benchmark: 5 clerks, search and a 1,000,000-row import on a throwaway PostgreSQL beside COPY and a SQLite file.
bench-office: setup
	$(BIN)/python bench/bench_office.py $(ARGS)

bench-browse: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_browse.py $(ARGS)

## Benchmark: print preview and printing of 1,000 and 20,000 登记表 (ARGS="--db PATH --every" for a whole township), beside the old preview and the streamed PDF.
bench-print: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_print.py $(ARGS)

## Benchmark: the 工作台's charts at the township's size, beside the plain queries (--db PATH).
bench-charts: setup
	$(BIN)/python bench/bench_charts.py $(ARGS)

## Benchmark: the summary refresh of a changes-only import of persons / enrollments, beside the full recount (ARGS="--db PATH [--in-place] --full").
bench-summary: setup
	$(BIN)/python bench/bench_summary.py $(ARGS)

## Benchmark: size of the frozen bundle and its start-up beside python -m govshare_desktop.
bench-bundle: frozen
	$(BIN)/python bench/bench_bundle.py --app dist/govshare-desktop $(ARGS)

## The frozen program (PyInstaller one-folder) in dist/govshare-desktop, smoke-tested.
frozen: setup
	PYTHON=$(BIN)/python installer/build_frozen.sh --dist dist

## The .deb (Debian, 统信UOS, 银河麒麟) in dist/, from the frozen program.
deb: frozen
	installer/linux/build_deb.sh --app dist/govshare-desktop --out dist

## Upgrade check: the package of v0.1.0 (FROM=tag) replaced by this one keeps the data.
check-upgrade: deb
	PYTHON=$(BIN)/python installer/linux/check_upgrade.sh dist/govshare-desktop_$$($(BIN)/python -c 'import govshare_desktop as g; print(g.__version__)')_$$(dpkg --print-architecture).deb --from $(or $(FROM),v0.1.0)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist
