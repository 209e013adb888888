"""The 预填 and 工作台 summary brought up to date for what one import's batch touched, in time
proportional to the batch rather than to the township (issue 20): the refresh of
:func:`govshare_desktop.core.store.summary.refresh_after_import` for a batch of persons,
households or enrollments. Each touched row's contribution to the summary before the batch is
taken away and its contribution now is added, per key; a key whose count reaches 0 goes.

What a batch touched, and what each row was before it, comes from what the import records
(:mod:`govshare_desktop.core.backflow.apply`):

* a row inserted by the batch has an id above the table's highest id when the summary was last
  made (the caller has checked that nothing but this batch wrote the table since): it counted
  nowhere before;
* a row the batch updated has ``batch_id`` = the batch, and every field that changed is in
  ``record_history`` (``record_key`` = the natural key, ``old_value`` as text: dates in ISO form,
  booleans ``1``/``0``, NULL as NULL); one that came back from absent has an ``absent_batch_id``
  entry whose ``new_value`` is NULL;
* a row the batch marked absent has ``absent_batch_id`` = the batch and an ``absent_batch_id``
  entry whose ``new_value`` is the batch (``record_key`` = its id), its other fields unchanged.

Only rows with an entry for a field the summary reads (or inserted) can have changed their
contribution. Whatever does not add up (a row found by its key that the batch did not write, a
count below 0) answers False: the caller counts the table again from the records, as it does for
a batch that touched more than :data:`FULL_SHARE` of a table (a full snapshot, a first import).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, text, update

from govshare_desktop.core.store.models import Enrollment, Household, Person
from govshare_desktop.core.store.models_base import table_of
from govshare_desktop.core.store.models_summary import (
    SummaryCoverage,
    SummaryEnrollment,
    SummaryHousehold,
    SummaryPerson,
)

FULL_SHARE = 0.2  # a batch touching more of a table's rows than this: counted again in full
CHUNK = 900  # ids or keys per IN list
EMPLOYEE, RESIDENT = ("110", "120"), ("170",)  # the schemes summary_coverage reads
TERMINATED = "3"

Key = tuple[Any, ...]


def month_end(day: date | None) -> date | None:
    """A date as the summary stores it (:func:`govshare_desktop.core.store.summary.month_end`,
    the same rule in SQL): the last day of its month; in February the 28th, or the 29th for the
    29th."""
    if day is None:
        return None
    if day.month == 2:
        return day if day.day == 29 else date(day.year, 2, 28)
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


@dataclass
class _Touched:
    """One row the batch touched: its values now and before the batch (None: not counted then —
    inserted, or absent before; likewise ``now`` is None for a row absent now)."""

    now: dict[str, Any] | None
    before: dict[str, Any] | None


class Mismatch(Exception):
    """What the batch recorded does not account for a row: count the table again."""


# ---------------------------------------------------------------- what the batch touched


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _parse(column: Any, value: str | None) -> Any:
    """A value as ``record_history`` holds it, back to the column's type."""
    if value is None:
        return None
    python_type = column.type.python_type
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is bool:
        return value == "1"
    if python_type is int:
        return int(value)
    return value


def _history(
    db: Any, dataset: str, batch_id: int, fields: Iterable[str], room: int
) -> tuple[dict[str, dict[str, str | None]], list[int]] | None:
    """The batch's entries for these fields: the first old value of each field by natural key,
    and the ids of the rows it marked absent; None if there are more than ``room`` of them
    (counted no further than that: a batch that changed most of the township is not read)."""
    names: Any = bindparam("fields", expanding=True)
    where = " WHERE batch_id = :b AND dataset = :d AND field IN :fields"
    params = {"b": batch_id, "d": dataset, "fields": sorted({*fields, "absent_batch_id"})}
    entries = db.execute(
        text(f"SELECT COUNT(*) FROM (SELECT 1 FROM record_history{where} LIMIT :cap) x").bindparams(
            names
        ),
        {**params, "cap": room + 1},
    ).scalar_one()
    if entries > room:
        return None
    olds: dict[str, dict[str, str | None]] = {}
    marked: list[int] = []
    for key, field, old, new in db.execute(
        text(f"SELECT record_key, field, old_value, new_value FROM record_history{where}"
             " ORDER BY id").bindparams(names),
        params,
    ):  # fmt: skip
        if field == "absent_batch_id" and new is not None:
            if new != str(batch_id):
                raise Mismatch(key)
            marked.append(int(key))
            continue
        olds.setdefault(key, {}).setdefault(field, old)
    return olds, marked


