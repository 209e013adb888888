"""Setting a database up — this township, or the demo township with its 经办人 — the same from
``govshare init``/``govshare demo`` and the window's first run; a township's database on a server
(office mode) from ``govshare server init`` (:func:`prepare_server`).

Setup is atomic (see :func:`govshare_desktop.core.security.signin.begin_setup`): everything is
built under temporary names, the accounts and secrets are shown once (:attr:`Prepared.shown`),
and only :meth:`Prepared.finish` makes the database usable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.township_key import current_key, make_key
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.office import PendingServerSetup, unreachable
from govshare_desktop.core.security.permissions import Role
from govshare_desktop.core.security.vault import check_password_policy
from govshare_desktop.core.store import server_roles
from govshare_desktop.core.store.engine import Store, create_engine_for
from govshare_desktop.core.store.migrate import MIGRATION_LOCK, current_revision, migrate_on
from govshare_desktop.core.store.server import is_server_url, shown
from govshare_desktop.core.store.township import get_township, init_township

DEMO_CLERK = "jingban"  # the demo township's 经办人: the account that sees residents' data


@dataclass
class Prepared:
    """A database filled under temporary names; show :attr:`shown` (label, value) once, then
    :meth:`finish`, or :meth:`abandon`."""

    pending: signin.Pending
    said: str  # what was set up, in a sentence
    shown: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> Path | None:
        """The database file (None on a server)."""
        return self.pending.path

    @property
    def where(self) -> str:
        """Where the database is, as it may be shown (a server's URL without its password)."""
        return self.pending.store.where if self.path is None else str(self.path)

    def finish(self) -> None:
        self.pending.finish().store.dispose()

    def abandon(self) -> None:
        self.pending.abandon()


def clear_interrupted(db: str | Path) -> str | None:
    """What an interrupted setup left, cleared; a notice to show, or None."""
    return signin.clear_interrupted_setup(db)


def prepare_township(
    db: str | Path,
    *,
    code: str,
    name: str,
    county_name: str = "",
    admin_password: str | None = None,
) -> Prepared:
    """A new database for this township (or a database from an earlier version, encrypted)."""

    def fill(prepared: Prepared) -> None:
        with prepared.pending.store.transaction() as session:
            township = init_township(session, code, name, county_name=county_name)
        prepared.said = f"已初始化：{township.name}（{township.code}）。"

    return _prepare(db, admin_password, fill)


def prepare_server(
    url: str,
    *,
    code: str,
    name: str,
    county_name: str = "",
    admin_password: str | None = None,
    app_role: str = server_roles.APP_ROLE,
    app_password: str | None = None,
) -> Prepared:
    """This township's database on a PostgreSQL server (office mode): the schema, the first
    系统管理员, the keys, the township and its signing key in one transaction that
    :meth:`Prepared.finish` commits — an interrupted setup leaves the server as it was. The
    database itself (empty) is created by the server's administrator beforehand, owned by the
    role ``url`` connects as. ``app_role``, the role each PC's program connects as, is created
    if missing (with ``app_password`` if given) and granted least privilege in the same
    transaction (:mod:`govshare_desktop.core.store.server_roles`)."""
    if not is_server_url(url):
        raise UserError(f"“{url}”不是数据库服务器的连接地址（应以 postgresql:// 开头）")
    server_roles.check_role_name(app_role)
    prepared = prepare_township(
        url, code=code, name=name, county_name=county_name, admin_password=admin_password
    )
    try:
        assert isinstance(prepared.pending, PendingServerSetup)
        role = server_roles.grant_app_role(prepared.pending.connection, app_role, app_password)
    except BaseException:
        prepared.abandon()
        raise
    prepared.shown.append(("各台电脑的数据库用户", role.said))
    prepared.shown.append(("各台电脑的连接地址", server_roles.app_url(url, role.name)))
    prepared.shown.append(("服务器磁盘加密", SERVER_DISK_ADVICE))
    return prepared


# The program cannot see the server's disks: personal data at rest there is protected by them.
SERVER_DISK_ADVICE = (
    "本程序不加密服务器上的数据，也无法检查服务器的磁盘：请确认服务器的数据盘和备份所在的磁盘"
    "已开启磁盘加密（如 LUKS、BitLocker），备份文件妥善保管"
)


@dataclass(frozen=True)
class ServerUpgrade:
    """What ``govshare server upgrade`` did: the revisions before and after, the roles granted."""

    before: str
    after: str
    roles: list[str]

    @property
    def said(self) -> str:
        done = (
            f"数据库已从版本 {self.before} 升级到 {self.after}。"
            if self.before != self.after
            else f"数据库已是最新版本（{self.after}），无需升级。"
        )
        if not self.roles:
            return (
                done
                + "没有找到各台电脑连接用的数据库用户：请用 --app-role 指定（例：govshare_app）。"
            )
        return done + f"已重新授予数据库用户 {'、'.join(self.roles)} 权限。"


def upgrade_server(
    url: str, *, app_role: str | None = None, app_password: str | None = None
) -> ServerUpgrade:
    """Bring the server's schema up to date, connected as its owner (each PC's program, connected
    as the application role, may not, and says so), then grant every application role — and
    ``app_role``, created if missing — again, in one transaction under the migration lock."""
    if not is_server_url(url):
        raise UserError(f"“{url}”不是数据库服务器的连接地址（应以 postgresql:// 开头）")
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            before = current_revision(connection)
            if before is None:
                raise UserError(
                    f"数据库服务器 {shown(url)} 上的数据库还没有建立：请先运行 govshare server init"
                )
            migrate_on(connection)
            if app_role is not None:
                server_roles.grant_app_role(connection, app_role, app_password)
            roles = server_roles.refresh_grants(connection)
            after = current_revision(connection) or before
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    finally:
        engine.dispose()
    return ServerUpgrade(before, after, roles)


def prepare_demo(
    db: str | Path,
    *,
    households: int = 300,
    seed: int = 1,
    clerk_password: str | None = None,
    admin_password: str | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Prepared:
    """The demo township 青禾镇 (clearly labelled as such) with its 经办人 ``jingban`` — who must
    change a generated password at first sign-in; ``clerk_password``, if given, is theirs."""
    if clerk_password:  # refused before anything is set up
        check_password_policy(clerk_password, DEMO_CLERK)

    def fill(prepared: Prepared) -> None:
        store = prepared.pending.store
        if get_township(store) is None:  # an earlier version's database keeps its township
            prepared.said = generate_demo(store, households, seed, progress, cancel)
        add_demo_clerk(prepared, clerk_password)

    return _prepare(db, admin_password, fill)


def generate_demo(
    store: Store,
    households: int,
    seed: int,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> str:
    from govshare_desktop.core.demo import generate  # heavy: the demo generator and its tables

    result = generate(store, households=households, seed=seed, progress=progress, cancel=cancel)
    return (
        f"演示乡镇已生成：{result.households} 户，{result.persons} 人，"
        f"{result.enrollments} 条参保，{result.payments} 条发放。"
    )


def add_demo_clerk(prepared: Prepared, password: str | None) -> None:
    chosen = password or signin.generate_password()
    signin.add_account(
        prepared.pending.store,
        DEMO_CLERK,
        Role.CLERK,
        chosen,
        display_name="演示经办人",
        must_change=password is None,
    )
    prepared.shown.append(("演示经办人账户", DEMO_CLERK))
    if not password:
        prepared.shown.append(("经办人初始密码", chosen))


def _prepare(
    db: str | Path, admin_password: str | None, fill: Callable[[Prepared], None]
) -> Prepared:
    pending = signin.begin_setup(db, admin_password=admin_password)
    prepared = Prepared(pending, said="")
    try:
        prepared.shown.append(("管理员账户", signin.ADMIN))
        if pending.admin_password:
            prepared.shown.append(("管理员初始密码", pending.admin_password))
        fill(prepared)
        _make_township_key(pending.store)
        prepared.shown.append(("恢复密钥", pending.recovery_secret))
    except BaseException:
        pending.abandon()
        raise
    return prepared


def prepare_upgrade(db: str | Path, *, admin_password: str | None = None) -> Prepared:
    """A plain database from an earlier version, with its township: encrypted, with accounts."""

    def fill(prepared: Prepared) -> None:
        township = get_township(prepared.pending.store)
        name = f"{township.name}（{township.code}）" if township else "数据库"
        prepared.said = f"已为{name}设置管理员并加密。"

    return _prepare(db, admin_password, fill)


def _make_township_key(store: Store) -> None:
    """The township's own signing key for the packages it sends up (its private half sealed
    under the database key), made with the database."""
    assert store.secret is not None
    now = datetime.now()
    with store.transaction() as session:
        if current_key(session) is not None:
            return
        key = make_key(session, store.secret, user=store.principal.username, now=now)
        audit_trail(store).record(
            session,
            store.principal,
            "key_create",
            key.fingerprint,
            detail={"fingerprint": key.fingerprint},
            now=now,
        )
