"""The person search index after imports (issue 20): on SQLite persons go in through a staging
table, one ``INSERT … SELECT`` a chunk, so that the FTS5 triggers flush once a chunk instead of once
a row. The index must come out exactly right: every person found by name and by a fragment of the
ID number, FTS5's own integrity check (against the person table: ``rank`` 1) passes — after a
first import, a re-import that renames and adds people, and a cancelled one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from govshare_desktop.core.backflow import pipeline
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.progress import Cancel, Cancelled

HEADER = [
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "户号",
    "与户主关系",
    "所属村（社区）",
    "住址",
]
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def _people(count: int, *, renamed: int = 0) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(count):
        birth = date(1940, 1, 1) + timedelta(days=i * 37)
        number = idnumber.make("441900", birth, i % 499, male=i % 2 == 0)
        name = NAMES[i % 20] + "新民建国秀英"[i % 6] + ("改" if i < renamed else "")
        household = f"44190019920{i // 3:07d}"
        rows.append([number, name, "男" if i % 2 == 0 else "女", birth, household,
                     "户主" if i % 3 == 0 else "子", "东岭村委会", f"东岭村{i // 3}号"])  # fmt: skip
    return rows


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _assert_index_right(store) -> int:  # type: ignore[no-untyped-def]
    with store.sessions() as session:
        for table in ("person_name_fts", "person_id_fts"):
            session.execute(
                text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
            )
        people = session.execute(text("SELECT id, id_number, name_chars FROM person")).all()
        for pid, number, chars in people:
            by_name = session.execute(
                text("SELECT rowid FROM person_name_fts WHERE person_name_fts MATCH :q"),
                {"q": f'"{chars}"'},
            ).scalars()
            assert pid in set(by_name), chars
            by_id = session.execute(
                text("SELECT rowid FROM person_id_fts WHERE person_id_fts MATCH :q"),
                {"q": f'"{number[6:14]}"'},
            ).scalars()
            assert pid in set(by_id), number
        return len(people)


def test_imported_people_are_all_found_and_the_index_checks(
    township, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK", 70)  # several chunks through the staging table
    first = import_file(township, _workbook(tmp_path / "a.xlsx", _people(300)), user="test")
    assert (first.inserted, first.rejected) == (300, 0)
    assert _assert_index_right(township) == 300
    # Renamed people (an UPDATE: the index's update trigger) and new ones (through the stage).
    again = import_file(
        township, _workbook(tmp_path / "b.xlsx", _people(360, renamed=40)), user="test"
    )
    assert (again.inserted, again.updated) == (60, 40)
    assert _assert_index_right(township) == 360
    with township.sessions() as session:
        renamed = session.execute(
            text("SELECT count(*) FROM person_name_fts WHERE person_name_fts MATCH '改'")
        ).scalar()
    assert renamed == 40


def test_a_cancelled_person_import_leaves_the_index_as_it_was(
    township, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK", 50)
    import_file(township, _workbook(tmp_path / "a.xlsx", _people(100)), user="test")
    cancel = Cancel()

    def progress(done: int, total: int, text: str) -> None:
        if done >= 150:  # three chunks in: stop at the next look
            cancel.cancel()

    with pytest.raises(Cancelled):
        import_file(township, _workbook(tmp_path / "b.xlsx", _people(400)), user="test",
                    progress=progress, cancel=cancel)  # fmt: skip
    assert _assert_index_right(township) == 100
