"""``govshare checks``: 比对核查 — run the checks, list the cases to verify, type a finding back."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json

from govshare_desktop.cli.common import Command, arg, context

STATE_WORDS = {
    "verified": "village_verified",
    "reviewed": "township_reviewed",
    "confirmed": "confirmed",
    "false-alarm": "false_alarm",
}


def cmd_checks_run(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.checks import run

    result = run(context(args))
    print(result.summary())
    for outcome in result.outcomes:
        if outcome.skipped:
            print(f"  {outcome.check.title}：未运行（{outcome.skipped}）")
        else:
            print(
                f"  {outcome.check.title}：命中 {outcome.hits} 人，新增 {outcome.new}，"
                f"重新待核实 {outcome.reopened}，已消除 {outcome.gone}"
            )
    return 0


def cmd_checks_cases(args: argparse.Namespace) -> int:
    from govshare_desktop.core.domain.masking import mask_id_number, mask_name
    from govshare_desktop.core.services.checks import cases

    found = cases(context(args), check_id=args.check, village=args.village)
    if args.json:
        print(json.dumps([c.as_json() for c in found], ensure_ascii=False, indent=2, default=str))
        return 0
    if not found:
        print("没有待核实的事项")
    for c in found:
        who = f"{mask_name(c.name)}（{mask_id_number(c.subject)}）"
        print(f"[{c.id}] {c.title}\t{who}\t{c.village_code or ''}\t{c.state_label}")
        print(f"    {c.evidence_text()}")
    return 0


def cmd_checks_set(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.checks import set_case_state

    set_case_state(context(args), args.case, STATE_WORDS[args.state], args.note or "")
    print(f"核查事项 {args.case} 已更新")
    return 0


def cmd_checks_sheet(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.services.checks import export_sheet

    done = export_sheet(
        context(args),
        args.check,
        Path(args.out),
        village=args.village,
        masked=not args.unmasked,
        reason=args.reason or "",
    )
    print(f"核查表已写入 {done.path}（{done.forms} 人）")
    return 0


def cmd_corrections_raise(args: argparse.Namespace) -> int:
    from govshare_desktop.core.errors import UserError
    from govshare_desktop.core.services.reports import raise_correction, raise_from_rejection

    if args.rejected is not None:
        if args.dataset or args.key or args.field or args.case is not None:
            raise UserError("--rejected 与 --dataset/--key/--field/--case 不能同时使用")
        row = raise_from_rejection(
            context(args), args.rejected, proposed=args.value, basis=args.basis
        )
        print(f"已提出纠错 {row.correction_id}（{row.field}，发往 {row.department}），待发送")
        return 0
    missing = [name for name in ("dataset", "key", "field") if not getattr(args, name)]
    if missing:
        raise UserError(
            "请给出 " + "、".join(f"--{name}" for name in missing) + "（或 --rejected）"
        )
    row = raise_correction(
        context(args),
        dataset=args.dataset,
        record_key=args.key,
        field=args.field,
        proposed=args.value,
        basis=args.basis,
        case_id=args.case,
    )
    print(f"已提出纠错 {row.correction_id}（{row.field}，发往 {row.department}），待发送")
    return 0


def cmd_corrections_send(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.services.reports import send_corrections, write_package

    ctx = context(args)
    made = send_corrections(ctx)
    if not made:
        print("没有待发送的纠错")
    for package in made:
        print(
            f"纠错数据包：{package.subject}，发往 {package.recipient_name}，第 {package.sequence} 号"
        )
        if args.out:
            for path in write_package(ctx, package.package_id, Path(args.out)):
                print(f"  已写入 {path}")
    return 0


def cmd_corrections_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.domain.masking import mask_name
    from govshare_desktop.core.services.reports import correction_list

    rows = correction_list(context(args))
    if args.json:
        print(
            json.dumps(
                [r.__dict__ | {"state_label": r.state_label} for r in rows],
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return 0
    if not rows:
        print("没有纠错")
    for r in rows:
        print(
            f"{r.correction_id[:8]}\t{r.department}\t{mask_name(r.name)}\t{r.field}："
            f"{r.current_value} → {r.proposed_value}\t{r.state_label}"
        )
    return 0


def cmd_corrections_rejected(args: argparse.Namespace) -> int:
    from govshare_desktop.core.domain.masking import mask_id_number, mask_name
    from govshare_desktop.core.services.reports import rejected_rows

    rows = rejected_rows(context(args), args.batch)
    if args.json:
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("没有被拒导入的行")
    for r in rows:
        who = f"{mask_name(r.name)}（{mask_id_number(r.record_key or '')}）"
        state = (
            f"已提出纠错 {r.correction_id[:8]}"
            if r.correction_id
            else ("可纠错" if r.correctable else "不能纠错")
        )
        print(f"[{r.id}] {r.file_name} 第 {r.row} 行\t{who}\t{r.message}\t{state}")
    return 0


def cmd_corrections_reminder(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.services.reports import print_reminder

    done = print_reminder(context(args), args.department, Path(args.out))
    print(f"催办单已写入 {done.path}（{done.forms} 条超期纠错）")
    return 0


COMMANDS = [
    Command(
        "run",
        "运行全部比对核查（导入后也会自动运行）",
        cmd_checks_run,
        group="checks",
        use_cases=("checks.run",),
    ),
    Command(
        "cases",
        "列出待核实的核查事项（默认隐藏身份信息）",
        cmd_checks_cases,
        [
            arg("--check", metavar="核查规则", help="只列出该核查规则（id）"),
            arg("--village", metavar="区划代码", help="只列出该村（社区）（12位代码）"),
            arg("--json", action="store_true", help="以 JSON 输出（含完整身份信息）"),
        ],
        group="checks",
        use_cases=("checks.cases",),
    ),
    Command(
        "sheet",
        "导出核查表（PDF 或 .xlsx，供村（社区）入户核实；默认隐藏身份信息）",
        cmd_checks_sheet,
        [
            arg("check", metavar="核查规则", help="核查规则 id（govshare checks cases 可见）"),
            arg("--out", required=True, metavar="文件", help="输出文件：.pdf 或 .xlsx"),
            arg("--village", metavar="区划代码", help="只导出该村（社区）（12位代码）"),
            arg("--unmasked", action="store_true", help="含完整姓名和身份证号（须 --reason）"),
            arg("--reason", metavar="事由", help="导出完整个人信息的事由"),
        ],
        group="checks",
        use_cases=("checks.export_sheet",),
    ),
    Command(
        "raise",
        "提出校核纠错（发往该记录的数源部门）",
        cmd_corrections_raise,
        [
            arg("--dataset", choices=("person", "household"), help="数据集：人员或户"),
            arg(
                "--key", metavar="身份号码或户号", help="公民身份号码（person）或户号（household）"
            ),
            arg("--field", metavar="字段", help="字段，如 姓名、出生日期、联系电话、住址"),
            arg("--value", required=True, metavar="建议值", help="建议值"),
            arg(
                "--basis",
                required=True,
                metavar="依据",
                help="依据，如 户口簿、死亡医学证明、村委会入户核实",
            ),
            arg(
                "--case", type=int, metavar="事项编号", help="由核查事项提出（该事项记为确认有误）"
            ),
            arg(
                "--rejected",
                type=int,
                metavar="行编号",
                help="由被拒导入的行提出（编号见 govshare corrections rejected；字段和现值取自该行）",
            ),
        ],
        group="corrections",
        use_cases=("reports.raise_correction", "reports.raise_from_rejection"),
    ),
    Command(
        "rejected",
        "列出导入时被拒的行（可据此向数源部门提出纠错；默认隐藏身份信息）",
        cmd_corrections_rejected,
        [
            arg("--batch", type=int, metavar="批次号", help="只列出该批次（导入记录中的批次号）"),
            arg("--json", action="store_true", help="以 JSON 输出（含完整身份信息）"),
        ],
        group="corrections",
        use_cases=("reports.rejected_rows",),
    ),
    Command(
        "send",
        "把待发送的纠错按部门打成签名数据包（--out 同时写入文件夹）",
        cmd_corrections_send,
        [arg("--out", metavar="文件夹", help="写入的文件夹")],
        group="corrections",
        use_cases=("reports.send_corrections", "reports.write_package"),
    ),
    Command(
        "list",
        "列出纠错及其状态（已发送、已答复、已更正、超期）",
        cmd_corrections_list,
        [arg("--json", action="store_true", help="以 JSON 输出")],
        group="corrections",
        use_cases=("reports.correction_list",),
    ),
    Command(
        "reminder",
        "打印催办单：发往某部门、已超期未答复的纠错（PDF）",
        cmd_corrections_reminder,
        [
            arg(
                "--department", required=True, metavar="部门", help="数源部门名称，如 东莞市公安局"
            ),
            arg("--out", required=True, metavar="文件.pdf", help="输出的 PDF 文件"),
        ],
        group="corrections",
        use_cases=("reports.print_reminder",),
    ),
    Command(
        "set",
        "填写核查结果：verified 村已核实 / reviewed 镇已审核 / confirmed 确认有误 / false-alarm 误报",
        cmd_checks_set,
        [
            arg("case", type=int, metavar="事项编号", help="核查事项编号"),
            arg(
                "state",
                choices=tuple(STATE_WORDS),
                metavar="核查结果",
                help="核查结果：%(choices)s",
            ),
            arg("--note", metavar="核实情况", help="核实情况；误报须写明理由"),
        ],
        group="checks",
        use_cases=("checks.set_case_state",),
    ),
]
