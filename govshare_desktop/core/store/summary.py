"""The 预填 summary (issue 20), kept in step with the records it counts: built whole from the records
(:func:`rebuild`: migration 0015 and the demo generator), refreshed at the end of every back-flow
import for what the import's batch touched (:func:`refresh_after_import`), and trusted only while
nothing else has written the records since (:func:`is_fresh`). The tables are described in
:mod:`govshare_desktop.core.store.models_summary`.

Every statement runs in the caller's transaction: an import that is rolled back (a dry run, a
cancel, an error) rolls its refresh back with it, and a backup or a restore holds the summary that
belongs to its records. The same SQL runs on SQLite and PostgreSQL (no temporary tables: the
application role on a server may not create them); only the date arithmetic differs.

What a refresh costs (:mod:`bench.bench_forms` measures it):

* persons, households, enrollments: each row the batch touched (inserted, changed in a field the
  summary reads, marked absent, come back) takes its old contribution away and adds its new one
  (:mod:`govshare_desktop.core.store.summary_delta`: time in proportion to the batch, read from
  ``record_history`` and the rows' ids); the payments of people whose village changed (or who
  newly joined the registry) move to their new village. A batch that touched more than a fifth
  of a table (a first import, a full snapshot that changed most rows), or whose record does not
  add up, has the table counted again from the records (one plain scan);
* payments: the months the file covered are counted again (the month index), and the months of
  the people paid in those months are set in ``summary_payee``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, bindparam, text

from govshare_desktop.core.store import summary_delta

# The records the summary counts, and the tables a back-flow of each dataset writes.
SUMMARISED = ("person", "household", "ss_enrollment", "ss_payment")
WRITES = {
    "person": ("person", "household"),
    "household": ("household",),
    "ss_enrollment": ("ss_enrollment",),
    "ss_payment": ("ss_payment",),
}
STATE_NAMES = ("batch", *SUMMARISED)
MOVES_COUNTED_AGAIN = 20_000  # more people moved by one import: the payments are counted again
DIRTY = "dirty"  # 1 once a record was changed or deleted other than by a batch not yet summarised
# The columns the summary reads: a change to one of them must be summarised.
WATCHED = {
    "person": (
        "id_number", "village_code", "sex_code", "birth_date", "status", "status_date",
        "absent_batch_id",
    ),
    "household": ("village_code", "household_type", "absent_batch_id"),
    "ss_enrollment": (
        "id_number", "village_code", "scheme_code", "status_code", "receiving", "absent_batch_id",
    ),  # id_number: summary_coverage (migration 0017)
    "ss_payment": ("id_number", "period", "total_fen", "basic_fen", "account_fen", "absent_batch_id"),
}  # fmt: skip


def _dialect(db: Any) -> str:
    bind = db.get_bind() if hasattr(db, "get_bind") else db
    return str(bind.dialect.name)


def month_end(column: str, dialect: str) -> str:
    """SQL for a date column at the resolution a period can tell apart: the last day of its month,
    except February, where the 1st–28th become the 28th and the 29th stays (a period ending on 28
    February of a common year has its age cut on the 28th of an earlier leap year)."""
    if dialect == "postgresql":
        return (
            f"CASE WHEN EXTRACT(MONTH FROM {column}) = 2 THEN"
            f" (CASE WHEN EXTRACT(DAY FROM {column}) = 29 THEN {column}"
            f" ELSE make_date(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER), 2, 28) END)"
            f" ELSE CAST(date_trunc('month', {column}) + interval '1 month - 1 day' AS DATE) END"
        )
    return (
        f"CASE WHEN substr({column}, 6, 2) = '02' THEN"
        f" (CASE WHEN substr({column}, 9, 2) = '29' THEN {column}"
        f" ELSE substr({column}, 1, 5) || '02-28' END)"
        f" ELSE date({column}, 'start of month', '+1 month', '-1 day') END"
    )


def plain(table: str, dialect: str, alias: str = "") -> str:
    """``table`` (as ``alias``) read by a plain scan on SQLite: an aggregate over most of a table
    is 3–5× faster read in table order than through an index on the grouped column, which SQLite
    picks to group without sorting and then reads one table page per row."""
    named = f"{table} {alias}" if alias else table
    return f"{named} NOT INDEXED" if dialect == "sqlite" else named


# ---------------------------------------------------------------- watching


def watch_statements(dialect: str, tables: Iterable[str] | None = None) -> list[str]:
    """Triggers that mark the summary dirty when a summarised record is changed or deleted by
    anything but an import in progress (whose rows carry a batch newer than the summary's, and
    which refreshes the summary before it commits): an edit by hand, a repair script. Inserts
    need no trigger: a new row raises its table's highest id (:func:`is_fresh`). ``tables``: the
    triggers of these tables only (their watched columns changed: migration 0017)."""
    mark = f"UPDATE summary_state SET max_id = 1 WHERE name = '{DIRTY}' AND max_id = 0"
    seen = "(SELECT max_id FROM summary_state WHERE name = 'batch')"
    statements = []
    if dialect == "postgresql" and tables is None:
        statements.append(
            "CREATE FUNCTION summary_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {mark}; RETURN NULL; END $$"
        )
    for table, columns in WATCHED.items():
        if tables is not None and table not in tables:
            continue
        if dialect == "postgresql":
            old = ", ".join(f"o.{c}" for c in columns)
            new = ", ".join(f"n.{c}" for c in columns)
            statements += [
                f"CREATE FUNCTION summary_watch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id"
                f" JOIN summary_state s ON s.name = 'batch' WHERE ({new}) IS DISTINCT FROM ({old})"
                " AND n.batch_id <= s.max_id AND COALESCE(n.absent_batch_id, 0) <= s.max_id)"
                f" THEN {mark}; END IF; RETURN NULL; END $$",
                f"CREATE TRIGGER summary_watch_{table} AFTER UPDATE ON {table}"
                " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
                f" FOR EACH STATEMENT EXECUTE PROCEDURE summary_watch_{table}()",
                f"CREATE TRIGGER summary_watch_{table}_delete AFTER DELETE ON {table}"
                " FOR EACH STATEMENT EXECUTE PROCEDURE summary_mark_dirty()",
            ]
            continue
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
        statements += [
            f"CREATE TRIGGER summary_watch_{table} AFTER UPDATE OF {', '.join(columns)}"
            f" ON {table} FOR EACH ROW WHEN ({changed}) AND NEW.batch_id <= {seen}"
            f" AND COALESCE(NEW.absent_batch_id, 0) <= {seen} BEGIN {mark}; END",
            f"CREATE TRIGGER summary_watch_{table}_delete AFTER DELETE ON {table}"
            f" BEGIN {mark}; END",
        ]
    return statements


def unwatch_statements(dialect: str, tables: Iterable[str] | None = None) -> list[str]:
    statements = []
    for table in WATCHED if tables is None else tables:
        for trigger in (f"summary_watch_{table}", f"summary_watch_{table}_delete"):
            on = f" ON {table}" if dialect == "postgresql" else ""
            statements.append(f"DROP TRIGGER {trigger}{on}")
        if dialect == "postgresql":
            statements.append(f"DROP FUNCTION summary_watch_{table}()")
    if dialect == "postgresql" and tables is None:
        statements.append("DROP FUNCTION summary_mark_dirty()")
    return statements


# ---------------------------------------------------------------- state


def _current_state(db: Any) -> dict[str, int]:
    """The highest id of the batches and of each summarised table (their primary keys: instant)."""
    columns = ", ".join(f"(SELECT COALESCE(MAX(id), 0) FROM {name})" for name in STATE_NAMES)
    row = db.execute(text(f"SELECT {columns}")).one()
    return {name: int(value) for name, value in zip(STATE_NAMES, row, strict=True)}


def _stored_state(db: Any) -> dict[str, int]:
    """The state the summary was made at, or {} if it was changed since (or never made)."""
    stored = {str(n): int(m) for n, m in db.execute(text("SELECT name, max_id FROM summary_state"))}
    if stored.pop(DIRTY, 1) != 0 or set(stored) != set(STATE_NAMES):
        return {}
    return stored


def _write_state(db: Any) -> None:
    db.execute(text("DELETE FROM summary_state"))
    db.execute(
        text("INSERT INTO summary_state (name, max_id) VALUES (:name, :max_id)"),
        [{"name": n, "max_id": m} for n, m in {**_current_state(db), DIRTY: 0}.items()],
    )


def is_fresh(db: Any) -> bool:
    """Whether the summary was made from the records as they are: nothing has been written to
    them since, but by an import that refreshed it. (Records are written only by back-flow
    imports, each under a new batch, and by the demo generator; both refresh the summary. A
    record changed or deleted otherwise marks it dirty: :func:`watch_statements`.)"""
    stored = _stored_state(db)
    return bool(stored) and stored == _current_state(db)


# ---------------------------------------------------------------- building


def rebuild(db: Any, *, coverage: bool = True) -> None:
    """The whole summary counted again from the records (``db``: a session or a connection).
    ``coverage``: False before migration 0017 made ``summary_coverage``."""
    _persons(db)
    _households(db)
    _enrollments(db)
    if coverage:
        coverage_rebuild(db)
    _payees_rebuild(db)
    _payments(db, None)
    _write_state(db)


def refresh_after_import(
    session: Any,
    dataset: str,
    batch_id: int,
    *,
    scope: Iterable[Any] | None = None,
    dry_run: bool = False,
) -> None:
    """Bring the summary up to date with what the import of batch ``batch_id`` wrote, in its
    transaction, just before it commits. ``scope``: for payments the months the file covered
    (what the import may have written or marked absent); otherwise ignored. A dry run is rolled
    back: nothing to do. When something other than this batch wrote the records since the last
    refresh, the whole summary is counted again."""
    if dry_run:
        return
    if not _only_this_batch_since(session, dataset, batch_id):
        rebuild(session)
        return
    before = _stored_state(session)  # the highest ids when the summary was last made
    if dataset == "person":
        moved = summary_delta.persons(session, batch_id, before["person"])
        if moved is None:
            _persons(session)
            coverage_rebuild(session)
        if not summary_delta.households(session, batch_id, before["household"]):
            _households(session)
        _move_payees(session, batch_id, moved)
    elif dataset == "household":
        if not summary_delta.households(session, batch_id, before["household"]):
            _households(session)
    elif dataset == "ss_enrollment":
        if not summary_delta.enrollments(session, batch_id, before["ss_enrollment"]):
            _enrollments(session)
            coverage_rebuild(session)
    elif dataset == "ss_payment":
        periods = {int(p) for p in scope} if scope is not None else None
        if periods is None:
            periods = set(
                session.execute(
                    text(
                        "SELECT DISTINCT period FROM ss_payment"
                        " WHERE batch_id = :b OR absent_batch_id = :b"
                    ),
                    {"b": batch_id},
                ).scalars()
            )
        if periods:
            _payees(session, periods)
            _payments(session, periods)
    _write_state(session)


def _only_this_batch_since(db: Any, dataset: str, batch_id: int) -> bool:
    """Whether the records are as the summary last saw them, but for what batch ``batch_id`` wrote:
    no other batch since, no new row of another table, no new row of this dataset's tables from
    anything but this batch."""
    stored = _stored_state(db)
    if not stored:
        return False
    before = db.execute(
        text("SELECT COALESCE(MAX(id), 0) FROM batch WHERE id < :b"), {"b": batch_id}
    ).scalar_one()
    if stored["batch"] != before:
        return False
    current = _current_state(db)
    written = WRITES.get(dataset, ())
    for table in SUMMARISED:
        if table not in written:
            if current[table] != stored[table]:
                return False
            continue
        other = db.execute(
            text(f"SELECT 1 FROM {table} WHERE id > :m AND batch_id <> :b LIMIT 1"),
            {"m": stored[table], "b": batch_id},
        ).first()
        if other is not None:
            return False
    return True


def _persons(db: Any) -> None:
    dialect = _dialect(db)
    db.execute(text("DELETE FROM summary_person"))
    db.execute(
        text(
            "INSERT INTO summary_person (village_code, sex_code, birth_date, status, status_date, n)"
            f" SELECT COALESCE(village_code, ''), sex_code, {month_end('birth_date', dialect)},"
            f" status, {month_end('status_date', dialect)}, COUNT(*)"
            f" FROM {plain('person', dialect)} WHERE absent_batch_id IS NULL"
            " GROUP BY 1, 2, 3, 4, 5"
        )
    )


def _scheme_held(schemes: str, *, paying_pension: bool = False) -> str:
    """SQL: the person ``p`` has an enrollment in ``schemes`` that is held (not 终止缴费, or paying
    a pension) or, ``paying_pension``, that pays one — as :func:`govshare_desktop.core.
    stats_queries._enrolled` asks it (through the unique index on ID number and scheme)."""
    held = (
        "e.receiving = :yes" if paying_pension else "(e.status_code <> '3' OR e.receiving = :yes)"
    )
    return (
        "EXISTS (SELECT 1 FROM ss_enrollment e WHERE e.id_number = p.id_number"
        f" AND e.scheme_code IN ({schemes}) AND e.absent_batch_id IS NULL AND {held})"
    )


def coverage_rebuild(db: Any) -> None:
    """``summary_coverage`` counted again from the registry and the enrollments (a plain scan of
    the persons, each one's enrollments looked up: 2.5–3 s at 200,000 households)."""
    dialect = _dialect(db)
    db.execute(text("DELETE FROM summary_coverage"))
    enrolled, receiving = _scheme_held("'170'"), _scheme_held("'170'", paying_pension=True)
    employee = _scheme_held("'110', '120'")
    db.execute(
        text(
            "INSERT INTO summary_coverage (village_code, birth_date, enrolled, receiving, n)"
            f" SELECT COALESCE(p.village_code, ''), {month_end('p.birth_date', dialect)},"
            f" {enrolled}, {receiving}, COUNT(*) FROM {plain('person', dialect, 'p')}"
            " WHERE p.status = 'normal' AND p.absent_batch_id IS NULL"
            f" AND NOT {employee} GROUP BY 1, 2, 3, 4"
        ),
        {"yes": True},
    )


def _households(db: Any) -> None:
    db.execute(text("DELETE FROM summary_household"))
    db.execute(
        text(
            "INSERT INTO summary_household (village_code, household_type, n)"
            " SELECT COALESCE(village_code, ''), household_type, COUNT(*)"
            f" FROM {plain('household', _dialect(db))} WHERE absent_batch_id IS NULL"
            " GROUP BY 1, 2"
        )
    )


def _enrollments(db: Any) -> None:
    db.execute(text("DELETE FROM summary_enrollment"))
    db.execute(
        text(
            "INSERT INTO summary_enrollment (village_code, scheme_code, status_code, receiving, n)"
            " SELECT COALESCE(village_code, ''), scheme_code, status_code, receiving, COUNT(*)"
            f" FROM {plain('ss_enrollment', _dialect(db))} WHERE absent_batch_id IS NULL"
            " GROUP BY 1, 2, 3, 4"
        )
    )


def _payments(db: Any, periods: set[int] | None) -> None:
    """The payment summary of these months (None: of every month) counted again, under the
    village ``summary_payee`` holds for each person (made first: a smaller table to look up than
    the registry, and the same village)."""
    # The payments first (CROSS JOIN keeps that order on SQLite, which would otherwise walk the
    # year's payees and look each one's payments up); all of them read in table order.
    where, params, source = "", {}, plain("ss_payment", _dialect(db), "t")
    if periods is not None:
        source = "ss_payment t"
        where, params = " AND t.period IN :periods", {"periods": sorted(periods)}
    expanding: list[BindParameter[Any]] = (
        [bindparam("periods", expanding=True)] if periods is not None else []
    )
    delete = "DELETE FROM summary_payment" + (" WHERE period IN :periods" if where else "")
    db.execute(text(delete).bindparams(*expanding), params)
    db.execute(
        text(
            "INSERT INTO summary_payment"
            " (village_code, period, payments, total_fen, basic_fen, account_fen)"
            " SELECT y.village_code, t.period, COUNT(*),"
            " SUM(t.total_fen), SUM(t.basic_fen), SUM(t.account_fen)"
            f" FROM {source} CROSS JOIN summary_payee y"
            " WHERE y.id_number = t.id_number AND y.year = t.period / 100"
            f" AND t.absent_batch_id IS NULL{where} GROUP BY 1, 2"
        ).bindparams(*expanding),
        params,
    )


def _payees_rebuild(db: Any) -> None:
    db.execute(text("DELETE FROM summary_payee"))
    db.execute(
        text(
            "INSERT INTO summary_payee (id_number, year, village_code, months)"
            " SELECT x.id_number, x.year, COALESCE(p.village_code, ''), x.months FROM"
            " (SELECT id_number, period / 100 AS year, SUM(1 << (period % 100 - 1)) AS months"
            "  FROM ss_payment WHERE absent_batch_id IS NULL GROUP BY id_number, period / 100) x"
            " LEFT JOIN person p ON p.id_number = x.id_number"
        )
    )


def _payees(db: Any, periods: set[int]) -> None:
    """``summary_payee`` for these months: the bits of these months set anew for everyone with a
    payment row in them (present: set; marked absent: cleared). Nobody else has a bit there: an
    import never deletes a payment, and a deletion by hand marks the summary dirty."""
    by_year: dict[int, list[int]] = {}
    for period in periods:
        by_year.setdefault(period // 100, []).append(period)
    months: BindParameter[Any] = bindparam("months", expanding=True)
    for year, in_year in sorted(by_year.items()):
        bits = sum(1 << (p % 100 - 1) for p in set(in_year))
        params = {"year": year, "keep": 0xFFF & ~bits, "months": sorted(in_year)}
        # A person already counted this year keeps the village found then (the registry's, kept
        # in step by _move_payees); one new this year gets the registry's.
        db.execute(
            text(
                "INSERT INTO summary_payee (id_number, year, village_code, months)"
                " SELECT x.id_number, :year, COALESCE(y.village_code, (SELECT p.village_code"
                " FROM person p WHERE p.id_number = x.id_number), ''), x.months FROM"
                " (SELECT id_number, SUM(CASE WHEN absent_batch_id IS NULL"
                "  THEN 1 << (period % 100 - 1) ELSE 0 END) AS months"
                "  FROM ss_payment WHERE period IN :months GROUP BY id_number) x"
                " LEFT JOIN summary_payee y ON y.id_number = x.id_number AND y.year = :year"
                " WHERE 1 = 1 ON CONFLICT (id_number, year) DO UPDATE"
                " SET months = (summary_payee.months & :keep) | excluded.months"
                " WHERE summary_payee.months <> ((summary_payee.months & :keep) | excluded.months)"
            ).bindparams(months),
            params,
        )
        db.execute(
            text("DELETE FROM summary_payee WHERE year = :year AND months = 0"), {"year": year}
        )


def _move_payees(db: Any, batch_id: int, people: list[str] | None = None) -> None:
    """Payments follow their person's village: those of people this batch moved to another
    village, or brought into the registry, move with them in ``summary_payment``. ``people``:
    the ID numbers of those persons, if known (:func:`summary_delta.persons`); else every person
    the batch wrote is looked at."""
    # The batch's persons first (a plain scan), then their summary rows: CROSS JOIN keeps that
    # order on SQLite, which would otherwise walk every payee and every payment.
    select_moved = (
        "SELECT DISTINCT y.id_number, y.village_code, COALESCE(p.village_code, '')"
        " FROM person p CROSS JOIN summary_payee y WHERE y.id_number = p.id_number"
        " AND COALESCE(p.village_code, '') <> y.village_code AND "
    )
    if people is None:
        moved = db.execute(text(select_moved + "p.batch_id = :b"), {"b": batch_id}).all()
    else:
        named: BindParameter[Any] = bindparam("who", expanding=True)
        moved = [
            row
            for start in range(0, len(people), 900)
            for row in db.execute(
                text(select_moved + "p.id_number IN :who").bindparams(named),
                {"who": people[start : start + 900]},
            )
        ]
    if len(moved) > MOVES_COUNTED_AGAIN:  # half the township moved (new village codes?)
        _payees_rebuild(db)
        _payments(db, None)
        return
    pairs: dict[tuple[str, str], list[str]] = {}
    for who, old, new in moved:
        pairs.setdefault((old, new), []).append(who)
    changes = []
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    for (old, new), people in pairs.items():
        for start in range(0, len(people), 900):
            for period, n, total, basic, account in db.execute(
                text(
                    "SELECT period, COUNT(*), SUM(total_fen), SUM(basic_fen), SUM(account_fen)"
                    " FROM ss_payment WHERE id_number IN :ids AND absent_batch_id IS NULL"
                    " GROUP BY period"
                ).bindparams(ids),
                {"ids": people[start : start + 900]},
            ):
                changes.append(
                    {"v": old, "p": period, "n": -n, "t": -total, "b": -basic, "a": -account}
                )
                changes.append(
                    {"v": new, "p": period, "n": n, "t": total, "b": basic, "a": account}
                )
    if changes:
        db.execute(
            text(
                "INSERT INTO summary_payment"
                " (village_code, period, payments, total_fen, basic_fen, account_fen)"
                " VALUES (:v, :p, :n, :t, :b, :a)"
                " ON CONFLICT (village_code, period) DO UPDATE SET"
                " payments = summary_payment.payments + excluded.payments,"
                " total_fen = summary_payment.total_fen + excluded.total_fen,"
                " basic_fen = summary_payment.basic_fen + excluded.basic_fen,"
                " account_fen = summary_payment.account_fen + excluded.account_fen"
            ),
            changes,
        )
        db.execute(text("DELETE FROM summary_payment WHERE payments = 0"))
    if moved:
        db.execute(
            text("UPDATE summary_payee SET village_code = :v WHERE id_number = :id"),
            [{"id": who, "v": new} for who, _old, new in moved],
        )
