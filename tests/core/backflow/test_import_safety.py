"""Issue 12, "Import must never damage good data", on real SQLite files and the real samples:
rejected rows leave their records as they were, a dry run over several files is the real run
rolled back, and changed amounts of payments already on record are a finding."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from govshare_desktop.core.backflow.error_workbook import write_error_workbook
from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.backflow.pipeline import DatasetResult, import_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.exchange.trust import trust_sender
from govshare_desktop.core.store.models import Household, Person, RecordHistory

PACKAGE = "回流数据包_青禾镇_0001.zip"
PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = "青禾镇_城乡居民养老保险参保_2026-10.csv"
PAYMENT_CSV = "青禾镇_城乡居民养老金发放明细_202608-202610.csv"

# The workbook's two rejected rows: both 户主, of these households (the package names them right).
REJECTED_HEADS = {
    104: ("19920500030", "441900194704237891", "郭子俊"),
    205: ("19920500060", "441900196111251590", "叶梓宏"),
}

ID_A = idnumber.make("441900", date(1950, 3, 4), 11, male=True)
ID_B = idnumber.make("441900", date(1952, 7, 1), 12, male=False)
ID_C = idnumber.make("441900", date(1955, 1, 9), 13, male=True)


@pytest.fixture
def county(township, samples):
    """The township trusting the demo county key the sample package is signed with."""
    with township.transaction() as session:
        trust_sender(
            session,
            (samples / "keys" / "county-demo-ed25519.pub.pem").read_bytes(),
            code="441900000000",
            name="东莞市政务服务和数据管理局",
            user="admin",
            now=datetime(2026, 11, 1),
        )
    return township


def _package_csv(samples: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(samples / PACKAGE) as zf:
        return list(csv.DictReader(io.StringIO(zf.read(f"data/{name}").decode("utf-8"))))


def _heads(store) -> dict[str, tuple[str | None, str | None]]:
    with store.sessions() as session:
        return {
            h.household_no: (h.head_id_number, h.head_name)
            for h in session.scalars(select(Household))
        }


def _absent(store) -> list[str]:
    with store.sessions() as session:
        return list(
            session.scalars(select(Person.id_number).where(Person.absent_batch_id.is_not(None)))
        )


def _import(store, samples: Path, what: str) -> list[DatasetResult]:
    if what == "package":
        result = import_package(store, samples / PACKAGE, user="clerk")
        assert result.status == "applied", result.message
        return result.datasets
    return [import_file(store, samples / PERSON_XLSX, user="clerk")]


def _dump(store) -> list:
    with store.engine.connect() as conn:
        return [
            conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
            for t in (
                "area",
                "batch",
                "household",
                "person",
                "ss_enrollment",
                "ss_payment",
                "record_history",
                "package_receipt",
                "import_mapping",
                "audit_log",
            )
        ]


def _file_digest(store) -> str:
    """The database file's bytes, with everything committed moved from the WAL into it."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(store.path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- 1. rejected rows


@pytest.mark.parametrize(
    "order",
    [("package", "workbook"), ("workbook", "package", "workbook")],
    ids=["package-then-workbook", "workbook-then-package"],
)
def test_rejected_rows_leave_household_heads_and_members_as_they_were(
    county, samples, order
) -> None:
    package_heads = {
        h["户号"]: (h["户主公民身份号码"], h["户主姓名"])
        for h in _package_csv(samples, "household.csv")
    }
    last: list[DatasetResult] = []
    for what in order:
        last = _import(county, samples, what)
    assert _heads(county) == package_heads  # every household head intact, both orders
    assert _absent(county) == []
    workbook = last[0]
    assert [r.row for r in workbook.rejections] == [104, 205]
    assert (workbook.absent, workbook.inserted, workbook.updated) == (0, 0, 0)
    report = workbook.report
    assert report is not None
    kept = {(k["dataset"], k["key"]): k["rows"] for k in report.kept}
    for row, (household, head_id, _name) in REJECTED_HEADS.items():
        assert kept[("person", head_id)] == [row]
        assert kept[("household", household)] == [row]
    assert any("第 104、205 行" in line and "保持原样" in line for line in report.lines())
    with county.sessions() as session:  # no derived household change from the rejected rows
        changed = session.scalars(
            select(RecordHistory.field).where(
                RecordHistory.record_key.in_([h for h, _, _ in REJECTED_HEADS.values()]),
                RecordHistory.batch_id == max(r.batch_id or 0 for r in last),
            )
        ).all()
    assert changed == []


