import ast
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

from govshare_desktop.core.browse import DATASETS, PAYMENTS, PERSONS, Browser, Query
from govshare_desktop.ui.table_model import PAGE_SIZE, RowId, SqlTableModel

TODAY = date(2026, 11, 26)
REPO = Path(__file__).resolve().parents[2]
# Every item model under govshare_desktop/ui and the test that runs qtmodeltester.check on it.
MODEL_TESTS = {
    "SqlTableModel": "tests/ui/test_table_model.py::test_every_dataset_passes_qmodeltester",
    "SheetModel": "tests/ui/test_sheet_view.py::test_a_table_shown_as_its_paper_form_and_typed_into",
    "ValuesModel": "tests/ui/test_forms_view.py::test_the_items_model_passes_qmodeltester",
    "TasksModel": "tests/ui/test_report_pages.py::"
    "test_the_tasks_page_lists_the_county_tasks_most_urgent_first",
    "OutboxModel": "tests/ui/test_report_pages.py::test_the_outbox_lists_and_writes_every_package",
    "CasesModel": "tests/ui/test_checks_pages.py::test_the_checks_page_lists_the_cases_after_a_run",
    "CorrectionsModel": "tests/ui/test_checks_pages.py::test_overdue_corrections_stand_out",
    "RejectedModel": "tests/ui/test_import_wizard.py::"
    "test_a_rejected_row_becomes_a_correction_from_the_result_page",
    "ResourcesModel": "tests/ui/test_sharing_page.py::"
    "test_the_catalog_is_searched_and_a_request_drafted",
    "RequestsModel": "tests/ui/test_sharing_page.py::test_a_request_is_approved_sent_and_urged",
    "HoldingsModel": "tests/ui/test_sharing_page.py::test_data_past_its_use_period_is_flagged",
}


def test_every_item_model_is_checked_by_qmodeltester() -> None:
    """A new model class under ui/ needs a test that runs ``qtmodeltester.check`` on it."""
    models = set()
    for path in (REPO / "govshare_desktop" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", "")).endswith(("Model", "ProxyModel"))
                for base in node.bases
            ):
                models.add(node.name)
    assert models == set(MODEL_TESTS)
    for test in MODEL_TESTS.values():
        path, name = test.split("::")
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
        assert "qtmodeltester.check(" in ast.unparse(function), test


def _loaded(qtbot, model: SqlTableModel) -> SqlTableModel:  # type: ignore[no-untyped-def]
    """Until the model's current query has its first rows (it runs off the UI thread)."""
    model.ensure_loaded()
    qtbot.waitUntil(lambda: not model.waiting, timeout=10000)
    return model


def _model(qtbot, store, query: Query) -> SqlTableModel:  # type: ignore[no-untyped-def]
    return _loaded(qtbot, SqlTableModel(Browser(store), query, today=TODAY))


@pytest.mark.parametrize("key", list(DATASETS))
def test_every_dataset_passes_qmodeltester(qtbot, qtmodeltester, demo_store, key: str) -> None:
    query = Query(DATASETS[key])
    if key == PAYMENTS.key:
        query = query.with_filter(period=202610)
    model = _model(qtbot, demo_store, query)
    assert model.rowCount() > 0
    qtmodeltester.check(model)
    if model.canFetchMore(QModelIndex()):  # pages coming in, and a new query, watched too
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: model.rowCount() > PAGE_SIZE, timeout=10000)
    model.set_query(query.with_filter(search="王"))
    _loaded(qtbot, model)
    qtmodeltester.check(model)


def _column(model: SqlTableModel, key: str) -> int:
    return [model.column_key(c) for c in range(model.columnCount())].index(key)


def test_masked_by_default_and_unmasked_on_request(qtbot, demo_store) -> None:
    model = _model(qtbot, demo_store, Query(PERSONS))
    column = _column(model, "id_number")
    masked = model.data(model.index(0, column))
    assert "********" in masked
    model.set_masked(False)
    full = model.data(model.index(0, column))
    assert len(full) == 18 and "*" not in full
    assert full[:6] == masked[:6] and full[-4:] == masked[-4:]


