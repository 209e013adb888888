"""The summary refreshed for what an import's batch touched (core/store/summary_delta.py) equals
the summary counted again from the records — every row of every table — after each kind of
import on a generated township: persons born, deceased, moved to another village, their birth
dates and sexes corrected, left out by a full file and coming back; households changing type and
village; enrollments added, stopped, receiving a pension or not, left out by a full file and given
to another person; several batches in a row. Each import is checked to have taken the
incremental path (the full counts are not called), and a batch that touched most of a table to
have counted it again. The same scenario runs on PostgreSQL in tests/pg/test_pg_summary_delta.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.store import summary
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.summary import is_fresh, rebuild
from govshare_desktop.core.store.township import add_village, init_township
from tests.conftest import copy_of, township_template
from tests.core.forms.test_prefill_summary import NOW, SUMMARY_TABLES

TABLES = {**SUMMARY_TABLES, "summary_coverage": "village_code, birth_date, enrolled, receiving, n"}
FULL_COUNTS = ("_persons", "coverage_rebuild", "_households", "_enrollments")
STATUS = {"normal": "正常", "deceased": "死亡注销", "moved_out": "迁出注销"}
PERSON_HEADER = "公民身份号码,姓名,所属村（社区）代码,人员状态,变动日期"
ENROLLMENT_HEADER = "社会保障号码,姓名,险种,缴费状态,待遇领取标志"


def tables(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: sorted(tuple(r) for r in db.execute(text(f"SELECT {columns} FROM {table}")))
        for table, columns in TABLES.items()
    }


def assert_as_rebuilt(store: Store) -> None:
    """Every summary table as the refreshes left it equals the one counted from the records."""
    with store.sessions() as session, session.begin():
        assert is_fresh(session)
        refreshed = tables(session)
        rebuild(session)
        counted = tables(session)
        for table in TABLES:
            assert refreshed[table] == counted[table], table
        session.rollback()


class FullCounts:
    """Which of the full counts the imports called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.called: list[str] = []
        for name in FULL_COUNTS:
            monkeypatch.setattr(summary, name, self._wrap(name, getattr(summary, name)))

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.called.append(name)
            return real(*args, **kwargs)

        return counted

    def run(self, store: Store, path: Path, **kwargs: Any) -> Any:
        self.called.clear()
        result = import_file(store, path, user="clerk", now=NOW, **kwargs)
        assert result.rejected == 0, result
        return result


def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.sessions() as session:
        return [tuple(r) for r in session.execute(text(sql))]


def _write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(f"{line}\n" for line in lines), "utf-8")
    return path


def _person_line(who: str, name: str, village: str | None, status: str, day: Any) -> str:
    return f"{who},{name},{village or ''},{STATUS[status]},{day or ''}"


# ---------------------------------------------------------------- the scenario


def persons_changed(store: Store, counts: FullCounts, tmp_path: Path, round_: int = 0) -> None:
    """Births, deaths, moves, birth date and sex corrections in a changes-only file."""
    villages = [v for (v,) in rows(store, "SELECT code FROM area WHERE level = 'village'")]
    normal = rows(
        store,
        "SELECT id_number, name, village_code FROM person WHERE status = 'normal'"
        " AND absent_batch_id IS NULL AND village_code IS NOT NULL AND status_date IS NULL"
        " ORDER BY id_number",
    )
    died, moved, born_fixed, sex_fixed = normal[:12], normal[20:35], normal[40:48], normal[50:58]
    with store.transaction() as session:  # wrong birth dates and sexes, as a county might have
        for who, *_ in born_fixed:
            session.execute(
                text("UPDATE person SET birth_date = :d WHERE id_number = :w"),
                {"d": date(1931, 5, 17), "w": who},
            )
        for who, *_ in sex_fixed:
            session.execute(
                text("UPDATE person SET sex_code = CASE sex_code WHEN '1' THEN '2' ELSE '1' END"
                     " WHERE id_number = :w"),
                {"w": who},
            )  # fmt: skip
        rebuild(session)
    lines = [
        _person_line(idnumber.make("445381", date(2026, 2, 1 + i), 20 * round_ + i, male=i % 2 == 0),
                     f"新生{i}", villages[i % len(villages)], "normal", None)
        for i in range(14)
    ]  # fmt: skip
    lines += [
        _person_line(w, n, v, "deceased", date(2026, 10, 1 + i)) for i, (w, n, v) in enumerate(died)
    ]
    lines += [
        _person_line(w, n, villages[(villages.index(v) + 1) % len(villages)], "normal", None)
        for w, n, v in moved
    ]
    lines += [_person_line(w, n, v, "normal", None) for w, n, v in born_fixed + sex_fixed]
    result = counts.run(store, _write(tmp_path / "persons.csv", PERSON_HEADER, lines),
                        full_snapshot=False)  # fmt: skip
    assert result.inserted == 14 and result.updated == len(lines) - 14
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)


