"""``govshare laptop …``: the laptop for village visits — check a village out into a database of
its own, see what is out, check the laptop's file back in, cancel a lost laptop's check-out.

    govshare laptop checkout --village 441900199201 [--period 2026-11] --out 村.db
    govshare laptop checkin 村.db [--take office|laptop]
    govshare laptop status [--all] · govshare laptop cancel --village CODE --reason 原因

A check-in with values both sides changed and no ``--take`` lists them and applies nothing (exit
code 1): the clerk decides, then runs it again with ``--take`` (or chooses one by one in the
window). The laptop's file opens with the password of the clerk who checked it out — the one the
command signed in with.
"""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.cli.common import (
    PERIOD_HELP,
    Command,
    arg,
    ask_credentials,
    open_store,
    period,
    pool,
)

if TYPE_CHECKING:
    from govshare_desktop.core.services.context import Context


def _signed_in(args: argparse.Namespace) -> tuple[Context, str]:
    """The use-case context, signed in, and the password it was signed in with (the laptop's
    database is set up, and opened again, with it)."""
    from govshare_desktop.core.services.context import Context

    user, password = ask_credentials()
    return Context(open_store(args, (user, password))), password


def cmd_checkout(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.laptop import checkout

    ctx, password = _signed_in(args)
    try:
        done = checkout(
            ctx,
            pool(ctx.store),
            args.village,
            Path(args.out),
            password=password,
            period=period(args.period) if args.period else None,
            forms=args.form or (),
            laptop=args.laptop or "",
            task=args.task,
        )
    finally:
        ctx.store.dispose()
    print(done.summary())
    return 0


def cmd_checkin(args: argparse.Namespace) -> int:
    from govshare_desktop.core.laptop.checkin import ConflictsUnresolved
    from govshare_desktop.core.services.laptop import checkin, read_checkin

    ctx, password = _signed_in(args)
    try:
        values = pool(ctx.store)
        plan = read_checkin(ctx, values, Path(args.file), password)
        try:
            done = checkin(ctx, values, plan, take=args.take)
        except ConflictsUnresolved as exc:
            print(str(exc), file=sys.stderr)
            return 1
    finally:
        ctx.store.dispose()
    print(done.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from govshare_desktop.cli.common import context
    from govshare_desktop.core.services.laptop import status, this_laptop

    ctx = context(args)
    try:
        here = this_laptop(ctx)
        if here is not None:
            print(here)
            return 0
        found = status(ctx, ended=args.all)
    finally:
        ctx.store.dispose()
    for checkout in found:
        print(checkout.describe())
    if not found:
        print("没有检出到笔记本的村（社区）" if not args.all else "还没有检出过")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from govshare_desktop.cli.common import context
    from govshare_desktop.core.services.laptop import cancel

    ctx = context(args)
    try:
        done = cancel(ctx, args.village, args.reason)
    finally:
        ctx.store.dispose()
    print(f"已作废：{done.describe()}。该村（社区）可以重新检出；那台笔记本上的文件不能再检入。")
    return 0


VILLAGE = arg("--village", required=True, metavar="区划代码", help="村（社区）的12位区划代码")

COMMANDS = [
    Command(
        "checkout",
        "把一个村（社区）检出到笔记本：生成一个加密的数据库文件（及同名 .keys 密钥文件），"
        "用本人的账户和密码在笔记本上登录，离线填报",
        cmd_checkout,
        [
            VILLAGE,
            arg("--period", metavar="统计期", help=f"只检出该统计期的一表通数据（{PERIOD_HELP}）"),
            arg(
                "--form",
                nargs="+",
                metavar="报表模板",
                help="只检出这些报表的数据项（报表模板 ID，govshare forms list 可见；默认全部）",
            ),
            arg(
                "--task",
                metavar="任务编号",
                help="按县里下发的报表任务检出：统计期和报表取自该任务，任务随村带到笔记本上",
            ),
            arg("--laptop", metavar="名称", help="笔记本的名称或编号（记入检出记录，便于查找）"),
            arg("--out", required=True, metavar="文件", help="写出的数据库文件（以 .db 结尾）"),
        ],
        group="laptop",
        use_cases=("laptop.checkout",),
    ),
    Command(
        "checkin",
        "把笔记本上录入的一表通数据检入本数据库，人员、户籍等记录不写回；"
        "两边都改过的数据项须用 --take 选择",
        cmd_checkin,
        [
            arg(
                "file", metavar="检出文件", help="笔记本上的数据库文件（其 .keys 密钥文件须在旁边）"
            ),
            arg(
                "--take",
                choices=("office", "laptop"),
                metavar="office|laptop",
                help="两边都改过的数据项：office 保留办公室的值，laptop 采用笔记本的值"
                "（不写时列出这些数据项，不检入）",
            ),
        ],
        group="laptop",
        use_cases=("laptop.read_checkin", "laptop.checkin"),
    ),
    Command(
        "status",
        "列出检出到笔记本、尚未检入的村（社区）；在笔记本上运行时说明本数据库是哪次检出",
        cmd_status,
        [arg("--all", action="store_true", help="同时列出已检入和已作废的检出")],
        group="laptop",
        use_cases=("laptop.status", "laptop.this_laptop"),
    ),
    Command(
        "cancel",
        "作废一次检出（笔记本丢失或损坏）：该村可重新检出，那台笔记本上的文件不能再检入",
        cmd_cancel,
        [
            VILLAGE,
            arg("--reason", required=True, metavar="原因", help="作废的原因（记入审计日志）"),
        ],
        group="laptop",
        use_cases=("laptop.cancel",),
    ),
]
