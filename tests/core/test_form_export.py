"""Every starter template exported to Excel and PDF, checked by reading the files back: values,
merges, number formats, ID numbers as text, print setup and formula neutralisation in the workbook;
text, the embedded CJK font and page numbering in the PDF; a real consumer (LibreOffice) opens the
workbook."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.forms import export_sheets, form_sheets
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.sheet import STUB
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security.audit import audit_trail

T = "441900199000"
P = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 30)
TEMPLATES = sorted(load_templates(load_dictionary())[0])


def _sheets(pool: FormValues, template_id: str):
    template = pool.templates[template_id]
    if template.kind == "individual":
        everyone = form_sheets(pool, template_id, P)
        return form_sheets(pool, template_id, P, subjects=[s.data.area for s in everyone[:2]])
    return form_sheets(pool, template_id, P)


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_template_exports_to_a_workbook_that_reads_back(
    pool: FormValues, template_id: str, tmp_path: Path
) -> None:
    sheets = _sheets(pool, template_id)
    (exported,) = export_sheets(
        pool.store, sheets, tmp_path / "form.xlsx", fmt="xlsx", reason="测试导出"
    )
    workbook = load_workbook(exported.path)
    assert len(workbook.worksheets) == len(sheets)
    for ws, sheet in zip(workbook.worksheets, sheets, strict=True):
        assert ws["A1"].value == sheet.title and ws["A1"].font.b
        merged = {str(r) for r in ws.merged_cells.ranges}
        for row, column, cell in sheet:
            if cell.rowspan > 1 or cell.colspan > 1:
                first = ws.cell(row=row + 1, column=column + 1).coordinate
                last = ws.cell(row=row + cell.rowspan, column=column + cell.colspan).coordinate
                assert f"{first}:{last}" in merged
            if cell.element is None or cell.value is None:
                continue
            target = ws.cell(row=row + 1, column=column + 1)
            if cell.type == "text":
                assert target.value == cell.text and target.data_type == "s"
                assert target.number_format == "@"
            elif cell.type == "money":
                assert target.value == float(cell.value) and target.number_format == "#,##0.00"
            elif cell.type == "date":
                assert target.value.date() == cell.value and target.is_date
            else:
                assert target.value == cell.value and isinstance(target.value, int)
        setup = ws.page_setup
        assert int(setup.paperSize) == 9  # A4
        assert setup.orientation == ("landscape" if sheet.landscape else "portrait")
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "第 &P 页 共 &N 页" in ws.oddFooter.center.text
        header_first, header_last = sheet.header_rows
        if header_last >= header_first:
            assert ws.print_title_rows == f"${header_first + 1}:${header_last + 1}"
        assert ws.print_area.endswith(f"${sheet.rows}")


def test_id_numbers_are_text_and_formula_text_is_neutralised(
    pool: FormValues, tmp_path: Path
) -> None:
    template = "rs_pension_deferral_application"
    person = form_sheets(pool, template, P)[0].data.area
    pool.set("I_DEFER_REASON", person, P, '=HYPERLINK("http://x","点我")', user="c", now=NOW)
    (sheet,) = form_sheets(pool, template, P, subjects=[person])
    (exported,) = export_sheets(
        pool.store, [sheet], tmp_path / "a.xlsx", fmt="xlsx", reason="测试导出"
    )
    ws = load_workbook(exported.path).active
    row, column = sheet.position("P_ID_NUMBER", person)
    id_cell = ws.cell(row=row + 1, column=column + 1)
    assert id_cell.value == person and id_cell.data_type == "s"
    row, column = sheet.position("I_DEFER_REASON", person)
    reason = ws.cell(row=row + 1, column=column + 1)
    assert reason.data_type == "s" and reason.value.startswith("=HYPERLINK")


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_template_exports_to_a_pdf_with_its_values_and_page_numbers(
    pool: FormValues, template_id: str, tmp_path: Path
) -> None:
    sheets = _sheets(pool, template_id)
    (exported,) = export_sheets(
        pool.store,
        sheets,
        tmp_path / "form.pdf",
        fmt="pdf",
        watermark=True,
        reason="测试导出",
    )
    reader = PdfReader(exported.path)
    pages = _pdf_text(exported.path)
    total = len(pages)
    assert total >= len(sheets)
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页 共 {total} 页" in text
    everything = "".join(pages)
    for sheet in sheets:
        assert sheet.title in everything
        for _, _, cell in sheet.value_cells():
            if cell.text:
                assert cell.text in everything, cell.text
    # Only the CJK font, embedded as a subset: no glyph falls back to an unembedded font.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "+" in font["/BaseFont"]  # a subset tag
            assert "/FontFile2" in font["/FontDescriptor"]


def test_a_long_roster_repeats_its_header_on_every_page(pool: FormValues, tmp_path: Path) -> None:
    (sheet,) = form_sheets(pool, "wj_elderly_health_roster", P)
    people = sum(1 for _, _, cell in sheet if cell.role == STUB)
    (exported,) = export_sheets(
        pool.store, [sheet], tmp_path / "roster.pdf", fmt="pdf", reason="测试导出"
    )
    pages = _pdf_text(exported.path)
    assert len(pages) > 3 and people > 100
    for text in pages:
        assert "序号" in text and "姓名" in text  # the header rows, on every page
    for name in sheet.data.template.signatories:
        assert name in pages[-1]


def test_a_batch_puts_each_form_on_its_own_page_or_file(pool: FormValues, tmp_path: Path) -> None:
    sheets = form_sheets(pool, "mz_elderly_allowance_application", P)
    (one,) = export_sheets(pool.store, sheets, tmp_path / "all.pdf", fmt="pdf", reason="测试导出")
    assert len(PdfReader(one.path).pages) == len(sheets) == one.forms
    each = export_sheets(
        pool.store, sheets[:3], tmp_path / "each", fmt="pdf", each=True, reason="测试导出"
    )
    assert len(each) == 3 and all(f.path.parent == tmp_path / "each" for f in each)
    assert len({f.path for f in each}) == 3


def test_masked_export_hides_personal_data(pool: FormValues, tmp_path: Path) -> None:
    (sheet,) = form_sheets(pool, "mz_elderly_allowance_roster", P, masked=True)
    person = sheet.data.subjects[0][0]
    (exported,) = export_sheets(
        pool.store, [sheet], tmp_path / "m.pdf", fmt="pdf", reason="测试导出"
    )
    assert person not in "".join(_pdf_text(exported.path))


def test_refusals_and_cancellation_leave_nothing_behind(pool: FormValues, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="不是登记表"):
        form_sheets(pool, "mz_elderly", P, subjects=["441900194310056860"])
    with pytest.raises(UserError, match="没有报表模板"):
        form_sheets(pool, "nope", P)
    sheets = form_sheets(pool, "mz_elderly_allowance_application", P)
    cancel = Cancel()
    cancel.cancel()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled, match="已取消导出"):
        export_sheets(
            pool.store, sheets, out / "x.pdf", fmt="pdf", cancel=cancel, reason="测试导出"
        )
    with pytest.raises(Cancelled):
        export_sheets(
            pool.store,
            sheets,
            out / "each",
            fmt="pdf",
            each=True,
            cancel=cancel,
            reason="测试导出",
        )
    assert [p.name for p in out.rglob("*.pdf")] == []
    with pytest.raises(UserError, match="不存在"):
        export_sheets(
            pool.store, sheets, tmp_path / "missing" / "x.pdf", fmt="pdf", reason="测试导出"
        )


def test_a_missing_font_is_named(monkeypatch) -> None:
    with pytest.raises(UserError, match="不是含中文字形的 TrueType 字体"):
        fonts.find_cjk_font("/nowhere/simsun.ttc")
    choice = fonts.find_cjk_font()
    assert choice.path.suffix.lower() in (".ttf", ".ttc")


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_the_exported_workbooks(pool: FormValues, tmp_path: Path) -> None:
    paths = []
    for template_id in ("rs_resident_pension_enrollment", "mz_elderly_allowance_roster"):
        (exported,) = export_sheets(
            pool.store,
            form_sheets(pool, template_id, P),
            tmp_path / f"{template_id}.xlsx",
            fmt="xlsx",
            reason="测试导出",
        )
        paths.append(str(exported.path))
    run = subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            *paths,
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    for path in paths:
        converted = tmp_path / "pdf" / (Path(path).stem + ".pdf")
        text = "".join(_pdf_text(converted))
        assert "填报单位" in text


def test_every_export_is_audited_and_carries_the_audit_anchor(
    pool: FormValues, tmp_path: Path
) -> None:
    from govshare_desktop.core.export.audited import read_anchor
    from govshare_desktop.core.security.audit import Anchor
    from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role

    auditor = Principal("zhao", Role.AUDITOR)
    for fmt in ("pdf", "xlsx"):
        (exported,) = export_sheets(
            pool.store, form_sheets(pool, "mz_elderly", P), tmp_path / f"t.{fmt}", fmt=fmt
        )
        entry = audit_trail(pool.store).entries(auditor, action="export", limit=1)[0]
        assert entry.object == f"t.{fmt}" and exported.sha256 in entry.detail
        anchor = Anchor.parse(read_anchor(exported.path))
        assert audit_trail(pool.store).verify(auditor, anchor).ok
    # Unmasked personal data needs its own permission: an auditor may not even export masked.
    sheets = form_sheets(pool, "mz_elderly", P)
    with pytest.raises(PermissionDenied, match="无权导出"):
        export_sheets(
            pool.store.acting(auditor), sheets, tmp_path / "no.pdf", fmt="pdf", reason="测试导出"
        )
    assert not (tmp_path / "no.pdf").exists()


def test_no_audit_entry_no_file(pool: FormValues, tmp_path: Path, monkeypatch) -> None:
    from govshare_desktop.core.security.audit import AuditFailed, AuditTrail

    def refuse(*_a, **_k):
        raise AuditFailed("审计日志无法写入，操作未执行")

    monkeypatch.setattr(AuditTrail, "log", refuse)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(AuditFailed):
        export_sheets(
            pool.store,
            form_sheets(pool, "mz_elderly", P),
            out / "x.pdf",
            fmt="pdf",
            reason="测试导出",
        )
    assert list(out.iterdir()) == []


def test_full_personal_data_needs_a_reason(pool: FormValues, tmp_path: Path) -> None:
    roster = form_sheets(pool, "mz_elderly_allowance_roster", P)
    with pytest.raises(UserError, match="须说明事由"):
        export_sheets(pool.store, roster, tmp_path / "r.pdf", fmt="pdf")
    table = form_sheets(pool, "mz_elderly", P)  # no personal data: no reason asked
    export_sheets(pool.store, table, tmp_path / "t.pdf", fmt="pdf")
    export_sheets(pool.store, roster, tmp_path / "r.pdf", fmt="pdf", reason="报送民政局")
    from govshare_desktop.core.security.permissions import Principal, Role

    entry = audit_trail(pool.store).entries(Principal("a", Role.AUDITOR), action="export", limit=1)[
        0
    ]
    assert "报送民政局" in entry.detail and '"masked":false' in entry.detail
