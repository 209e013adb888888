"""The 一表通 page with pytest-qt: prefill, keyboard entry with autosave, override reasons, submit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.values import OVERRIDDEN, FormValues

V = "441900199201"


@pytest.fixture
def forms(qtbot, window):
    window.show_page("forms")
    view = window.forms_view
    assert view is not None and view.isVisible()
    return view


def _row(view, code: str) -> int:
    return [e.code for e in view.model.elements].index(code)


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_prefill_then_type_the_missing_items(qtbot, forms, monkeypatch) -> None:
    view = forms
    _choose(view.period, "2026-10")
    _choose(view.area, V)
    _choose(view.template, "mz_elderly")
    view.list_mode.setChecked(True)  # the form as a list of its items
    assert [e.code for e in view.model.elements] == [
        "P_TOTAL",
        "P_60PLUS",
        "P_80PLUS",
        "S_ELDERLY_ALLOWANCE",
    ]
    prefilled = view.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    value = view.model.index(_row(view, "P_60PLUS"), 1)
    assert int(value.data()) > 0 and value.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "已填 3 / 4" in view.status.text()

    # Keyboard entry: type over a prefilled value; it asks why, saves, and Enter moves down.
    table = view.table
    asked = []
    monkeypatch.setattr(
        QInputDialog, "getText", lambda *a, **k: (asked.append(a[2]) or "村委会核实", True)
    )
    start = view.model.index(_row(view, "P_80PLUS"), 1)
    table.setCurrentIndex(start)
    table.edit(start)
    editor = table.indexWidget(table.currentIndex())
    editor.selectAll()
    qtbot.keyClicks(editor, "1")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(20)  # the delegate commits on the next turn of the event loop
    stored = view.pool.values(Period.parse("2026-10"), [V])
    assert (stored["P_80PLUS"][V].value, stored["P_80PLUS"][V].origin) == ("1", OVERRIDDEN)
    assert asked and "回流数据" in asked[0]
    assert table.currentIndex().row() == _row(view, "S_ELDERLY_ALLOWANCE")  # moved to the next item

    # The empty item: typed once, saved at once (autosave), no reason needed.
    table.edit(table.currentIndex())
    editor = table.indexWidget(table.currentIndex())
    qtbot.keyClicks(editor, "3")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(20)
    saved = view.pool.values(Period.parse("2026-10"), [V])["S_ELDERLY_ALLOWANCE"][V]
    assert saved.value == "3" and saved.origin == "entered"
    assert "已填 4 / 4" in view.status.text()

    # Without a reason a prefilled value is not changed.
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    assert not view.model.setData(view.model.index(_row(view, "P_60PLUS"), 1), "1")

    # Submit locks the form's items; the value cells are no longer editable. The package stays
    # in the 发件箱 (the offer to write it now declined).
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    view.submit()
    assert "已上报" in view.status.text()
    assert not (view.model.flags(view.model.index(0, 1)) & Qt.ItemFlag.ItemIsEditable)


def test_values_are_shared_between_forms(qtbot, forms) -> None:
    view = forms
    _choose(view.area, V)
    _choose(view.template, "yb_resident_medical")
    view.list_mode.setChecked(True)
    assert view.model.setData(view.model.index(_row(view, "S_LOW_INCOME"), 1), "15")
    _choose(view.template, "")  # every item of every form: entered once, shown once
    assert view.model.index(_row(view, "S_LOW_INCOME"), 1).data() == "15"
    assert isinstance(view.pool, FormValues)


def test_a_refused_submission_says_why(qtbot, forms, monkeypatch) -> None:
    view = forms
    _choose(view.area, V)
    _choose(view.template, "mz_elderly")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    view.submit()
    assert shown and "未填写" in shown[0]


def test_the_items_model_passes_qmodeltester(qtbot, qtmodeltester, forms) -> None:
    """The list of a form's items (ValuesModel), checked while it is loaded, prefilled and
    shown for a village and for the township (合计 worked out from the rows)."""
    view = forms
    _choose(view.period, "2026-10")
    view.list_mode.setChecked(True)
    qtmodeltester.check(view.model)  # keeps watching the changes below
    _choose(view.template, "mz_elderly")
    _choose(view.area, V)
    prefilled = view.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    assert view.model.rowCount() == 4
    _choose(view.area, "441900199000")
    assert view.model.totals  # the township's additive items are sums
    qtmodeltester.check(view.model)


def test_prefill_runs_beside_the_window_and_a_failure_is_said(qtbot, forms, monkeypatch) -> None:
    view = forms
    _choose(view.period, "2026-10")
    _choose(view.area, V)
    prefilled = view.prefill()
    assert not view.isEnabled()  # the page waits for it (greyed) …
    window = view.window()
    assert window.nav.isEnabled() and not prefilled.done  # … the window does not
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    assert view.isEnabled() and "已预填" in view.status.text()

    import govshare_desktop.ui.forms_view as forms_view
    from govshare_desktop.core.errors import UserError

    def refuse(*_args):  # type: ignore[no-untyped-def]
        raise UserError("数据库正在检查，检查通过前不能保存")

    said: list[str] = []
    monkeypatch.setattr(forms_view.forms, "prefill", refuse)
    monkeypatch.setattr(forms_view, "show_error", lambda _parent, exc: said.append(str(exc)))
    failed = view.prefill()
    qtbot.waitUntil(lambda: failed.done, timeout=60000)
    assert said == ["数据库正在检查，检查通过前不能保存"] and view.isEnabled()
