"""The 工作台's charts panel on the demo township: four charts painted (not blank, in the series'
colours), another village chosen changes what they show, pointing at a bar tells its figures,
「导出 Excel…」/「导出 PDF…」 write the files off the UI thread, 「打印…」 opens the real preview
and paints a page for each chart, and a role that may not see the data gets a sentence instead."""

from __future__ import annotations

import gc
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget

from govshare_desktop.core.export.charts_layout import SERIES_COLORS, Box
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui.charts import ChartsPanel, ChartsPreview, ChartView, paint_chart_pages
from tests.conftest import TODAY

VILLAGE = "441900199201"


def _panel(qtbot, store) -> ChartsPanel:  # type: ignore[no-untyped-def]
    panel = ChartsPanel(store, today=lambda: TODAY)
    qtbot.addWidget(panel)
    panel.resize(1200, 760)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _colours(image: QImage) -> set[str]:
    step = 3
    return {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }


def test_the_four_charts_are_painted(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    assert panel.area.count() == 7 and panel.area.currentText() == "青禾镇（全镇）"
    for key, view in panel.views.items():
        assert isinstance(view, ChartView) and view.chart is not None and view.chart.key == key
        image = view.grab().toImage()
        assert not image.isNull() and image.width() >= 420
        colours = _colours(image)
        assert len(colours) > 20, key  # text, bars, grid: not a blank widget
        if key != "completion":  # nothing of November is filled yet: grey tracks only
            assert SERIES_COLORS[0].lower() in colours, key
    assert not panel.grab().isNull()
    assert panel.message.isHidden()


def test_choosing_a_village_changes_the_charts(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    township = panel.chart_set
    assert township is not None and len(township.chart("coverage").categories) == 6
    before = panel.views["population"].grab().toImage()
    with qtbot.waitSignal(panel.reloaded, timeout=5000):
        panel.area.setCurrentIndex(panel.area.findData(VILLAGE))
    village = panel.chart_set
    assert village is not None and village.area == VILLAGE
    coverage = panel.views["coverage"].chart
    assert coverage is not None and coverage.categories == ("东岭村", "全镇")
    population = panel.views["population"].chart
    assert population is not None
    assert sum(population.series[0].values) < sum(township.chart("population").series[0].values)
    assert panel.views["payments"].chart != township.chart("payments")
    assert panel.views["population"].grab().toImage() != before


def test_pointing_at_a_bar_tells_its_figures(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    view = panel.views["coverage"]
    view.grab()  # painted: the shapes are laid out for its size
    bars = [s for s in view.shapes if isinstance(s, Box) and s.tip]
    assert len(bars) == 12  # six villages, two rates each
    first = bars[0]
    centre = QPoint(int(first.x + first.w / 2), int(first.y + first.h / 2))
    tip = view.tip_at(centre.x(), centre.y())
    assert tip.startswith("青禾社区 参保率") and "应参保" in tip and "领取率" in tip
    assert view.tip_at(1, 1) == ""


def test_the_charts_export_to_excel_and_pdf(qtbot, demo_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    panel.select_area(VILLAGE)
    said: list[str] = []
    panel.notify = said.append
    asked: list[str] = []

    def ask(suggested: str, fmt: str) -> str:
        asked.append(suggested)
        return str(tmp_path / "charts")  # no extension typed

    panel.ask_path = ask
    panel.xlsx_button.click()
    qtbot.waitUntil(lambda: panel.last_written is not None, timeout=20000)
    assert panel.last_written == tmp_path / "charts.xlsx"
    assert asked == ["统计图-青禾镇东岭村委会-2026-11-26.xlsx"]
    book = load_workbook(panel.last_written)
    assert len(book.sheetnames) == 4 and all(len(s._charts) == 1 for s in book.worksheets)
    assert book.worksheets[0]["A5"].value == "东岭村"
    panel.last_written = None
    panel.pdf_button.click()
    qtbot.waitUntil(lambda: panel.last_written is not None, timeout=20000)
    assert len(PdfReader(tmp_path / "charts.pdf").pages) == 4
    assert len(said) == 2 and "已导出 4 张统计图" in said[-1]


def test_printing_opens_the_preview_with_a_page_for_each_chart(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    panel.print_button.click()
    dialog = panel.preview
    assert isinstance(dialog, ChartsPreview) and dialog.isVisible()
    gc.collect()
    qtbot.waitUntil(lambda: dialog.painted >= 1, timeout=20000)
    assert dialog.findChild(QPrintPreviewWidget).pageCount() == 4
    with qtbot.waitSignal(dialog.destroyed, timeout=5000):
        dialog.close()
    assert panel.preview is None


def test_the_printed_pages_hold_the_charts(qtbot, demo_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, demo_store)
    assert panel.chart_set is not None
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    paint_chart_pages(printer, panel.chart_set, panel.font().family())
    reader = PdfReader(tmp_path / "printed.pdf")
    assert len(reader.pages) == 4
    first = " ".join(reader.pages[0].extract_text().split())
    assert "第 1 页 共 4 页" in first and "参保率" in first


def test_a_role_without_the_data_sees_why(qtbot, demo_store) -> None:  # type: ignore[no-untyped-def]
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    panel = ChartsPanel(admin, today=lambda: TODAY)
    qtbot.addWidget(panel)
    assert not panel.message.isHidden() and "无法显示统计图" in panel.message.text()
    assert not panel.print_button.isEnabled() and not panel.xlsx_button.isEnabled()
    assert panel.chart_set is None
