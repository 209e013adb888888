"""Least privilege on a township's server (issue 18): the database belongs to an owner role that
only ``govshare server init`` and ``server upgrade`` connect as; the program on each PC connects
as the application role, which may read and write rows and nothing more — the audit trail only
appended, nothing created, dropped or truncated, no catalog of passwords read. A newer program
whose schema is ahead of the database is refused under the application role, with what the
administrator is to run; once the owner has upgraded, the grants hold for the new schema.

Every test makes its own owner and application roles on the test server (roles belong to the
whole server), a database owned by that owner, and connects as them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import inspect, text

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import ENTERED, FormValues
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import forms, imports, setup
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store import migrate, server_roles
from govshare_desktop.core.store.engine import Store, create_engine_for, open_store
from govshare_desktop.core.store.server_roles import (
    FULL,
    LIMITED,
    RoleRefused,
    SchemaBehind,
    table_privileges,
)
from tests.core.use_cases import covers
from tests.e2e.cli import ADMIN_PASSWORD, add_clerk, govshare
from tests.e2e.launch import command
from tests.pg_server import Server

PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"
CLERK_FIRST, CLERK_OWN = "Start#2026roles", "Jingban#2026roles"
APP_SECRET = "pgpass-only-8f3c1e9a7b2d"  # the application role's password (as in pgpass)
EVERY = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
NOW = datetime(2026, 11, 3, 9, 30)
VILLAGE = "441900199201"  # 东岭村委会
TOWNSHIP = ("--area", "441900199000", "--name", "青禾镇")


@dataclass
class Office:
    """A database on the test server owned by ``owner``; ``app``: the application role's name."""

    server: Server
    database: str
    owner: str
    app: str

    @property
    def port(self) -> int:
        return self.server.port

    def url(self, user: str) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{self.database}"

    def connect(self, user: str, password: str | None = None) -> psycopg.Connection:
        params: dict[str, str | int] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": user,
            "dbname": self.database,
        }
        if password is not None:
            params["password"] = password
        return psycopg.connect(make_conninfo("", **params), autocommit=True)

    def admin(self) -> psycopg.Connection:
        """The server's superuser (the one who creates roles and databases)."""
        return self.server.connect(self.database)


@pytest.fixture
def office(pg_server: Server) -> Iterator[Office]:
    """An owner role (LOGIN, nothing more) and an empty database it owns, as the server's
    administrator makes them before ``govshare server init``."""
    owner, app = pg_server.new_name("owner"), pg_server.new_name("app")
    database = pg_server.new_name("roles")
    with pg_server.connect() as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
        connection.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(owner)
            )
        )
    yield Office(pg_server, database, owner, app)
    pg_server.drop_database(database)
    with pg_server.connect() as connection:
        for role in (app, owner):
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _create_app_role(office: Office) -> None:
    """The server's administrator creates the application role with a password."""
    with office.server.connect() as connection:
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(office.app), sql.Literal(APP_SECRET)
            )
        )


def _set_up(office: Office) -> None:
    prepared = setup.prepare_server(
        office.url(office.owner),
        code="441900199000",
        name="青禾镇",
        admin_password=ADMIN_PASSWORD,
        app_role=office.app,
    )
    shown = dict(prepared.shown)
    assert shown["各台电脑的数据库用户"] == f"{office.app}（已有，口令不变）"
    assert shown["各台电脑的连接地址"] == (
        f"postgresql://{office.app}@127.0.0.1:{office.port}/{office.database}"
    )
    assert "磁盘加密" in shown["服务器磁盘加密"]  # the one thing the program cannot check
    prepared.finish()


def _privileges(connection: psycopg.Connection, role: str) -> dict[str, tuple[str, ...]]:
    """What ``role`` may do on each table of the schema, as the server says."""
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    ]
    found = {}
    for table in tables:
        found[table] = tuple(
            privilege
            for privilege in EVERY
            if connection.execute(
                "SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)
            ).fetchone()[0]  # type: ignore[index]
        )
    return found