def _touched(
    db: Any,
    table: Table,
    key: tuple[str, ...],
    columns: tuple[str, ...],
    batch_id: int,
    before_max: int,
) -> list[_Touched] | None:
    """Every row of ``table`` whose ``columns`` (or presence) the batch changed, with its values
    now and before; None when the batch touched too many rows to be worth it."""
    dataset = table.name
    size = db.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {dataset}")).scalar_one()
    room = int(FULL_SHARE * before_max) - (size - before_max)  # rows inserted: size - before_max
    history = _history(db, dataset, batch_id, columns, room) if room >= 0 else None
    if history is None:
        return None
    olds, marked = history
    wanted = [table.c.id, table.c.batch_id, table.c.absent_batch_id]
    wanted += [table.c[c] for c in dict.fromkeys((*key, *columns)) if c != "id"]
    touched: list[_Touched] = []

    def current(row: Any) -> dict[str, Any]:
        return dict(row._mapping)

    for row in db.execute(select(*wanted).where(table.c.id > before_max)):
        if row.batch_id != batch_id:
            raise Mismatch(row.id)
        touched.append(_Touched(None if row.absent_batch_id else current(row), None))
    for ids in _chunks(marked):
        for row in db.execute(select(*wanted).where(table.c.id.in_(ids))):
            if row.absent_batch_id != batch_id or row.id > before_max:
                raise Mismatch(row.id)
            touched.append(_Touched(None, current(row)))
    keys = list(olds)
    by_first = sorted({k.split("|")[0] for k in keys})
    found = set()
    for firsts in _chunks(by_first):
        for row in db.execute(select(*wanted).where(table.c[key[0]].in_(firsts))):
            text_key = "|".join(str(row._mapping[k]) for k in key)
            if text_key not in olds or row.id > before_max:
                continue
            if row.batch_id != batch_id:
                raise Mismatch(text_key)
            found.add(text_key)
            now = current(row)
            before = dict(now)
            for field, old in olds[text_key].items():
                before[field] = _parse(table.c[field], old)
            touched.append(
                _Touched(
                    None if now["absent_batch_id"] else now,
                    None if before["absent_batch_id"] else before,
                )
            )
    if found != set(keys):
        raise Mismatch(sorted(set(keys) - found)[:3])
    return touched


# ---------------------------------------------------------------- applying the counts


def _apply(
    db: Any, model: Any, key: tuple[str, ...], deltas: Counter[Key], narrow: str = ""
) -> None:
    """``deltas`` (key → change of ``n``) into the summary table: rows added, changed, or deleted
    at 0. ``narrow``: a key column to read only the rows of the keys changed by (else all)."""
    deltas = Counter({k: d for k, d in deltas.items() if d})
    if not deltas:
        return
    table = table_of(model)
    columns = [table.c[c] for c in key]
    statement = select(table.c.id, table.c.n, *columns)
    if narrow:
        values = sorted({k[key.index(narrow)] for k in deltas})
        statement = statement.where(table.c[narrow].in_(values))
    stored: dict[Key, tuple[int, int]] = {}
    for row in db.execute(statement):
        stored[tuple(row[2:])] = (row.id, row.n)
    changed, gone, added = [], [], []
    for k, d in deltas.items():
        row_id, n = stored.get(k, (None, 0))
        if n + d < 0:
            raise Mismatch(k)
        if row_id is None:
            added.append({**dict(zip(key, k, strict=True)), "n": d})
        elif n + d == 0:
            gone.append(row_id)
        else:
            changed.append({"row": row_id, "n_new": n + d})
    if changed:
        db.execute(
            update(table).where(table.c.id == bindparam("row")).values(n=bindparam("n_new")),
            changed,
        )
    for ids in _chunks(gone):
        db.execute(delete(table).where(table.c.id.in_(ids)))
    if added:
        db.execute(insert(table), added)


# ---------------------------------------------------------------- persons and coverage

PERSON_COLUMNS = ("id_number", "village_code", "sex_code", "birth_date", "status", "status_date")
PERSON_KEY = ("village_code", "sex_code", "birth_date", "status", "status_date")
COVERAGE_KEY = ("village_code", "birth_date", "enrolled", "receiving")
ENROLLMENT_COLUMNS = ("id_number", "scheme_code", "village_code", "status_code", "receiving")
ENROLLMENT_KEY = ("village_code", "scheme_code", "status_code", "receiving")


def _person_key(p: dict[str, Any]) -> Key:
    return (
        p["village_code"] or "",
        p["sex_code"],
        month_end(p["birth_date"]),
        p["status"],
        month_end(p["status_date"]),
    )


def _flags(enrollments: Iterable[dict[str, Any]]) -> tuple[bool, bool, bool]:
    """(employee, enrolled, receiving) of a person with these enrollments (those absent left
    out), as :func:`govshare_desktop.core.store.summary._scheme_held` asks it."""
    employee = enrolled = receiving = False
    for e in enrollments:
        held = (e["status_code"] is not None and e["status_code"] != TERMINATED) or bool(
            e["receiving"]
        )
        if e["scheme_code"] in EMPLOYEE and held:
            employee = True
        elif e["scheme_code"] in RESIDENT:
            enrolled = enrolled or held
            receiving = receiving or bool(e["receiving"])
    return employee, enrolled, receiving


