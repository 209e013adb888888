"""A person file into an empty person table on SQLite (issue 20): its persons wait in the staging
table until the file's households are written, then go in with one ``INSERT … SELECT`` already
pointing at their household (household_id by 户号), instead of being linked by an UPDATE of every
person afterwards (which ran the member_count triggers of migration 0016 once more per person).
Proven equal to the chunk-by-chunk way: every column of every person and household (ids,
household_id, member_count), the FTS5 indexes' integrity — into an empty township, into one whose
households came before from a 户 file, and a cancel that leaves nothing."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from govshare_desktop.core.backflow import pipeline
from govshare_desktop.core.backflow.apply import Applier
from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store import members
from govshare_desktop.core.store.engine import open_tool_store
from govshare_desktop.core.store.township import init_township

HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "所属村（社区）",
          "住址", "人员状态"]  # fmt: skip
HOUSEHOLD_HEADER = ["户号", "户主姓名", "户主公民身份号码", "所属村（社区）", "住址"]


def _persons(path: Path, count: int) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(count):
        birth = date(1945, 1, 1) + timedelta(days=i * 53)
        number = idnumber.make("441900", birth, i % 499, male=i % 2 == 0)
        home = f"44190019920{i // 3:07d}" if i % 17 else None  # some without a 户号
        ws.append([number, "王李张刘陈"[i % 5] + "新民建国"[i % 4], "男" if i % 2 == 0 else "女",
                   birth, home, "户主" if i % 3 == 0 else "子", "东岭村委会西岭村委会"[5 * (i % 2) :][:5],
                   f"东岭村{i // 3}号", "死亡" if i % 23 == 0 else "正常"])  # fmt: skip
    wb.save(path)
    return path


def _households(path: Path, count: int) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(HOUSEHOLD_HEADER)
    for i in range(0, count, 6):  # every other household of the person file, and one not in it
        ws.append([f"44190019920{i // 3:07d}", "户主甲", None, "东岭村委会", f"旧址{i}"])
    ws.append(["441900199209999999", "户主乙", None, "东岭村委会", "别处"])
    wb.save(path)
    return path


def _township(path: Path) -> Any:
    store = open_tool_store(path)
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
    return store


def _state(store: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with store.sessions() as session:
        for fts in ("person_name_fts", "person_id_fts"):
            session.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))
        persons = session.execute(text("SELECT * FROM person ORDER BY id")).all()
        households = session.execute(text("SELECT * FROM household ORDER BY id")).all()
    with store.engine.connect() as conn:
        assert members.mismatches(conn) == []
    return [dict(p._mapping) for p in persons], [dict(h._mapping) for h in households]


def _imported(tmp_path: Path, name: str, *, held: bool, first_households: bool) -> Any:
    store = _township(tmp_path / f"{name}.db")
    if first_households:
        import_file(store, _households(tmp_path / "h.xlsx", 240), user="test", now=NOW)
    applier = Applier if held else partial(Applier, hold=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "CHUNK", 70)  # several chunks
        if not held:  # the chunk-by-chunk way, linked afterwards
            mp.setattr(pipeline, "Applier", lambda *a, **k: applier(*a, **{**k, "hold": False}))
        result = import_file(store, _persons(tmp_path / "p.xlsx", 240), user="test", now=NOW)
    assert (result.inserted, result.rejected) == (240, 0)
    return store


NOW = __import__("datetime").datetime(2026, 11, 2, 9, 30)


@pytest.mark.parametrize("first_households", [False, True])
def test_held_persons_equal_the_chunk_by_chunk_import(tmp_path, first_households) -> None:
    held = _state(_imported(tmp_path, "held", held=True, first_households=first_households))
    plain = _state(_imported(tmp_path, "plain", held=False, first_households=first_households))
    assert held == plain
    persons, households = held
    linked = [p for p in persons if p["household_id"] is not None]
    counted = [h for h in households if h["member_count"] > 1]
    assert len(persons) == 240 and len(linked) > 200 and counted  # not vacuous


def test_persons_held_for_an_empty_table_point_at_their_households(tmp_path, monkeypatch) -> None:
    """They go in linked: the UPDATE after (link_households) has nothing left to do."""
    monkeypatch.setattr(pipeline, "link_households", lambda session, numbers: None)
    store = _imported(tmp_path, "one", held=True, first_households=False)
    with store.sessions() as session:
        wrong = session.execute(
            text(
                "SELECT count(*) FROM person p LEFT JOIN household h ON h.id = p.household_id"
                " WHERE p.household_no IS NOT h.household_no"
            )
        ).scalar()
        linked = session.execute(
            text("SELECT count(*) FROM person WHERE household_id IS NOT NULL")
        ).scalar()
    assert wrong == 0 and linked == 240 - len(range(0, 240, 17))


def test_a_cancelled_import_into_an_empty_table_leaves_nothing(tmp_path) -> None:
    store = _township(tmp_path / "c.db")
    cancel = Cancel()

    def progress(done: int, total: int, text_: str) -> None:
        if done >= 140:
            cancel.cancel()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "CHUNK", 70)
        with pytest.raises(Cancelled):
            import_file(store, _persons(tmp_path / "p.xlsx", 240), user="test",
                        progress=progress, cancel=cancel)  # fmt: skip
    assert _state(store) == ([], [])