def _people_csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(["公民身份号码,姓名,户号,与户主关系", *rows]) + "\n", "utf-8")
    return path


def test_a_rejected_row_spares_its_household_members_from_absence(township, tmp_path) -> None:
    first = _people_csv(
        tmp_path / "p1.csv",
        f"{ID_A},张三,19920100001,户主",
        f"{ID_B},李四,19920100001,妻",
        f"{ID_C},王五,19920100002,户主",
    )
    import_file(township, first, user="clerk")
    # 李四's ID is mistyped (check digit): her row is rejected, and the household keeps her;
    # 王五 is simply gone, and is marked.
    wrong = ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1")
    second = _people_csv(
        tmp_path / "p2.csv", f"{ID_A},张三,19920100001,户主", f"{wrong},李四,19920100001,妻"
    )
    result = import_file(township, second, user="clerk")
    assert [r.reason_code for r in result.rejections] == ["id_number_checksum"]
    assert _absent(township) == [ID_C]
    assert result.report is not None
    assert [(k["key"], k["rows"]) for k in result.report.kept] == [(ID_B, [3])]


def test_a_rejected_head_row_keeps_the_household_head(township, tmp_path) -> None:
    import_file(
        township,
        _people_csv(
            tmp_path / "p1.csv", f"{ID_A},张三,19920100001,户主", f"{ID_B},李四,19920100001,妻"
        ),
        user="clerk",
    )
    wrong = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    result = import_file(
        township,
        _people_csv(
            tmp_path / "p2.csv", f"{wrong},张三,19920100001,户主", f"{ID_B},李四,19920100001,妻"
        ),
        user="clerk",
    )
    assert result.rejected == 1
    assert _heads(township) == {"19920100001": (ID_A, "张三")}
    assert _absent(township) == []


def test_a_rejected_row_that_names_nobody_spares_everyone(township, tmp_path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"公民身份号码,姓名\n{ID_A},张三\n{ID_B},李四\n", "utf-8")
    import_file(township, path, user="clerk")
    path.write_text(f"公民身份号码,姓名\n{ID_A},张三\n4.41900E+17,\n", "utf-8")
    result = import_file(township, path, user="clerk")
    assert result.rejected == 1 and result.absent == 0
    assert _absent(township) == []
    assert result.report is not None and result.report.spared_everything == [3]
    assert any("没有把任何记录标记" in line for line in result.report.lines())


def test_a_rejected_payment_row_spares_that_persons_payments(township, tmp_path) -> None:
    path = tmp_path / "pay_2026-10.csv"
    header = "社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额"
    path.write_text(
        f"{header}\n{ID_A},202610,238.00,50.00,288.00\n{ID_B},202610,238.00,10.00,248.00\n"
    )
    import_file(township, path, user="clerk")
    path.write_text(
        f"{header}\n{ID_A},202610,238.00,50.00,288.00\n{ID_B},202610,238.00,10.00,999.00\n"
    )
    result = import_file(township, path, user="clerk")
    assert [r.reason_code for r in result.rejections] == ["amount_mismatch"]
    assert result.absent == 0


# ---------------------------------------------------------------- 2. dry run = real run


def _counts(results) -> list[tuple]:
    return [
        (
            r.file,
            r.status,
            *[
                (d.file, d.rows_read, d.inserted, d.updated, d.unchanged, d.absent, d.rejected)
                for d in r.datasets
            ],
        )
        for r in results
    ]


@pytest.mark.parametrize(
    "names",
    [
        [PACKAGE, PERSON_XLSX, ENROLLMENT_CSV, PAYMENT_CSV],
        [PERSON_XLSX, ENROLLMENT_CSV, PAYMENT_CSV, PACKAGE],
        [ENROLLMENT_CSV, PERSON_XLSX, ENROLLMENT_CSV, "missing-columns.csv", PAYMENT_CSV],
    ],
    ids=["package-first", "package-last", "repeat-and-refused"],
)
def test_dry_run_over_several_files_equals_the_real_run(county, samples, tmp_path, names) -> None:
    from govshare_desktop.core.backflow.runner import Source, import_files  # new with issue 12

    bad = tmp_path / "missing-columns.csv"
    bad.write_text("甲,乙\n1,2\n", "utf-8")
    sources = [Source(bad if n == bad.name else samples / n) for n in names]
    before, digest = _dump(county), _file_digest(county)
    dry = import_files(county, sources, user="clerk", dry_run=True)
    assert _dump(county) == before  # row for row
    assert _file_digest(county) == digest  # byte for byte
    real = import_files(county, sources, user="clerk")
    assert _counts(dry) == _counts(real)
    assert [r.refused for r in real] == [n == bad.name for n in names]
    # the files meet each other: later ones find what earlier ones wrote
    assert sum(d.updated + d.unchanged for r in real for d in r.datasets) > 0


