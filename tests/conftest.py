"""Shared fixtures. Qt runs offscreen; every test gets real SQLite files under tmp_path.

Password hashes and wrapped keys are made with the test suite's cheap Argon2id profile
(:mod:`tests.kdf`); a test about the hashing itself is marked ``real_kdf`` and gets the
product's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from govshare_desktop.core.security import crypto
from govshare_desktop.core.store.engine import Store, open_store
from tests.kdf import kdf_profile, use_cheap_kdf

DEMO_HOUSEHOLDS = 300
TODAY = date(2026, 11, 26)  # the day the window tests are run on

use_cheap_kdf()


@pytest.fixture(autouse=True)
def _kdf_profile(request):  # type: ignore[no-untyped-def]
    """The cheap profile, or the product's for a test marked ``real_kdf``."""
    if request.node.get_closest_marker("real_kdf"):
        with kdf_profile(crypto.PRODUCT):
            yield
    else:
        yield


@pytest.fixture
def samples() -> Path:
    """The sample back-flow files (tests/data/samples, or GOVSHARE_SAMPLES), checked."""
    from tests.samples import samples_dir

    return samples_dir()


def as_clerk(store: Store) -> Store:
    """A plain test database, used as a signed-in 经办人 would (permissions are checked, the
    audit trail is written under a random key)."""
    from govshare_desktop.core.security.permissions import Principal, Role

    return store.acting(Principal("clerk", Role.CLERK), os.urandom(32))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = as_clerk(open_store(tmp_path / "govshare.db"))
    yield s
    s.dispose()


def township_template(
    factory: pytest.TempPathFactory, name: str, *, households: int, seed: int
) -> Path:
    """A generated township written once (for a session or a module), to be copied by each test
    that writes to it (:func:`copy_of`)."""
    from govshare_desktop.core.demo import generate

    path = factory.mktemp(name) / f"{name}.db"
    s = open_store(path)
    generate(s, households=households, seed=seed)
    with s.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    s.dispose()
    return path


def copy_of(template: Path, tmp_path: Path) -> Iterator[Store]:
    """A test's private copy of ``template``, used as a signed-in 经办人; disposed of after."""
    path = tmp_path / template.name
    shutil.copyfile(template, path)
    s = as_clerk(open_store(path))
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return township_template(tmp_path_factory, "demo", households=DEMO_HOUSEHOLDS, seed=7)


@pytest.fixture
def demo_store(_demo_template: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of a 300-household demo township (generated once per test session)."""
    yield from copy_of(_demo_template, tmp_path)


@pytest.fixture
def pool(demo_store):  # type: ignore[no-untyped-def]
    """The demo township's value pool (一表通) with October 2026 prefilled."""
    from datetime import datetime

    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.templates import load_templates
    from govshare_desktop.core.forms.values import FormValues

    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    values = FormValues(demo_store, dictionary, templates)
    values.prefill(
        Period.parse("2026-10"),
        township_code="441900199000",
        user="clerk",
        now=datetime(2026, 11, 3, 9, 30),
    )
    return values


@pytest.fixture
def window(qtbot, qapp, demo_store):  # type: ignore[no-untyped-def]
    """The main window on the demo township, in Chinese, shown, on :data:`TODAY`."""
    from govshare_desktop.ui.i18n import install_chinese
    from govshare_desktop.ui.main_window import MainWindow

    install_chinese(qapp)
    win = MainWindow(demo_store, today=lambda: TODAY)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()  # keyboard tests check focus: the window must be the active one
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    return win


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory, monkeypatch):  # type: ignore[no-untyped-def]
    """What the window remembers (QSettings: sizes, columns, pages, folders) goes to a folder of
    the test's own, never the user's; exports default to one too (GOVSHARE_EXPORT_DIR)."""
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # pragma: no cover — Qt missing: no UI tests either
        yield
        return
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("GOVSHARE_EXPORT_DIR", str(folder / "exports"))
    yield


@pytest.fixture(autouse=True)
def _no_error_dialogs(request, monkeypatch):  # type: ignore[no-untyped-def]
    """An error dialog in a test would wait for a click for ever (offscreen): record it instead,
    and fail the test that caused it, with the message. Tests marked ``error_dialog`` check the
    dialog themselves (with its QMessageBox patched)."""
    if request.node.get_closest_marker("error_dialog"):
        yield
        return
    shown: list[str] = []
    try:
        import govshare_desktop.ui.errors as errors
    except ImportError:  # pragma: no cover — Qt missing: no UI tests either
        yield
        return
    monkeypatch.setattr(errors, "show_error", lambda _parent, exc: shown.append(repr(exc)))
    yield
    assert not shown, f"an error dialog would have been shown: {shown}"


# ---------------------------------------------------------------- PostgreSQL (issue 18)


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server for the session (:mod:`tests.pg_server`), started only when a
    test asks for it. It never skips: a server that cannot start fails the test, saying why."""
    from tests.pg_server import ServerUnavailable, start_server

    try:
        server = start_server()
    except ServerUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed and could not be started: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _pg_template(pg_server) -> str:  # type: ignore[no-untyped-def]
    """A database migrated to head once per session; each test copies it."""
    name = pg_server.create_database(pg_server.new_name("template"))
    open_store(pg_server.url(name)).dispose()
    return name


@pytest.fixture
def pg_url(pg_server):  # type: ignore[no-untyped-def]
    """A new, empty database on the test server (dropped afterwards)."""
    name = pg_server.create_database(pg_server.new_name())
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def pg_store(pg_server, _pg_template):  # type: ignore[no-untyped-def]
    """A new database at head on the test server, used as a signed-in 经办人 would (as
    :func:`store` on SQLite)."""
    name = pg_server.create_database(pg_server.new_name(), template=_pg_template)
    s = as_clerk(open_store(pg_server.url(name)))
    yield s
    s.dispose()
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request):  # type: ignore[no-untyped-def]
    """The test runs twice: on a SQLite file and on PostgreSQL."""
    return request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")


@pytest.fixture(scope="session")
def _pg_demo_template(pg_server, _pg_template) -> str:  # type: ignore[no-untyped-def]
    """The demo township of :func:`_demo_template`, generated once on the server."""
    from govshare_desktop.core.demo import generate

    name = pg_server.create_database(pg_server.new_name("demo"), template=_pg_template)
    s = open_store(pg_server.url(name))
    generate(s, households=DEMO_HOUSEHOLDS, seed=7)
    s.dispose()
    return name


@pytest.fixture
def pg_demo_store(pg_server, _pg_demo_template):  # type: ignore[no-untyped-def]
    """A private copy of the demo township on the server (as :func:`demo_store`)."""
    name = pg_server.create_database(pg_server.new_name(), template=_pg_demo_template)
    s = as_clerk(open_store(pg_server.url(name)))
    yield s
    s.dispose()
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_demo_store(request):  # type: ignore[no-untyped-def]
    """The demo township, on a SQLite file and on PostgreSQL."""
    return request.getfixturevalue("demo_store" if request.param == "sqlite" else "pg_demo_store")


@pytest.fixture
def pg_migrated_url(pg_server, _pg_template):  # type: ignore[no-untyped-def]
    """A new database at head on the server, nobody set up in it yet (dropped afterwards)."""
    name = pg_server.create_database(pg_server.new_name(), template=_pg_template)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Where a database is to be set up: a SQLite file's path, or a server database's URL."""
    if request.param == "sqlite":
        return tmp_path / "gov.db"
    return request.getfixturevalue("pg_migrated_url")
