"""A throwaway PostgreSQL server for the tests, from the distribution's packages (issue 18).

pytest-postgresql's executor runs ``pg_ctl`` (``initdb``, ``start``, ``stop``). Two things it does
not do, done here:

* **Find the server.** Debian installs ``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``,
  not on ``PATH``; the newest version there is taken when ``PATH`` has none.
* **Run as root.** ``initdb`` and ``pg_ctl`` refuse root, and CI runs as root. Then every
  ``pg_ctl`` call goes through a small script that runs it as an unprivileged account
  (``runuser -u postgres``, the account the ``postgresql`` package creates; ``nobody`` where there
  is none), in a data directory outside pytest's root-only temporary folder, owned by that account.

Nothing here skips: when the server cannot be started, :class:`ServerUnavailable` says why, and the
tests that need it fail with that reason.

Each test gets a fresh database, copied (``CREATE DATABASE … TEMPLATE``) from one migrated once per
session, so the migrations run once and a test's database costs one file copy on the server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg
from port_for import get_port
from psycopg import sql
from pytest_postgresql.executors import PostgreSQLExecutor

SUPERUSER = "postgres"
# A server for tests: nothing it holds must survive a crash, so nothing is synced.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
RUN_AS = ("postgres", "nobody")


class ServerUnavailable(RuntimeError):
    """PostgreSQL could not be started: the message says why and what to install."""


def find_pg_ctl() -> str:
    """``pg_ctl`` on PATH, else the newest under ``/usr/lib/postgresql/*/bin`` (Debian)."""
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if not candidates:
        raise ServerUnavailable(
            "PostgreSQL is not installed: no pg_ctl on PATH nor under /usr/lib/postgresql/*/bin. "
            "Install the server (Debian: apt-get install postgresql; .ci/run does)."
        )
    return max(candidates, key=lambda path: _version(Path(path).parents[1].name))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _unprivileged() -> pwd.struct_passwd:
    for name in RUN_AS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable(f"running as root and none of the accounts {RUN_AS} exists")


def _as_user_script(pg_ctl: str, account: str, directory: Path) -> str:
    """A ``pg_ctl`` that runs the real one as ``account`` (root may not run it)."""
    if shutil.which("runuser") is None:
        raise ServerUnavailable("running as root, and runuser (util-linux) is missing")
    script = directory / "pg_ctl"
    script.write_text(f'#!/bin/sh\nexec runuser -u {account} -- "{pg_ctl}" "$@"\n')
    script.chmod(0o755)
    return str(script)


@dataclass
class Server:
    executor: PostgreSQLExecutor
    directory: Path
    started_in: float  # seconds: initdb and start
    _names: count = field(default_factory=lambda: count(1))

    @property
    def port(self) -> int:
        return int(self.executor.port)

    def url(self, database: str, *, host: str = "127.0.0.1") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def new_name(self, prefix: str = "t") -> str:
        return f"{prefix}{os.getpid()}_{next(self._names)}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as connection:
            connection.execute(query)
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def stop(self) -> None:
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _wait_until_accepting(host: str, port: int, seconds: float = 60) -> None:
    """``pg_ctl -w`` can return while TCP connections are still told "the database system is
    starting up" (seen on a busy machine): wait until the server answers otherwise — any other
    answer, a refusal by pg_hba included, means it is up."""
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(host=host, port=port, user=SUPERUSER, dbname="postgres").close()
            return
        except psycopg.OperationalError as exc:
            if "starting up" not in str(exc) or time.monotonic() > deadline:
                return
        time.sleep(0.1)


def start_server(prepare: Callable[[Path], str] | None = None) -> Server:
    """initdb and start a server on a free port of 127.0.0.1 (its socket in its own folder).
    ``prepare`` is called with that folder before the server starts: it writes there what the
    server is to read (the server's account is given all of it) and returns more ``-c``
    options."""
    started = time.perf_counter()
    pg_ctl = find_pg_ctl()
    directory = Path(tempfile.mkdtemp(prefix="govshare-pg-"))
    try:
        executable = pg_ctl
        options = FAST
        if prepare is not None:
            options += " " + prepare(directory)
        if os.geteuid() == 0:
            account = _unprivileged()
            for path in (directory, *directory.rglob("*")):
                os.chown(path, account.pw_uid, account.pw_gid)
            executable = _as_user_script(pg_ctl, account.pw_name, directory)
        executor = PostgreSQLExecutor(
            executable=executable,
            host="127.0.0.1",
            port=get_port(None),
            datadir=str(directory / "data"),
            unixsocketdir=str(directory),
            logfile=str(directory / "server.log"),
            startparams="-w",
            dbname="govshare",
            user=SUPERUSER,
            postgres_options=options,
            timeout=60,
        )
        executor.start()
        _wait_until_accepting(executor.host, executor.port)
    except ServerUnavailable:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    except Exception as exc:
        log = directory / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.is_file() else "(no log)"
        shutil.rmtree(directory, ignore_errors=True)
        raise ServerUnavailable(
            f"PostgreSQL ({pg_ctl}) did not start: {type(exc).__name__}: {exc}\n{tail}"
        ) from exc
    return Server(executor, directory, time.perf_counter() - started)
