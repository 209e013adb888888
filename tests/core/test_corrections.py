"""校核纠错 round trip: a clerk raises a correction (or confirms a check case with one); it goes up
in a signed ``correction`` package per department as the contract has it, with its reply deadline in
working days; the department's reply is recorded; the next back-flow that brings the proposed value
closes it by itself, naming the batch. Past its deadline, unanswered, it is 超期."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import checks, reports
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Correction, Person
from tests.county import TOWNSHIP, County

NOW = datetime(2026, 12, 2, 9, 30)
POLICE = "东莞市公安局（演示数据）"  # the demo registry's source department
PERSON_HEADER = [
    "公民身份号码", "姓名", "性别代码", "民族代码", "出生日期", "户号", "与户主关系代码",
    "所属村（社区）代码", "人员状态", "变动日期", "联系电话",
]  # fmt: skip
CORRECTIONS_HEADER = [
    "纠错编号", "数据集", "记录键", "字段", "现值", "建议值", "依据", "发现方式", "提出日期", "答复期限",
]  # fmt: skip


@pytest.fixture
def police() -> County:
    return County(code="441900000003", name=POLICE)


@pytest.fixture
def office(demo_store: Store, police: County) -> Store:
    admin = demo_store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, police.public_pem, code=police.code, name=police.name, now=NOW)
    return demo_store


def _ctx(store: Store, when: datetime = NOW) -> Context:
    return Context(store, clock=lambda: when)


def _someone(store: Store) -> Person:
    with store.sessions() as session:
        return session.scalars(select(Person).where(Person.status == "normal")).first()


def _person_csv(person: Person, name: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(PERSON_HEADER)
    writer.writerow(
        [
            person.id_number, name, person.sex_code, person.ethnicity_code or "01",
            person.birth_date.isoformat(), person.household_no, person.relationship_code or "01",
            person.village_code, "正常", "", person.phone or "",
        ]
    )  # fmt: skip
    return out.getvalue().encode("utf-8")


def _import(store: Store, data: bytes, tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(data)
    result = import_package(store, path, user="clerk", now=NOW)
    assert result.status == "applied", result.message
    return result


def test_a_correction_goes_up_is_answered_and_closes_itself(
    office: Store, police: County, tmp_path: Path
) -> None:
    ctx = _ctx(office)
    person = _someone(office)
    right = person.name[0] + "晓" + person.name[1:]
    with pytest.raises(UserError, match="依据"):
        reports.raise_correction(
            ctx,
            dataset="person",
            record_key=person.id_number,
            field="姓名",
            proposed=right,
            basis="",
        )
    with pytest.raises(UserError, match="可纠错"):
        reports.raise_correction(
            ctx,
            dataset="person",
            record_key=person.id_number,
            field="血型",
            proposed="A",
            basis="b",
        )
    raised = reports.raise_correction(
        ctx,
        dataset="person",
        record_key=person.id_number,
        field="姓名",
        proposed=right,
        basis="户口簿原件，村委会核实",
    )
    assert raised.department == POLICE and raised.state == "draft"
    (package,) = reports.send_corrections(ctx)
    assert package.kind == "correction" and package.recipient_code == police.code
    key = reports.export_public_key(
        _ctx(office.acting(Principal("admin", Role.SYSADMIN))), tmp_path / "t.pem"
    ).pem
    seen = police.read_package(package.content, key)
    rows = list(csv.reader(io.StringIO(seen.read("data/corrections.csv").decode("utf-8"))))
    assert rows[0] == CORRECTIONS_HEADER
    assert rows[1][:6] == [
        raised.correction_id,
        "person",
        person.id_number,
        "姓名",
        person.name,
        right,
    ]
    assert rows[1][7:] == ["clerk", "2026-12-02", "2026-12-16"]  # 10 working days
    (view,) = reports.correction_list(ctx)
    assert view.state_label == "已发送" and view.workdays_left == 10

    answer = police.replies([("correction", raised.correction_id, "accepted", "已核实，将更正")])
    _import(office, answer, tmp_path, "reply.zip")
    assert reports.correction_list(ctx)[0].state_label == "已答复（采纳）"

    fixed = police.package(
        "backflow",
        {"data/person.csv": _person_csv(person, right)},
        datasets={"data/person.csv": "person"},
        as_of="2026-12-05",
        mode="delta",
    )
    result = _import(office, fixed, tmp_path, "fixed.zip")
    done = checks.after_import(ctx, [_as_outcome(result)])
    assert done is not None and done.corrected == [raised.correction_id]
    assert "1 条纠错已由回流数据更正" in done.summary()
    (view,) = reports.correction_list(ctx)
    assert view.state_label == "已更正" and view.corrected_batch is not None


def _as_outcome(result):  # the runner's FileResult for one package
    from govshare_desktop.core.backflow.runner import FileResult

    return FileResult(result.file, result.status, result.datasets, result)


def test_an_unanswered_correction_is_overdue_and_a_stray_reply_refused(
    office: Store, police: County, tmp_path: Path
) -> None:
    ctx = _ctx(office)
    person = _someone(office)
    reports.raise_correction(
        ctx, dataset="person", record_key=person.id_number, field="联系电话",
        proposed="13800000000", basis="本人提供",
    )  # fmt: skip
    reports.send_corrections(ctx)
    later = _ctx(office, NOW + timedelta(days=21))  # 2026-12-23: 5 working days past 12-16
    (view,) = reports.correction_list(later)
    assert view.overdue and view.state_label == "超期（5 个工作日）"
    reminder = reports.print_reminder(later, POLICE, tmp_path / "催办单.pdf")
    assert reminder.forms == 1 and reminder.path.read_bytes().startswith(b"%PDF")
    with pytest.raises(UserError, match="没有发往"):
        reports.print_reminder(ctx, POLICE, tmp_path / "none.pdf")  # not overdue yet
    stray = police.replies([("correction", "0b5c2d3e-0000-4000-8000-00000000abcd", "accepted", "")])
    path = tmp_path / "stray.zip"
    path.write_bytes(stray)
    refused = import_package(office, path, user="clerk", now=NOW)
    assert refused.status == "refused" and "从未发出" in refused.message


def test_a_confirmed_case_raises_its_correction(office: Store) -> None:
    ctx = _ctx(office)
    checks.run(ctx)
    case = checks.cases(ctx)[0]
    raised = reports.raise_correction(
        ctx,
        dataset="person",
        record_key=case.subject,
        field="联系电话",
        proposed="13900000000",
        basis="村委会入户核实",
        case_id=case.id,
    )
    assert raised.found_by == "cross_check" and raised.case_id == case.id
    assert checks.cases(ctx, states=("confirmed",))[0].id == case.id
    with office.sessions() as session:
        assert session.get(Correction, raised.correction_id).state == "draft"
    assert date(2026, 12, 2) == raised.raised_on


def test_a_refused_request_from_a_case_leaves_the_case_as_it_was(office: Store) -> None:
    ctx = _ctx(office)
    checks.run(ctx)
    case = checks.cases(ctx)[0]
    with pytest.raises(UserError, match="依据"):
        reports.raise_correction(
            ctx, dataset="person", record_key=case.subject, field="联系电话",
            proposed="13900000001", basis=" ", case_id=case.id,
        )  # fmt: skip
    assert checks.cases(ctx)[0].state == "open"
    assert reports.correction_list(ctx) == []


def _new_people(store: Store) -> tuple[Person, str, str]:
    """A registered person to copy the household from, and two new ID numbers nobody has."""
    from govshare_desktop.core.domain import idnumber

    template = _someone(store)
    region = template.id_number[:6]
    first = idnumber.make(region, date(1990, 3, 4), 491, male=True)
    second = idnumber.make(region, date(1991, 5, 6), 492, male=False)
    return template, first, second


def _rows_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(PERSON_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _row(template: Person, id_number: str, name: str, born: str, sex: str, ethnicity: str):
    return [
        id_number, name, sex, ethnicity, born, template.household_no, "10",
        template.village_code, "正常", "", "",
    ]  # fmt: skip


def test_rejected_import_rows_become_corrections_that_close_themselves(
    office: Store, police: County, tmp_path: Path
) -> None:
    """A wrong check digit and an unknown 民族 code: the rows are kept, a clerk sends a 纠错 about
    each to 公安, and the next back-flow with the right values closes both, naming its batch."""
    ctx = _ctx(office)
    template, good_id, other_id = _new_people(office)
    wrong_id = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    sent = police.package(
        "backflow",
        {
            "data/person.csv": _rows_csv(
                [
                    _row(template, wrong_id, "甲乙丙", "1990-03-04", "1", "01"),
                    _row(template, other_id, "丁戊", "1991-05-06", "2", "99"),
                ]
            )
        },
        datasets={"data/person.csv": "person"},
        as_of="2026-12-01",
        mode="delta",
    )
    _import(office, sent, tmp_path, "bad.zip")
    rows = reports.rejected_rows(ctx)
    assert [(r.row, r.field, r.record_key, r.value) for r in rows] == [
        (2, "公民身份号码", wrong_id, wrong_id),
        (3, "民族代码", other_id, "99"),
    ]
    assert all(r.correctable and r.department == POLICE for r in rows)
    assert rows[1].cells["姓名"] == "丁戊" and rows[1].name == "丁戊"

    with pytest.raises(UserError, match="依据"):
        reports.raise_from_rejection(ctx, rows[0].id, proposed=good_id, basis="")
    with pytest.raises(UserError, match="相同"):
        reports.raise_from_rejection(ctx, rows[1].id, proposed="99", basis="户口簿")
    by_id = reports.raise_from_rejection(ctx, rows[0].id, proposed=good_id, basis="居民身份证")
    by_code = reports.raise_from_rejection(ctx, rows[1].id, proposed="01", basis="户口簿")
    assert (by_id.found_by, by_id.record_key, by_id.current_value) == (
        "import_rejection",
        wrong_id,
        wrong_id,
    )
    with pytest.raises(UserError, match="已提出过纠错"):
        reports.raise_from_rejection(ctx, rows[0].id, proposed=good_id, basis="again")
    assert not reports.rejected_rows(ctx)[0].correctable

    (package,) = reports.send_corrections(ctx)
    key = reports.export_public_key(
        _ctx(office.acting(Principal("admin", Role.SYSADMIN))), tmp_path / "t.pem"
    ).pem
    police.received[TOWNSHIP["code"]] = 1  # the receipt for bad.zip went first
    seen = police.read_package(package.content, key)
    lines = list(csv.reader(io.StringIO(seen.read("data/corrections.csv").decode("utf-8"))))
    assert [line[1:8] for line in lines[1:]] == [
        ["person", wrong_id, "公民身份号码", wrong_id, good_id, "居民身份证", "import_rejection"],
        ["person", other_id, "民族代码", "99", "01", "户口簿", "import_rejection"],
    ]

    fixed = police.package(
        "backflow",
        {
            "data/person.csv": _rows_csv(
                [
                    _row(template, good_id, "甲乙丙", "1990-03-04", "1", "01"),
                    _row(template, other_id, "丁戊", "1991-05-06", "2", "01"),
                ]
            )
        },
        datasets={"data/person.csv": "person"},
        as_of="2026-12-05",
        mode="delta",
    )
    result = _import(office, fixed, tmp_path, "fixed.zip")
    done = checks.after_import(ctx, [_as_outcome(result)])
    assert done is not None and sorted(done.corrected) == sorted(
        [by_id.correction_id, by_code.correction_id]
    )
    views = reports.correction_list(ctx)
    assert {v.state_label for v in views} == {"已更正"}
    assert len({v.corrected_batch for v in views}) == 1


def test_a_rejected_duplicate_row_cannot_be_corrected(office: Store, police: County, tmp_path):
    ctx = _ctx(office)
    template, good_id, _ = _new_people(office)
    row = _row(template, good_id, "甲乙丙", "1990-03-04", "1", "01")
    sent = police.package(
        "backflow",
        {"data/person.csv": _rows_csv([row, row])},
        datasets={"data/person.csv": "person"},
        as_of="2026-12-01",
        mode="delta",
    )
    _import(office, sent, tmp_path, "dup.zip")
    (rejected,) = reports.rejected_rows(ctx)
    assert rejected.reason_code == "duplicate_in_file" and not rejected.correctable
    with pytest.raises(UserError, match="不是某个字段的值有误"):
        reports.raise_from_rejection(ctx, rejected.id, proposed="x", basis="y")
    assert reports.correction_list(ctx) == []
