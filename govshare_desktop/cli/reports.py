"""``govshare keys``, ``tasks``, ``report`` and ``outbox``: the township's signing key, the county's
report tasks, 上报 and 审核, and the packages the township sends."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json
from pathlib import Path

from govshare_desktop.cli.common import PERIOD_HELP, Command, arg, context, period, pool

OUT_DIR = arg("--out", required=True, metavar="文件夹", help="写入的文件夹（U 盘、共享文件夹）")
AS_JSON = arg("--json", action="store_true", help="以 JSON 输出")


def cmd_keys_export(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import export_public_key

    key = export_public_key(context(args), Path(args.out))
    print(f"本单位公钥已写入 {args.out}")
    print(f"指纹（SHA-256）：{key.grouped_fingerprint}")
    print("请将公钥文件交县级平台登记，并核对指纹。")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import township_public_keys

    for key in township_public_keys(context(args)):
        state = f"已停用（{key.retired_at:%Y-%m-%d}）" if key.retired_at else "使用中"
        print(f"{key.fingerprint}\t{state}\t生成于 {key.created_at:%Y-%m-%d %H:%M}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import rotate_township_key

    key = rotate_township_key(context(args))
    print(f"已生成新的签名密钥，指纹：{key.grouped_fingerprint}")
    print("旧密钥已停用（其公钥保留，已发出的数据包仍可校验）。请把新公钥交县级平台登记：")
    print("  govshare keys export --out 本单位公钥.pem")
    return 0


def cmd_tasks_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import tasks

    views, warning = tasks(context(args))
    if args.json:
        print(
            json.dumps(
                {"tasks": [v.as_json() for v in views], "warning": warning},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if warning:
        print(f"注意：{warning}")
    if not views:
        print("没有报表任务")
    for v in views:
        mark = "【逾期】" if v.overdue else ""
        print(
            f"{mark}{v.title}\t{v.period}\t{v.issuer_name}\t截止 {v.deadline:%Y-%m-%d}"
            f"\t{v.due_text}\t{v.state}"
        )
        if v.reason:
            print(f"    退回理由：{v.reason}")
    return 0


def cmd_report_send(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import report_package, submit_report, write_package

    ctx = context(args)
    values = pool(ctx.store)
    p = period(args.period)
    area = args.area or values.township()[0]
    status = values.status(args.template, area, p)
    if status not in ("submitted", "accepted"):
        sent = submit_report(ctx, values, args.template, area, p)
        print(sent.summary(values.template_for(args.template, p, area).title))
        if sent.package is None:
            return 0
    package = report_package(ctx, args.template, area, p)
    for path in write_package(ctx, package.package_id, Path(args.out)):
        print(f"已写入 {path}")
    return 0


def cmd_report_approve(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import approve_report

    ctx = context(args)
    values = pool(ctx.store)
    p = period(args.period)
    area = args.area or values.township()[0]
    sent = approve_report(ctx, values, args.template, area, p)
    print(sent.summary(values.template_for(args.template, p, area).title))
    return 0


def cmd_report_recipient(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import set_report_recipient

    set_report_recipient(context(args), args.department, args.code)
    print(f"“{args.department}”的上报单位代码已设为 {args.code}")
    return 0


def cmd_report_review(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import set_review_required

    required = args.required == "on"
    set_review_required(context(args), args.template, required)
    print(f"“{args.template}”上报前{'须经审核人审核' if required else '不再需要审核'}")
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import outbox

    entries = outbox(context(args))
    if args.json:
        print(json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("发件箱是空的")
    for e in entries:
        written = f"已写入 {e.written_to}" if e.written_to else "未写出"
        print(
            f"{e.created_at:%Y-%m-%d %H:%M}\t{e.kind_label}\t{e.recipient_name}\t第 {e.sequence} 号"
            f"\t{e.subject}\t{written}\t{e.receipt_label}"
        )
    return 0


def cmd_outbox_send(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.reports import write_unwritten

    written = write_unwritten(context(args), Path(args.out))
    for path in written:
        print(f"已写入 {path}")
    if not written:
        print("没有待写出的数据包")
    return 0


TEMPLATE = arg("template", metavar="报表模板", help="报表模板 ID（govshare forms list 可见）")
FORM_ARGS = [
    TEMPLATE,
    arg("--period", required=True, metavar="统计期", help=PERIOD_HELP),
    arg("--area", metavar="区划代码", help="村（社区）或乡镇的12位区划代码（默认本乡镇）"),
]

COMMANDS = [
    Command(
        "export",
        "导出本单位公钥（PEM），交县级平台登记；并显示指纹",
        cmd_keys_export,
        [
            arg(
                "--out",
                required=True,
                metavar="文件.pem",
                help="写入的公钥文件，例：本单位公钥.pem",
            )
        ],
        group="keys",
        use_cases=("reports.export_public_key",),
    ),
    Command(
        "list",
        "列出本单位用过的签名密钥",
        cmd_keys_list,
        group="keys",
        use_cases=("reports.township_public_keys",),
    ),
    Command(
        "rotate",
        "更换签名密钥（旧公钥保留，已发数据包仍可校验）",
        cmd_keys_rotate,
        group="keys",
        use_cases=("reports.rotate_township_key",),
    ),
    Command(
        "list",
        "列出县里下发的报表任务（按紧急程度）",
        cmd_tasks_list,
        [AS_JSON],
        group="tasks",
        use_cases=("reports.tasks",),
    ),
    Command(
        "send",
        "上报报表：生成签名的上报数据包并写入文件夹",
        cmd_report_send,
        [*FORM_ARGS, OUT_DIR],
        group="report",
        use_cases=("reports.submit_report", "reports.report_package", "reports.write_package"),
    ),
    Command(
        "approve",
        "审核通过待审核的报表（审核人），生成上报数据包",
        cmd_report_approve,
        FORM_ARGS,
        group="report",
        use_cases=("reports.approve_report",),
    ),
    Command(
        "recipient",
        "设置部门的上报单位代码（无任务的报表发往该单位）",
        cmd_report_recipient,
        [
            arg(
                "--department",
                required=True,
                metavar="部门",
                help="部门名称，与报表模板中写的部门相同，例：民政",
            ),
            arg("--code", required=True, metavar="单位代码", help="上报单位的12位区划代码"),
        ],
        group="report",
        use_cases=("reports.set_report_recipient",),
    ),
    Command(
        "review",
        "设置报表上报前是否须经审核人审核（on/off）",
        cmd_report_review,
        [
            TEMPLATE,
            arg(
                "required",
                choices=("on", "off"),
                metavar="on|off",
                help="on：上报前须经审核人审核；off：不需要审核",
            ),
        ],
        group="report",
        use_cases=("reports.set_review_required",),
    ),
    Command(
        "list",
        "列出发件箱：本单位发出的数据包及回执状态",
        cmd_outbox_list,
        [AS_JSON],
        group="outbox",
        use_cases=("reports.outbox",),
    ),
    Command(
        "send",
        "把尚未写出的数据包（上报、回执）写入文件夹",
        cmd_outbox_send,
        [OUT_DIR],
        group="outbox",
        use_cases=("reports.write_unwritten",),
    ),
]
