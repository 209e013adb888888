"""Exporting and printing from the window: the form on screen to PDF/Excel, a batch of individual
forms one a page, the print preview, and the Qt-painted pages (what the printer gets) holding the
same text as the PDF."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QMenu

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.pdf import pages_for
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.ui.form_output import PagedPreview, paint_pages
from govshare_desktop.ui.sheet_view import FormDialog

V = "441900199201"
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def forms(qtbot, window):
    window.set_masked(False, reason="打印报表")
    window.show_page("forms")
    view = window.forms_view
    view.period.setCurrentIndex(view.period.findData("2026-10"))
    prefilled = view.prefill()  # off the UI thread
    qtbot.waitUntil(lambda: prefilled.done, timeout=60000)
    notes: list[str] = []
    view.output.notify = notes.append
    for output in view.batch_outputs.values():
        output.notify = notes.append
    return view


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_form_on_screen_exports_to_pdf_and_excel(qtbot, forms, tmp_path: Path) -> None:
    _choose(forms.template, "rs_resident_pension_enrollment")
    assert forms.export_button.isEnabled() and forms.print_button.isEnabled()
    forms.output.ask_path = lambda suggested, fmt: str(tmp_path / suggested)
    forms.output.export("pdf")
    qtbot.waitUntil(lambda: bool(forms.output.last_written), timeout=20000)
    (pdf,) = forms.output.last_written
    assert pdf.name.startswith("城乡居民基本养老保险参保情况统计表") and pdf.suffix == ".pdf"
    sheet = forms.sheet.sheet_model.sheet
    text = _text(pdf)
    for _, _, cell in sheet.value_cells():
        assert cell.text in text
    forms.output.last_written = []
    forms.output.export("xlsx")
    qtbot.waitUntil(lambda: bool(forms.output.last_written), timeout=20000)
    (xlsx,) = forms.output.last_written
    assert load_workbook(xlsx).active["A1"].value == sheet.title


def test_a_batch_of_individual_forms_for_one_village(qtbot, forms, tmp_path: Path) -> None:
    _choose(forms.area, V)
    output = forms.batch_outputs["mz_elderly_allowance_application"]
    output.ask_path = lambda suggested, fmt: str(tmp_path / "batch")  # no extension typed
    output.export("pdf")
    qtbot.waitUntil(lambda: bool(output.last_written), timeout=20000)
    (pdf,) = output.last_written
    assert pdf.name == "batch.pdf"
    eligible = forms.pool.collect_each(
        "mz_elderly_allowance_application", Period.parse("2026-10"), area=V
    )
    assert len(PdfReader(pdf).pages) == len(eligible) > 0


def _print_and_close(qtbot, output, pages: int, trigger) -> None:
    """Print through the real preview: it opens on page 1, turns to the last page, and closes
    cleanly (Esc)."""
    trigger()
    qtbot.waitUntil(lambda: output.open_preview is not None, timeout=20000)
    dialog = output.open_preview
    assert isinstance(dialog, PagedPreview) and dialog.isVisible()
    gc.collect()  # nothing Python holds may be what keeps the printer alive
    qtbot.waitUntil(lambda: dialog.source.total().exact, timeout=20000)
    qtbot.waitUntil(lambda: f"共 {pages} 页" in dialog.windowTitle(), timeout=5000)
    assert dialog.painted >= 1 and dialog.current == 0
    dialog.last_action.trigger()  # the last page paints as well
    assert dialog.current == pages - 1 and dialog.page_box.value() == pages
    assert not dialog.grab().isNull()
    with qtbot.waitSignal(dialog.destroyed, timeout=5000):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert output.open_preview is None


def test_printing_a_statistical_table_through_the_real_preview(qtbot, forms) -> None:
    _choose(forms.template, "mz_elderly")
    _print_and_close(qtbot, forms.output, 1, forms.print_button.click)
    from govshare_desktop.core.security.permissions import Principal, Role

    printed = audit_trail(forms.pool.store).entries(Principal("a", Role.AUDITOR), action="print")
    assert printed and printed[0].object == "老年人口及高龄津贴情况统计表"


def test_printing_a_roster_through_the_real_preview(qtbot, forms) -> None:
    _choose(forms.template, "wj_elderly_health_roster")  # several pages, headers repeated
    pages = len(pages_for([forms.sheet.sheet_model.sheet]))
    assert pages > 1
    _print_and_close(qtbot, forms.output, pages, lambda: qtbot.keyClick(forms, "p", CTRL))


def test_printing_a_batch_of_registration_forms_through_the_real_preview(qtbot, forms) -> None:
    _choose(forms.area, V)
    eligible = forms.pool.collect_each(
        "mz_elderly_allowance_application", Period.parse("2026-10"), area=V
    )
    assert len(eligible) > 1
    (printing,) = [
        action
        for menu in forms.batch_button.menu().findChildren(QMenu)
        if "高龄津贴申请表" in menu.title()
        for action in menu.actions()
        if action.text() == "打印…"
    ]
    output = forms.batch_outputs["mz_elderly_allowance_application"]
    _print_and_close(qtbot, output, len(eligible), printing.trigger)


def test_painted_pages_hold_what_the_pdf_holds(qtbot, forms, tmp_path: Path) -> None:
    _choose(forms.template, "wj_elderly_health_roster")  # several pages, headers repeated
    sheet = forms.sheet.sheet_model.sheet
    pages = pages_for([sheet])
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    paint_pages(printer, pages)
    reader = PdfReader(tmp_path / "printed.pdf")
    assert len(reader.pages) == len(pages) > 1
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())  # Qt's PDF spaces come out as tabs
        assert f"第 {number} 页 共 {len(pages)} 页" in text and "序号" in text


def test_the_individual_form_dialog_exports(qtbot, forms, tmp_path: Path) -> None:
    _choose(forms.template, "mz_elderly_allowance_roster")
    person = forms.sheet.sheet_model.form.subjects[0][0]
    window = forms.window()
    dialog = window.open_form("mz_elderly_allowance_application", person)
    assert isinstance(dialog, FormDialog)
    dialog.output.ask_path = lambda suggested, fmt: str(tmp_path / suggested)
    dialog.output.notify = lambda text: None
    dialog.output.export("pdf")
    qtbot.waitUntil(lambda: bool(dialog.output.last_written), timeout=20000)
    (pdf,) = dialog.output.last_written
    assert "高龄津贴申请表" in pdf.name and person in _text(pdf)


def test_a_department_workbook_is_offered_for_its_form(qtbot, forms, tmp_path: Path) -> None:
    _choose(forms.template, "rs_resident_pension_enrollment")
    actions = [a for a in forms.export_button.menu().actions() if "部门表样" in a.text()]
    assert len(actions) == 1
    forms.output.ask_path = lambda suggested, fmt: str(tmp_path / suggested)
    actions[0].trigger()
    qtbot.waitUntil(lambda: bool(forms.output.last_written), timeout=20000)
    (filled,) = forms.output.last_written
    assert filled.suffix == ".xlsx" and load_workbook(filled).active.max_row > 6
    _choose(forms.template, "mz_elderly")  # no department workbook for this one
    assert not [a for a in forms.export_button.menu().actions() if "部门表样" in a.text()]
