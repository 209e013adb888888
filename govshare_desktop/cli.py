"""``govshare`` — headless commands over the same core services the window uses.

    govshare init --area 441900199000 --name 青禾镇 [--county-name 东莞市]
    govshare demo --households 300 --seed 1
    govshare info
    govshare search 张三

Every command takes ``--db PATH`` (default: ``GOVSHARE_DB`` or the per-user data directory).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date

from govshare_desktop import __version__
from govshare_desktop.core.errors import UserError


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="数据库文件路径或 SQLAlchemy URL（默认：GOVSHARE_DB 或用户数据目录）",
    )


def _progress(done: int, total: int, label: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{label} {done}/{total}", end="", file=sys.stderr, flush=True)


def cmd_init(args: argparse.Namespace) -> int:
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.township import init_township

    store = open_store(args.db)
    with store.transaction() as session:
        township = init_township(session, args.area, args.name, county_name=args.county_name or "")
    print(f"已初始化：{township.name}（{township.code}），数据库：{store.url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.store.engine import open_store

    store = open_store(args.db)
    started = time.perf_counter()
    result = generate(store, households=args.households, seed=args.seed, progress=_progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"演示乡镇已生成：{result.households} 户，{result.persons} 人，"
        f"{result.enrollments} 条参保，{result.payments} 条发放，"
        f"用时 {time.perf_counter() - started:.1f} 秒。数据库：{store.url}"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from govshare_desktop.core.records import summary
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.migrate import current_revision
    from govshare_desktop.core.store.township import get_township

    store = open_store(args.db)
    township = get_township(store)
    facts = summary(store)
    size = store.path.stat().st_size if store.path and store.path.exists() else None
    lines = [
        f"数据库：{store.url}" + (f"（{size / 1048576:.1f} MB）" if size is not None else ""),
        f"数据库版本：{current_revision(store.engine)}",
        "乡镇（街道）："
        + (
            f"{township.name}（{township.code}）" + ("【演示数据】" if township.is_demo else "")
            if township
            else "未初始化（运行 govshare init 或 govshare demo）"
        ),
        f"村（社区）：{facts.villages}",
        f"户籍户数：{facts.households}",
        f"户籍人数：{facts.persons}（正常 {facts.persons_normal}）",
        f"参保记录：{facts.enrollments}",
        f"待遇发放记录：{facts.payments}",
        f"数据时点：{facts.as_of or '—'}",
    ]
    print("\n".join(lines))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from govshare_desktop.core.browse import PERSONS, Browser, Query, format_cell
    from govshare_desktop.core.store.engine import open_store

    store = open_store(args.db)
    browser = Browser(store)
    query = Query(PERSONS, {"search": args.text})
    ids = browser.ids(query)[: args.limit]
    rows = browser.rows(PERSONS, ids)
    today = date.today()
    shown = [c for c in PERSONS.columns if c.key in ("id_number", "name", "sex", "age", "village")]
    indexes = [PERSONS.columns.index(c) for c in shown]
    for row_id in ids:
        row = rows[row_id]
        print(
            "\t".join(
                format_cell(c, row[i], masked=not args.unmasked, today=today)
                for c, i in zip(shown, indexes, strict=True)
            )
        )
    print(f"共 {len(ids)} 条", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govshare", description="govshare-desktop 命令行工具")
    parser.add_argument("--version", action="version", version=f"govshare-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="初始化数据库所服务的乡镇（街道）")
    p.add_argument("--area", required=True, help="12位统计用区划代码，例：441900199000")
    p.add_argument("--name", required=True, help="乡镇（街道）名称，例：青禾镇")
    p.add_argument("--county-name", help="所属县（市、区）名称")
    _add_db(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="生成演示乡镇（青禾镇 441900199000）")
    p.add_argument("--households", type=int, default=300, help="户数（默认 300）")
    p.add_argument("--seed", type=int, default=1, help="随机种子（相同种子生成相同数据）")
    _add_db(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", help="显示乡镇、各表记录数、数据库路径和版本")
    _add_db(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("search", help="按姓名、身份证号（片段）或拼音首字母查找人员")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--unmasked", action="store_true", help="显示完整姓名和证件号（注意保密）")
    _add_db(p)
    p.set_defaults(func=cmd_search)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