def _enrollments_of(db: Any, id_numbers: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The present enrollments of these people in the schemes the coverage reads."""
    table = table_of(Enrollment)
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = [table.c.id, *(table.c[c] for c in ENROLLMENT_COLUMNS)]
    for ids in _chunks(sorted(set(id_numbers))):
        for row in db.execute(
            select(*wanted).where(
                table.c.id_number.in_(ids),
                table.c.scheme_code.in_([*EMPLOYEE, *RESIDENT]),
                table.c.absent_batch_id.is_(None),
            )
        ):
            found.setdefault(row.id_number, []).append(dict(row._mapping))
    return found


def _coverage_key(p: dict[str, Any] | None, flags: tuple[bool, bool, bool]) -> Key | None:
    if p is None or p["status"] != "normal" or flags[0]:
        return None
    return (p["village_code"] or "", month_end(p["birth_date"]), flags[1], flags[2])


def persons(db: Any, batch_id: int, before_max: int) -> list[str] | None:
    """``summary_person`` and ``summary_coverage`` for a batch of persons. Returns the ID numbers
    of the persons inserted or moved to another village (whose payments may move with them), or
    None when the batch touched too much (or something did not add up): count both again."""
    try:
        touched = _touched(
            db, table_of(Person), ("id_number",), PERSON_COLUMNS[1:], batch_id, before_max
        )
        if touched is None:
            return None
        people = Counter[Key]()
        coverage = Counter[Key]()
        held = _enrollments_of(db, [(t.now or t.before or {})["id_number"] for t in touched])
        moved = []
        for t in touched:
            who = (t.now or t.before or {})["id_number"]
            flags = _flags(held.get(who, ()))
            for p, sign in ((t.before, -1), (t.now, 1)):
                if p is not None:
                    people[_person_key(p)] += sign
                    cut = _coverage_key(p, flags)
                    if cut is not None:
                        coverage[cut] += sign
            was = t.before["village_code"] if t.before else None
            if t.now is not None and (t.before is None or t.now["village_code"] != was):
                moved.append(who)
        _apply(db, SummaryPerson, PERSON_KEY, people, "birth_date")
        _apply(db, SummaryCoverage, COVERAGE_KEY, coverage, "birth_date")
    except Mismatch:
        return None
    return moved


def households(db: Any, batch_id: int, before_max: int) -> bool:
    """``summary_household`` for a batch of households (False: count it again)."""
    try:
        columns = ("household_no", "village_code", "household_type")
        touched = _touched(
            db, table_of(Household), ("household_no",), columns, batch_id, before_max
        )
        if touched is None:
            return False
        counts = Counter[Key]()
        for t in touched:
            for h, sign in ((t.before, -1), (t.now, 1)):
                if h is not None:
                    counts[(h["village_code"] or "", h["household_type"])] += sign
        _apply(db, SummaryHousehold, ("village_code", "household_type"), counts)
    except Mismatch:
        return False
    return True


def enrollments(db: Any, batch_id: int, before_max: int) -> bool:
    """``summary_enrollment`` and ``summary_coverage`` for a batch of enrollments: the coverage
    of each person whose enrollments the batch touched, with them as they were and as they are
    (False: count both again)."""
    try:
        table = table_of(Enrollment)
        touched = _touched(
            db, table, ("id_number", "scheme_code"), ENROLLMENT_COLUMNS[2:], batch_id, before_max
        )
        if touched is None:
            return False
        counts = Counter[Key]()
        for t in touched:
            for e, sign in ((t.before, -1), (t.now, 1)):
                if e is not None:
                    counts[
                        tuple(e[c] if c != "village_code" else e[c] or "" for c in ENROLLMENT_KEY)
                    ] += sign
        _apply(db, SummaryEnrollment, ENROLLMENT_KEY, counts)
        _apply(db, SummaryCoverage, COVERAGE_KEY, _coverage_change(db, touched), "birth_date")
    except Mismatch:
        return False
    return True


def _coverage_change(db: Any, touched: list[_Touched]) -> Counter[Key]:
    """How the coverage of the people whose enrollments changed moves (their persons unchanged)."""
    schemes = {*EMPLOYEE, *RESIDENT}
    changed: dict[str, list[_Touched]] = {}
    for t in touched:
        e = t.now or t.before or {}
        if e["scheme_code"] in schemes:
            changed.setdefault(e["id_number"], []).append(t)
    coverage = Counter[Key]()
    if not changed:
        return coverage
    now = _enrollments_of(db, changed)
    table = table_of(Person)
    wanted = [table.c[c] for c in PERSON_COLUMNS]
    for ids in _chunks(sorted(changed)):
        for row in db.execute(
            select(*wanted).where(table.c.id_number.in_(ids), table.c.absent_batch_id.is_(None))
        ):
            person = dict(row._mapping)
            mine = changed[row.id_number]
            ids_touched = {(t.now or t.before or {})["id"] for t in mine}
            before = [e for e in now.get(row.id_number, ()) if e["id"] not in ids_touched]
            before += [t.before for t in mine if t.before is not None]
            for enrolled, sign in ((before, -1), (now.get(row.id_number, []), 1)):
                cut = _coverage_key(person, _flags(enrolled))
                if cut is not None:
                    coverage[cut] += sign
    return coverage
