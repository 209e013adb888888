"""Entry journeys on forms shown as their paper reads: a 统计表 and a 花名册 on the 一表通 page, and
an individual form opened from a person card — keyboard entry, autosave, values shared."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.sheet import STUB, TOTAL
from govshare_desktop.ui.sheet_view import FormDialog, SheetView

TODAY = date(2026, 11, 26)  # the window fixture's day (tests/conftest.py)
T = "441900199000"
OCTOBER = Period.parse("2026-10")


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def _type(qtbot, view: SheetView, text: str) -> None:
    view.edit(view.currentIndex())
    editor = view.indexWidget(view.currentIndex())  # this cell's editor, not an earlier one
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    if text.isascii():
        qtbot.keyClicks(editor, text)
    else:  # QTest can only type ASCII keys; an input method delivers the rest like this
        editor.insert(text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(20)  # the delegate commits on the next turn of the event loop


def _stub_rows(view: SheetView) -> list[int]:
    return [r for r, _, cell in view.sheet_model.sheet if cell.role == STUB]


def test_a_table_shown_as_its_paper_form_and_typed_into(qtbot, window, qtmodeltester) -> None:
    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.period, "2026-10")
    prefilled = forms.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    _choose(forms.template, "yb_resident_medical")
    view = forms.sheet
    assert isinstance(view, SheetView) and view.isVisible()
    qtmodeltester.check(view.sheet_model)
    sheet = view.sheet_model.sheet
    assert view.columnSpan(0, 0) == sheet.columns  # the title across the page
    # The cursor starts on the first empty cell: the 低保 column, first village (合计 is not
    # filled: it is the sum of the villages, worked out as they are typed).
    low_income = 1 + sheet.data.template.elements.index("S_LOW_INCOME")
    rows = _stub_rows(view)
    assert (view.currentIndex().row(), view.currentIndex().column()) == (rows[1], low_income)
    total = view.sheet_model.index(rows[0], low_income)
    assert not total.flags() & Qt.ItemFlag.ItemIsEditable
    assert total.data() == ""
    _type(qtbot, view, "12")
    assert view.currentIndex().row() == rows[2]  # Enter moved down to the next village
    assert total.data() == "12"
    _type(qtbot, view, "3")
    assert total.data() == "15"  # live, as each village is typed
    assert "各行相加" in total.data(Qt.ItemDataRole.ToolTipRole)
    first, second = sheet.data.subjects[1][0], sheet.data.subjects[2][0]
    stored = forms.pool.values(OCTOBER, [T, first, second])
    assert T not in stored["S_LOW_INCOME"]  # nothing typed for 合计, nothing stored
    assert stored["S_LOW_INCOME"][first].value == "12"
    assert stored["S_LOW_INCOME"][second].value == "3"
    assert "已填" in forms.status.text()
    # The same item, entered once, is already in the 一表通 list of every item, where the
    # township's 合计 is the same sum and cannot be typed either.
    _choose(forms.template, "")
    codes = [e.code for e in forms.model.elements]
    total = forms.model.index(codes.index("S_LOW_INCOME"), 1)
    assert total.data() == "15" and not total.flags() & Qt.ItemFlag.ItemIsEditable
    assert forms.model.index(codes.index("S_LOW_INCOME"), 3).data() == "合计（自动）"
    _choose(forms.area, first)
    assert forms.model.index(codes.index("S_LOW_INCOME"), 1).data() == "12"


def test_a_roster_typed_down_its_money_column_updates_the_total(qtbot, window) -> None:
    window.set_masked(False, reason="核对高龄津贴名册")
    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.period, "2026-10")
    _choose(forms.template, "mz_elderly_allowance_roster")
    view = forms.sheet
    assert forms.list_mode.isEnabled() is False  # a roster is only shown as its form
    money = 1 + view.sheet_model.form.template.elements.index("S_ALLOWANCE_AMOUNT")
    rows = _stub_rows(view)
    assert view.currentIndex().column() == money
    _type(qtbot, view, "200")
    _type(qtbot, view, "300")
    assert view.currentIndex().row() == rows[2]
    totals = {c: cell for _, c, cell in view.sheet_model.sheet if cell.role == TOTAL}
    assert totals[money].text == "500.00"
    # A wrong value is refused inline: the reason under the form, the cell kept for correction.
    _type(qtbot, view, "两百")
    assert view.currentIndex().row() == rows[2]
    assert "未保存" in forms.status.text() and "应填数字" in forms.status.text()
    qtbot.wait(20)
    assert view.state() == view.State.EditingState  # reopened for the correction
    first = view.sheet_model.form.subjects[0][0]
    assert forms.pool.values(OCTOBER, [first])["S_ALLOWANCE_AMOUNT"][first].value == "20000"


def test_masking_follows_the_window(qtbot, window) -> None:
    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.template, "mz_elderly_allowance_roster")
    person = forms.sheet.sheet_model.form.subjects[0][0]
    texts = [cell.text for _, _, cell in forms.sheet.sheet_model.sheet]
    assert person not in texts
    window.set_masked(False, reason="核对")
    texts = [cell.text for _, _, cell in forms.sheet.sheet_model.sheet]
    assert person in texts


def test_an_individual_form_from_the_person_card(qtbot, window) -> None:
    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.template, "mz_elderly_allowance_roster")
    person = forms.sheet.sheet_model.form.subjects[0][0]
    card = window.open_person(person)
    button = card.findChild(QPushButton, "fill_form")
    titles = [a.text() for a in button.menu().actions()]
    assert "民政｜高龄津贴申请表" in titles
    button.menu().actions()[titles.index("民政｜高龄津贴申请表")].trigger()
    dialog = next(d for d in window.dialogs if isinstance(d, FormDialog))
    view = dialog.sheet
    cell = view.sheet_model.cell(view.currentIndex())
    assert cell is not None and cell.element == "S_ALLOWANCE_AMOUNT"
    _type(qtbot, view, "150")
    november = Period.of_date(TODAY, OCTOBER.kind)
    stored = forms.pool.values(november, [person])["S_ALLOWANCE_AMOUNT"][person]
    assert stored.value == "15000" and stored.origin == "entered"
    assert "已填 1 / 1" in dialog.status.text()


def test_the_household_card_offers_forms_for_a_member(qtbot, window) -> None:
    household = window.open_household(1)
    assert household is not None
    button = household.findChild(QPushButton, "fill_form")
    assert button.isEnabled() and all("选中的成员" in a.text() for a in button.menu().actions())


def test_payments_outside_the_registry_have_their_own_row_so_columns_add_up(qtbot, window) -> None:
    from decimal import Decimal

    window.show_page("forms")
    forms = window.forms_view
    _choose(forms.period, "2026-10")
    prefilled = forms.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    _choose(forms.template, "rs_pension_payment")
    view = forms.sheet
    model = view.sheet_model
    rows = _stub_rows(view)
    stubs = [model.index(r, 0).data() for r in rows]
    assert stubs[0] == "合计" and stubs[-1] == "其他（未落户）"
    assert "不在本乡镇户籍" in model.index(rows[-1], 0).data(Qt.ItemDataRole.ToolTipRole)
    for column in range(1, model.columnCount()):
        shown = [model.index(r, column).data().replace(",", "") for r in rows]
        total, parts = Decimal(shown[0]), [Decimal(x) for x in shown[1:] if x]
        assert total == sum(parts), column
        assert not model.index(rows[0], column).flags() & Qt.ItemFlag.ItemIsEditable
    assert "校验通过" in forms.status.text() or "提示" in forms.status.text()