def _denied(connection: psycopg.Connection, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        connection.execute(statement)


def _pool(store: Store) -> FormValues:
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    return FormValues(store, dictionary, templates)


# ---------------------------------------------------------------- the grants


def test_the_grants_cover_every_table_of_the_schema(pg_migrated_url) -> None:
    store = open_store(pg_migrated_url, migrate=False)
    with store.engine.connect() as connection:
        on_server = set(inspect(connection).get_table_names())
    store.dispose()
    granted = table_privileges()
    assert set(granted) == on_server  # none missed, none the server does not have
    assert granted["audit_log"] == ("SELECT", "INSERT")
    assert granted["audit_state"] == ("SELECT", "INSERT", "UPDATE")
    assert granted["alembic_version"] == ("SELECT",)
    assert all(granted[t] == FULL for t in on_server - set(LIMITED))
    assert granted["person"] == granted["form_value"] == granted["key_vault"] == FULL


@covers("setup.prepare_server")
def test_a_pc_signs_in_imports_and_enters_values_as_the_application_role(
    office: Office, samples: Path
) -> None:
    _create_app_role(office)
    _set_up(office)
    url = office.url(office.app)  # each PC's program
    signed = signin.sign_in(url, "admin", ADMIN_PASSWORD, now=NOW)
    signin.add_account(signed.store, "clerk", Role.CLERK, CLERK_FIRST, now=NOW)
    signed.store.dispose()
    clerk = signin.sign_in(url, "clerk", CLERK_FIRST, now=NOW)
    assert clerk.must_change_password
    signin.change_password(clerk.store, CLERK_FIRST, CLERK_OWN, now=NOW)
    clerk.store.dispose()
    clerk = signin.sign_in(url, "clerk", CLERK_OWN, now=NOW)
    ctx = Context(clerk.store, clock=lambda: NOW)
    (done,) = imports.import_back_flow(ctx, [samples / PERSON_XLSX])
    assert not done.refused, done.message
    pool = _pool(clerk.store)
    period = Period.parse("2026-10")
    forms.set_value(ctx, pool, "S_LOW_INCOME", VILLAGE, period, "12")
    assert pool.values(period, [VILLAGE])["S_LOW_INCOME"][VILLAGE].origin == ENTERED
    trail = audit_trail(clerk.store).verify(Principal("auditor", Role.AUDITOR))
    assert trail.ok and trail.entries >= 7
    with clerk.store.engine.connect() as connection:
        who = connection.execute(text("SELECT current_user")).scalar_one()
    assert who == office.app
    clerk.store.dispose()


def test_the_application_role_can_do_nothing_more(office: Office) -> None:
    _create_app_role(office)
    _set_up(office)
    with office.connect(office.app) as app:
        attributes = app.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert attributes == (False, False, False, False, False)
        assert _privileges(app, office.app) == table_privileges()
        assert app.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0  # type: ignore[index]
        for statement in (
            "CREATE TABLE stolen (id int)",
            "CREATE TEMPORARY TABLE scratch (id int)",
            "CREATE VIEW everyone AS SELECT * FROM person",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "UPDATE audit_log SET username = 'nobody'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DELETE FROM audit_state",
            "UPDATE alembic_version SET version_num = '0001'",
            "TRUNCATE person",
            "DROP TABLE person",
            "DROP TABLE audit_log",
            "DROP TRIGGER audit_log_no_change ON audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "ALTER TABLE person ADD COLUMN note text",
            "DROP FUNCTION govshare_refuse()",
            "SELECT rolpassword FROM pg_authid",
            "SELECT pg_read_file('postgresql.conf')",
            "COPY person TO PROGRAM 'cat'",
            "CREATE ROLE intruder LOGIN SUPERUSER",
            "CREATE DATABASE copy_of_it",
            "CREATE EXTENSION hstore",
            f"SET ROLE {office.owner}",
            f"ALTER ROLE {office.app} CREATEROLE",
        ):
            _denied(app, statement)
        app.execute("GRANT ALL ON audit_log TO PUBLIC")  # only a warning: nothing granted
        assert _privileges(app, office.app) == table_privileges()
        public = (
            "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.relnamespace = current_schema()::regnamespace AND a.grantee = 0"
        )
        assert app.execute(public).fetchone() == (0,)
        row = app.execute(
            "SELECT has_schema_privilege(current_schema(), 'CREATE'), "
            "has_database_privilege(current_database(), 'TEMPORARY'), "
            "has_database_privilege(current_database(), 'CREATE')"
        ).fetchone()
        assert row == (False, False, False)
    with office.admin() as admin:  # other roles of the server may not even connect
        assert not admin.execute(
            "SELECT has_database_privilege('pg_monitor', current_database(), 'CONNECT')"
        ).fetchone()[0]  # type: ignore[index]


def test_tables_a_later_migration_creates_are_granted(office: Office) -> None:
    _create_app_role(office)
    _set_up(office)
    with office.connect(office.owner) as owner:  # a migration of a later version, as the owner
        owner.execute("CREATE TABLE later_thing (id serial PRIMARY KEY, note text NOT NULL)")
    with office.connect(office.app) as app:  # default privileges: rows, and the sequence
        app.execute("INSERT INTO later_thing (note) VALUES ('新表')")
        app.execute("UPDATE later_thing SET note = '改'")
        assert app.execute("SELECT note FROM later_thing").fetchone() == ("改",)
        app.execute("DELETE FROM later_thing")
        _denied(app, "DROP TABLE later_thing")
        _denied(app, "TRUNCATE later_thing")


# ---------------------------------------------------------------- upgrades


@pytest.fixture
def behind(office: Office) -> Iterator[Office]:
    """The database at the revision before head, its application role granted: what a township
    has when a new version of the program is installed on its PCs."""
    from alembic import command
    from alembic.script import ScriptDirectory

    _create_app_role(office)
    config = migrate._config()
    previous = ScriptDirectory.from_config(config).get_revision(migrate.SCHEMA_HEAD).down_revision
    engine = create_engine_for(office.url(office.owner))
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), str(previous))
        server_roles.grant_app_role(connection, office.app)
    engine.dispose()
    yield office


