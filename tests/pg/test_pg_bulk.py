"""Bulk rows on both backends (issue 18): :class:`TupleInserter` writes through the DB-API on
SQLite and through ``COPY … FROM STDIN`` on PostgreSQL; the same rows come back from both — text
with tabs, newlines, backslashes and quotes, NULLs, dates, booleans — inside the caller's
transaction, and a duplicate key is SQLAlchemy's IntegrityError that leaves nothing behind."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from govshare_desktop.core.store.bulk import TupleInserter
from govshare_desktop.core.store.models import Batch, Enrollment, Payment, RecordHistory, table_of

AWKWARD = ["a\tb", "line\nbreak\r\n", "back\\slash \\N", "引号\"'", "", None, "王\x7f芳"]


def _batch(session) -> int:  # type: ignore[no-untyped-def]
    batch = Batch(dataset="ss_payment", source_department="测试", imported_at=datetime(2026, 11, 3),
                  imported_by="test")  # fmt: skip
    session.add(batch)
    session.flush()
    return batch.id


def test_rows_come_back_as_written_on_both_backends(any_store) -> None:
    server = any_store.server
    with any_store.transaction() as session:
        batch = _batch(session)
        history = TupleInserter(session, table_of(RecordHistory),
                                ("dataset", "record_key", "field", "old_value", "new_value", "batch_id"))  # fmt: skip
        assert history.copy is server  # the server's rows go through COPY
        history(
            [("ss_payment", f"k{i}", "name", text, text, batch) for i, text in enumerate(AWKWARD)]
        )
        payments = TupleInserter(session, table_of(Payment),
                                 ("id_number", "period", "basic_fen", "account_fen", "total_fen",
                                  "paid_date", "batch_id", "as_of"))  # fmt: skip
        rows = [
            ("44190019500101001X", 202610, 23800, 3000, 26800, date(2026, 10, 10), batch, None),
            ("441900195001010029", 202610, 0, 0, 0, None, batch, date(2026, 10, 31)),
        ]
        payments([payments.prepare(list(row)) for row in rows], prepared=True)
        enrollments = TupleInserter(session, table_of(Enrollment),
                                    ("id_number", "name", "scheme_code", "status_code",
                                     "receiving", "batch_id"))  # fmt: skip
        enrollments([enrollments.prepare(["44190019500101001X", "王芳", "120", "1", True, batch])],
                    prepared=True)  # fmt: skip
    with any_store.sessions() as session:
        texts = session.execute(select(RecordHistory.old_value, RecordHistory.new_value)
                                .order_by(RecordHistory.record_key)).all()  # fmt: skip
        assert [t[0] for t in texts] == AWKWARD and [t[1] for t in texts] == AWKWARD
        stored = session.execute(
            select(Payment.id_number, Payment.period, Payment.basic_fen, Payment.account_fen,
                   Payment.total_fen, Payment.paid_date, Payment.batch_id, Payment.as_of)
            .order_by(Payment.id_number)
        ).all()  # fmt: skip
        assert [tuple(r) for r in stored] == rows
        assert session.scalar(select(Enrollment.receiving)) is True


def test_a_duplicate_key_is_an_integrity_error_and_nothing_is_kept(any_store) -> None:
    row = ("44190019500101001X", 202610, 23800, 3000, 26800, date(2026, 10, 10))
    columns = ("id_number", "period", "basic_fen", "account_fen", "total_fen", "paid_date",
               "batch_id")  # fmt: skip
    with pytest.raises(IntegrityError), any_store.transaction() as session:
        batch = _batch(session)
        inserter = TupleInserter(session, table_of(Payment), columns)
        inserter([(*row, batch)])
        inserter([(*row, batch)])  # the same (公民身份号码, 发放年月) again
    with any_store.sessions() as session:
        assert session.scalar(select(Payment.id)) is None
        assert session.scalar(select(Batch.id)) is None


def test_rows_written_in_the_background_are_there_and_an_error_comes_back(any_store) -> None:
    """``background``: the COPY of a batch runs on a thread while the caller goes on (PostgreSQL);
    the next statement of the session waits for it, and its error is raised by wait() — the same
    IntegrityError, nothing kept. On SQLite the flag changes nothing."""
    columns = ("id_number", "period", "basic_fen", "account_fen", "total_fen", "batch_id")
    with any_store.transaction() as session:
        batch = _batch(session)
        inserter = TupleInserter(session, table_of(Payment), columns, background=True)
        assert inserter.background is any_store.server
        for month in range(1, 13):
            inserter([(f"4419001950010100{i:02d}", 202600 + month, 1, 2, 3, batch)
                      for i in range(50)])  # fmt: skip
        inserter.wait()
        assert session.scalar(select(func.count(Payment.id))) == 600
    row = ("44190019500101001X", 202610, 23800, 3000, 26800)
    with pytest.raises(IntegrityError), any_store.transaction() as session:
        batch = _batch(session)
        inserter = TupleInserter(session, table_of(Payment), columns, background=True)
        inserter([(*row, batch)])
        inserter([(*row, batch)])  # the same (公民身份号码, 发放年月) again
        inserter.wait()
    with any_store.sessions() as session:
        assert session.scalar(select(func.count(Payment.id))) == 600