def persons_left_out_and_back(store: Store, counts: FullCounts, tmp_path: Path) -> None:
    """A full file without some persons (marked absent), then a file bringing them back."""
    everyone = rows(
        store,
        "SELECT id_number, name, village_code, status, status_date FROM person"
        " WHERE absent_batch_id IS NULL ORDER BY id_number",
    )
    left_out = everyone[3::60]
    kept = [p for p in everyone if p not in left_out]
    lines = [_person_line(*p) for p in kept]
    result = counts.run(store, _write(tmp_path / "all.csv", PERSON_HEADER, lines))
    assert result.absent == len(left_out) and result.updated == 0
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)
    back = [_person_line(*p) for p in left_out[: len(left_out) // 2]]
    back[0] = _person_line(*left_out[0][:3], "moved_out", date(2026, 11, 3))  # back, and gone
    result = counts.run(store, _write(tmp_path / "back.csv", PERSON_HEADER, back),
                        full_snapshot=False)  # fmt: skip
    assert result.updated == len(back)
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)


def households_changed(store: Store, counts: FullCounts, tmp_path: Path) -> None:
    villages = [v for (v,) in rows(store, "SELECT code FROM area WHERE level = 'village'")]
    found = rows(
        store,
        "SELECT household_no, household_type, village_code FROM household"
        " WHERE village_code IS NOT NULL ORDER BY id LIMIT 30",
    )
    lines = [
        f"{no},{'2' if kind == '1' else '1'},{villages[(villages.index(v) + i % 2) % len(villages)]}"
        for i, (no, kind, v) in enumerate(found)
    ]
    result = counts.run(store, _write(tmp_path / "households.csv", "户号,户别,所属村（社区）代码",
                                      lines), full_snapshot=False)  # fmt: skip
    assert result.updated == len(found)
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)


def enrollments_changed(store: Store, counts: FullCounts, tmp_path: Path) -> None:
    """Stopped, receiving or not, new (for people without one, and 职工 for residents)."""
    held = rows(
        store,
        "SELECT id_number, name, status_code, receiving FROM ss_enrollment"
        " WHERE scheme_code = '170' AND absent_batch_id IS NULL ORDER BY id_number",
    )
    without = rows(
        store,
        "SELECT id_number, name FROM person WHERE status = 'normal' AND absent_batch_id IS NULL"
        " AND birth_date < '2000-01-01' AND id_number NOT IN (SELECT id_number FROM ss_enrollment"
        " WHERE scheme_code IN ('170', '120'))"
        " ORDER BY id_number LIMIT 12",
    )
    lines = [f"{w},{n},170,3,0" for w, n, *_ in held[:10]]  # stopped
    lines += [f"{w},{n},170,{s},{0 if r else 1}" for w, n, s, r in held[10:20]]  # receiving
    lines += [f"{w},{n},170,1,0" for w, n in without[:8]]  # new
    lines += [f"{w},{n},110,1,0" for w, n, *_ in held[20:26]]  # 职工: out of the coverage
    lines += [f"{w},{n},120,3,0" for w, n in without[8:]]  # stopped 机关: in it
    result = counts.run(store, _write(tmp_path / "enrollments.csv", ENROLLMENT_HEADER, lines),
                        full_snapshot=False)  # fmt: skip
    assert len(without) == 12 and result.inserted == 18 and result.updated == 20
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)


