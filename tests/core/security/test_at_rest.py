"""Nothing readable at rest: a planted ID number and name appear in no byte of the database, its
WAL or the key file, and a deleted record leaves no trace in the file."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.security import signin
from govshare_desktop.core.store.models import Batch, Person

PLANTED = idnumber.make("441900", date(1961, 7, 19), 137, male=False)
NAME = "甄秘密"


def _files(db: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in db.parent.iterdir()
        if p.name.startswith(db.name) and p.is_file()
    }


def test_no_planted_personal_data_in_any_file(tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    setup = signin.initialise(db, admin_password="Guanli#2026rest", now=datetime(2026, 11, 27))
    with setup.store.transaction() as session:
        batch = Batch(
            dataset="person",
            source_department="公安",
            imported_at=datetime(2026, 11, 27),
            imported_by="test",
        )
        session.add(batch)
        session.flush()
        session.add(
            Person(
                id_number=PLANTED,
                name=NAME,
                sex_code="2",
                birth_date=date(1961, 7, 19),
                status="normal",
                batch_id=batch.id,
            )
        )
    files = _files(db)  # the engine is still open: the row may be only in the WAL
    assert {"gov.db", "gov.db.keys"} <= set(files)
    for name, data in files.items():
        assert PLANTED.encode() not in data, name
        assert NAME.encode("utf-8") not in data, name
        assert not data.startswith(b"SQLite format 3"), name
    with setup.store.transaction() as session:
        session.execute(delete(Person).where(Person.id_number == PLANTED))
    with setup.store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    setup.store.dispose()
    for name, data in _files(db).items():
        assert PLANTED.encode() not in data, name


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_database_files_are_private_to_their_owner(tmp_path: Path) -> None:
    data = tmp_path / "home" / "govshare-desktop"
    setup = signin.initialise(data / "govshare.db", admin_password="Guanli#2026rest")
    with setup.store.transaction() as session:  # a write, so that the WAL exists
        session.add(
            Batch(
                dataset="person",
                source_department="公安",
                imported_at=datetime(2026, 11, 27),
                imported_by="test",
            )
        )
    for path in [data, *data.iterdir()]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name}: {oct(mode)}"
    assert {p.name for p in data.iterdir()} >= {"govshare.db", "govshare.db.keys"}
    setup.store.dispose()
