"""Applying normalised records to the store: match on natural keys, insert new, update changed (keeping
every previous value in ``record_history``), leave unchanged rows untouched, and mark records that a
full snapshot no longer contains as "not in latest back-flow".

Everything runs on the caller's session, inside the caller's one transaction. Work is done in chunks
(one SELECT of the existing rows per chunk, executemany for inserts and updates), never per row.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.targets import TARGETS, Record, Target
from govshare_desktop.core.domain import pinyin
from govshare_desktop.core.store.bulk import TupleInserter
from govshare_desktop.core.store.models import Household, Person, RecordHistory, table_of

__all__ = [
    "KEEP",
    "ROWS_KEY",
    "TARGETS",
    "Applier",
    "Counts",
    "FieldChange",
    "Outcome",
    "Record",
    "Spare",
    "Target",
    "link_households",
]


class _Keep:
    """A record's value for a column the file provides but could not give for this record (its
    source row was rejected): the stored value stays as it is, and a new record gets NULL."""

    _instance: _Keep | None = None

    def __new__(cls) -> _Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
ROWS_KEY = "_rejected_rows"  # in a record: the rejected rows it stands for (not a column)


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    absent: int = 0
    kept: int = 0  # existing records left as they were because their rows were rejected


@dataclass
class Spare:
    """Who a file's rejected rows may stand for, as far as the rows can tell: their readable
    公民身份号码, 户号 and 姓名 (each with the rows that named it). A record they may stand for is
    never marked absent; ``everything`` (rows that name nobody readable) spares every record."""

    COLUMNS = ("id_number", "head_id_number", "household_no", "name", "head_name")

    ids: dict[str, set[int]] = field(default_factory=dict)
    households: dict[str, set[int]] = field(default_factory=dict)
    names: dict[str, set[int]] = field(default_factory=dict)
    everything: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.ids or self.households or self.names or self.everything)

    def add(self, row: int, *, id_number: Any, household_no: Any, name: Any) -> None:
        """One rejected row: what could be read of who it is. 户号 spares the whole household
        (a rejected row's household is not evidence that any member left); a name alone spares
        everyone of that name; nothing readable spares everyone."""
        if id_number:
            self.ids.setdefault(id_number, set()).add(row)
        if household_no:
            self.households.setdefault(household_no, set()).add(row)
        elif name and not id_number:
            self.names.setdefault(name, set()).add(row)
        if not (id_number or household_no or name):
            self.everything.add(row)

    def rows_for(self, values: Any) -> set[int]:
        """The rejected rows that may stand for a stored record (its columns in ``values``)."""
        rows = set(self.everything)
        get = values.get
        for column, found in (
            ("id_number", self.ids),
            ("head_id_number", self.ids),
            ("household_no", self.households),
            ("name", self.names),
            ("head_name", self.names),
        ):
            if found and column in values:
                rows |= found.get(get(column), set())
        return rows


@dataclass
class FieldChange:
    key: str
    label: str  # a name to show
    column: str
    old: Any
    new: Any


@dataclass
class Outcome:
    """What applying did, for the result and the change report."""

    counts: Counts = field(default_factory=Counts)
    inserted: list[Record] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)
    absent: list[tuple[str, str]] = field(default_factory=list)  # (key, label)
    # Existing records left as they were because their rows were rejected: (key, label, rows).
    kept: list[tuple[str, str, tuple[int, ...]]] = field(default_factory=list)
    table_was_empty: bool = False
    keep_details: int = 5000  # per list; counts are always exact
    # Every inserted record's 出生日期 (persons), counted: the report's 新出生/新迁入 are exact
    # where ``inserted`` keeps only the first ``keep_details``.
    inserted_births: Counter[date] = field(default_factory=Counter)

    def note_insert(self, record: Record) -> None:
        born = record.get("birth_date")
        if isinstance(born, date):
            self.inserted_births[born] += 1
        if len(self.inserted) < self.keep_details:
            self.inserted.append(record)

    def note_change(self, change: FieldChange) -> None:
        if len(self.changes) < self.keep_details * 4:
            self.changes.append(change)

    def note_kept(self, key: str, label: str, rows: Iterable[int]) -> None:
        if len(self.kept) < self.keep_details:
            self.kept.append((key, label, tuple(sorted(set(rows)))))


class Applier:
    """Applies one file's records of one dataset, chunk by chunk, in the caller's transaction."""

    def __init__(
        self,
        session: Session,
        target: Target,
        provided: Sequence[str],
        *,
        batch_id: int,
        as_of: date | None,
        hold: bool = False,
    ) -> None:
        """``hold``: on SQLite, rows for a table that was empty wait in the staging table until
        :meth:`move_held` (the caller must call it): a person file's households are written
        first, so that its persons go in pointing at them (not linked by an update after)."""
        self.session = session
        self.target = target
        self.provided = tuple(c for c in target.columns if c in provided)
        self.batch_id = batch_id
        self.as_of = as_of
        self.outcome = Outcome()
        self.outcome.table_was_empty = (
            session.execute(select(target.table.c.id).limit(1)).first() is None
        )
        extra = ("name_initials", "name_chars") if target.dataset == "person" else ()
        insert_columns = (
            *target.key,
            *self.provided,
            *(c for c in target.defaults if c not in self.provided),
            *extra,
            "batch_id",
            "as_of",
        )
        # Every inserted row ends with the same provenance: prepared once, appended to each row.
        self._record_columns = insert_columns[:-2]
        # Columns filled in when the record has none (search keys, NOT NULL defaults).
        fillable = {"name_initials", "name_chars", *target.defaults}
        self._fill = [(i, c) for i, c in enumerate(self._record_columns) if c in fillable]
        # A record usually has every column (the builders set them all): one C call takes them.
        self._take = operator.itemgetter(*self._record_columns, *self._record_columns[:1])
        # On PostgreSQL a chunk's COPY runs while the pipeline reads and builds the next chunk.
        # Persons on SQLite through a staging table: their FTS5 triggers flush once a chunk.
        self._inserter = TupleInserter(
            session,
            target.table,
            insert_columns,
            background=True,
            staged=target.dataset == "person",
        )
        blank = [None] * len(self._record_columns)
        self._provenance = self._inserter.prepare([*blank, batch_id, as_of])[len(blank) :]
        self._select_columns = [target.table.c.id, *(target.table.c[c] for c in target.key)]
        self._select_columns += [target.table.c[c] for c in self.provided]
        self._select_columns.append(target.table.c.absent_batch_id)
        self._postgresql = session.connection().dialect.name == "postgresql"
        # Make a chunk's rows before waiting for the previous COPY (see apply()).
        self._ahead = self._inserter.background and self.outcome.table_was_empty
        self._hold = hold and self._inserter.staged and self.outcome.table_was_empty

    # ---------------------------------------------------------------- chunks

    def apply(self, records: Sequence[Record]) -> None:
        # On PostgreSQL the previous chunk's COPY may still run: the rows to insert are made
        # while it does, when most of the last chunk was new (not on a re-import: wasted there).
        made = [self._insert_tuple(r) for r in records] if self._ahead else None
        self._inserter.wait()  # the previous chunk written: the connection is free again
        if not records:
            return
        if self.outcome.table_was_empty:
            self._all_new(records, made)
            return
        target = self.target
        existing = self._existing(records)
        inserts: list[tuple[Any, ...]] = []
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        history: list[dict[str, Any]] = []
        offset = 1 + len(target.key)
        for index, record in enumerate(records):
            key = target.key_of(record)
            row = existing.get(key)
            if row is None:
                inserts.append(made[index] if made else self._insert_tuple(record))
                self.outcome.counts.inserted += 1
                self.outcome.note_insert(record)
                continue
            changed = {}
            kept = False
            for i, column in enumerate(self.provided):
                old, new = row[offset + i], record.get(column)
                if new is KEEP:
                    kept = kept or old is not None
                    continue
                if old != new:
                    changed[column] = new
                    history.append(
                        {
                            "dataset": target.dataset,
                            "record_key": target.key_text(key),
                            "field": column,
                            "old_value": _as_text(old),
                            "new_value": _as_text(new),
                            "batch_id": self.batch_id,
                        }
                    )
                    self.outcome.note_change(
                        FieldChange(target.key_text(key), _label(record, row), column, old, new)
                    )
            if kept:
                self.outcome.note_kept(
                    target.key_text(key), _label(record, row), record.get(ROWS_KEY, ())
                )
            was_absent = row[-1] is not None
            if not changed and not was_absent:
                self.outcome.counts.unchanged += 1
                continue
            if was_absent:
                history.append(
                    {
                        "dataset": target.dataset,
                        "record_key": target.key_text(key),
                        "field": "absent_batch_id",
                        "old_value": str(row[-1]),
                        "new_value": None,
                        "batch_id": self.batch_id,
                    }
                )
            if "name" in changed and target.dataset == "person":
                changed.update(
                    name_initials=pinyin.initials(changed["name"]),
                    name_chars=pinyin.spaced(changed["name"]),
                )
            changed.update(batch_id=self.batch_id, as_of=self.as_of, absent_batch_id=None)
            changed["_id"] = row[0]
            updates.setdefault(tuple(sorted(changed)), []).append(changed)
            self.outcome.counts.updated += 1
        self._write(inserts, updates, history)
        self._ahead = self._inserter.background and len(inserts) * 2 > len(records)

    def finish(self, *, quiet: bool = False) -> None:
        """Wait for the last chunk's rows (written in the background on PostgreSQL) and raise its
        error (``quiet``: not, when another error is on its way): before anything else uses the
        session, and before it commits or rolls back."""
        self._inserter.wait(quiet=quiet)

    def _all_new(
        self, records: Sequence[Record], made: list[tuple[Any, ...]] | None = None
    ) -> None:
        """Nothing existed before this import and the caller passes each key once: every record
        is new, so there is nothing to look up or compare."""
        rows = made or [self._insert_tuple(r) for r in records]
        if self._hold:
            self._inserter.hold(rows, prepared=True)
        else:
            self._inserter(rows, prepared=True)
        self.outcome.counts.inserted += len(records)
        room = self.outcome.keep_details - len(self.outcome.inserted)
        if room > 0:
            self.outcome.inserted.extend(records[:room])

    def move_held(self, computed: Mapping[str, str] | None = None) -> None:
        """The rows held for an empty table (``hold``) into it, in one statement; ``computed``:
        columns set by SQL over the staged row ``s`` (see :meth:`TupleInserter.move`)."""
        self._inserter.move(computed)

    def _existing(self, records: Sequence[Record]) -> dict[tuple[Any, ...], Any]:
        """The stored rows of these records, by natural key (one SELECT per 900 first keys).

        On PostgreSQL the lookup is held to the key's index. Without statistics (a table never
        analysed: a new or restored database, a copy; the application role may not ANALYZE) the
        planner takes 900 ID numbers for half the table and scans all of it, once a chunk: a
        million payments into a township of 1.1 million took 37 s instead of 17 s."""
        target = self.target
        first_key = target.table.c[target.key[0]]
        firsts = list({r[target.key[0]] for r in records})
        existing: dict[tuple[Any, ...], Any] = {}
        width = len(target.key)
        with self._index_only():
            for start in range(0, len(firsts), 900):
                rows = self.session.execute(
                    select(*self._select_columns).where(first_key.in_(firsts[start : start + 900]))
                )
                for found in rows:
                    existing[tuple(found[1 : 1 + width])] = found
        return existing

    @contextmanager
    def _index_only(self) -> Iterator[None]:
        """PostgreSQL: no sequential scan for the statements inside (this transaction only)."""
        if not self._postgresql:
            yield
            return
        run = self.session.connection().exec_driver_sql
        previous = "off" if run("SHOW enable_seqscan").scalar() == "off" else "on"
        run("SET LOCAL enable_seqscan = off")
        try:
            yield
        finally:
            run(f"SET LOCAL enable_seqscan = {previous}")

    def _write(
        self,
        inserts: list[tuple[Any, ...]],
        updates: dict[tuple[str, ...], list[dict[str, Any]]],
        history: list[dict[str, Any]],
    ) -> None:
        """One chunk's inserts, its updates grouped by the columns they set, and its history."""
        if inserts:
            self._inserter(inserts, prepared=True)
            if updates or history:
                self._inserter.wait()
        table = self.target.table
        for columns, params in updates.items():
            # Bind names must differ from column names in an UPDATE's SET clause.
            values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns if c != "_id"}
            statement = update(table).where(table.c.id == bindparam("v__id")).values(values)
            self.session.connection().execute(
                statement, [{f"v_{k}": v for k, v in p.items()} for p in params]
            )
        if history:
            self.session.execute(insert(RecordHistory), history)

    def _insert_tuple(self, record: Record) -> tuple[Any, ...]:
        try:
            values = list(self._take(record))
            values.pop()  # (the first column twice: the getter gives a tuple even for one column)
        except KeyError:
            values = [record.get(c) for c in self._record_columns]
        if ROWS_KEY in record:  # a record standing for rejected rows may hold KEEP values
            values = [None if v is KEEP else v for v in values]
        for index, column in self._fill:
            if values[index] is None:
                if column == "name_initials":
                    values[index] = pinyin.initials(record.get("name"))
                elif column == "name_chars":
                    values[index] = pinyin.spaced(record.get("name"))
                else:
                    values[index] = self.target.defaults[column]
        return self._inserter.prepare(values) + self._provenance

    # ---------------------------------------------------------------- snapshots

    def mark_absent(
        self,
        seen: Collection[Any],
        scope: Iterable[Any] | None,
        encode: Any,
        spare: Spare | None = None,
    ) -> None:
        """Records in scope that the file did not contain → absent (a flag, never a deletion).

        ``scope``: None for the whole table; otherwise what the file covers, as
        :meth:`Target.scope_of` gives it: for enrollments the schemes, for payments the months
        (values of the key's last column), for allowances the (津贴类别, month) pairs. ``encode``
        turns a key tuple into the form ``seen`` holds. ``spare``: what the file's rejected rows
        tell about the records they stand for; those records are left as they were
        (``outcome.kept``).
        """
        self.finish()
        target = self.target
        table = target.table
        key_columns = [table.c[k] for k in target.key]
        statement = select(table.c.id, *key_columns, table.c.absent_batch_id)
        label_name = next((c for c in ("name", "head_name") if c in table.c), None)
        if label_name is not None:
            statement = statement.add_columns(table.c[label_name].label("_label"))
        identity = [c for c in Spare.COLUMNS if c in table.c and c not in target.key]
        statement = statement.add_columns(*(table.c[c] for c in identity))
        # A row this import wrote came from a record of the file: it is not absent.
        statement = statement.where(table.c.batch_id != self.batch_id)
        width = target.scope_width if scope is not None else 0
        covered = set(scope or ())
        if width == 1:
            statement = statement.where(key_columns[-1].in_(list(covered)))
        elif width > 1:  # narrowed per column in SQL, the combinations checked below
            for i in range(1, width + 1):
                statement = statement.where(key_columns[-i].in_(list({s[-i] for s in covered})))
        to_mark: list[int] = []
        for row in self.session.execute(statement.execution_options(yield_per=10_000)):
            if row[1 + len(key_columns)] is not None:
                continue  # already absent
            key = tuple(row[1 : 1 + len(key_columns)])
            if encode(key) in seen or (width > 1 and key[-width:] not in covered):
                continue
            label = (row._mapping["_label"] if label_name is not None else "") or ""
            if spare is not None:
                rows = spare.rows_for(row._mapping)
                if rows:
                    self.outcome.counts.kept += 1
                    self.outcome.note_kept(target.key_text(key), label, rows)
                    continue
            to_mark.append(row[0])
            if len(self.outcome.absent) < self.outcome.keep_details:
                self.outcome.absent.append((target.key_text(key), label))
        for start in range(0, len(to_mark), 900):
            ids = to_mark[start : start + 900]
            self.session.execute(
                update(table).where(table.c.id.in_(ids)).values(absent_batch_id=self.batch_id)
            )
        if to_mark:
            self.session.execute(
                insert(RecordHistory),
                [
                    {
                        "dataset": target.dataset,
                        "record_key": str(i),
                        "field": "absent_batch_id",
                        "old_value": None,
                        "new_value": str(self.batch_id),
                        "batch_id": self.batch_id,
                    }
                    for i in to_mark
                ],
            )
        self.outcome.counts.absent += len(to_mark)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _label(record: Record, row: Any) -> str:
    name = record.get("name")
    return str(name) if name else ""


def link_households(session: Session, household_numbers: Iterable[str]) -> None:
    """Point persons at their household rows by 户号 (after households and persons are written)."""
    numbers = list(household_numbers)
    person = table_of(Person)
    household = table_of(Household)
    # Only persons not yet pointing at it (the others would be written again for nothing).
    found = (
        select(household.c.id)
        .where(household.c.household_no == person.c.household_no)
        .scalar_subquery()
    )
    for start in range(0, len(numbers), 900):
        chunk = numbers[start : start + 900]
        session.execute(
            update(person)
            .where(person.c.household_no.in_(chunk), person.c.household_id.is_distinct_from(found))
            .values(household_id=found)
        )
