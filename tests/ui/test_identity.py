"""The signed-in account is the only identity: what the window writes (prefilled and typed values,
their history, exports) names the account, never the operating-system login."""

from __future__ import annotations

import getpass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.sheet import STUB
from govshare_desktop.ui.main_window import MainWindow

TODAY = date(2026, 11, 26)
OCTOBER = Period.parse("2026-10")


def test_values_from_the_window_are_the_accounts(qtbot, demo_store, monkeypatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "root")  # the shared office PC's login
    assert demo_store.principal.username == "clerk"
    window = MainWindow(demo_store, today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    window.show_page("forms")
    forms = window.forms_view
    forms.period.setCurrentIndex(forms.period.findData("2026-10"))
    prefilled = forms.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    forms.template.setCurrentIndex(forms.template.findData("yb_resident_medical"))
    view = forms.sheet
    sheet = view.sheet_model.sheet
    column = 1 + sheet.data.template.elements.index("S_LOW_INCOME")
    village_row = [r for r, _, cell in sheet if cell.role == STUB][1]
    village = sheet.data.subjects[1][0]
    view.setCurrentIndex(view.sheet_model.index(village_row, column))
    view.edit(view.currentIndex())
    editor = view.indexWidget(view.currentIndex())
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "7")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    def typed() -> bool:
        row = forms.pool.values(OCTOBER, [village]).get("S_LOW_INCOME", {}).get(village)
        return row is not None and row.value == "7"

    qtbot.waitUntil(typed)
    stored = forms.pool.values(OCTOBER, [village])
    assert {row.changed_by for rows in stored.values() for row in rows.values()} == {"clerk"}
    history = forms.pool.history("S_LOW_INCOME", village, OCTOBER)
    assert history and {h.changed_by for h in history} == {"clerk"}
