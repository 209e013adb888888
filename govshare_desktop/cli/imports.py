"""``govshare import`` and ``trust``: back-flowed files in, and whose packages are accepted."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from govshare_desktop.cli.common import IMPORT_DATASET_CHOICES, Command, arg, context, day
from govshare_desktop.core.errors import UserError


def cmd_import(args: argparse.Namespace) -> int:
    """Import the files in the order given. ``--dry-run`` runs exactly that — the same files in the
    same order, in one transaction rolled back at the end — so its counts are the real run's."""
    from govshare_desktop.core.services.imports import (
        import_back_flow,
        needs_sending_back,
        status_text,
        write_send_back,
    )

    ctx = context(args)
    outcomes = import_back_flow(
        ctx,
        [Path(name) for name in args.paths],
        dry_run=args.dry_run,
        plan_options={
            "dataset": args.dataset,
            "source_department": args.source,
            "as_of": day(args.as_of),
            "full_snapshot": not args.delta,
        },
    )
    for outcome in outcomes:
        lines = []
        if outcome.package is not None:
            number = outcome.package.sequence
            seq = f"第 {number} 号" if number is not None else "（序号不明）"
            lines.append(
                f"{outcome.file}：数据包{seq}，{status_text(outcome, dry_run=args.dry_run)}"
            )
        elif outcome.refused:
            lines.append(f"{outcome.file}：未导入。{outcome.message}")
        for result in outcome.datasets:
            lines += _dataset_lines(result, args.dry_run)
            if args.errors_dir and needs_sending_back(result):
                target = write_send_back(ctx, result, Path(args.errors_dir))
                what = "未导入的行" if result.rejections else "金额变化"
                lines.append(f"  {what}已写入：{target}")
        if args.json:
            print(json.dumps(outcome.as_json(), ensure_ascii=False, default=str))
        else:
            print("\n".join(lines))
    if not args.dry_run:
        from govshare_desktop.core.services.checks import after_import

        checked = after_import(ctx, outcomes)
        if checked is not None and not args.json:
            print(checked.summary() + "（govshare checks cases 查看待核实事项）")
    return 1 if any(outcome.refused for outcome in outcomes) else 0


def _dataset_lines(result: Any, dry_run: bool) -> list[str]:
    from govshare_desktop.core.domain.masking import mask_id_number, mask_name

    def masked(item: dict[str, Any]) -> str:
        return f"{mask_name(item.get('name'))}（{mask_id_number(item.get('id_number'))}）"

    lines = [
        f"{result.file}：{result.title}，读取 {result.rows_read} 行；新增 {result.inserted}，"
        f"更新 {result.updated}，未变 {result.unchanged}，拒收 {result.rejected}，"
        f"本次不再包含 {result.absent}" + ("（试运行，未保存）" if dry_run else "")
    ]
    for rejection in result.rejections[:20]:
        lines.append(
            f"  第 {rejection.row} 行 [{rejection.column}] {rejection.reason_code}：{rejection.message}"
        )
    if len(result.rejections) > 20:
        lines.append(f"  …… 另有 {len(result.rejections) - 20} 行被拒收")
    report = result.report
    if report is not None:
        lines += [f"  {line}" for line in report.lines()]
        lines += [f"    {line}" for line in report.amount_change_lines(masked)[:20]]
        if report.amount_change_count > 20:
            lines.append(f"    …… 另有 {report.amount_change_count - 20} 条金额变化")
    return lines


def cmd_trust_add(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import trust_sender

    path = Path(args.pem)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取公钥文件“{path}”：{exc.strerror or exc}") from None
    sender = trust_sender(context(args), pem, code=args.sender, name=args.name)
    print(f"已登记发送方 {sender.code} {sender.name} 的公钥，指纹 {sender.fingerprint}")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import trusted_senders

    senders = trusted_senders(context(args))
    if not senders:
        print(
            "尚未登记任何发送方公钥（govshare trust add PUBLIC_KEY.pem --sender CODE --name NAME）"
        )
    for sender in senders:
        print(
            f"{sender.code}\t{sender.name}\t{sender.fingerprint}\t{sender.added_at:%Y-%m-%d %H:%M}"
        )
    return 0


COMMANDS = [
    Command(
        "import",
        "导入回流数据：Excel/CSV 文件或回流数据包",
        cmd_import,
        [
            arg(
                "paths",
                nargs="+",
                metavar="文件",
                help="回流数据文件（Excel 或 CSV）或回流数据包（.zip）；可写多个，按所写顺序导入",
            ),
            arg("--dry-run", action="store_true", help="只检查和统计，不保存"),
            arg("--json", action="store_true", help="每个文件输出一行 JSON"),
            arg(
                "--dataset",
                choices=IMPORT_DATASET_CHOICES,
                metavar="数据类型",
                help="指定数据类型（默认按表头识别）：%(choices)s",
            ),
            arg(
                "--source",
                metavar="部门",
                help="数据来源部门（默认取文件中的“数据来源”或按数据类型）",
            ),
            arg(
                "--as-of",
                metavar="日期",
                help="数据时点，例：2026-10-31（默认取文件中的“数据时点”或文件名中的日期）",
            ),
            arg(
                "--delta",
                action="store_true",
                help="文件只含变化的记录：不把文件中没有的记录标记为“不在最新回流中”",
            ),
            arg(
                "--errors-dir",
                metavar="文件夹",
                help="把拒收的行和金额变化写成 Excel 工作簿，放在此目录",
            ),
        ],
        use_cases=("imports.import_back_flow", "imports.write_send_back", "checks.after_import"),
    ),
    Command(
        "add",
        "登记发送方的 Ed25519 公钥（PEM 文件）",
        cmd_trust_add,
        [
            arg("pem", metavar="公钥.pem", help="发送方的 Ed25519 公钥文件（PEM 格式）"),
            arg(
                "--sender",
                required=True,
                metavar="区划代码",
                help="发送方的12位统计用区划代码，例：441900000000",
            ),
            arg(
                "--name",
                required=True,
                metavar="名称",
                help="发送方名称，例：东莞市政务服务和数据管理局",
            ),
        ],
        group="trust",
        use_cases=("admin.trust_sender",),
    ),
    Command(
        "list",
        "列出已登记的发送方",
        cmd_trust_list,
        group="trust",
        use_cases=("admin.trusted_senders",),
    ),
]
