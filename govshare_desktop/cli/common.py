"""What every command shares: the declarative command table, signing in through the environment
(``GOVSHARE_USER`` / ``GOVSHARE_PASSWORD``, or asked for), the use-case :class:`Context`, and
argument parsing helpers. Commands are thin: parse, call one use case of
:mod:`govshare_desktop.core.services`, print."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govshare_desktop.core.errors import UserError

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.core.store.engine import Store

ENV_USER, ENV_PASSWORD = "GOVSHARE_USER", "GOVSHARE_PASSWORD"
ENV_ADMIN_PASSWORD, ENV_NEW_PASSWORD = "GOVSHARE_ADMIN_PASSWORD", "GOVSHARE_NEW_PASSWORD"
ENV_CLERK_PASSWORD = "GOVSHARE_CLERK_PASSWORD"
PERIOD_HELP = "统计期：2026-10、2026Q3、2026H2、2026"
DATASET_CHOICES = ("household", "person", "ss_enrollment", "ss_payment")
# What a file may be imported as (core/backflow/packages.py DATASET_ORDER, checked by a test).
IMPORT_DATASET_CHOICES = (
    *DATASET_CHOICES,
    "medical_enrollment",
    "assistance",
    "allowance_payment",
    "disability_card",
    "death_certificate",
    "cremation",
)


# ---------------------------------------------------------------- the command table


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call, as data."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    """A ``govshare`` command: ``group`` (e.g. ``forms``) and ``name`` (``prefill``), its help,
    arguments and function, and the use cases of :mod:`govshare_desktop.core.services` it calls
    (checked by a test)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    args: Sequence[Arg] = ()
    group: str = ""
    database: bool = True  # takes --db (and so the database's writer lock)
    use_cases: tuple[str, ...] = ()  # "module.function" under core.services

    @property
    def words(self) -> str:
        return f"{self.group} {self.name}".strip()


GROUP_HELP = {
    "trust": "登记和查看数据包发送方的公钥",
    "forms": "一表通：数据项和报表",
    "users": "用户管理（系统管理员）",
    "audit": "审计日志",
    "keys": "本单位签名密钥：导出公钥、更换密钥",
    "tasks": "县里下发的报表任务",
    "report": "上报报表：生成签名的上报数据包",
    "outbox": "发件箱：本单位发出的数据包",
    "checks": "比对核查：运行核查、列出待核实事项、填写核查结果",
    "corrections": "校核纠错：提出、发送、跟踪",
}


def build(parser: argparse.ArgumentParser, commands: Sequence[Command]) -> None:
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, Any] = {}
    for command in commands:
        where = sub
        if command.group:
            if command.group not in groups:
                group = sub.add_parser(command.group, help=GROUP_HELP[command.group])
                groups[command.group] = group.add_subparsers(
                    dest=f"{command.group}_command", required=True, metavar="ACTION"
                )
            where = groups[command.group]
        p = where.add_parser(command.name, help=command.help)
        for a in command.args:
            p.add_argument(*a.flags, **a.options)
        if command.database:
            p.add_argument(
                "--db",
                metavar="PATH",
                help="数据库文件路径或 SQLAlchemy URL（默认：GOVSHARE_DB 或用户数据目录）",
            )
        p.set_defaults(func=command.run)


# ---------------------------------------------------------------- signing in


def open_store(args: argparse.Namespace, credentials: tuple[str, str] | None = None) -> Store:
    """Sign in — the user from ``GOVSHARE_USER`` and the password from ``GOVSHARE_PASSWORD``, or
    asked for — and open the database as that user (permissions and audit follow)."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.location import held_lock

    path = initialised_path(args)
    user, password = credentials or ask_credentials()
    signed = signin.sign_in(path, user, password)
    lock = held_lock(path)
    if lock is not None:  # a second writer is told who has the database
        lock.note(account=user)
    if signed.must_change_password and args.command != "passwd":
        signed.store.dispose()
        raise UserError(f"“{user}”首次登录（或密码被重置），须先修改密码：govshare passwd")
    if not signed.store.encrypted:
        print("警告：本机无法使用 SQLCipher，数据库未加密。", file=sys.stderr)
    return signed.store


def context(args: argparse.Namespace, label: str = "") -> Context:
    """Signed in, with progress on the terminal."""
    from govshare_desktop.core.services.context import Context

    return Context(open_store(args), progress=terminal_progress if label else None)


def initialised_path(args: argparse.Namespace) -> Path:
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path

    path = sqlite_path(resolve_url(args.db))
    if path is None:
        raise UserError("只支持本机的 SQLite 数据库文件")
    if not signin.is_initialised(path):
        if not path.exists():
            raise UserError(f"数据库 {path} 不存在：请先运行 govshare init 或 govshare demo")
        raise UserError(
            f"数据库 {path} 由早期版本创建，尚未设置管理员和加密。"
            "请运行 govshare init --area 区划代码 --name 名称 完成设置（数据会被加密，原数据保留）"
        )
    return path


def ask_credentials() -> tuple[str, str]:
    import getpass

    user = os.environ.get(ENV_USER) or input("用户名：").strip()
    password = os.environ.get(ENV_PASSWORD) or getpass.getpass("密码：")
    if os.environ.get(ENV_PASSWORD) and sys.stderr.isatty() and not os.environ.get("CI"):
        print(
            f"警告：密码取自环境变量 {ENV_PASSWORD}，同一台电脑上的其他程序可能读到它；"
            "请只在脚本中使用，用完即删除。",
            file=sys.stderr,
        )
    return user, password


def new_password(prompt: str = "新密码：") -> str:
    import getpass

    if os.environ.get(ENV_NEW_PASSWORD):
        return os.environ[ENV_NEW_PASSWORD]
    first = getpass.getpass(prompt)
    if getpass.getpass("再输入一次：") != first:
        raise UserError("两次输入的密码不一致")
    return first


# ---------------------------------------------------------------- values


def terminal_progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{label} {done}/{total}", end="", file=sys.stderr, flush=True)


def end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def period(text: str) -> Period:
    from govshare_desktop.core.domain.period import Period

    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期“{text}”格式不对，应写作 2026-10-31") from None


def pool(store: Store) -> FormValues:
    """The value pool with the element dictionary and the templates: the shipped ones and those
    installed in the database (every version)."""
    from govshare_desktop.core.forms.catalog import load_catalog
    from govshare_desktop.core.forms.values import FormValues

    catalog = load_catalog(store)
    for problem in catalog.problems:
        print(f"警告：{problem}", file=sys.stderr)
    return FormValues(store, catalog.dictionary, catalog.templates)
