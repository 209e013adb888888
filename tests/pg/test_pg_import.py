"""Importing back-flowed files on both backends (issue 18): the same samples give the same rows,
the same rejections and the same history on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.store.models import Enrollment, Payment, Person, RecordHistory
from govshare_desktop.core.store.township import add_village, init_township

PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = "青禾镇_城乡居民养老保险参保_2026-10.csv"
PAYMENT_CSV = "青禾镇_城乡居民养老金发放明细_202608-202610.csv"
VILLAGES = [
    ("441900199001", "青禾社区居委会"),
    ("441900199201", "东岭村委会"),
    ("441900199202", "西塘村委会"),
    ("441900199203", "南坑村委会"),
    ("441900199204", "北山村委会"),
    ("441900199205", "新围村委会"),
]


@pytest.fixture
def township(any_store):  # type: ignore[no-untyped-def]
    with any_store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        for code, name in VILLAGES:
            add_village(session, code, name)
    return any_store


def _expected(samples: Path, name: str) -> dict:
    return json.loads((samples / f"{name}.expected.json").read_text(encoding="utf-8"))


def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_pension_samples_import_alike(township, samples) -> None:
    for name in (PERSON_XLSX, ENROLLMENT_CSV, PAYMENT_CSV):
        expected = _expected(samples, name)
        result = import_file(township, samples / name, user="test")
        assert result.dataset == expected["dataset"]
        assert (result.rows_read, result.inserted) == (expected["rows"], expected["accepted"])
        assert len(result.rejections) == len(expected["rejected"])
        if "total_fen" in expected:
            assert result.summary["total_fen"] == expected["total_fen"]
    assert _count(township, Person) == _expected(samples, PERSON_XLSX)["accepted"]
    assert _count(township, Enrollment) == _expected(samples, ENROLLMENT_CSV)["accepted"]
    assert _count(township, Payment) == _expected(samples, PAYMENT_CSV)["accepted"]
    again = import_file(township, samples / PAYMENT_CSV, user="test")
    assert (again.inserted, again.updated) == (0, 0)  # the same file twice changes nothing
    assert _count(township, RecordHistory) == 0


def _dump(store) -> list[int]:  # type: ignore[no-untyped-def]
    """The rows of the data tables, counted."""
    return [_count(store, model) for model in (Person, Enrollment, Payment, RecordHistory)]


def test_the_other_departments_samples_import_alike(township) -> None:
    from tests.department_samples import FILES, SAMPLE_DIR

    for dataset, name in FILES.items():
        expected = json.loads((SAMPLE_DIR / f"{name}.expected.json").read_text(encoding="utf-8"))
        result = import_file(township, SAMPLE_DIR / name, user="test")
        assert result.dataset == dataset
        assert (result.rows_read, result.inserted, result.rejected) == (
            expected["rows"],
            expected["accepted"],
            0,
        ), dataset


def test_changes_keep_their_history_and_absent_records_are_marked(township, tmp_path) -> None:
    from datetime import date

    from govshare_desktop.core.domain import idnumber

    a = idnumber.make("441900", date(1950, 3, 4), 11, male=True)
    b = idnumber.make("441900", date(1986, 7, 1), 12, male=False)
    header = "公民身份号码,姓名,户号,与户主关系,所属村（社区）,人员状态,变动日期"
    first = tmp_path / "p1.csv"
    first.write_text(
        f"{header}\n{a},张三,19920100001,户主,东岭村,正常,\n{b},王芳,19920100001,妻,东岭村,正常,\n",
        encoding="utf-8",
    )
    import_file(township, first, user="test", as_of=date(2026, 9, 30))
    second = tmp_path / "p2.csv"
    second.write_text(
        f"{header}\n{a},张三,19920100001,户主,东岭村,死亡注销,2026-10-03\n", encoding="utf-8"
    )
    result = import_file(township, second, user="test", as_of=date(2026, 10, 31))
    assert (result.updated, result.absent) == (1, 1)
    with township.sessions() as session:
        history = session.execute(
            select(RecordHistory.field, RecordHistory.old_value, RecordHistory.new_value).where(
                RecordHistory.record_key == a
            )
        ).all()
        absent = session.scalar(select(Person).where(Person.id_number == b))
    assert ("status", "normal", "deceased") in history
    assert ("status_date", None, "2026-10-03") in history
    assert absent.absent_batch_id == result.batch_id  # marked, not deleted


def test_a_dry_run_through_the_use_case_changes_nothing(township, samples) -> None:
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.services.imports import import_back_flow

    ctx = Context(township)
    before = _dump(township)
    [dry] = import_back_flow(ctx, [samples / PERSON_XLSX], dry_run=True)
    assert _dump(township) == before
    [real] = import_back_flow(ctx, [samples / PERSON_XLSX])
    assert dry.status == real.status == "imported"
    assert dry.datasets[0].inserted == real.datasets[0].inserted == _dump(township)[0] > 1000


def test_a_held_preview_is_unseen_until_committed_and_others_work_on(township, samples) -> None:
    """The wizard's preview holds the import's transaction: on both backends nobody else sees
    its rows; on the server another clerk's audited work goes on meanwhile (the audit entries
    wait for the commit); rolled back it leaves nothing, committed it is the import."""
    from govshare_desktop.core.security.audit import audit_trail
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.services.imports import commit_held, hold_back_flow

    ctx = Context(township)
    held = hold_back_flow(ctx, [samples / PERSON_XLSX, samples / ENROLLMENT_CSV])
    assert _count(township, Person) == 0
    if township.server:  # another clerk's audited action does not wait for the preview
        with township.transaction() as session:
            audit_trail(township).record(session, township.principal, "export", "别的工作")
    held.rollback()
    assert _count(township, Person) == 0 and _count(township, Enrollment) == 0
    held = hold_back_flow(ctx, [samples / PERSON_XLSX, samples / ENROLLMENT_CSV])
    done = commit_held(ctx, held)
    assert [r.status for r in done] == ["imported", "imported"]
    assert _count(township, Person) == done[0].datasets[0].inserted > 1000
    assert _count(township, Enrollment) == done[1].datasets[0].inserted > 0
