"""Journey: a clerk (or a script) exports lists with `govshare export-list`, masked by default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from govshare_desktop.core.browse import PERSONS, Browser, Query
from govshare_desktop.core.domain import masking
from govshare_desktop.core.security import signin
from tests.e2e.cli import CLERK_PASSWORD, connect, govshare, provision


@pytest.fixture(scope="module")
def _provisioned(tmp_path_factory: pytest.TempPathFactory, _demo_template: Path) -> Path:
    """The demo township, encrypted, with its administrator and 经办人 (made once here)."""
    path = tmp_path_factory.mktemp("lists") / "demo.db"
    shutil.copyfile(_demo_template, path)
    provision(path)
    return path


@pytest.fixture
def db(_provisioned: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    shutil.copyfile(_provisioned, path)
    shutil.copyfile(f"{_provisioned}.keys", f"{path}.keys")
    return path


def _count(db: Path, **filters: object) -> int:
    signed = signin.sign_in(db, "clerk", CLERK_PASSWORD)
    try:
        return Browser(signed.store).count(Query(PERSONS, filters))
    finally:
        signed.store.dispose()


def test_export_persons_of_one_village_masked(db: Path, tmp_path: Path) -> None:
    with connect(db) as conn:
        village = conn.execute("SELECT village_code FROM person LIMIT 1").fetchone()[0]
    out = tmp_path / "人员名单.xlsx"
    done = govshare(
        "export-list", "person", "--village", village, "--filter", "status=normal",
        "--out", str(out), db=db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = _count(db, village=village, status="normal")
    assert f"已导出 {rows} 行（已脱敏）：{out}" in done.stdout and "SHA-256 " in done.stdout
    sheet = load_workbook(out).active
    assert sheet.max_row == rows + 1 and sheet.freeze_panes == "A2"
    assert all("*" in sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1))
    assert {sheet.cell(r, 10).value for r in range(2, sheet.max_row + 1)} == {"正常"}


def test_export_search_results_unmasked(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "wang.xlsx"
    done = govshare(
        "export-list",
        "person",
        "--search",
        "王",
        "--unmasked",
        "--reason",
        "核对低保对象",
        "--out",
        str(out),
        db=db,
    )
    assert done.returncode == 0, done.stderr
    refused = govshare("export-list", "person", "--unmasked", "--out", str(out), db=db)
    assert refused.returncode == 2 and "说明事由" in refused.stderr
    assert "完整的个人信息" in done.stderr and "含完整个人信息" in done.stdout
    sheet = load_workbook(out).active
    assert sheet.max_row == _count(db, search="王") + 1
    names = [sheet.cell(r, 2).value for r in range(2, sheet.max_row + 1)]
    assert all("王" in name for name in names) and not any("*" in n for n in names)
    assert len(sheet.cell(2, 1).value) == 18 and masking.MASK not in sheet.cell(2, 1).value


def test_export_payments_of_one_month(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "发放.xlsx"
    done = govshare(
        "export-list", "ss_payment", "--filter", "period=202610", "--out", str(out), db=db
    )
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out).active
    assert sheet.title == "待遇发放" and sheet.max_row > 1
    assert {sheet.cell(r, 3).value for r in range(2, sheet.max_row + 1)} == {"2026-10"}
    assert sheet.cell(2, 6).number_format == "#,##0.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ss_payment", "--village", "441900199001"), "没有筛选条件 village"),
        (("person", "--filter", "colour=red"), "没有筛选条件 colour"),
        (("person", "--filter", "status"), "格式不对"),
    ],
)
def test_bad_arguments_are_refused_in_chinese(db: Path, tmp_path: Path, args, message) -> None:
    out = tmp_path / "x.xlsx"
    done = govshare("export-list", *args, "--out", str(out), db=db)
    assert done.returncode == 2
    assert message in done.stderr and not out.exists()


def test_unwritable_target_names_the_path(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "x.xlsx"
    done = govshare("export-list", "household", "--out", str(out), db=db)
    assert done.returncode == 2
    assert "错误" in done.stderr and str(out) in done.stderr
    wrong = govshare("export-list", "household", "--out", str(tmp_path / "x.csv"), db=db)
    assert wrong.returncode == 2 and ".xlsx" in wrong.stderr
