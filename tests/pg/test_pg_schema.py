"""The same models and migrations on PostgreSQL (issue 18): an empty database migrates to head
and agrees with the models; the SQLite-only parts (FTS5 search tables, PRAGMAs, the file lock)
are left out by dialect; a newer schema is refused; several PCs starting at once migrate once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect, text

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store import members, migrate
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.models import Base
from govshare_desktop.core.store.search import SERVER_SEARCH_INDEXES


def _not_search_index(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """The server's search indexes are the migration's alone (as SQLite's FTS5 tables are):
    expressions and operator classes the models do not describe."""
    return not (type_ == "index" and name in SERVER_SEARCH_INDEXES)


def test_an_empty_database_migrates_to_head_and_agrees_with_the_models(pg_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(pg_url)
    assert store.server and store.path is None and not store.encrypted
    assert migrate.current_revision(store.engine) == migrate.SCHEMA_HEAD
    names = set(inspect(store.engine).get_table_names())
    assert names == set(Base.metadata.tables) | {"alembic_version"}  # no FTS5 tables
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _not_search_index}
        )
        assert compare_metadata(context, Base.metadata) == []
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("person")}
        assert set(SERVER_SEARCH_INDEXES) <= indexes
        triggers = connection.execute(
            text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
        ).scalars()
        watched = ("household", "person", "ss_enrollment", "ss_payment")  # the 预填 summary's
        assert list(triggers) == [
            "audit_log_no_change",
            "audit_log_no_truncate",
            "audit_state_no_delete",
            "audit_state_no_truncate",
            *sorted(members.TRIGGERS),  # 在册人数 (migration 0016)
            *sorted(f"summary_watch_{t}{end}" for t in watched for end in ("", "_delete")),
        ]
    store.dispose()
    again = open_store(pg_url)  # opening again migrates nothing
    assert migrate.current_revision(again.engine) == migrate.SCHEMA_HEAD
    again.dispose()


def test_a_database_from_a_newer_program_is_refused(pg_store) -> None:
    with pg_store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(UserError, match="更新版本"):
        open_store(pg_store.url)


def test_pcs_starting_at_once_migrate_once(pg_url) -> None:
    """The migration lock: four PCs open an empty database together; one migrates, the others
    wait for it and find nothing left to do."""
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(pg_url).dispose()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = open_store(pg_url)
    assert migrate.current_revision(store.engine) == migrate.SCHEMA_HEAD
    store.dispose()


@pytest.mark.slow
def test_downgrade_and_upgrade_round_trip(pg_url) -> None:
    from alembic import command

    store = open_store(pg_url)
    with store.engine.begin() as connection:
        command.downgrade(migrate._config(connection), "base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}
    migrate.upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= set(Base.metadata.tables)
    store.dispose()
