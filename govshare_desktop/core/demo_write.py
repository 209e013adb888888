"""Writing the demo township drawn by :mod:`govshare_desktop.core.demo` into the database: every
table in large executemany batches of positional rows, inside the caller's one transaction.

On SQLite (plain or SQLCipher, through the store's own connection) the rows go straight to the
DB-API cursor (:class:`~govshare_desktop.core.store.bulk.TupleInserter`), with the columns the
ORM would fill from Python defaults (a person's pinyin initials and spaced name) computed here by
the same functions; a table whose Python defaults are not all covered falls back to a Core
executemany. The monthly pension payments — most of the rows (~37 per household) — are not built
in Python at all: one row per receiver (ID number, first and last month, 个人账户) and one per
month go into two temporary tables, and SQLite expands them with ``INSERT … SELECT`` in the same
order, so every payment gets the id it had when the rows were built one by one. Elsewhere
(PostgreSQL, or ``fast=False``) everything is a Core executemany of the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from govshare_desktop.core.demo_departments import SOURCES, DepartmentData, Rows, record_planted
from govshare_desktop.core.demo_people import _P, T, _Household
from govshare_desktop.core.demo_social import (
    ENROLLMENT_COLUMNS,
    PAYMENT_COLUMNS,
    _enrollment_rows,
    _payment_months,
    _payment_rows,
)
from govshare_desktop.core.domain import pinyin
from govshare_desktop.core.progress import Progress
from govshare_desktop.core.store.bulk import TupleInserter
from govshare_desktop.core.store.models import (
    Base,
    Batch,
    Enrollment,
    Household,
    Payment,
    Person,
    table_of,
)

CHUNK = 5_000  # households, persons, enrollments a batch
PAYMENT_CHUNK = 20_000  # payment and department rows a batch (built in Python)
STAGED_CHUNK = 20_000  # persons an INSERT … SELECT from the staging table
PAYMENT_SQL_CHUNK = 100_000  # payment rows an INSERT … SELECT (about, whole receivers)

HOUSEHOLD_COLUMNS = (
    "id",
    "household_no",
    "household_type",
    "address",
    "village_code",
    "head_id_number",
    "head_name",
    "batch_id",
    "as_of",
)
PERSON_COLUMNS = (
    "id_number",
    "name",
    "name_initials",
    "name_chars",
    "sex_code",
    "ethnicity_code",
    "birth_date",
    "household_id",
    "household_no",
    "relationship_code",
    "village_code",
    "status",
    "status_date",
    "phone",
    "batch_id",
    "as_of",
)


@dataclass
class _Drawn:
    """The demo township generated in memory, before anything is written."""

    homes: list[_Household]
    enrollment_people: list[_P]
    payers: list[tuple[str, int, int, int]]
    counts: dict[str, int]
    departments: DepartmentData


# (progress label, chunks of rows, what writes a chunk)
_Step = tuple[str, Iterator[Sequence[Any]], Callable[[Any], object]]


def write(
    session: Session,
    batches: dict[str, Batch],
    drawn: _Drawn,
    as_of: date,
    report: Progress,
    *,
    fast: bool = True,
) -> None:
    """Every row, in chunks, then each batch's counts. ``fast`` allows the SQLite paths."""
    counts = drawn.counts
    total = sum(counts.values())
    done = 0
    report(done, total, "正在写入户籍（户）…")
    for label, chunks, write_chunk in _steps(session, batches, drawn, as_of, fast=fast):
        for chunk in chunks:
            write_chunk(chunk)
            done += len(chunk)
            report(done, total, label)
    record_planted(session, drawn.departments)

    for dataset, batch in batches.items():
        batch.rows_total = batch.rows_inserted = counts[dataset]
        batch.rows_updated = batch.rows_unchanged = batch.rows_rejected = 0
    session.flush()
    report(total, total, "演示数据已生成")


