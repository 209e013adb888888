"""Database roles on a township's server (office mode, issue 18): least privilege for the program.

Two roles, as the server's administrator creates them (README, 「多人办公」):

* **The owner** owns the database and every table. Only ``govshare server init`` and ``govshare
  server upgrade`` connect as it: they create and change the schema (DDL).
* **The application role** (``govshare_app`` unless named otherwise) is what the program on each
  PC connects as. It owns nothing, is no superuser and may create no database and no role; it may
  SELECT, INSERT, UPDATE and DELETE rows of the tables and use their sequences — except the tables
  in :data:`LIMITED`: the audit trail is append-only for it even without its triggers, the audit
  state row may not be deleted, and the schema revision is read-only. It may not create anything
  in the schema, nor temporary tables, and other roles of the server may not even connect.

The grants are computed from the models' metadata (every table the program knows), not listed by
hand, and applied by :func:`grant_app_role` in the transaction that sets the server up or upgrades
it. Default privileges give a table that a later migration creates the same rights, and every
migration on a server re-applies the grants (:func:`refresh_grants`), so a newly limited table
is limited at once. A program whose schema is behind the database's, connected as a role that
may not change the schema, is refused with what the administrator is to run
(:func:`refuse_unless_owner`): it does not half-migrate and fail on the first ``ALTER``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.models import Base

APP_ROLE = "govshare_app"
ENV_APP_PASSWORD = "GOVSHARE_APP_PASSWORD"
MIN_PASSWORD = 16
REVISION_TABLE = "alembic_version"

FULL = ("SELECT", "INSERT", "UPDATE", "DELETE")
LIMITED: dict[str, tuple[str, ...]] = {
    "audit_log": ("SELECT", "INSERT"),  # append-only, whatever becomes of its triggers
    "audit_state": ("SELECT", "INSERT", "UPDATE"),  # its one row is moved on, never removed
    REVISION_TABLE: ("SELECT",),  # the schema's revision is the owner's to change
}
# A role with these attributes could undo every grant: never the application's.
FORBIDDEN = {
    "rolsuper": "超级用户",
    "rolcreaterole": "可创建用户（CREATEROLE）",
    "rolcreatedb": "可创建数据库（CREATEDB）",
    "rolreplication": "复制（REPLICATION）",
    "rolbypassrls": "绕过行级安全（BYPASSRLS）",
}
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_VERIFIER = re.compile(r"^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


class RoleRefused(UserError):
    """The application role cannot be granted as asked: the message says why and what to do."""


class SchemaBehind(UserError):
    """The database's schema is older than the program's, and this connection may not change it."""


@dataclass(frozen=True)
class AppRole:
    """The application role as :func:`grant_app_role` left it."""

    name: str
    created: bool
    password_set: bool
    can_login: bool

    @property
    def said(self) -> str:
        """The role and its password, as the administrator is told: 「govshare_app（新建，…）」."""
        made = "新建" if self.created else "已有"
        if self.password_set:
            state = f"{made}；口令已按环境变量 {ENV_APP_PASSWORD} 设置"
        elif self.created:
            state = f"新建，尚无口令：请服务器管理员在 psql 中执行 \\password {self.name} 设置"
        else:
            state = "已有，口令不变"
        if not self.can_login:
            state += "；它不能登录（NOLOGIN），各台电脑须以它的成员用户连接"
        return f"{self.name}（{state}）"


def table_privileges(metadata: MetaData | None = None) -> dict[str, tuple[str, ...]]:
    """What the application role may do on each table: every table of the models' metadata (and
    the revision table) gets :data:`FULL`, except those in :data:`LIMITED`."""
    tables = sorted({*(metadata or Base.metadata).tables, REVISION_TABLE})
    return {table: LIMITED.get(table, FULL) for table in tables}


def check_role_name(name: str) -> str:
    """``name`` if it is a plain PostgreSQL role name (lower case, digits, underscores)."""
    if not _NAME.match(name) or name in ("public", "none") or name.startswith("pg_"):
        raise RoleRefused(
            f"数据库用户名“{name}”不可用：只能用小写英文字母、数字和下划线，"
            "以字母或下划线开头，最长 63 个字符，不能是 public、none 或以 pg_ 开头，例：govshare_app"
        )
    return name


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _owner_only(connection: Connection) -> str:
    """The database's name, if this connection is its owner (or a member of the owner role):
    only the owner may grant on the database, its schema and its tables."""
    row = connection.execute(
        text(
            "SELECT current_database(), current_user, pg_get_userbyid(datdba), "
            "pg_has_role(datdba, 'MEMBER') FROM pg_database WHERE datname = current_database()"
        )
    ).one()
    database, user, owner, member = row
    if not member:
        raise RoleRefused(
            f"当前连接的数据库用户 {user} 不是数据库 {database} 的所有者（所有者是 {owner}）。"
            f"建立、升级数据库和授权只能以所有者连接：请在连接地址中使用用户 {owner}。"
        )
    return str(database)


def grant_app_role(connection: Connection, name: str, password: str | None = None) -> AppRole:
    """Create the application role ``name`` if missing (LOGIN, without a password unless
    ``password`` is given), refuse it if it has more power than a program needs, and grant it
    exactly what :func:`table_privileges` says — in the caller's transaction, as the owner."""
    check_role_name(name)
    if password is not None and len(password) < MIN_PASSWORD:
        raise RoleRefused(
            f"环境变量 {ENV_APP_PASSWORD} 中的口令太短：数据库用户的口令至少 {MIN_PASSWORD} "
            "个字符（它写在各台电脑的 pgpass 文件中，不需要记住，可以随机生成）。"
        )
    database = _owner_only(connection)
    found = connection.execute(
        text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :n"), {"n": name}
    ).first()
    if found is None or password is not None:
        _create_or_set_password(connection, name, password, create=found is None)
    _refuse_powerful(connection, name)
    _apply_grants(connection, name, database)
    can_login = found is None or bool(found[0])
    return AppRole(name, found is None, password is not None, can_login)


