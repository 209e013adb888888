"""A masked form gives nothing away that its mask hides: not the birth date beside a masked ID
number (the eight hidden digits), not a full name in a worksheet's name. Checked in the real
files written (xlsx read back with openpyxl, PDF text with pypdf)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from govshare_desktop.core.domain import masking
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.forms import export_sheets, form_sheets
from govshare_desktop.core.forms.values import FormValues

P = Period.parse("2026-10")
V = "441900199201"


def _pdf_text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def _xlsx_text(path: Path) -> tuple[list[str], str]:
    workbook = load_workbook(path)
    cells = [
        str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value
    ]
    return workbook.sheetnames, "\n".join(cells)


def _people(pool: FormValues, template: str) -> list[tuple[str, str, date]]:
    """(ID number, name, birth date) of everyone the individual form selects in the village."""
    out = []
    for data in pool.collect_each(template, P, area=V):
        out.append(
            (
                data.area,
                data.value("P_NAME", data.area),
                data.value("P_BIRTH_DATE", data.area),
            )
        )
    return out


def test_a_masked_registration_form_hides_the_birth_date_and_the_name(
    pool: FormValues, tmp_path: Path
) -> None:
    template = "mz_elderly_allowance_application"
    people = _people(pool, template)
    assert len(people) > 1 and all(isinstance(born, date) for _, _, born in people)
    sheets = form_sheets(pool, template, P, area=V, masked=True)
    (pdf,) = export_sheets(pool.store, sheets, tmp_path / "forms.pdf", fmt="pdf")
    (xlsx,) = export_sheets(pool.store, sheets, tmp_path / "forms.xlsx", fmt="xlsx")
    pdf_text = _pdf_text(pdf.path)
    sheet_names, xlsx_text = _xlsx_text(xlsx.path)
    assert len(sheet_names) == len(people)
    for number, name, born in people:
        for text in (pdf_text, xlsx_text):
            assert masking.mask_id_number(number) in text
            assert f"{born.year}-**-**" in text
            assert born.isoformat() not in text and number not in text
        assert not any(name in sheet_name for sheet_name in sheet_names), sheet_names
        shown = masking.mask_name(name).replace("*", "＊")  # Excel forbids * in sheet names
        assert any(sheet_name.startswith(shown) for sheet_name in sheet_names), sheet_names


def test_an_unmasked_registration_form_shows_them(pool: FormValues, tmp_path: Path) -> None:
    template = "mz_elderly_allowance_application"
    number, name, born = _people(pool, template)[0]
    sheets = form_sheets(pool, template, P, subjects=[number], masked=False)
    (xlsx,) = export_sheets(pool.store, sheets, tmp_path / "f.xlsx", fmt="xlsx", reason="审批")
    sheet_names, text = _xlsx_text(xlsx.path)
    assert sheet_names[0].startswith(name) and number in text
    cells = [c.value for row in load_workbook(xlsx.path).active.iter_rows() for c in row]
    assert any(getattr(v, "date", lambda: None)() == born for v in cells)  # a real Excel date


def test_a_masked_health_roster_hides_birth_dates(pool: FormValues, tmp_path: Path) -> None:
    sheets = form_sheets(pool, "wj_elderly_health_roster", P, area=V, masked=True)
    born = [
        pool.collect("wj_elderly_health_roster", V, P).value("P_BIRTH_DATE", subject)
        for subject, _ in sheets[0].data.subjects
    ]
    assert len(born) > 1
    (pdf,) = export_sheets(pool.store, sheets, tmp_path / "roster.pdf", fmt="pdf")
    (xlsx,) = export_sheets(pool.store, sheets, tmp_path / "roster.xlsx", fmt="xlsx")
    for text in (_pdf_text(pdf.path), _xlsx_text(xlsx.path)[1]):
        for day in born:
            assert day.isoformat() not in text
            assert f"{day.year}-**-**" in text


def test_masking_a_birth_date_keeps_the_year_only() -> None:
    assert masking.mask_birth_date(date(1956, 3, 18)) == "1956-**-**"
    assert masking.mask_birth_date("1986-03-18") == "1986-**-**"
    assert masking.mask_birth_date(None) == ""
    assert masking.mask_birth_date("不详") == "**"


def test_the_signed_in_account_is_the_author_and_the_watermark(
    pool: FormValues, tmp_path: Path
) -> None:
    """Not the operating-system login (``root`` on a shared office PC): the account that the audit
    trail names."""
    assert pool.store.principal.username == "clerk"
    sheets = form_sheets(pool, "mz_elderly", P)
    (pdf,) = export_sheets(pool.store, sheets, tmp_path / "f.pdf", fmt="pdf", watermark=True)
    (xlsx,) = export_sheets(pool.store, sheets, tmp_path / "f.xlsx", fmt="xlsx")
    reader = PdfReader(pdf.path)
    assert reader.metadata.author == "clerk"
    assert "clerk 20" in _pdf_text(pdf.path)  # the watermark: who, when
    assert load_workbook(xlsx.path).properties.creator == "clerk"