def _steps(
    session: Session, batches: dict[str, Batch], drawn: _Drawn, as_of: date, *, fast: bool
) -> list[_Step]:
    """What is written, table by table: (progress label, chunks, what writes a chunk)."""

    def inserter(table: Table, columns: Sequence[str]) -> TupleInserter:
        return TupleInserter(
            session, table, columns, fast=fast and _covers_defaults(table, columns)
        )

    def indexed_after(table: str, chunks: Iterator[Any]) -> Iterator[Any]:
        sqlite = session.connection().dialect.name == "sqlite"
        return _indexes_after(session, table, chunks) if fast and sqlite else chunks

    label, person_chunks, write_persons = _person_step(
        session, inserter(table_of(Person), PERSON_COLUMNS), drawn, batches, as_of
    )
    steps: list[_Step] = [
        (
            "正在写入户籍（户）…",
            _batched(_household_rows(drawn.homes, batches["household"].id, as_of), CHUNK),
            inserter(table_of(Household), HOUSEHOLD_COLUMNS),
        ),
        (label, indexed_after("person", person_chunks), write_persons),
        (
            "正在写入参保登记…",
            indexed_after(
                "ss_enrollment",
                _batched(
                    _enrollment_rows(drawn.enrollment_people, batches["ss_enrollment"].id, as_of),
                    CHUNK,
                ),
            ),
            inserter(table_of(Enrollment), ENROLLMENT_COLUMNS),
        ),
    ]
    payments = inserter(table_of(Payment), PAYMENT_COLUMNS)
    if payments.fast:
        expand = _PaymentExpansion(session, drawn.payers, batches["ss_payment"].id, as_of)
        steps.append(("正在写入养老金发放明细…", expand.chunks(), expand))
    else:
        plain = _payment_rows(drawn.payers, batches["ss_payment"].id, as_of)
        steps.append(("正在写入养老金发放明细…", _batched(plain, PAYMENT_CHUNK), payments))
    for dataset in SOURCES:
        rows = drawn.departments.rows[dataset]
        if not len(rows):
            continue
        columns = (*rows.columns, "batch_id", "as_of")
        steps.append(
            (
                "正在写入民政、医保、卫健、残联演示数据…",
                indexed_after(
                    dataset, _batched(_tuples(rows, (batches[dataset].id, as_of)), PAYMENT_CHUNK)
                ),
                inserter(Base.metadata.tables[dataset], columns),
            )
        )
    return steps


def _person_step(
    session: Session,
    persons: TupleInserter,
    drawn: _Drawn,
    batches: dict[str, Batch],
    as_of: date,
) -> _Step:
    rows = _person_rows(drawn.homes, batches["person"].id, as_of)
    if not persons.fast:
        return "正在写入人员…", _batched(rows, CHUNK), persons
    staged = _Staged(session, "person", PERSON_COLUMNS)
    return "正在写入人员…", staged.chunks(rows), staged