def test_sort_by_age_is_done_in_sql(qtbot, demo_store) -> None:
    model = _model(qtbot, demo_store, Query(PERSONS))
    age = _column(model, "age")
    model.sort(age, Qt.SortOrder.DescendingOrder)
    _loaded(qtbot, model)
    ages = [int(model.data(model.index(r, age))) for r in range(model.rowCount())]
    assert ages == sorted(ages, reverse=True) and len(ages) == PAGE_SIZE
    model.sort(age, Qt.SortOrder.AscendingOrder)
    _loaded(qtbot, model)
    ages = [int(model.data(model.index(r, age))) for r in range(model.rowCount())]
    assert ages == sorted(ages)


def test_rows_come_a_page_at_a_time_and_the_count_after(qtbot, demo_store) -> None:
    browser = Browser(demo_store)
    model = SqlTableModel(browser, Query(PERSONS), today=TODAY, load=False)
    assert model.rowCount() == 0 and not model.waiting  # nothing asked yet
    with qtbot.waitSignal(model.counted, timeout=10000) as counted:
        model.ensure_loaded()
    everyone = browser.count(Query(PERSONS))
    assert counted.args == [everyone] and model.count == everyone > 2 * PAGE_SIZE
    assert model.rowCount() == PAGE_SIZE and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE, timeout=10000)
    vertical = Qt.Orientation.Vertical
    assert model.headerData(2 * PAGE_SIZE - 1, vertical) == 2 * PAGE_SIZE  # row numbers
    ids = [model.row_id(r) for r in range(model.rowCount())]
    assert ids == browser.ids(Query(PERSONS))[: 2 * PAGE_SIZE]


def test_filter_by_village_and_row_ids(qtbot, demo_store) -> None:
    model = _model(qtbot, demo_store, Query(PERSONS))
    model.set_query(model.query.with_filter(village="441900199201"))
    _loaded(qtbot, model)
    qtbot.waitUntil(lambda: model.count is not None, timeout=10000)
    assert 0 < model.count < Browser(demo_store).count(Query(PERSONS))
    village = _column(model, "village")
    assert {model.data(model.index(r, village)) for r in range(model.rowCount())} == {"东岭村委会"}
    row_id = model.data(model.index(3, 0), RowId)
    assert model.row_of_id(row_id) == 3
    assert model.raw_row_of_id(row_id) == model.raw_row(3)


def test_each_query_supersedes_the_last(qtbot, demo_store) -> None:
    """Typed quickly: only the last text's rows are ever shown, whatever the others delivered."""
    model = _model(qtbot, demo_store, Query(PERSONS))
    shown: list[str] = []
    model.arrived.connect(lambda: shown.append(str(model.query.filters.get("search"))))
    for text in ("4", "44", "441", "4419", "王"):
        model.set_query(Query(PERSONS, {"search": text}))
    _loaded(qtbot, model)
    qtbot.waitUntil(lambda: model.count is not None, timeout=10000)
    assert shown == ["王"]
    expected = Browser(demo_store).ids(Query(PERSONS, {"search": "王"}))
    assert [model.row_id(r) for r in range(model.rowCount())] == expected[:PAGE_SIZE]
    assert model.count == len(expected)


def test_selection_stays_on_the_same_record_after_sorting(qtbot, demo_store) -> None:
    from PySide6.QtWidgets import QTableView

    model = _model(qtbot, demo_store, Query(PERSONS))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setCurrentIndex(model.index(5, 1))
    chosen = model.data(model.index(5, 0), RowId)
    model.sort(_column(model, "age"), Qt.SortOrder.DescendingOrder)
    _loaded(qtbot, model)
    current = view.currentIndex()
    assert current.isValid() and current.column() == 1
    assert model.data(model.index(current.row(), 0), RowId) == chosen
    assert current.row() != 5 or model.row_of_id(chosen) == 5
