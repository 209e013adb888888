"""TLS between the PCs and a township's server (issue 18), on a real server that speaks TLS only
(:mod:`tests.pg_tls`: ``ssl=on``, a private certificate authority made in the test, ``hostssl``
with SCRAM passwords and ``hostnossl … reject`` in its ``pg_hba.conf``).

Measured, not assumed: the server itself reports every connection of the program encrypted
(``pg_stat_ssl``), and a relay between the program and the server sees neither the names nor the
ID numbers a search carries, though it sees them in clear without TLS. A certificate that cannot
be checked — the wrong authority's file, a name not on it, no file at all — is refused with what
to do, in Chinese; a connection without TLS is refused by the server. The program's own rule (no
address but this computer's without ``sslmode=require``/``verify-ca``/``verify-full``) is tested
end to end in ``tests/pg/test_pg_cli.py::test_a_server_over_the_network_without_tls_is_refused``;
here, that it counts ``hostaddr`` as libpq does.

The program connects as the least-privilege application role (``core/store/server_roles.py``,
tested in ``tests/pg/test_pg_roles.py``): set up by its owner, over TLS, as the administrator does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import ENTERED, FormValues
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.permissions import Role
from govshare_desktop.core.services import forms, imports, session, setup
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import create_engine_for
from govshare_desktop.core.store.server import InsecureServer, server_url
from tests.pg_server import Server
from tests.pg_tls import HOST, Tap, TlsServer, pg_tls_server  # noqa: F401 - a fixture
from tests.samples import samples_dir

NOW = datetime(2026, 11, 3, 9, 30)
ADMIN_PASSWORD = "Guanli#2026tls"
CLERK, CLERK_PASSWORD = "clerk", "Jingban#2026tls"
APP, APP_PASSWORD = "govshare_tls_app", "app-over-tls-5d1e7c"
PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
VILLAGE = "441900199201"


@dataclass
class Township:
    """The township's database on the TLS server, set up by its owner over ``verify-full``;
    :meth:`url` is a PC's URL (the application role)."""

    server: TlsServer
    database: str
    shown: dict[str, str]
    name: str  # a person of the imported back-flow file
    id_number: str

    def url(self, **how) -> str:  # type: ignore[no-untyped-def]
        return self.server.url(self.database, user=APP, password=APP_PASSWORD, **how)


@pytest.fixture(scope="module")
def township(pg_tls_server: TlsServer) -> Iterator[Township]:  # noqa: F811 - the fixture
    server = pg_tls_server
    database = server.create_database(server.new_name())
    with server.connect() as connection:
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(APP), sql.Literal(APP_PASSWORD)
            )
        )
    prepared = setup.prepare_server(
        server.url(database),  # the owner, over verify-full
        code="441900199000",
        name="青禾镇",
        admin_password=ADMIN_PASSWORD,
        app_role=APP,
    )
    shown = dict(prepared.shown)
    prepared.finish()
    township = Township(server, database, shown, "", "")
    admin = signin.sign_in(township.url(), "admin", ADMIN_PASSWORD, now=NOW)
    signin.add_account(admin.store, CLERK, Role.CLERK, CLERK_PASSWORD, must_change=False, now=NOW)
    admin.store.dispose()
    clerk = signin.sign_in(township.url(), CLERK, CLERK_PASSWORD, now=NOW)
    ctx = Context(clerk.store, clock=lambda: NOW)
    (done,) = imports.import_back_flow(ctx, [samples_dir() / PERSON_XLSX])
    assert not done.refused, done.message
    clerk.store.dispose()
    with server.connect(database) as connection:
        found = connection.execute(
            "SELECT name, id_number FROM person ORDER BY id_number LIMIT 1"
        ).fetchone()
    assert found is not None
    township.name, township.id_number = found
    yield township
    server.drop_database(database)
    with server.connect() as connection:
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP)))


