"""户籍's 在册人数 kept on the household row (core/store/members.py, migration 0016): the stored
number equals the live count of each household's normal persons after the demo township is made,
after imports (a first one, a re-import that moves people to other households and changes their
status, a cancelled one), after persons are moved, deleted and re-statused by hand and after a
household row is copied in with a wrong number — on SQLite and PostgreSQL. The list sorted by it
is the list sorted by the live count."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from govshare_desktop.core.backflow import pipeline
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.browse import HOUSEHOLDS, Browser, Query
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store import members
from govshare_desktop.core.store.township import add_village, init_township

HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "所属村（社区）",
          "人员状态"]  # fmt: skip


def _wrong(store) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return members.mismatches(conn)


def _workbook(path: Path, count: int, *, moved: int = 0, dead: int = 0) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(count):
        birth = date(1950, 1, 1) + timedelta(days=i * 41)
        number = idnumber.make("441900", birth, i % 499, male=i % 2 == 0)
        home = (i // 3 + 1) if i < moved else i // 3  # the first ``moved`` go to the next house
        status = "死亡" if count - dead <= i else "正常"
        ws.append([number, "王新民", "男" if i % 2 == 0 else "女", birth,
                   f"44190019920{home:07d}", "户主" if i % 3 == 0 else "子", "东岭村委会",
                   status])  # fmt: skip
    wb.save(path)
    return path


def test_the_count_follows_imports(store, tmp_path, monkeypatch) -> None:
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        add_village(session, "441900199201", "东岭村委会")
    monkeypatch.setattr(pipeline, "CHUNK", 70)  # several chunks
    first = import_file(store, _workbook(tmp_path / "a.xlsx", 300), user="test")
    assert first.inserted == 300 and first.rejected == 0
    assert _wrong(store) == []
    with store.engine.connect() as conn:
        counts = conn.exec_driver_sql("SELECT SUM(member_count), MAX(member_count) FROM household")
        assert tuple(counts.one()) == (300, 3)
    again = import_file(store, _workbook(tmp_path / "b.xlsx", 330, moved=40, dead=10), user="test")
    assert again.rejected == 0 and again.updated >= 40
    assert _wrong(store) == []
    with store.engine.connect() as conn:
        total = conn.exec_driver_sql("SELECT SUM(member_count) FROM household").scalar()
        assert total == 320  # 330 persons, 10 no longer 正常
        # households the moved persons joined hold more than three now
        assert conn.exec_driver_sql("SELECT MAX(member_count) FROM household").scalar() > 3
    cancel = Cancel()

    def progress(done: int, total: int, text_: str) -> None:
        if done >= 140:
            cancel.cancel()

    with pytest.raises(Cancelled):
        import_file(store, _workbook(tmp_path / "c.xlsx", 400, moved=200), user="test",
                    progress=progress, cancel=cancel)  # fmt: skip
    assert _wrong(store) == []


def test_the_count_follows_persons_moved_by_hand(any_demo_store) -> None:
    store = any_demo_store
    assert _wrong(store) == []  # the demo township, made through the triggers
    with store.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT SUM(member_count) FROM household").scalar() > 0
        # move a third of the persons to another household (one statement, many rows)
        conn.execute(
            text(
                "UPDATE person SET household_id = (SELECT MIN(h.id) FROM household h"
                " WHERE h.id > person.household_id) WHERE id % 3 = 0"
            )
        )
        conn.execute(text("UPDATE person SET status = 'deceased' WHERE id % 5 = 1"))
        conn.execute(text("UPDATE person SET status = 'normal' WHERE id % 10 = 1"))
        conn.execute(text("UPDATE person SET household_id = NULL WHERE id % 11 = 2"))
        conn.execute(text("UPDATE person SET name = 'X' WHERE id % 13 = 4"))  # no change
    assert _wrong(store) == []
    with store.engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM person WHERE id % 17 = 3")).scalars().all()
        conn.execute(text(f"DELETE FROM person WHERE id IN ({', '.join(map(str, ids))})"))
    assert _wrong(store) == []
    with store.engine.begin() as conn:  # a household row copied in, carrying a wrong number
        conn.execute(
            text(
                "INSERT INTO household (id, household_no, household_type, village_code,"
                " member_count, batch_id) SELECT id + 1000000, 'COPY' || household_no,"
                " household_type, village_code, 99, batch_id FROM household WHERE id % 9 = 0"
            )
        )
    assert _wrong(store) == []
    with store.engine.begin() as conn:  # the wrong numbers are found
        conn.execute(text("UPDATE household SET member_count = member_count + 1 WHERE id = 1"))
    assert len(_wrong(store)) == 1
    with store.engine.begin() as conn:
        members.recount(conn)
    assert _wrong(store) == []


def test_the_list_sorted_by_members_is_sorted_by_the_live_count(demo_store) -> None:
    browser = Browser(demo_store)
    live = (
        "SELECT t.id FROM household t ORDER BY (SELECT COUNT(*) FROM person m"
        " WHERE m.household_id = t.id AND m.status = 'normal') {d}, t.id {d}"
    )
    for descending in (False, True):
        query = Query(HOUSEHOLDS, sort="members", descending=descending)
        with demo_store.engine.connect() as conn:
            expected = conn.exec_driver_sql(live.format(d="DESC" if descending else "")).scalars()
            expected = list(expected)
        assert browser.ids(query) == expected
        shown = browser.page(query, limit=len(expected)).rows
        column = HOUSEHOLDS.column_index("members") + 1
        with demo_store.engine.connect() as conn:
            counts = dict(
                conn.exec_driver_sql(
                    "SELECT household_id, COUNT(*) FROM person WHERE status = 'normal'"
                    " GROUP BY household_id"
                ).all()
            )
        assert [r[column] for r in shown] == [counts.get(r[0], 0) for r in shown]
