"""The 工作台's charts leaving the program: to Excel with a native chart per sheet whose series read
the sheet's own cells (opened again with openpyxl: the chart is there, its references point at the
figures, the figures are the chart's), to PDF drawn with reportlab (rendered with pdftoppm, the
Chinese titles read back with pdftotext), audited like every export; and to the printer (audited
before the preview opens). The layout itself: labels never run off the drawing."""

from __future__ import annotations

import itertools
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.audited import read_anchor
from govshare_desktop.core.export.charts_layout import Box, Text, tokens, wrap
from govshare_desktop.core.export.charts_plots import draw_chart
from govshare_desktop.core.export.pdf import measure_with
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.services import stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.stats import ChartSet
from govshare_desktop.core.store.engine import Store
from tests.core.use_cases import covers

NOW = datetime(2026, 11, 26, 10, 0)
AUDITOR = Principal("auditor", Role.AUDITOR)
VILLAGE = "441900199201"


def _ctx(store: Store) -> Context:
    return Context(store, clock=lambda: NOW)


@pytest.fixture
def charts(demo_store: Store) -> ChartSet:
    return stats.charts(_ctx(demo_store))


def _cells(sheet, ref: str) -> list:  # type: ignore[no-untyped-def]
    """The values of a one-column range like ``'人口金字塔'!$D$5:$D$14``."""
    found = re.fullmatch(r"'(.+)'!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", ref)
    assert found, ref
    name, column, first, _, last = found.groups()
    assert name == sheet.title
    return [sheet[f"{column}{row}"].value for row in range(int(first), int(last) + 1)]


@covers("stats.export_charts")
def test_the_workbook_has_a_native_chart_of_its_own_figures(
    demo_store: Store, charts: ChartSet, tmp_path: Path
) -> None:
    out = stats.export_charts(_ctx(demo_store), charts, tmp_path / "统计图.xlsx", fmt="xlsx")
    assert out.path == tmp_path / "统计图.xlsx" and out.forms == 4
    book = load_workbook(out.path)
    assert book.sheetnames == ["参保率和领取率", "人口金字塔", "待遇发放", "一表通完成情况"]
    assert read_anchor(out.path) is not None  # the audit head, in the file's keywords

    coverage = book["参保率和领取率"]
    assert coverage["A1"].value == charts.chart("coverage").title
    (native,) = coverage._charts
    assert native.type == "col"
    names = [s.tx.strRef.f if s.tx.strRef else s.tx.v for s in native.series]
    assert len(native.series) == 2, names
    chart = charts.chart("coverage")
    for k, series in enumerate(native.series):
        values = _cells(coverage, series.val.numRef.f)
        assert values == pytest.approx(
            [v / b for v, b in zip(chart.series[k].values, chart.series[k].bases, strict=True)]
        )
        assert _cells(coverage, series.cat.strRef.f) == list(chart.categories)
    lines = [c for c in native._charts if c.tagname == "lineChart"]
    assert len(lines) == 1 and len(lines[0].series) == 2  # the township's two lines
    township = chart.references[0]
    line = _cells(coverage, lines[0].series[0].val.numRef.f)
    assert line == pytest.approx([township.value / township.base] * len(chart.categories))

    pyramid = book["人口金字塔"]
    (native,) = pyramid._charts
    assert native.type == "bar" and native.overlap == 100
    male, female = (_cells(pyramid, s.val.numRef.f) for s in native.series)
    population = charts.chart("population")
    assert male == [-v for v in population.series[0].values]  # to the left of the axis
    assert female == list(population.series[1].values)

    payments = book["待遇发放"]
    (native,) = payments._charts
    (series,) = native.series
    paid = charts.chart("payments").series[0].values
    assert _cells(payments, series.val.numRef.f) == pytest.approx([fen / 100 for fen in paid])
    assert _cells(payments, series.cat.strRef.f)[-1] == "2026年10月"

    completion = book["一表通完成情况"]
    (native,) = completion._charts
    assert native.type == "bar" and len(native.series) == 1

    (entry,) = audit_trail(demo_store).entries(AUDITOR, action="export")
    assert entry.object == "统计图.xlsx"
    assert '"charts"' in entry.detail and '"masked":true' in entry.detail.replace(" ", "")