def _tls_of_every_tcp_connection(server: TlsServer, database: str) -> set[tuple]:
    """What the server says of each TCP connection to ``database`` (its Unix socket, which the
    fixtures use, is not the network)."""
    with server.connect() as connection:
        rows = connection.execute(
            "SELECT s.ssl, s.version, s.cipher IS NOT NULL, a.usename FROM pg_stat_ssl s "
            "JOIN pg_stat_activity a USING (pid) "
            "WHERE a.datname = %s AND a.client_addr IS NOT NULL",
            (database,),
        ).fetchall()
    return set(rows)


def _pool(store) -> FormValues:  # type: ignore[no-untyped-def]
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    return FormValues(store, dictionary, templates)


# ---------------------------------------------------------------- encrypted, as measured


def test_a_pc_over_verify_full_is_encrypted_as_the_server_reports(township: Township) -> None:
    # What server init shows the administrator keeps the TLS part of the URL for every PC.
    pc_url = township.shown["各台电脑的连接地址"]
    assert "sslmode=verify-full" in pc_url and "sslrootcert=" in pc_url
    assert "hostaddr=127.0.0.1" in pc_url and APP in pc_url
    clerk = signin.sign_in(township.url(), CLERK, CLERK_PASSWORD, now=NOW)
    ctx = Context(clerk.store, clock=lambda: NOW)
    found = session.search_people(ctx, township.name)
    assert found.rows and any(township.id_number[:6] in cell for cell in found.rows[0])
    pool = _pool(clerk.store)
    period = Period.parse("2026-10")
    forms.set_value(ctx, pool, "S_LOW_INCOME", VILLAGE, period, "7")
    assert pool.values(period, [VILLAGE])["S_LOW_INCOME"][VILLAGE].origin == ENTERED
    with clerk.store.engine.connect() as connection:
        mine = connection.execute(
            text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ).one()
    assert mine.ssl is True and mine.version in ("TLSv1.2", "TLSv1.3")
    every = _tls_of_every_tcp_connection(township.server, township.database)
    clerk.store.dispose()
    assert every, "the program's connections are open while it is signed in"
    assert {
        (ssl, version in ("TLSv1.2", "TLSv1.3"), cipher, user)
        for ssl, version, cipher, user in every
    } == {(True, True, True, APP)}


def test_what_a_search_carries_cannot_be_read_on_the_wire(
    township: Township, pg_server: Server
) -> None:
    """A relay between the PC and the server keeps every byte: over TLS neither the person's
    name nor their ID number nor the database user is in them; without TLS (the plain test
    server, through the same kind of relay) they are."""
    tap = Tap(township.server.port)
    try:
        clerk = signin.sign_in(township.url(port=tap.port), CLERK, CLERK_PASSWORD, now=NOW)
        ctx = Context(clerk.store, clock=lambda: NOW)
        assert session.search_people(ctx, township.id_number[-6:]).rows
        assert session.search_people(ctx, township.name).rows
        clerk.store.dispose()
        seen = tap.seen()
    finally:
        tap.close()
    assert len(seen) > 10_000  # sign-in, the keys' row, two searches and their rows
    for secret in (township.id_number, township.name, APP, CLERK_PASSWORD):
        assert secret.encode() not in seen
    plain = Tap(pg_server.port)
    try:
        with psycopg.connect(
            host="127.0.0.1", port=plain.port, user="postgres", dbname="postgres", sslmode="disable"
        ) as connection:
            connection.execute("SELECT %s::text, %s::text", (township.name, township.id_number))
        seen = plain.seen()
    finally:
        plain.close()
    assert township.name.encode() in seen and township.id_number.encode() in seen


def test_a_local_url_without_sslmode_still_gets_tls(township: Township) -> None:
    """On this computer the program allows a URL without sslmode; libpq's default (prefer)
    takes TLS when the server offers it."""
    engine = create_engine_for(township.url(host="127.0.0.1", hostaddr=None, sslmode=None))
    with engine.connect() as connection:
        ssl = connection.execute(
            text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ).scalar_one()
    engine.dispose()
    assert ssl is True