def _revision(office: Office) -> str:
    with office.admin() as admin:
        return str(admin.execute("SELECT version_num FROM alembic_version").fetchone()[0])  # type: ignore[index]


def test_the_program_refuses_a_database_behind_it_under_the_application_role(
    behind: Office,
) -> None:
    before = _revision(behind)
    assert before != migrate.SCHEMA_HEAD
    with pytest.raises(SchemaBehind) as refused:
        open_store(behind.url(behind.app))
    said = str(refused.value)
    assert said.startswith("数据库需要升级，请系统管理员运行 govshare server upgrade --url ")
    assert f"postgresql://{behind.owner}@127.0.0.1:{behind.port}/{behind.database}" in said
    assert before in said and migrate.SCHEMA_HEAD in said and behind.app in said
    assert _revision(behind) == before  # untouched


def test_the_program_refuses_to_create_the_schema_under_the_application_role(
    office: Office,
) -> None:
    _create_app_role(office)  # the database is empty: server init has not been run
    with pytest.raises(SchemaBehind) as refused:
        open_store(office.url(office.app))
    assert str(refused.value).startswith(
        f"数据库 {office.database} 还没有建立，请系统管理员运行 govshare server init --url "
        f"postgresql://{office.owner}@127.0.0.1:{office.port}/{office.database}"
    )
    with office.admin() as admin:
        assert admin.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)


def test_server_upgrade_from_the_command_line_then_the_pcs_work(behind: Office) -> None:
    with behind.admin() as admin:  # drift: someone granted too much by hand
        admin.execute(sql.SQL("GRANT UPDATE ON audit_log TO {}").format(sql.Identifier(behind.app)))
    done = subprocess.run(
        command("cli", "server", "upgrade", "--url", behind.url(behind.owner)),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 0, done.stderr
    assert f"升级到 {migrate.SCHEMA_HEAD}" in done.stdout and behind.app in done.stdout
    assert _revision(behind) == migrate.SCHEMA_HEAD
    with behind.connect(behind.app) as app:
        assert _privileges(app, behind.app) == table_privileges()  # the drift undone
    open_store(behind.url(behind.app)).dispose()  # the PCs open it now


@covers("setup.upgrade_server")
def test_upgrade_server_regrants_and_refuses_what_it_cannot_do(office: Office, pg_url: str) -> None:
    with pytest.raises(UserError, match="还没有建立"):
        setup.upgrade_server(office.url(office.owner))
    _create_app_role(office)
    _set_up(office)
    done = setup.upgrade_server(office.url(office.owner))
    assert (done.before, done.after, done.roles) == (
        migrate.SCHEMA_HEAD,
        migrate.SCHEMA_HEAD,
        [office.app],
    )
    assert "已是最新版本" in done.said and office.app in done.said
    with pytest.raises(RoleRefused, match=r"不是数据库 .* 的所有者"):
        setup.upgrade_server(office.url(office.app))
    with office.connect(office.app) as app:
        assert _privileges(app, office.app) == table_privileges()


def test_init_refuses_a_role_with_too_much_power(office: Office) -> None:
    owner_url = office.url(office.owner)
    for role, said in ((office.owner, "所有者"), ("postgres", "超级用户")):
        with pytest.raises(RoleRefused, match=said):
            setup.prepare_server(owner_url, code="441900199000", name="青禾镇", app_role=role)
    for bad in ("App; DROP", "public", "pg_monitor"):
        with pytest.raises(RoleRefused, match="只能用小写英文字母"):
            setup.prepare_server(owner_url, code="441900199000", name="青禾镇", app_role=bad)
    # the owner may not create roles, and the application role is missing: said, nothing left
    with pytest.raises(RoleRefused, match=f"CREATE ROLE {office.app} LOGIN"):
        setup.prepare_server(owner_url, code="441900199000", name="青禾镇", app_role=office.app)
    with office.admin() as admin:
        assert admin.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
        assert not admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = %s", (office.app,)
        ).fetchone()[0]  # type: ignore[index]


