"""The import pipeline on real files: samples, every reason code, idempotence, history, absence."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from govshare_desktop.core.backflow.error_workbook import write_error_workbook
from govshare_desktop.core.backflow.pipeline import (
    as_of_from_name,
    import_file,
    plan_file,
    remember_mapping,
    run_plan,
)
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import read_anchor
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.models import Area, Batch, Enrollment, Person, RecordHistory


def write_csv(path: Path, header: str, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return path


PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = "青禾镇_城乡居民养老保险参保_2026-10.csv"
PAYMENT_CSV = "青禾镇_城乡居民养老金发放明细_202608-202610.csv"

ID_A = idnumber.make("441900", date(1950, 3, 4), 11, male=True)
ID_B = idnumber.make("441900", date(1986, 7, 1), 12, male=False)
ID_C = idnumber.make("441900", date(2025, 12, 1), 13, male=True)


def _expected(samples: Path, name: str) -> dict:
    return json.loads((samples / f"{name}.expected.json").read_text(encoding="utf-8"))


def _count(store, model) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def _dump(store) -> list:
    """Every row of every data table, to prove that nothing changed."""
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
            )
        ]


# ---------------------------------------------------------------- the samples


def test_person_sample(township, samples) -> None:
    expected = _expected(samples, PERSON_XLSX)
    result = import_file(township, samples / PERSON_XLSX, user="test")
    assert result.dataset == expected["dataset"]
    assert result.rows_read == expected["rows"]
    assert result.inserted == expected["accepted"]
    assert [(r.row, r.reason_code) for r in result.rejections] == [
        (r["row"], r["reason_code"]) for r in expected["rejected"]
    ]
    assert result.summary["households"] == expected["households"]
    assert result.summary["deceased"] == expected["deceased"]
    assert result.summary["moved_out"] == expected["moved_out"]
    assert all(r.column == "公民身份号码" for r in result.rejections)
    # The preamble line gave the source department and as-of date.
    with township.sessions() as session:
        batch = session.get(Batch, result.batch_id)
        assert batch.source_department == "东莞市公安局"
        assert batch.as_of == date(2026, 10, 31)
        assert (
            session.scalar(
                select(func.count()).select_from(Person).where(Person.household_id.is_(None))
            )
            == 0
        )
        # Villages were matched by name: no provisional villages were needed.
        assert session.scalar(select(func.count()).select_from(Area).where(Area.needs_review)) == 0


def test_enrollment_and_payment_samples(township, samples) -> None:
    import_file(township, samples / PERSON_XLSX, user="test")
    enrollment = import_file(township, samples / ENROLLMENT_CSV, user="test")
    expected = _expected(samples, ENROLLMENT_CSV)
    assert (enrollment.dataset, enrollment.rows_read, enrollment.inserted) == (
        expected["dataset"],
        expected["rows"],
        expected["accepted"],
    )
    assert enrollment.rejections == []
    assert enrollment.headers[0] == "个人编号"  # GB18030 decoded

    payment = import_file(township, samples / PAYMENT_CSV, user="test")
    expected = _expected(samples, PAYMENT_CSV)
    assert (payment.dataset, payment.rows_read, payment.inserted) == (
        expected["dataset"],
        expected["rows"],
        expected["accepted"],
    )
    assert payment.summary["total_fen"] == expected["total_fen"]
    found = [
        {"id_number": d["id_number"], "name": d["name"], "died": d["died"]}
        for d in payment.summary["deceased_still_paid"]
    ]
    assert found == expected["deceased_still_paid"]


def test_reimport_changes_nothing(township, samples) -> None:
    import_file(township, samples / PERSON_XLSX, user="test")
    before = _dump(township)[2:]  # data tables (batch gains a ledger row, as it should)
    again = import_file(township, samples / PERSON_XLSX, user="test")
    assert (again.inserted, again.updated, again.absent) == (0, 0, 0)
    assert again.unchanged == 1042
    assert _dump(township)[2:] == before


def test_dry_run_counts_equal_the_real_run_and_change_nothing(township, samples) -> None:
    before = _dump(township)
    dry = import_file(township, samples / PERSON_XLSX, user="test", dry_run=True)
    assert _dump(township) == before
    assert dry.batch_id is None
    real = import_file(township, samples / PERSON_XLSX, user="test")
    assert dry.as_json() | {"batch_id": None} == real.as_json() | {"batch_id": None}


# ---------------------------------------------------------------- rows and reasons


def test_every_reason_code(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        "公民身份号码,姓名,出生日期,民族,户号,与户主关系",
        f"{ID_A},张三,1950-03-04,汉族,19920100001,户主",  # 2 good
        f"{ID_A[:-1]}{'0' if ID_A[-1] != '0' else '1'},李四,,汉族,19920100001,妻",  # 3 checksum
        f"{ID_B},,,汉族,19920100001,女",  # 4 missing name
        f"{ID_B},王五,1986-13-01,汉族,19920100001,女",  # 5 bad date
        f"{ID_B},王五,,火星族,19920100001,女",  # 6 unknown code
        f"{ID_B},王五,1986-07-01,壮族,19920100001,女",  # 7 good
        f"{ID_B},王五,1986-07-01,壮族,19920100001,女",  # 8 duplicate of 7
        f"{ID_C},赵六,2025-12-02,汉族,19920100001,子",  # 9 birth date differs from the ID
        "4.41900E+17,钱七,,汉族,19920100001,子",  # 10 ID mangled into scientific notation
    )
    result = import_file(township, path, user="test")
    got = {(r.row, r.reason_code) for r in result.rejections}
    assert got == {
        (3, "id_number_checksum"),
        (4, "missing_required"),
        (5, "bad_date"),
        (6, "unknown_code"),
        (8, "duplicate_in_file"),
        (9, "inconsistent_with_id"),
        (10, "id_number_not_text"),
    }
    assert result.inserted == 2
    duplicate = next(r for r in result.rejections if r.reason_code == "duplicate_in_file")
    assert "第 7 行" in duplicate.message
    assert all(r.message and r.column for r in result.rejections)


def test_id_stored_as_number_in_xlsx_is_rejected(township, tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号"])
    ws.append(["张三", ID_A])
    ws.append(["李四", 441900195003040000])  # a number: Excel kept 15 significant digits
    wb.save(tmp_path / "ids.xlsx")
    result = import_file(township, tmp_path / "ids.xlsx", user="test", dataset="person")
    assert result.inserted == 1
    assert [(r.row, r.reason_code) for r in result.rejections] == [(3, "id_number_not_text")]


def test_dates_codes_and_money_in_every_written_form(township, tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "社会保障号码",
            "姓名",
            "险种",
            "参保状态",
            "缴费档次（元/年）",
            "参保日期",
            "待遇领取标志",
        ]
    )
    ws.append([ID_A, "张三", "170", "参保缴费", "1,000元", date(2011, 9, 15), "否"])
    ws.append([ID_B, "王五", "城乡居民基本养老保险", "3", 200, "2010/7/1", "是"])
    ws.append([ID_C, "赵六", "城乡居民医保", "暂停缴费", None, "2026年1月2日", 0])
    ws.append([ID_A, "张三", "390", "1", "", 40909, "0"])  # an Excel serial that lost its format
    wb.save(tmp_path / "enroll.xlsx")
    result = import_file(township, tmp_path / "enroll.xlsx", user="test")
    assert result.dataset == "ss_enrollment" and result.rejections == []
    with township.sessions() as session:
        rows = {
            (e.id_number, e.scheme_code): (e.status_code, e.grade_fen, e.start_date, e.receiving)
            for e in session.scalars(select(Enrollment))
        }
    assert rows[(ID_A, "170")] == ("1", 100_000, date(2011, 9, 15), False)
    assert rows[(ID_B, "170")] == ("3", 20_000, date(2010, 7, 1), True)
    assert rows[(ID_C, "390")] == ("2", None, date(2026, 1, 2), False)
    assert rows[(ID_A, "390")] == ("1", None, date(2012, 1, 1), False)


def test_payments_in_fen_and_amount_check(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "pay.csv",
        "社会保障号码,发放年月,基础养老金（分）,个人账户养老金（分）,实发金额（分）",
        f"{ID_A},202610,23800,7668,31468",
        f"{ID_A},2026-09,23800,7668,31468",
        f"{ID_A},202608,23800,7668,31469",  # does not add up
        f"{ID_A},2026-13,23800,7668,31468",  # bad month
    )
    result = import_file(township, path, user="test")
    assert result.inserted == 2
    assert {(r.row, r.reason_code) for r in result.rejections} == {
        (4, "amount_mismatch"),
        (5, "bad_period"),
    }
    assert result.summary["total_fen"] == 2 * 31468


# ---------------------------------------------------------------- applying


def test_changed_fields_keep_their_history_and_absent_records_are_marked(
    township, tmp_path
) -> None:
    header = "公民身份号码,姓名,户号,与户主关系,所属村（社区）,人员状态,变动日期"
    first = write_csv(
        tmp_path / "p1.csv",
        header,
        f"{ID_A},张三,19920100001,户主,东岭村,正常,",
        f"{ID_B},王芳,19920100001,妻,东岭村,正常,",
    )
    import_file(township, first, user="test", as_of=date(2026, 9, 30))
    second = write_csv(
        tmp_path / "p2.csv",
        header,
        f"{ID_A},张三,19920100001,户主,东岭村,死亡注销,2026-10-03",
        f"{ID_C},张小宝,19920100001,子,东岭村,正常,",
    )
    result = import_file(township, second, user="test", as_of=date(2026, 10, 31))
    assert (result.inserted, result.updated, result.unchanged, result.absent) == (1, 1, 0, 1)
    report = result.report
    assert [d["id_number"] for d in report.deaths] == [ID_A]
    assert [b["id_number"] for b in report.births] == [ID_C]
    assert [a["key"] for a in report.absent] == [ID_B]
    with township.sessions() as session:
        history = session.execute(
            select(RecordHistory.field, RecordHistory.old_value, RecordHistory.new_value).where(
                RecordHistory.record_key == ID_A
            )
        ).all()
        assert ("status", "normal", "deceased") in history
        assert ("status_date", None, "2026-10-03") in history
        absent = session.scalar(select(Person).where(Person.id_number == ID_B))
        assert absent.absent_batch_id == result.batch_id  # marked, not deleted
        village = session.scalar(select(Person.village_code).where(Person.id_number == ID_C))
        assert village == "441900199201"  # 东岭村 → 东岭村委会
    # When the person comes back, the mark is cleared (and that is an update, with history).
    third = write_csv(tmp_path / "p3.csv", header, f"{ID_B},王芳,19920100001,妻,东岭村,正常,")
    back = import_file(township, third, user="test", as_of=date(2026, 11, 30))
    assert back.updated == 1
    with township.sessions() as session:
        assert (
            session.scalar(select(Person.absent_batch_id).where(Person.id_number == ID_B)) is None
        )


def test_unknown_village_is_added_and_flagged_never_a_reason_to_drop(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        "公民身份号码,姓名,所属村（社区）",
        f"{ID_A},张三,新开发区社区",
        f"{ID_B},王芳,东岭村委会",
    )
    result = import_file(township, path, user="test")
    assert result.inserted == 2 and result.rejected == 0
    assert result.report.new_villages == [{"code": "441900199901", "name": "新开发区社区"}]
    with township.sessions() as session:
        area = session.get(Area, "441900199901")
        assert area.needs_review and area.parent_code == "441900199000"


def test_village_code_of_another_township_is_rejected(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "p.csv", "公民身份号码,姓名,所属村（社区）代码", f"{ID_A},张三,441900188201"
    )
    result = import_file(township, path, user="test")
    assert [r.reason_code for r in result.rejections] == ["area_outside_township"]


def test_cancel_leaves_the_database_as_before(township, tmp_path) -> None:
    lines = [
        f"{idnumber.make('441900', date(1960, 1, 1), i % 499, male=True)[:-4]}" for i in range(1)
    ]
    del lines
    rows = []
    for i in range(12_000):
        number = idnumber.make(
            "441900", date(1940 + i % 60, 1 + i % 12, 1 + i % 28), i % 499, male=i % 2 == 0
        )
        rows.append(f"{number},202610,23800,100,23900")
    path = write_csv(
        tmp_path / "pay.csv", "社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额", *rows
    )
    before = _dump(township)
    cancel = Cancel()

    def progress(done: int, total: int, label: str) -> None:
        cancel.cancel()  # after the first chunk was written

    with pytest.raises(Cancelled, match="已取消导入"):
        import_file(township, path, user="test", progress=progress, cancel=cancel)
    assert _dump(township) == before


def test_a_mapping_the_clerk_completes_is_remembered_for_that_layout(township, tmp_path) -> None:
    path = write_csv(tmp_path / "odd.csv", "证件号码,名字,联系电话", f"{ID_A},张三,13800001111")
    plan = plan_file(township, path)
    assert plan.mapping.dataset == "person" and plan.mapping.missing_required() == ["姓名"]
    assert plan.problem and "无法识别" in plan.problem
    with pytest.raises(UserError):
        run_plan(township, plan, user="test")  # not importable until completed
    completed = plan.with_mapping({0: "id_number", 1: "name", 2: "phone"})
    remember_mapping(township, completed, user="clerk", now=datetime(2026, 11, 1, 9))
    assert run_plan(township, completed, user="clerk").inserted == 1
    # The next file from the same system maps itself.
    nxt = write_csv(tmp_path / "odd2.csv", "证件号码,名字,联系电话", f"{ID_B},王芳,13800002222")
    again = plan_file(township, nxt)
    assert again.mapping.remembered and again.problem is None
    assert run_plan(township, again, user="clerk").inserted == 1


def test_error_workbook_neutralises_formulas(township, tmp_path) -> None:
    path = write_csv(
        tmp_path / "p.csv", "公民身份号码,姓名", '=1+2,=HYPERLINK("http://x")', f"{ID_A},张三"
    )
    result = import_file(township, path, user="test")
    assert result.rejected == 1
    out = write_error_workbook(
        township,
        tmp_path / "errors.xlsx",
        file_name=path.name,
        headers=result.headers,
        rejections=result.rejections,
    )
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("原行号", "出错的列", "原因代码", "原因说明")
    # Full personal data leaving the program: audited, anchored, private to its owner.
    auditor = Principal("a", Role.AUDITOR)
    (entry,) = [e for e in audit_trail(township).entries(auditor, action="export")]
    assert entry.object == "errors.xlsx" and json.loads(entry.detail)["masked"] is False
    assert read_anchor(out) is not None
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert rows[2][0] == 2 and rows[2][2] == "id_number_invalid"
    assert rows[2][4] == "'=1+2" and rows[2][5].startswith("'=")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("青禾镇_城乡居民养老保险参保_2026-10.csv", date(2026, 10, 31)),
        ("青禾镇_城乡居民养老金发放明细_202608-202610.csv", date(2026, 10, 31)),
        ("户籍_2026-10-15.xlsx", date(2026, 10, 15)),
        ("无日期.csv", None),
    ],
)
def test_as_of_from_file_name(name: str, expected: date | None) -> None:
    assert as_of_from_name(name) == expected


def test_the_report_counts_every_birth_move_in_and_absence_past_the_kept_details(
    township, tmp_path
) -> None:
    """The report keeps the first 5,000 of each list (names to show), but its lines and counts
    are exact: 6,000 new persons (100 born within the year) and 5,500 no longer in the file."""
    header = "公民身份号码,姓名,户号,与户主关系,所属村（社区）,人员状态,变动日期"

    def people(first: date, count: int, start: int) -> list[str]:
        return [
            f"{idnumber.make('441900', first + timedelta(days=i), (start + i) % 499 + 1, male=i % 2 == 0)},"
            f"张{i},1992{start + i:07d},户主,东岭村,正常,"
            for i in range(count)
        ]

    old = people(date(1940, 1, 1), 5_500, 0)
    import_file(township, write_csv(tmp_path / "p1.csv", header, *old), user="test")
    born = people(date(2025, 12, 1), 100, 10_000)
    moved_in = people(date(1960, 1, 1), 5_900, 20_000)
    result = import_file(
        township,
        write_csv(tmp_path / "p2.csv", header, *moved_in, *born),
        user="test",
        as_of=date(2026, 10, 31),
    )
    assert (result.inserted, result.absent) == (6_000, 5_500)
    report = result.report
    assert len(report.births) + len(report.move_ins) == 5_000  # the names kept to show
    assert (report.births_count, report.move_ins_count, report.absent_count) == (100, 5_900, 5_500)
    lines = report.lines()
    assert "新出生：100 条" in lines and "新迁入：5,900 条" in lines
    assert "本次回流中不再包含（已标记，未删除）：5,500 条" in lines
    assert result.summary["births"] == 100 and result.summary["move_ins"] == 5_900
