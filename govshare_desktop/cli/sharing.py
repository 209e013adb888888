"""``govshare catalog|share|calendar``: the catalog (目录) the county sent, share requests (共享申请)
from it, the register of data the township holds and why, and the working-day calendar."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from govshare_desktop.cli.common import Command, arg, context


def cmd_catalog_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.sharing import catalog

    found = catalog(context(args), args.search or "", args.type)
    if args.json:
        print(json.dumps([asdict(r) for r in found], ensure_ascii=False, indent=2, default=str))
        return 0
    if not found:
        print("目录中没有符合条件的资源（目录由县级以 catalog 数据包下发，导入后可查）")
    for r in found:
        print(f"{r.code}\t{r.name}\t{r.provider}\t{r.share_type}共享\t{r.cycle}\t{r.freshness()}")
        print(f"    信息项：{'、'.join(r.items)}")
        if r.condition:
            print(f"    {'不予共享依据' if r.share_type == '不予' else '共享条件'}：{r.condition}")
    return 0


def cmd_share_request(args: argparse.Namespace) -> int:
    from datetime import date

    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.services.sharing import draft_request

    try:
        until = date.fromisoformat(args.until)
    except ValueError:
        raise UserError(f"使用期限“{args.until}”应为日期，如 2027-12-31") from None
    row = draft_request(
        context(args),
        resource_code=args.resource,
        items=args.items.replace("，", "、").replace(",", "、").split("、"),
        purpose=args.purpose,
        basis=args.basis,
        scope=args.scope,
        use_until=until,
    )
    print(f"已起草共享申请 {row.request_id}（{row.resource_name}：{row.items}），待审核人审核")
    return 0


def cmd_share_approve(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.sharing import approve_request

    row = approve_request(context(args), args.request)
    print(f"共享申请 {row.request_id}（{row.resource_name}）已审核通过，待发送")
    return 0


def cmd_share_send(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.services.reports import write_package
    from govshare_desktop.core.services.sharing import send_requests

    ctx = context(args)
    made = send_requests(ctx)
    if not made:
        print("没有待发送的共享申请（须先经审核人审核）")
    for package in made:
        print(
            f"共享申请数据包：{package.subject}，发往 {package.recipient_name}，第 {package.sequence} 号"
        )
        if args.out:
            for path in write_package(ctx, package.package_id, Path(args.out)):
                print(f"  已写入 {path}")
    return 0


def cmd_share_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.sharing import request_list

    rows = request_list(context(args))
    if args.json:
        print(
            json.dumps(
                [asdict(r) | {"state_label": r.state_label} for r in rows],
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return 0
    if not rows:
        print("没有共享申请")
    for r in rows:
        due = f"答复期限 {r.deadline}" if r.deadline else ""
        print(f"{r.request_id[:8]}\t{r.resource_name}\t{r.items}\t{r.state_label}\t{due}")
        if r.answer:
            print(f"    答复：{r.answer}")
    return 0


def cmd_share_reminder(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.services.sharing import print_urge_letter

    done = print_urge_letter(context(args), Path(args.out))
    print(f"催办函已写入 {done.path}（{done.forms} 项超期申请）")
    return 0


def cmd_share_register(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.sharing import holdings

    ctx = context(args)
    rows = holdings(ctx)
    if args.json:
        print(json.dumps([asdict(h) for h in rows], ensure_ascii=False, indent=2, default=str))
        return 0
    today = ctx.now().date()
    for h in rows:
        until = f"，使用期限 {h.use_until}" if h.use_until else ""
        late = "（已超过使用期限）" if h.expired(today) else ""
        purpose = f"，用途：{h.purpose}" if h.purpose else ""
        print(
            f"{h.title}\t{h.source}\t最近一批 {h.last_as_of or h.last_imported:%Y-%m-%d}"
            f"\t{h.basis}{purpose}{until}{late}"
        )
    return 0


def cmd_calendar_show(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.sharing import calendar, calendar_days

    ctx = context(args)
    if args.year:
        for day in calendar_days(ctx, args.year):
            kind = "休息" if day.kind.value == "holiday" else "调休上班"
            print(f"{day.date:%Y-%m-%d}\t{kind}\t{day.name}")
        return 0
    years, warning = calendar(ctx)
    if args.json:
        print(
            json.dumps(
                {"years": [y.as_json() for y in years], "warning": warning},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for y in years:
        print(f"{y.year} 年\t{y.source_text}\t休息日 {y.holidays} 天，调休上班 {y.workdays} 天")
    if warning:
        print(warning)
    return 0


COMMANDS = [
    Command(
        "show",
        "工作日历：已知放假安排的年份及来源（内置或县级日历包）；--year 列出该年的放假和调休",
        cmd_calendar_show,
        [
            arg("--year", type=int, metavar="年份", help="列出该年的放假日和调休上班日"),
            arg("--json", action="store_true", help="以 JSON 输出"),
        ],
        group="calendar",
        use_cases=("sharing.calendar", "sharing.calendar_days"),
    ),
    Command(
        "list",
        "列出目录资源（可按名称、信息项、提供方或拼音首字母查找）",
        cmd_catalog_list,
        [
            arg("--search", metavar="文字", help="查找的文字，如 户籍、残疾等级、公安局、hjrk"),
            arg("--type", choices=("无条件", "有条件", "不予"), help="只列出该共享类型"),
            arg("--json", action="store_true", help="以 JSON 输出"),
        ],
        group="catalog",
        use_cases=("sharing.catalog",),
    ),
    Command(
        "request",
        "起草共享申请（从目录资源选信息项；须经审核人审核后发送）",
        cmd_share_request,
        [
            arg("resource", metavar="资源代码", help="资源代码（govshare catalog list 可见）"),
            arg("--items", required=True, metavar="信息项", help="申请的信息项，以“、”分隔"),
            arg("--purpose", required=True, metavar="用途", help="用途（应用场景）"),
            arg("--basis", required=True, metavar="依据", help="依据（法规、三定职责）"),
            arg("--scope", required=True, metavar="范围", help="使用范围，如 本镇户籍的补贴对象"),
            arg(
                "--until",
                required=True,
                metavar="日期",
                help="使用期限（截止日期），例：2027-12-31",
            ),
        ],
        group="share",
        use_cases=("sharing.draft_request",),
    ),
    Command(
        "approve",
        "审核通过共享申请（审核人）",
        cmd_share_approve,
        [
            arg(
                "request",
                metavar="申请编号",
                help="申请编号（govshare share list --json 可见完整编号）",
            )
        ],
        group="share",
        use_cases=("sharing.approve_request",),
    ),
    Command(
        "send",
        "把审核通过的共享申请打成签名数据包（--out 同时写入文件夹）",
        cmd_share_send,
        [arg("--out", metavar="文件夹", help="写入的文件夹（U 盘或共享文件夹）")],
        group="share",
        use_cases=("sharing.send_requests", "reports.write_package"),
    ),
    Command(
        "list",
        "列出共享申请及其状态（待审核、已发送、超期、已同意、不同意、已收到）",
        cmd_share_list,
        [arg("--json", action="store_true", help="以 JSON 输出")],
        group="share",
        use_cases=("sharing.request_list",),
    ),
    Command(
        "reminder",
        "打印催办函：已超过答复期限未答复的共享申请（PDF）",
        cmd_share_reminder,
        [arg("--out", required=True, metavar="文件.pdf", help="输出的 PDF 文件")],
        group="share",
        use_cases=("sharing.print_urge_letter",),
    ),
    Command(
        "register",
        "数据使用登记：本镇持有的每类数据、来源、依据（回流或共享申请）、用途和使用期限",
        cmd_share_register,
        [arg("--json", action="store_true", help="以 JSON 输出")],
        group="share",
        use_cases=("sharing.holdings",),
    ),
]