def test_the_pdf_has_a_page_for_each_chart_with_its_chinese_title(
    demo_store: Store, tmp_path: Path
) -> None:
    ctx = _ctx(demo_store)
    village = stats.charts(ctx, VILLAGE)
    out = stats.export_charts(ctx, village, tmp_path / "charts.pdf", fmt="pdf")
    assert len(PdfReader(out.path).pages) == 4
    assert read_anchor(out.path) is not None
    text = subprocess.run(
        ["pdftotext", "-layout", str(out.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for chart in village.charts:
        assert chart.title in text
    assert "青禾镇东岭村委会" in text and "第 4 页 共 4 页" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(out.path), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 4 and all(p.stat().st_size > 5_000 for p in pages)


def test_an_unknown_format_or_a_role_without_export_is_refused(
    demo_store: Store, charts: ChartSet, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(UserError, match="不支持"):
        stats.export_charts(_ctx(demo_store), charts, folder / "x.docx", fmt="docx")
    auditor = Context(demo_store.acting(AUDITOR), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        stats.export_charts(auditor, charts, folder / "x.pdf", fmt="pdf")
    assert list(folder.iterdir()) == []


@covers("stats.charts_to_print")
def test_printing_is_audited_before_the_preview(demo_store: Store, charts: ChartSet) -> None:
    assert stats.charts_to_print(_ctx(demo_store), charts) is charts
    (entry,) = audit_trail(demo_store).entries(AUDITOR, action="print")
    assert entry.object == "统计图（青禾镇）"
    admin = Context(demo_store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    with pytest.raises(PermissionDenied):
        stats.charts_to_print(admin, charts)


@pytest.mark.parametrize("size", [(842 - 85, 595 - 120), (420, 300), (300, 220)])
def test_no_text_runs_off_the_drawing(charts: ChartSet, size: tuple[int, int]) -> None:
    """At a page's size and at the window's smallest, every text lies inside the drawing."""
    fonts.register()
    measure = measure_with(fonts.FONT_NAME)
    width, height = size
    body = 10.5 if width > 500 else 14.0
    for chart in charts.charts:
        shapes = draw_chart(chart, width, height, measure, body)
        texts = [s for s in shapes if isinstance(s, Text)]
        assert any(t.text == chart.title or chart.title.startswith(t.text) for t in texts)
        for t in texts:
            w = measure(t.text, t.size)
            left = t.x - {"start": 0, "middle": w / 2, "end": w}[t.anchor]
            assert left >= -0.5 and left + w <= width + 0.5, (chart.key, t.text, size)
            assert t.size <= t.y <= height + 0.5, (chart.key, t.text, size)
        _no_two_overlap(texts, measure)
        for box in (s for s in shapes if isinstance(s, Box)):
            assert box.w >= 0 and box.h >= 0 and box.x >= -0.5 and box.x + box.w <= width + 0.5


def _no_two_overlap(texts: list[Text], measure) -> None:  # type: ignore[no-untyped-def]
    boxes = []
    for t in texts:
        w = measure(t.text, t.size)
        left = t.x - {"start": 0, "middle": w / 2, "end": w}[t.anchor]
        boxes.append((left, t.y - t.size * 0.8, left + w, t.y + t.size * 0.1, t.text))
    for a, b in itertools.combinations(boxes, 2):
        apart = a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
        assert apart, (a, b)


def test_lines_break_between_characters_not_inside_numbers() -> None:
    assert tokens("合计（2026年）共 1,234 人。") == [
        "合",
        "计",
        "（2026",
        "年）",
        "共",
        " ",
        "1,234",
        " ",
        "人。",
    ]

    def measure(text: str, size: float) -> float:
        return len(text) * size

    assert wrap("城乡居民养老保险参保率", 50, 10, measure) == ["城乡居民养", "老保险参保", "率"]
    assert wrap("第一行\n第二行", 100, 10, measure) == ["第一行", "第二行"]