def _create_or_set_password(
    connection: Connection, name: str, password: str | None, *, create: bool
) -> None:
    role = _quote(connection, name)
    secret = "" if password is None else f" PASSWORD '{_verifier(connection, name, password)}'"
    if create:
        statement = (
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            f"NOBYPASSRLS{secret}"
        )
    else:
        statement = f"ALTER ROLE {role}{secret}"
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(statement)
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        user = connection.execute(text("SELECT current_user")).scalar_one()
        what = "创建数据库用户" if create else "修改数据库用户的口令"
        raise RoleRefused(
            f"当前连接的数据库用户 {user} 无权{what} {name}。请服务器管理员以超级用户在 psql 中执行："
            f"CREATE ROLE {name} LOGIN;（已有则不必）再执行 \\password {name} 设置口令，"
            "然后重新运行本命令（不设置环境变量 "
            f"{ENV_APP_PASSWORD}）。"
        ) from None


def _verifier(connection: Connection, name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, computed here by libpq: the password itself
    never goes to the server, so no server log can show it."""
    dbapi: Any = connection.connection.dbapi_connection
    verifier = dbapi.pgconn.encrypt_password(
        password.encode("utf-8"), name.encode("utf-8"), b"scram-sha-256"
    ).decode("ascii")
    if not _VERIFIER.match(verifier):  # it is written into the statement: nothing else may be
        raise ValueError("unexpected password verifier")
    return str(verifier)


def _refuse_powerful(connection: Connection, name: str) -> None:
    """The application role must not be able to undo its limits: no superuser or role creator,
    not the owner of the database or of its tables, not the role this connection is."""
    row = (
        connection.execute(
            text(
                "SELECT r.*, r.rolname = current_user AS is_me, "
                "pg_has_role(r.oid, d.datdba, 'MEMBER') "
                "OR COALESCE(pg_has_role(r.oid, c.relowner, 'MEMBER'), false) AS owns "
                "FROM pg_roles r CROSS JOIN pg_database d "
                "LEFT JOIN pg_class c ON c.oid = to_regclass(:revision) "
                "WHERE r.rolname = :n AND d.datname = current_database()"
            ),
            {"n": name, "revision": REVISION_TABLE},
        )
        .mappings()
        .one()
    )
    said = [label for attribute, label in FORBIDDEN.items() if row[attribute]]
    if row["is_me"] or row["owns"]:
        said.append("数据库或其数据表的所有者（或所有者角色的成员）")
    if said:
        raise RoleRefused(
            f"数据库用户 {name} 权限过大，不能作为各台电脑上程序的连接用户：它是"
            f"{'、'.join(said)}。请另建一个普通用户（例：CREATE ROLE govshare_app LOGIN;），"
            "或用 --app-role 指定另一个用户名。"
        )


def _apply_grants(connection: Connection, name: str, database: str) -> None:
    """Exactly :func:`table_privileges` on the tables present, USAGE on their sequences, USAGE
    (not CREATE) on the schema, CONNECT (not TEMPORARY) on the database; default privileges for
    the tables and sequences later migrations create. What the role had before is revoked first,
    so that granting again repairs, and limits a table that a later version limits."""
    q = _quote(connection, name)
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    s, db = _quote(connection, schema), _quote(connection, database)
    statements = [
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC",
        f"REVOKE ALL ON DATABASE {db} FROM {q}",
        f"GRANT CONNECT ON DATABASE {db} TO {q}",
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"REVOKE ALL ON SCHEMA {s} FROM {q}",
        f"GRANT USAGE ON SCHEMA {s} TO {q}",
    ]
    present = set(inspect(connection).get_table_names(schema))
    granted = {t: p for t, p in table_privileges().items() if t in present}
    for table, privileges in granted.items():
        statements += [
            f"REVOKE ALL ON TABLE {s}.{_quote(connection, table)} FROM {q}",
            f"GRANT {', '.join(privileges)} ON TABLE {s}.{_quote(connection, table)} TO {q}",
        ]
    for sequence in _sequences(connection, sorted(granted)):
        statements += [
            f"REVOKE ALL ON SEQUENCE {s}.{_quote(connection, sequence)} FROM {q}",
            f"GRANT USAGE ON SEQUENCE {s}.{_quote(connection, sequence)} TO {q}",
        ]
    statements += [
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {', '.join(FULL)} ON TABLES TO {q}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {q}",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)


def _sequences(connection: Connection, tables: list[str]) -> list[str]:
    """The sequences that belong to ``tables`` (their serial and identity columns)."""
    rows = connection.execute(
        text(
            "SELECT DISTINCT seq.relname FROM pg_depend dep "
            "JOIN pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S' "
            "JOIN pg_class tab ON tab.oid = dep.refobjid "
            "WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass "
            "AND tab.relnamespace = current_schema()::regnamespace "
            "AND tab.relname = ANY(:tables) ORDER BY 1"
        ),
        {"tables": tables},
    )
    return [str(name) for (name,) in rows]


def app_roles(connection: Connection) -> list[str]:
    """The application roles of this database: those the owner's default privileges let delete
    rows of new tables in the schema (what :func:`grant_app_role` gave them). A read-only role
    that an administrator added is not one."""
    rows = connection.execute(
        text(
            "SELECT DISTINCT pg_get_userbyid(acl.grantee) FROM pg_default_acl d, "
            "aclexplode(d.defaclacl) acl WHERE d.defaclnamespace = current_schema()::regnamespace "
            "AND d.defaclobjtype = 'r' AND acl.grantee <> 0 AND acl.privilege_type = 'DELETE' "
            "ORDER BY 1"
        )
    )
    return [str(name) for (name,) in rows]


def refresh_grants(connection: Connection) -> list[str]:
    """Grant every application role of the database again (after a migration: a table it added
    is granted, or limited, as this version says). The roles granted."""
    roles = app_roles(connection)
    if roles:
        database = _owner_only(connection)
        for role in roles:
            _refuse_powerful(connection, role)
            _apply_grants(connection, role, database)
    return roles


def refuse_unless_owner(connection: Connection, current: str | None, head: str) -> None:
    """Before migrating on a server: a connection that may not change the schema — the program
    on a PC, connected as the application role — is refused, with the command the administrator
    is to run as the owner. The owner (or a superuser) passes."""
    row = connection.execute(
        text(
            "SELECT CASE WHEN c.oid IS NULL THEN has_schema_privilege(current_schema(), 'CREATE') "
            "ELSE pg_has_role(c.relowner, 'USAGE') END, "
            "pg_get_userbyid(COALESCE(c.relowner, d.datdba)), current_user, current_database() "
            "FROM pg_database d LEFT JOIN pg_class c ON c.oid = to_regclass(:revision) "
            "WHERE d.datname = current_database()"
        ),
        {"revision": REVISION_TABLE},
    ).one()
    may, owner, user, database = row
    if may:
        return
    url = connection.engine.url.set(drivername="postgresql", username=owner, password=None)
    shown = url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaBehind(
            f"数据库 {database} 还没有建立，请系统管理员运行 govshare server init --url {shown}"
            f"（以数据库所有者 {owner} 连接）。本机连接所用的数据库用户 {user} 无权建立数据库结构。"
        )
    raise SchemaBehind(
        f"数据库需要升级，请系统管理员运行 govshare server upgrade --url {shown}"
        f"（以数据库所有者 {owner} 连接），然后重新打开程序。数据库版本 {current}，"
        f"本程序需要 {head}；本机连接所用的数据库用户 {user} 无权修改数据库结构。"
    )


def app_url(url: str, role: str) -> str:
    """The URL each PC is to use: the owner's URL with the application role as user, without a
    password (which belongs in pgpass)."""
    parsed = make_url(url).set(drivername="postgresql", username=role, password=None)
    return parsed.render_as_string(hide_password=False)
