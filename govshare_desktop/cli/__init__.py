"""``govshare`` — headless commands over the same use cases (:mod:`govshare_desktop.core.services`)
the window calls.

    govshare init --area 441900199000 --name 青禾镇 [--county-name 东莞市]
    govshare demo --households 300 --seed 1
    govshare info
    govshare search 张三
    govshare export-list person [--village CODE] [--search 王] [--filter status=normal] --out F.xlsx
    govshare trust add county.pub.pem --sender 441900000000 --name 东莞市政务服务和数据管理局
    govshare import FILE_OR_PACKAGE… [--dry-run] [--json] [--errors-dir DIR]
    govshare export TEMPLATE_ID --period 2026-10 [--area CODE] [--subject ID…] --format pdf --out F
    govshare keys export --out 本单位公钥.pem · govshare tasks list [--json]
    govshare report send TEMPLATE_ID --period 2026-11 --out DIR · govshare outbox list [--json]

Every command that opens a database takes ``--db PATH`` (default: ``GOVSHARE_DB`` or the per-user
data directory). One module per group of commands, each a table of :class:`Command` (data);
:func:`build_parser` makes the argument parser from them — in Chinese, argparse's own words
too (:class:`~govshare_desktop.cli.common.ChineseArgumentParser`). Without a terminal to type the
user name and password at, a command that signs in says which environment variables to set.
"""

# Imports inside functions — lazy: `govshare --help` and `--version` start without SQLAlchemy or the core.

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from govshare_desktop import __version__
from govshare_desktop.cli import (
    admin,
    checks,
    forms,
    imports,
    laptop,
    people,
    reports,
    server,
    setup,
    sharing,
)
from govshare_desktop.cli.common import ChineseArgumentParser, Command, build
from govshare_desktop.core.errors import UserError

COMMANDS: list[Command] = [
    *setup.COMMANDS,
    *server.COMMANDS,
    *people.COMMANDS,
    *imports.COMMANDS,
    *forms.COMMANDS,
    *laptop.COMMANDS,
    *reports.COMMANDS,
    *checks.COMMANDS,
    *sharing.COMMANDS,
    *admin.COMMANDS,
]

ENV_LOCK_WAIT = "GOVSHARE_LOCK_WAIT"
LOCK_WAIT = 10.0  # seconds a command waits for another writer (the window, an import) to finish


ENVIRONMENT = """\
环境变量：
  GOVSHARE_DB              数据库文件的路径（未写 --db 时）
  GOVSHARE_USER            登录用户名（没有终端可输入时必须设置）
  GOVSHARE_PASSWORD        登录密码（没有终端可输入时必须设置；用完即删除）
  GOVSHARE_NEW_PASSWORD    新密码（passwd、users add、users reset-password）
  GOVSHARE_ADMIN_PASSWORD  管理员初始密码（init、demo；不设置时随机生成）
  GOVSHARE_CLERK_PASSWORD  演示经办人 jingban 的初始密码（demo）
  GOVSHARE_APP_PASSWORD    各台电脑连接服务器所用数据库用户的口令（server init、server upgrade）
  GOVSHARE_LOCK_WAIT       等待窗口或其他命令让出数据库的秒数（默认 10）"""


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="govshare", description="govshare-desktop 命令行工具", epilog=ENVIRONMENT
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"govshare-desktop {__version__}",
        help="显示版本号并退出",
    )
    build(parser, COMMANDS)
    return parser


def _writer_lock(args: argparse.Namespace) -> AbstractContextManager[object]:
    """Every command that opens a database writes to it (signing in is audited), so each holds
    the database's one writer lock while it runs: a second command waits up to
    ``GOVSHARE_LOCK_WAIT`` seconds, then stops naming who has the database. A restore waits for
    nobody."""
    if not hasattr(args, "db"):
        return nullcontext()
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path
    from govshare_desktop.core.store.location import acquire_writer_lock

    path = sqlite_path(resolve_url(args.db))
    if path is None or not (path.exists() or args.command in ("init", "demo")):
        return nullcontext()  # nothing to lock (the command says what is missing)
    try:
        wait = float(os.environ.get(ENV_LOCK_WAIT) or LOCK_WAIT)
    except ValueError:
        raise UserError(f"{ENV_LOCK_WAIT} 应为秒数，例如 30") from None
    if args.command == "restore":
        wait = 0.0  # refused at once while anyone else has the database: no swap after a wait
    return acquire_writer_lock(path, wait=wait, purpose=f"执行 govshare {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _writer_lock(args):
            return int(args.func(args))
    except UserError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl+C: said in Chinese, not as a traceback
        print("\n已中断", file=sys.stderr)
        return 130
