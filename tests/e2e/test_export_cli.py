"""Journey from scripts: prefill a period, then export a 统计表 and a batch of 登记表 with
``govshare export``; a wrong template or subject is a Chinese message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.e2e.cli import govshare, provision


def test_export_a_table_and_a_batch_of_individual_forms(tmp_path: Path, demo_store) -> None:
    db = Path(demo_store.path)
    demo_store.dispose()
    provision(db)
    saved = govshare("forms", "prefill", "--period", "2026-10", "--save", db=db)
    assert saved.returncode == 0, saved.stderr

    table = tmp_path / "table.xlsx"
    run = govshare(
        "export",
        "mz_elderly",
        "--period",
        "2026-10",
        "--format",
        "xlsx",
        "--out",
        str(table),
        db=db,
    )
    assert run.returncode == 0, run.stderr
    assert "1 份" in run.stdout and "SHA-256" in run.stdout
    sheet = load_workbook(table).active
    assert sheet["A1"].value == "老年人口及高龄津贴情况统计表"

    batch = tmp_path / "allowance.pdf"
    run = govshare(
        "export",
        "mz_elderly_allowance_application",
        "--period",
        "2026-10",
        "--area",
        "441900199201",
        "--format",
        "pdf",
        "--watermark",
        "--unmasked",
        "--reason",
        "报送民政局审批",
        "--out",
        str(batch),
        db=db,
    )
    assert run.returncode == 0, run.stderr
    forms = int(run.stdout.split("\t")[1].split()[0])
    assert forms > 0 and len(PdfReader(batch).pages) == forms

    each = tmp_path / "each"
    run = govshare(
        "export",
        "mz_elderly_allowance_application",
        "--period",
        "2026-10",
        "--format",
        "xlsx",
        "--each",
        "--out",
        str(each),
        db=db,
    )
    assert run.returncode == 0, run.stderr
    assert len(list(each.glob("*.xlsx"))) == len(run.stdout.splitlines()) > 0

    county = tmp_path / "county.xlsx"
    run = govshare(
        "export",
        "rs_resident_pension_enrollment",
        "--period",
        "2026-10",
        "--workbook",
        "rs_resident_pension_enrollment_county",
        "--out",
        str(county),
        db=db,
    )
    assert run.returncode == 0, run.stderr
    assert load_workbook(county).active["B6"].value is not None

    wrong = govshare(
        "export",
        "mz_elderly",
        "--period",
        "2026-10",
        "--format",
        "pdf",
        "--subject",
        "441900194310056860",
        "--out",
        str(tmp_path / "x.pdf"),
        db=db,
    )
    assert wrong.returncode != 0 and "不是登记表" in wrong.stderr
    unknown = govshare(
        "export",
        "nope",
        "--period",
        "2026-10",
        "--format",
        "pdf",
        "--out",
        str(tmp_path / "y.pdf"),
        db=db,
    )
    assert unknown.returncode != 0 and "没有报表模板" in unknown.stderr
