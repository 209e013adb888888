"""Two clerks, one value (issue 18, office mode): the window a clerk types into holds the value as
it was when the form was opened. If another clerk has changed it since (another PC on the same
server, simulated here by a second signed-in pool on the same database), the clerk's entry is not
saved: the form shows the other clerk's value and says who changed it and when — in the list of
items and on the paper form alike."""

from __future__ import annotations

import os
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui.sheet_view import SheetView

OCTOBER = Period.parse("2026-10")
V = "441900199201"


def _choose(combo, data) -> None:  # type: ignore[no-untyped-def]
    combo.setCurrentIndex(combo.findData(data))


def _other_clerk(pool: FormValues) -> FormValues:
    """李, signed in on another PC: the same database, a pool of their own."""
    store = pool.store.acting(Principal("li", Role.CLERK), os.urandom(32))
    return FormValues(store, pool.dictionary, pool.templates)


def test_the_items_list_shows_the_other_clerks_value_instead(qtbot, window) -> None:
    window.show_page("forms")
    view = window.forms_view
    _choose(view.period, "2026-10")
    _choose(view.area, V)
    _choose(view.template, "yb_resident_medical")
    view.list_mode.setChecked(True)
    row = [e.code for e in view.model.elements].index("S_LOW_INCOME")
    cell = view.model.index(row, 1)
    assert view.model.setData(cell, "15")  # what 张 typed and sees

    _other_clerk(view.pool).set("S_LOW_INCOME", V, OCTOBER, "18", user="li",
                                now=datetime(2026, 11, 26, 10, 5), seen=1)  # fmt: skip
    assert not view.model.setData(cell, "16")  # 张 types over 15, not knowing
    assert cell.data() == "18"  # 李's value is what the form shows now
    assert "已被 li 于 2026-11-26 10:05 改为“18”" in view.status.text()
    assert view.pool.values(OCTOBER, [V])["S_LOW_INCOME"][V].value == "18"  # not overwritten
    assert view.model.setData(cell, "16")  # typed again over the value now seen: saved
    assert view.pool.values(OCTOBER, [V])["S_LOW_INCOME"][V].value == "16"


def test_the_paper_form_shows_the_other_clerks_value_instead(qtbot, window) -> None:
    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.period, "2026-10")
    prefilled = forms.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    _choose(forms.template, "yb_resident_medical")
    view = forms.sheet
    assert isinstance(view, SheetView)
    first = view.currentIndex()  # the first village's 低保 cell, nothing stored yet
    cell = view.sheet_model.cell(first)
    assert cell.element == "S_LOW_INCOME"
    subject = cell.subject
    _other_clerk(forms.pool).set("S_LOW_INCOME", subject, OCTOBER, "7", user="li",
                                 now=datetime(2026, 11, 26, 10, 5), seen=0)  # fmt: skip

    view.edit(first)
    editor = view.indexWidget(view.currentIndex())
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "12")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(20)
    assert "已被 li 于 2026-11-26 10:05 改为“7”" in forms.status.text()
    assert view.sheet_model.index(first.row(), first.column()).data() == "7"
    assert forms.pool.values(OCTOBER, [subject])["S_LOW_INCOME"][subject].value == "7"