def test_sslmode_require_encrypts_but_does_not_check_who_answers(
    township: Township, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the URLs say verify-full: with require, a server under any name is taken (no root
    certificate file, as on a PC that was given none)."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt
    engine = create_engine_for(township.url(host="impostor.test", sslmode="require"))
    with engine.connect() as connection:
        ssl = connection.execute(
            text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ).scalar_one()
    engine.dispose()
    assert ssl is True


# ---------------------------------------------------------------- refused, with the reason


def test_the_wrong_authority_is_refused_plainly(township: Township) -> None:
    url = township.url(ca=township.server.files.wrong_ca)
    with pytest.raises(UserError) as refused:
        signin.sign_in(url, CLERK, CLERK_PASSWORD, now=NOW)
    said = str(refused.value)
    assert said.startswith("无法连接数据库服务器") and "服务器证书无法验证" in said
    assert "certificate verify failed" in said and "sslrootcert=文件路径" in said
    assert CLERK_PASSWORD not in said and APP_PASSWORD not in said  # the URL is shown without


def test_a_name_not_on_the_certificate_is_refused_plainly(township: Township) -> None:
    with pytest.raises(UserError, match="服务器证书上的名称与连接地址中的服务器名不符"):
        signin.sign_in(township.url(host="other.test"), CLERK, CLERK_PASSWORD, now=NOW)


def test_a_missing_authority_file_is_refused_plainly(township: Township, tmp_path: Path) -> None:
    url = township.url(ca=tmp_path / "ca.crt")
    with pytest.raises(UserError, match="找不到核对服务器证书所用的根证书文件"):
        signin.sign_in(url, CLERK, CLERK_PASSWORD, now=NOW)


def test_the_server_refuses_a_connection_without_tls(township: Township) -> None:
    """127.0.0.1 may go unencrypted by the program's rule; the server says no all the same."""
    url = township.url(host="127.0.0.1", hostaddr=None, sslmode="disable")
    with pytest.raises(UserError) as refused:
        signin.sign_in(url, CLERK, CLERK_PASSWORD, now=NOW)
    said = str(refused.value)
    assert "服务器只接受加密（TLS）连接" in said and "sslmode=verify-full" in said
    assert "pg_hba.conf rejects connection" in said and "no encryption" in said


def test_the_rule_counts_hostaddr_as_libpq_does(township: Township) -> None:
    """A name that is not this computer's needs TLS even when ``hostaddr`` is 127.0.0.1 (the
    traffic may be forwarded on); and ``localhost`` with a remote ``hostaddr`` is remote."""
    for mode in (None, "disable", "allow", "prefer"):
        with pytest.raises(InsecureServer, match=f"拒绝连接数据库服务器 {HOST}"):
            server_url(township.url(sslmode=mode), environ={})
    with pytest.raises(InsecureServer, match=r"192\.0\.2\.10"):
        server_url(township.url(host="localhost", hostaddr="192.0.2.10", sslmode=None), {})
    for mode in ("require", "verify-ca", "verify-full"):
        assert server_url(township.url(sslmode=mode), environ={}).host == HOST
    engine = create_engine_for(township.url())  # verify-full: allowed, and it connects
    with engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar_one() == APP
    engine.dispose()


def test_a_server_without_tls_is_refused_plainly(pg_server: Server) -> None:
    """The plain test server (no ssl) asked for TLS: the administrator is to turn it on."""
    url = pg_server.url("postgres") + "?sslmode=require"
    with pytest.raises(UserError) as refused:
        signin.sign_in(url, CLERK, CLERK_PASSWORD, now=NOW)
    said = str(refused.value)
    assert "服务器没有开启 TLS 加密" in said and "server does not support SSL" in said