# ---------------------------------------------------------------- 3. changed amounts


def test_changed_amounts_of_received_payments_are_a_finding(county, samples, tmp_path) -> None:
    _import(county, samples, "package")
    before = {
        (p["社会保障号码"], int(p["发放年月"])): (
            int(p["基础养老金（分）"]),
            int(p["个人账户养老金（分）"]),
            int(p["实发金额（分）"]),
        )
        for p in _package_csv(samples, "ss_payment.csv")
    }
    with (samples / PAYMENT_CSV).open(encoding="utf-8-sig") as fh:
        after = {
            (p["社会保障号码"], int(p["发放年月"])): tuple(
                round(float(p[c]) * 100) for c in ("基础养老金", "个人账户养老金", "实发金额")
            )
            for p in csv.DictReader(fh)
        }
    # The two samples genuinely disagree on the 个人账户养老金 of every payment.
    differing = {k for k in after if k in before and after[k] != before[k]}
    assert len(differing) == 762
    payment = import_file(county, samples / PAYMENT_CSV, user="clerk")
    report = payment.report
    assert report is not None
    assert report.amount_change_count == len(differing)
    total = sum(after[k][2] - before[k][2] for k in differing)
    assert report.amount_change_total_fen == total
    assert payment.summary["amount_changes"] == 762
    assert payment.summary["amount_change_total_fen"] == total
    line = next(line for line in report.lines() if "金额与此前不同" in line)
    assert "762 条" in line and f"{total / 100:+,.2f} 元" in line
    found = {(i["id_number"], i["period"]): i for i in report.amount_changes}
    chen = found[("522422196403163711", 202608)]
    assert chen["name"] == "陈豪"
    assert [(c["column"], c["old_fen"], c["new_fen"]) for c in chen["changes"]] == [
        ("account_fen", 7668, 7616),
        ("total_fen", 31468, 31416),
    ]
    assert chen["difference_fen"] == -52
    assert any(
        "陈豪" in line and "个人账户养老金 76.68 → 76.16" in line and "-0.52" in line
        for line in report.amount_change_lines()
    )

    # Into the workbook that goes back to the department.
    path = write_error_workbook(
        county,
        tmp_path / "back.xlsx",
        file_name=payment.file,
        headers=payment.headers,
        rejections=payment.rejections,
        amount_changes=report.amount_changes,
    )
    sheet = load_workbook(path)["金额变化"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 2 * 762
    first = rows[[r[0] for r in rows].index("522422196403163711")]
    assert first[:4] == ("522422196403163711", "陈豪", "2026-08", "个人账户养老金")
    assert [float(v) for v in first[4:]] == [76.68, 76.16, -0.52]

    # The same file again: nothing changes, nothing to report.
    again = import_file(county, samples / PAYMENT_CSV, user="clerk")
    assert again.report is not None and again.report.amount_change_count == 0
    assert not any("金额与此前不同" in line for line in again.report.lines())


def test_amount_change_of_one_payment(township, tmp_path) -> None:
    path = tmp_path / "pay_2026-10.csv"
    header = "社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额"
    path.write_text(
        f"{header}\n{ID_A},202610,238.00,50.00,288.00\n{ID_B},202610,238.00,10.00,248.00\n"
    )
    import_file(township, path, user="clerk")
    path.write_text(
        f"{header}\n{ID_A},202610,238.00,49.50,287.50\n{ID_B},202610,238.00,10.00,248.00\n"
    )
    report = import_file(township, path, user="clerk").report
    assert report is not None
    assert (report.amount_change_count, report.amount_change_total_fen) == (1, -50)
    assert [i["id_number"] for i in report.amount_changes] == [ID_A]
    assert "-0.50 元" in next(line for line in report.lines() if "金额与此前不同" in line)