class _Staged:
    """Rows into a table through a temporary staging table, one ``INSERT … SELECT`` a chunk.

    For the person table: its triggers write two FTS5 indexes, and FTS5 flushes its pending terms
    to disk at every statement savepoint — once a row in an executemany, once a chunk here (three
    times faster: 100,000 persons in ~1.6 s instead of ~5 s)."""

    def __init__(self, session: Session, table: str, columns: Sequence[str]) -> None:
        self.connection = session.connection()
        self.stage = f"temp.demo_stage_{table}"
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        self.create = f"CREATE TEMP TABLE demo_stage_{table} ({names})"
        self.fill = f"INSERT INTO {self.stage} ({names}) VALUES ({marks})"
        self.move = (
            f'INSERT INTO "{table}" ({names}) SELECT {names} FROM {self.stage} ORDER BY rowid'
        )

    def chunks(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
        self.connection.exec_driver_sql(self.create)
        yield from _batched(rows, STAGED_CHUNK)
        self.connection.exec_driver_sql(f"DROP TABLE {self.stage}")

    def __call__(self, chunk: list[tuple[Any, ...]]) -> None:
        run = self.connection.exec_driver_sql
        run(self.fill, chunk)
        run(self.move)
        run(f"DELETE FROM {self.stage}")


def _indexes_after(session: Session, table: str, chunks: Iterator[T]) -> Iterator[T]:
    """The chunks of ``table``, its indexes dropped before the first and made again after the
    last, from the statements SQLite keeps for them (``sqlite_master``): an index built over rows
    in place sorts them once, where one kept up to date takes each row into a B-tree that outgrows
    the page cache (100,000 households: persons and enrollments ~4 s faster). In the caller's
    transaction: a cancelled or failed generation rolls the drop back with everything else. Not
    for the payments: their one index (period) is filled in order anyway."""
    run = session.connection().exec_driver_sql
    indexes = run(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL",  # the UNIQUE constraints' automatic indexes have no SQL: kept
        (table,),
    ).all()
    for name, _ in indexes:
        run(f'DROP INDEX "{name}"')
    yield from chunks
    for _, sql in indexes:
        run(sql)


def _covers_defaults(table: Table, columns: Sequence[str]) -> bool:
    """Whether the rows give every column that has a Python-side default (a raw insert would
    leave such a column to the database, where the ORM would have filled it)."""
    given = set(columns)
    return all(c.name in given for c in table.columns if c.default is not None)


class _PaymentExpansion:
    """The payments of every receiver, expanded by SQLite from a receiver table and a month
    table (temporary, in memory), one chunk of whole receivers per ``INSERT … SELECT``.

    Iterate :meth:`chunks` and call the object with each chunk (as the other steps' writers); a
    chunk is a ``range`` of payment rows, its length the number of rows it writes. The temporary
    tables are dropped after the last chunk.
    """

    def __init__(
        self, session: Session, plan: list[tuple[str, int, int, int]], batch_id: int, as_of: date
    ) -> None:
        self.connection = session.connection()
        self.plan = plan
        self.batch_id = batch_id
        self.as_of = as_of.isoformat()  # as the DB-API stores a date
        self._bounds: dict[int, tuple[int, int]] = {}  # chunk start row → first and last receiver
        names = ", ".join(f'"{c}"' for c in PAYMENT_COLUMNS)
        self.sql = (
            f"INSERT INTO ss_payment ({names}) "
            "SELECT r.id_number, m.period, m.basic, r.account, m.basic + r.account, m.paid, ?, ? "
            "FROM temp.demo_receiver AS r JOIN temp.demo_month AS m "
            "ON m.month BETWEEN r.first AND r.last "
            "WHERE r.seq BETWEEN ? AND ? ORDER BY r.seq, m.month"
        )

    def chunks(self) -> Iterator[range]:
        self._create()
        start = rows = 0
        first = 1
        for seq, (_, first_month, last_month, _) in enumerate(self.plan, 1):
            rows += last_month - first_month + 1
            if rows >= PAYMENT_SQL_CHUNK or seq == len(self.plan):
                self._bounds[start] = (first, seq)
                yield range(start, start + rows)
                start, rows, first = start + rows, 0, seq + 1
        self.connection.exec_driver_sql("DROP TABLE temp.demo_receiver")
        self.connection.exec_driver_sql("DROP TABLE temp.demo_month")

    def __call__(self, chunk: range) -> None:
        first, last = self._bounds.pop(chunk.start)
        self.connection.exec_driver_sql(self.sql, (self.batch_id, self.as_of, first, last))

    def _create(self) -> None:
        run = self.connection.exec_driver_sql
        run(
            "CREATE TEMP TABLE demo_receiver (seq INTEGER PRIMARY KEY, id_number TEXT NOT NULL,"
            " first INTEGER NOT NULL, last INTEGER NOT NULL, account INTEGER NOT NULL)"
        )
        run(
            "CREATE TEMP TABLE demo_month (month INTEGER PRIMARY KEY, period INTEGER NOT NULL,"
            " basic INTEGER NOT NULL, paid TEXT NOT NULL)"
        )
        receivers = [(seq, *payer) for seq, payer in enumerate(self.plan, 1)]
        for chunk in _batched(receivers, PAYMENT_CHUNK):
            run("INSERT INTO temp.demo_receiver VALUES (?, ?, ?, ?, ?)", chunk)
        if self.plan:
            low = min(first for _, first, _, _ in self.plan)
            high = max(last for _, _, last, _ in self.plan)
            months = [
                (month, period, basic, paid.isoformat())
                for month, (period, basic, paid) in _payment_months(low, high)
            ]
            run("INSERT INTO temp.demo_month VALUES (?, ?, ?, ?)", months)


def _tuples(rows: Rows, provenance: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The rows with the batch and as-of date appended."""
    for row in rows:
        yield (*row, *provenance)


def _batched(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _household_rows(
    homes: list[_Household], batch_id: int, as_of: date
) -> Iterator[tuple[Any, ...]]:
    """In :data:`HOUSEHOLD_COLUMNS` order."""
    for home in homes:
        head = home.members[0]
        yield (
            home.id,
            home.household_no,
            home.household_type,
            home.address,
            home.village_code,
            head.id_number,
            head.name,
            batch_id,
            as_of,
        )


def _person_rows(homes: list[_Household], batch_id: int, as_of: date) -> Iterator[tuple[Any, ...]]:
    """In :data:`PERSON_COLUMNS` order; the name's search keys as the Person defaults make them."""
    initials, spaced = pinyin.initials, pinyin.spaced
    for home in homes:
        for p in home.members:
            yield (
                p.id_number,
                p.name,
                initials(p.name),
                spaced(p.name),
                "1" if p.male else "2",
                p.ethnicity,
                p.birth,
                home.id,
                home.household_no,
                p.relationship,
                p.village_code,
                p.status,
                p.status_date,
                p.phone,
                batch_id,
                as_of,
            )
