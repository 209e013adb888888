import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store import migrate
from govshare_desktop.core.store.backup import backup_before_upgrade
from govshare_desktop.core.store.engine import ENV_DB, open_store, resolve_url
from govshare_desktop.core.store.township import (
    add_village,
    get_township,
    init_township,
    validate_township_code,
)

TABLES = {"setting", "area", "batch", "household", "person", "ss_enrollment", "ss_payment"}
# Revision 0007: the datasets of 民政, 医保, 殡葬, 卫健 and 残联.
DEPARTMENT_TABLES = {
    "assistance",
    "allowance_payment",
    "medical_enrollment",
    "cremation",
    "death_certificate",
    "disability_card",
}


def test_migrates_an_empty_file_to_head(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = open_store(path)
    assert path.exists()
    names = set(inspect(store.engine).get_table_names())
    assert names >= TABLES | DEPARTMENT_TABLES
    assert {"person_name_fts", "person_id_fts"} <= names
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    store.dispose()
    # Opening again is a no-op, not a second migration.
    again = open_store(path)
    assert migrate.current_revision(again.engine) == migrate.head_revision()
    again.dispose()


def test_fast_path_head_matches_alembic() -> None:
    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def test_downgrade_and_upgrade_round_trip(tmp_path: Path) -> None:
    from alembic import command

    store = open_store(tmp_path / "rt.db")
    with store.engine.begin() as conn:
        command.downgrade(migrate._config(conn), "base")
    assert not ((TABLES | DEPARTMENT_TABLES) & set(inspect(store.engine).get_table_names()))
    migrate.upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES | DEPARTMENT_TABLES
    # One step down removes exactly the department tables, and up brings them back.
    with store.engine.begin() as conn:
        command.downgrade(migrate._config(conn), "0006")
    names = set(inspect(store.engine).get_table_names())
    assert names >= TABLES and not (DEPARTMENT_TABLES & names)
    migrate.upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= DEPARTMENT_TABLES


def test_pragmas(store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_database_from_a_newer_program_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    store = open_store(path)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    before = path.read_bytes()
    with pytest.raises(UserError, match="更新版本"):
        open_store(path)
    assert path.read_bytes() == before


def _at_revision(path: Path, revision: str, key: bytes | None = None) -> None:
    """A database as an older program left it: schema at ``revision``, one township in it."""
    from alembic import command

    store = open_store(path, key=key)
    with store.engine.begin() as conn:
        command.downgrade(migrate._config(conn), revision)
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    store.dispose()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "sqlcipher"])
def test_an_older_database_is_backed_up_before_it_is_migrated(
    tmp_path: Path, encrypted: bool
) -> None:
    from govshare_desktop.core.store.engine import keyed_connect, sqlcipher_available

    if encrypted and not sqlcipher_available():
        pytest.skip("sqlcipher3 not installed")
    key = os.urandom(32) if encrypted else None
    path = tmp_path / "old.db"
    _at_revision(path, "0003", key)

    store = open_store(path, key=key, before_upgrade=backup_before_upgrade)  # as sign-in does
    assert migrate.current_revision(store.engine) == migrate.SCHEMA_HEAD
    assert get_township(store).name == "青禾镇"
    store.dispose()
    [copy] = (tmp_path / "backups").glob("govshare-before-upgrade-0003-*.db")
    connect = keyed_connect(key) or sqlite3.connect
    conn = connect(str(copy))
    try:  # the copy is the old database, whole: old schema, same rows
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
        assert conn.execute("SELECT name FROM area WHERE code = '441900199000'").fetchone() == (
            "青禾镇",
        )
    finally:
        conn.close()
    if encrypted:  # encrypted under the same key, like the live database
        assert not copy.read_bytes().startswith(b"SQLite format 3")
    # Opening again migrates nothing and backs nothing up.
    open_store(path, key=key, before_upgrade=backup_before_upgrade).dispose()
    assert len(list((tmp_path / "backups").iterdir())) == 1


def test_no_backup_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _at_revision(path, "0003")
    (tmp_path / "backups").write_text("a file where the backup directory should be")
    before = path.read_bytes()
    with pytest.raises(UserError, match="升级前的备份未能完成，数据库未作任何改动"):
        open_store(path, before_upgrade=backup_before_upgrade)
    assert path.read_bytes() == before
    probe = sqlite3.connect(path)
    assert probe.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
    probe.close()


def test_db_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DB, str(tmp_path / "env.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url(tmp_path / "flag.db") == f"sqlite:///{tmp_path / 'flag.db'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql://u@h/db"
    monkeypatch.delenv(ENV_DB)
    assert resolve_url(None).endswith("govshare-desktop/govshare.db")


def test_init_township(store) -> None:
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        add_village(session, "441900199201", "东岭村委会", urban_rural_code="220")
    township = get_township(store)
    assert township is not None
    assert (township.code, township.name, township.is_demo) == ("441900199000", "青禾镇", False)
    with store.transaction() as session, pytest.raises(UserError, match="不属于本乡镇"):
        add_village(session, "441900198201", "别处村", urban_rural_code="220")


def test_one_database_serves_one_township(store) -> None:
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    with pytest.raises(UserError, match="只服务一个"), store.transaction() as session:
        init_township(session, "441900198000", "别的镇")
    assert get_township(store).code == "441900199000"


@pytest.mark.parametrize("code", ["4419001990", "441900000000", "441900199201", "44190019900a"])
def test_township_code_validation(code: str) -> None:
    with pytest.raises(UserError):
        validate_township_code(code)


def test_models_and_migrations_agree(store) -> None:
    """A model change without its migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from govshare_desktop.core.store.models import Base

    def ours(name, type_, _parent) -> bool:  # type: ignore[no-untyped-def]
        # The FTS5 tables and their shadow tables are created by raw SQL in the migration.
        return not (type_ == "table" and "_fts" in (name or ""))

    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": ours, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []
