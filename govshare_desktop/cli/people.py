"""``govshare search`` and ``export-list``: finding residents and exporting what a list shows."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.cli.common import DATASET_CHOICES, Command, arg, context, end_progress
from govshare_desktop.core.errors import UserError

if TYPE_CHECKING:
    from govshare_desktop.core.browse import Query


def cmd_search(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.session import search_people
    from govshare_desktop.core.store.search import HINT, SearchKind, classify

    if classify(args.text).kind in (SearchKind.EMPTY, SearchKind.NOTHING):  # before signing in
        raise UserError(f"“{args.text}”中没有可查找的内容：{HINT}")
    found = search_people(
        context(args), args.text, limit=args.limit, unmasked=args.unmasked, reason=args.reason or ""
    )
    for row in found.rows:
        print("\t".join(row))
    print(f"共 {len(found.rows)} 条", file=sys.stderr)
    return 0


def _query(args: argparse.Namespace) -> Query:
    """The list page's query: its search and filters as the window has them."""
    from govshare_desktop.core.browse import DATASETS, Query

    dataset = DATASETS[args.dataset]
    filters: dict[str, object] = {}
    for item in args.filter or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"筛选条件“{item}”格式不对，应写作 名称=值，例：status=normal")
        filters[key.strip()] = value.strip()
    if args.village:
        filters["village"] = args.village
    if args.search:
        filters["search"] = args.search
    unknown = sorted(k for k in filters if k not in dataset.filters)
    if unknown:
        raise UserError(
            f"{dataset.title}名单没有筛选条件 {'、'.join(unknown)}；"
            f"可用的有：{'、'.join(k for k in dataset.filters if k != 'search')}"
        )
    return Query(dataset, filters)


def cmd_export_list(args: argparse.Namespace) -> int:
    """A browse list (what the window lists with the same search and filters) to .xlsx."""
    from govshare_desktop.core.services.output import export_list

    query = _query(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"输出文件“{out}”应以 .xlsx 结尾")
    if args.unmasked and not (args.reason or "").strip():
        raise UserError("导出完整的个人信息须用 --reason 说明事由（记入审计日志）")
    if args.unmasked:
        print("注意：导出的文件含完整的个人信息，请妥善保管。", file=sys.stderr)
    result = export_list(
        context(args, "导出"), query, out, masked=not args.unmasked, reason=args.reason or ""
    )
    end_progress()
    note = "已脱敏" if result.masked else "含完整个人信息"
    print(f"已导出 {result.rows} 行（{note}）：{result.path}\tSHA-256 {result.sha256}")
    return 0


UNMASKED_REASON = arg("--reason", metavar="事由", help="--unmasked 时须说明事由（记入审计日志）")

COMMANDS = [
    Command(
        "search",
        "按姓名、身份证号（片段）或拼音首字母查找人员",
        cmd_search,
        [
            arg(
                "text",
                metavar="查找内容",
                help="姓名、身份证号（片段）或拼音首字母，例：张三、4419、zs",
            ),
            arg("--limit", type=int, default=50, metavar="条数", help="最多显示的条数（默认 50）"),
            arg("--unmasked", action="store_true", help="显示完整姓名和证件号（注意保密）"),
            UNMASKED_REASON,
        ],
        use_cases=("session.search_people",),
    ),
    Command(
        "export-list",
        "把户籍、人员、参保或待遇发放名单导出为 Excel（默认脱敏）",
        cmd_export_list,
        [
            arg(
                "dataset",
                metavar="名单",
                choices=DATASET_CHOICES,
                help="household（户籍）、person（人员）、ss_enrollment（参保）或 ss_payment（待遇发放）",
            ),
            arg("--village", metavar="区划代码", help="只导出该村（社区）（12位区划代码）"),
            arg(
                "--search",
                metavar="查找内容",
                help="与窗口中的查找相同：姓名、身份证号（片段）或拼音首字母",
            ),
            arg(
                "--filter",
                action="append",
                metavar="名称=值",
                help="其他筛选条件，可重复，例：status=normal、scheme=170、registry=out、period=202610",
            ),
            arg(
                "--unmasked",
                action="store_true",
                help="导出完整的姓名、证件号码、电话和住址（注意保密）",
            ),
            UNMASKED_REASON,
            arg("--out", required=True, metavar="文件.xlsx", help="输出的 Excel 文件"),
        ],
        use_cases=("output.export_list",),
    ),
]
