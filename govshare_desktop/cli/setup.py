"""``govshare init``, ``demo`` and ``info``: setting a database up, and what it holds."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from govshare_desktop.cli.common import (
    ENV_ADMIN_PASSWORD,
    ENV_CLERK_PASSWORD,
    Command,
    arg,
    context,
    end_progress,
    terminal_progress,
)

if TYPE_CHECKING:
    from govshare_desktop.core.services.setup import Prepared

ONCE = {
    "管理员初始密码": "（只显示这一次；首次登录须修改）",
    "经办人初始密码": "（只显示这一次；首次登录须修改）",
    "恢复密钥": "（只显示这一次；请抄写后放入保险柜，忘记所有密码时用它恢复）",
}


def _finish(prepared: Prepared) -> None:
    """Show the accounts and secrets once — before the database becomes usable (a kill after this
    leaves it finishable, before it only temporaries) — then make it usable."""
    from govshare_desktop.core.killpoints import reached
    from govshare_desktop.core.store.location import DISK_ENCRYPTION_ADVICE, volume_encrypted

    print(f"{prepared.said}数据库：{prepared.where}")
    for label, value in prepared.shown:
        print(f"{label}：{value}{ONCE.get(label, '')}")
    sys.stdout.flush()
    if prepared.path is not None and volume_encrypted(prepared.path) is False:
        print(f"注意：数据库所在磁盘未加密。{DISK_ENCRYPTION_ADVICE}。", file=sys.stderr)
    reached("setup:shown")
    try:
        prepared.finish()
    except BaseException:
        prepared.abandon()
        raise


def _cleared(db: str) -> None:
    from govshare_desktop.core.services.setup import clear_interrupted

    notice = clear_interrupted(db)
    if notice:
        print(f"注意：{notice}", file=sys.stderr)


def cmd_init(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.setup import prepare_township

    _cleared(args.db or "")
    _finish(
        prepare_township(
            args.db or "",
            code=args.area,
            name=args.name,
            county_name=args.county_name or "",
            admin_password=os.environ.get(ENV_ADMIN_PASSWORD),
        )
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from govshare_desktop.core.killpoints import reached
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.services.setup import generate_demo, prepare_demo

    started = time.perf_counter()
    if signin.is_initialised(args.db or ""):  # more demo data in a database already set up
        ctx = context(args)
        said = generate_demo(ctx.store, args.households, args.seed, terminal_progress)
        end_progress()
        print(f"{said}数据库：{ctx.store.url}")
        return 0
    _cleared(args.db or "")
    prepared = prepare_demo(
        args.db or "",
        households=args.households,
        seed=args.seed,
        clerk_password=os.environ.get(ENV_CLERK_PASSWORD),
        admin_password=os.environ.get(ENV_ADMIN_PASSWORD),
        progress=terminal_progress,
    )
    end_progress()
    reached("setup:filled")
    prepared.said += f"用时 {time.perf_counter() - started:.1f} 秒。"
    _finish(prepared)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.session import overview

    print("\n".join(overview(context(args))))
    return 0


TOWNSHIP_ARGS = [
    arg(
        "--area",
        required=True,
        metavar="区划代码",
        help="本乡镇（街道）的12位统计用区划代码，例：441900199000",
    ),
    arg("--name", required=True, metavar="名称", help="乡镇（街道）名称，例：青禾镇"),
    arg("--county-name", metavar="名称", help="所属县（市、区）名称，例：东莞市"),
]

COMMANDS = [
    Command(
        "init",
        "初始化数据库所服务的乡镇（街道）",
        cmd_init,
        TOWNSHIP_ARGS,
        use_cases=("setup.prepare_township",),
    ),
    Command(
        "demo",
        "生成演示乡镇（青禾镇 441900199000）及其演示经办人 jingban",
        cmd_demo,
        [
            arg(
                "--households", type=int, default=300, metavar="户数", help="生成的户数（默认 300）"
            ),
            arg(
                "--seed",
                type=int,
                default=1,
                metavar="整数",
                help="随机种子（默认 1；相同的种子生成相同的数据）",
            ),
        ],
        use_cases=("setup.prepare_demo", "setup.generate_demo"),
    ),
    Command(
        "info",
        "显示乡镇、各表记录数、数据库路径和版本",
        cmd_info,
        use_cases=("session.overview",),
    ),
]