# ---------------------------------------------------------------- the command line, end to end


def test_what_the_administrator_is_told_of_the_role() -> None:
    said = [
        server_roles.AppRole("govshare_app", created, password, login).said
        for created, password, login in (
            (True, False, True),
            (True, True, True),
            (False, True, True),
            (False, False, False),
        )
    ]
    assert said == [
        "govshare_app（新建，尚无口令：请服务器管理员在 psql 中执行 \\password govshare_app 设置）",
        "govshare_app（新建；口令已按环境变量 GOVSHARE_APP_PASSWORD 设置）",
        "govshare_app（已有；口令已按环境变量 GOVSHARE_APP_PASSWORD 设置）",
        "govshare_app（已有，口令不变；它不能登录（NOLOGIN），各台电脑须以它的成员用户连接）",
    ]


def test_the_command_line_names_what_the_core_names() -> None:
    from govshare_desktop.cli import server

    assert server.APP_ROLE == server_roles.APP_ROLE
    assert server.ENV_APP_PASSWORD == server_roles.ENV_APP_PASSWORD


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) is that of ``password``."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        method == "SCRAM-SHA-256"
        and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
    )


@pytest.fixture
def password_checked(office: Office) -> Iterator[None]:
    """The test server trusts local connections; for the application role it asks for the
    password (SCRAM), as an office's server does."""
    with office.admin() as admin:
        hba = Path(str(admin.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        before = hba.read_text()
        hba.write_text(f"host all {office.app} 127.0.0.1/32 scram-sha-256\n{before}")
        admin.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while True:  # the reload is asynchronous: wait until a connection without it is refused
        try:
            office.connect(office.app, password="").close()
        except psycopg.OperationalError:
            break
        assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
        time.sleep(0.1)
    yield
    hba.write_text(before)
    with office.admin() as admin:
        admin.execute("SELECT pg_reload_conf()")


def test_the_command_line_end_to_end_with_pgpass(
    office: Office, samples: Path, tmp_path: Path, password_checked: None, monkeypatch
) -> None:
    with office.admin() as admin:  # an owner that may create the application role
        admin.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(office.owner)))
    role = ("--app-role", office.app)
    done = subprocess.run(
        command("cli", "server", "init", "--url", office.url(office.owner), *TOWNSHIP, *role),
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONIOENCODING": "utf-8",
            "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "GOVSHARE_APP_PASSWORD": APP_SECRET,
        },
    )
    assert done.returncode == 0, done.stderr
    assert APP_SECRET not in done.stdout + done.stderr
    assert f"{office.app}（新建；口令已按环境变量 GOVSHARE_APP_PASSWORD 设置）" in done.stdout
    app_url = f"postgresql://{office.app}@127.0.0.1:{office.port}/{office.database}"
    assert app_url in done.stdout
    with office.admin() as admin:
        verifier = admin.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (office.app,)
        ).fetchone()[0]  # type: ignore[index]
    assert _scram_matches(verifier, APP_SECRET) and APP_SECRET not in verifier
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        office.connect(office.app, password="wrong-password-here")
    pgpass = tmp_path / "pgpass"  # on each PC: the password in the password file, not the URL
    pgpass.write_text(f"127.0.0.1:{office.port}:{office.database}:{office.app}:{APP_SECRET}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with office.connect(office.app) as app:
        assert app.execute("SELECT current_user").fetchone() == (office.app,)
    add_clerk(app_url)  # the administrator, then the 经办人, on "PCs" connected as the role
    imported = govshare("import", str(samples / PERSON_XLSX), db=app_url, check=True)
    assert "导入" in imported.stdout
    info = govshare("info", db=app_url, check=True).stdout
    assert "青禾镇（441900199000）" in info
    without = govshare("info", db=app_url, env={"PGPASSFILE": str(tmp_path / "none")})
    assert without.returncode == 2 and "无法连接数据库服务器" in without.stderr