def enrollments_given_to_others(store: Store, counts: FullCounts, tmp_path: Path) -> None:
    """A full file of 城乡居民养老保险: some left out (absent), some of them under another
    person's number now; then a file bringing some of them back."""
    held = rows(
        store,
        "SELECT id_number, name, status_code, receiving FROM ss_enrollment"
        " WHERE scheme_code = '170' AND absent_batch_id IS NULL ORDER BY id_number",
    )
    others = rows(
        store,
        "SELECT id_number, name FROM person WHERE status = 'normal' AND absent_batch_id IS NULL"
        " AND id_number NOT IN (SELECT id_number FROM ss_enrollment WHERE scheme_code = '170')"
        " ORDER BY id_number DESC LIMIT 6",
    )
    left_out = held[5::40]
    lines = [f"{w},{n},170,{s},{int(r)}" for w, n, s, r in held if (w, n, s, r) not in left_out]
    lines += [
        f"{w},{n},170,{s},{int(r)}" for (w, n), (_, _, s, r) in zip(others, left_out, strict=False)
    ]
    result = counts.run(store, _write(tmp_path / "all170.csv", ENROLLMENT_HEADER, lines))
    assert result.absent == len(left_out) and result.inserted == min(len(others), len(left_out))
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)
    back = [f"{w},{n},170,2,{int(r)}" for w, n, _s, r in left_out[::2]]
    result = counts.run(store, _write(tmp_path / "back170.csv", ENROLLMENT_HEADER, back),
                        full_snapshot=False)  # fmt: skip
    assert result.updated == len(back)
    assert counts.called == [], counts.called
    assert_as_rebuilt(store)


def scenario(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every kind of batch, one after the other, each checked against a full count."""
    counts = FullCounts(monkeypatch)
    persons_changed(store, counts, tmp_path)
    enrollments_changed(store, counts, tmp_path)
    persons_left_out_and_back(store, counts, tmp_path)
    households_changed(store, counts, tmp_path)
    enrollments_given_to_others(store, counts, tmp_path)
    persons_changed(store, counts, tmp_path, 1)  # again, on what the batches left


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return township_template(tmp_path_factory, "delta", households=1_000, seed=11)


@pytest.fixture
def township(_template: Path, tmp_path: Path) -> Iterator[Store]:
    yield from copy_of(_template, tmp_path)


def test_each_kind_of_batch_is_summarised_as_a_full_count_would(
    township, monkeypatch, tmp_path
) -> None:
    scenario(township, monkeypatch, tmp_path)


def test_a_batch_that_touched_most_rows_is_counted_again(township, monkeypatch, tmp_path) -> None:
    counts = FullCounts(monkeypatch)
    villages = [v for (v,) in rows(township, "SELECT code FROM area WHERE level = 'village'")]
    everyone = rows(
        township,
        "SELECT id_number, name, village_code FROM person WHERE absent_batch_id IS NULL"
        " AND village_code IS NOT NULL",
    )
    lines = [
        _person_line(w, n, villages[(villages.index(v) + 1) % len(villages)], "normal", None)
        for w, n, v in everyone[: len(everyone) // 2]
    ]
    counts.run(township, _write(tmp_path / "moved.csv", PERSON_HEADER, lines), full_snapshot=False)
    assert {"_persons", "coverage_rebuild"} <= set(counts.called)
    assert_as_rebuilt(township)


def test_a_first_import_counts_everything(store, monkeypatch, tmp_path) -> None:
    counts = FullCounts(monkeypatch)
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        add_village(session, "441900199201", "东坑村委会")
        rebuild(session)  # an empty summary of an empty registry
    lines = [
        _person_line(idnumber.make("441900", date(1950 + i, 3, 9), i, male=i % 2 == 1),
                     f"人{i}", "441900199201" if i % 3 else None, "normal", None)
        for i in range(40)
    ]  # fmt: skip
    counts.run(store, _write(tmp_path / "first.csv", PERSON_HEADER, lines))
    assert "_persons" in counts.called
    assert_as_rebuilt(store)


def test_month_end_is_the_sql_rule(store) -> None:
    """The Python rule the deltas key by and the SQL rule the full count keys by agree."""
    from govshare_desktop.core.store.summary_delta import month_end

    days = [date(y, m, d) for y in (1999, 2000, 2024) for m in (1, 2, 4, 12) for d in (1, 28, 29)
            if not (m == 2 and d == 29 and y == 1999)]  # fmt: skip
    with store.sessions() as session:
        sql = summary.month_end(":d", "sqlite")
        for day in days:
            got = session.execute(text(f"SELECT {sql}"), {"d": day.isoformat()}).scalar_one()
            assert month_end(day) == date.fromisoformat(got), day
