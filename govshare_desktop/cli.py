"""``govshare`` — headless commands over the same core services the window uses.

    govshare init --area 441900199000 --name 青禾镇 [--county-name 东莞市]
    govshare demo --households 300 --seed 1
    govshare info
    govshare search 张三
    govshare trust add county.pub.pem --sender 441900000000 --name 东莞市政务服务和数据管理局
    govshare trust list
    govshare import FILE_OR_PACKAGE… [--dry-run] [--json] [--errors-dir DIR]

Every command takes ``--db PATH`` (default: ``GOVSHARE_DB`` or the per-user data directory).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from govshare_desktop import __version__
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.user import os_user

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.dictionary import Element
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.store.engine import Store


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


def cmd_trust_add(args: argparse.Namespace) -> int:
    from datetime import datetime
    from pathlib import Path

    from govshare_desktop.core.exchange.trust import trust_sender
    from govshare_desktop.core.store.engine import open_store

    path = Path(args.pem)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取公钥文件“{path}”：{exc.strerror or exc}") from None
    store = open_store(args.db)
    with store.transaction() as session:
        sender = trust_sender(
            session, pem, code=args.sender, name=args.name, user=os_user(), now=datetime.now()
        )
        print(f"已登记发送方 {sender.code} {sender.name} 的公钥，指纹 {sender.fingerprint}")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.models import TrustedSender

    store = open_store(args.db)
    with store.sessions() as session:
        senders = list(session.scalars(select(TrustedSender).order_by(TrustedSender.code)))
    if not senders:
        print(
            "尚未登记任何发送方公钥（govshare trust add PUBLIC_KEY.pem --sender CODE --name NAME）"
        )
    for sender in senders:
        print(
            f"{sender.code}\t{sender.name}\t{sender.fingerprint}\t{sender.added_at:%Y-%m-%d %H:%M}"
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from govshare_desktop.core.backflow.error_workbook import write_error_workbook
    from govshare_desktop.core.backflow.packages import import_package, is_package
    from govshare_desktop.core.backflow.pipeline import import_file
    from govshare_desktop.core.store.engine import open_store

    store = open_store(args.db)
    refused = False
    for name in args.paths:
        path = Path(name)
        datasets = []
        try:
            if is_package(path):
                package = import_package(store, path, user=os_user(), dry_run=args.dry_run)
                refused |= package.status == "refused"
                datasets = package.datasets
                output = package.as_json()
                lines = [
                    f"{path.name}：数据包第 {package.sequence} 号，{_PACKAGE_STATUS[package.status]}"
                ]
                if package.message:
                    lines.append(f"  {package.message}")
            else:
                result = import_file(
                    store,
                    path,
                    user=os_user(),
                    dry_run=args.dry_run,
                    dataset=args.dataset,
                    source_department=args.source,
                    as_of=_date(args.as_of),
                    full_snapshot=not args.delta,
                )
                datasets = [result]
                output = result.as_json()
                lines = []
        except UserError as exc:
            refused = True
            output = {
                "file": path.name,
                "status": "refused",
                "reason_code": "unreadable",
                "message": exc.message,
            }
            lines = [f"{path.name}：未导入。{exc.message}"]
        for result in datasets:
            lines.append(
                f"{result.file}：{result.title}，读取 {result.rows_read} 行；新增 {result.inserted}，"
                f"更新 {result.updated}，未变 {result.unchanged}，拒收 {result.rejected}，"
                f"本次不再包含 {result.absent}" + ("（试运行，未保存）" if args.dry_run else "")
            )
            for rejection in result.rejections[:20]:
                lines.append(
                    f"  第 {rejection.row} 行 [{rejection.column}] {rejection.reason_code}：{rejection.message}"
                )
            if len(result.rejections) > 20:
                lines.append(f"  …… 另有 {len(result.rejections) - 20} 行被拒收")
            if result.report is not None:
                lines += [f"  {line}" for line in result.report.lines()]
            if args.errors_dir and result.rejections:
                target = (
                    Path(args.errors_dir)
                    / f"{Path(result.file.split(':')[-1]).stem}_未导入的行.xlsx"
                )
                write_error_workbook(
                    target,
                    file_name=result.file,
                    headers=result.headers,
                    rejections=result.rejections,
                )
                lines.append(f"  未导入的行已写入：{target}")
        if args.json:
            print(json.dumps(output, ensure_ascii=False, default=str))
        else:
            print("\n".join(lines))
    return 1 if refused else 0


def cmd_forms_check(args: argparse.Namespace) -> int:
    """A dictionary (has [[element]]) or a template; errors name the file and the field."""
    from pathlib import Path

    from govshare_desktop.core.forms.dictionary import load_dictionary, load_toml, parse_elements
    from govshare_desktop.core.forms.templates import parse_template

    path = Path(args.file)
    document = load_toml(path)
    if "element" in document:
        elements = parse_elements(document, path.name)
        computed = sum(1 for e in elements.values() if e.computed)
        print(f"{args.file}：{len(elements)} 个数据项（{computed} 个由回流数据计算），检查通过")
        return 0
    template = parse_template(document, path.name, load_dictionary())
    print(
        f"{args.file}：报表“{template.title}”（{template.department}），{len(template.columns)} 列，"
        f"{len(template.rules)} 条规则，检查通过"
    )
    return 0


def cmd_forms_list(args: argparse.Namespace) -> int:
    import json

    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.templates import load_templates

    templates, problems = load_templates(load_dictionary())
    for problem in problems:
        print(f"警告：{problem}", file=sys.stderr)
    for template in templates.values():
        if args.json:
            print(
                json.dumps(
                    {
                        "id": template.id,
                        "title": template.title,
                        "department": template.department,
                        "kind": template.kind,
                        "period_type": template.period_type,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"{template.id}\t{template.department}\t{template.title}\t{template.period_type}")
    return 0


def _period(text: str) -> Period:
    from govshare_desktop.core.domain.period import Period

    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _pool(store: Store, elements: dict[str, Element]) -> FormValues:
    from govshare_desktop.core.forms.templates import load_templates
    from govshare_desktop.core.forms.values import FormValues

    return FormValues(store, elements, load_templates(elements)[0])


def cmd_forms_prefill(args: argparse.Namespace) -> int:
    import json

    from govshare_desktop.core.forms.compute import compute_area_values
    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.core.store.township import get_township

    period = _period(args.period)
    store = open_store(args.db)
    township = get_township(store)
    if township is None:
        raise UserError("尚未设置本乡镇（街道），请先运行 govshare init")
    elements = load_dictionary()
    if args.save:
        from datetime import datetime

        report = _pool(store, elements).prefill(
            period, township_code=township.code, user=os_user(), now=datetime.now()
        )
        print(
            f"已保存：新增 {report.inserted} 个值，随回流数据更新 {len(report.changed)} 个，"
            f"保留经办人修改 {len(report.kept_overrides)} 个（回流数据已不同，请核对）",
            file=sys.stderr,
        )
    values = compute_area_values(
        store, list(elements.values()), period, township_code=township.code
    )
    areas = [args.area] if args.area else None
    if args.json:
        for code, by_area in values.items():
            for area, value in by_area.items():
                if areas is None or area in areas:
                    print(
                        json.dumps(
                            {"element": code, "area": area, "period": str(period), "value": value},
                            ensure_ascii=False,
                        )
                    )
        return 0
    for code, by_area in values.items():
        element = elements[code]
        shown = {a: v for a, v in by_area.items() if areas is None or a in areas}
        print(
            f"{code}\t{element.name}（{element.unit or '—'}）\t"
            + "  ".join(f"{a}:{v}" for a, v in shown.items())
        )
    return 0


def cmd_forms_set(args: argparse.Namespace) -> int:
    from datetime import datetime

    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.values import display
    from govshare_desktop.core.store.engine import open_store

    period = _period(args.period)
    elements = load_dictionary()
    pool = _pool(open_store(args.db), elements)
    row = pool.set(
        args.element,
        args.area,
        period,
        args.value,
        user=os_user(),
        now=datetime.now(),
        reason=args.reason,
    )
    element = elements[args.element]
    print(f"{element.name}（{args.area}，{period}）= {display(element, row.value)}（{row.origin}）")
    return 0


_PACKAGE_STATUS = {
    "applied": "已导入",
    "already_received": "已接收过，未作修改",
    "held": "序号不连续，已暂存",
    "refused": "已拒收",
}


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期“{text}”格式不对，应写作 2026-10-31") from None


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

    trust = sub.add_parser("trust", help="登记和查看数据包发送方的公钥")
    trust_sub = trust.add_subparsers(dest="trust_command", required=True, metavar="COMMAND")
    p = trust_sub.add_parser("add", help="登记发送方的 Ed25519 公钥（PEM 文件）")
    p.add_argument("pem", metavar="PUBLIC_KEY.pem")
    p.add_argument("--sender", required=True, help="发送方12位统计用区划代码")
    p.add_argument("--name", required=True, help="发送方名称")
    _add_db(p)
    p.set_defaults(func=cmd_trust_add)
    p = trust_sub.add_parser("list", help="列出已登记的发送方")
    _add_db(p)
    p.set_defaults(func=cmd_trust_list)

    p = sub.add_parser("import", help="导入回流数据：Excel/CSV 文件或回流数据包")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="只检查和统计，不保存")
    p.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")
    p.add_argument(
        "--dataset",
        choices=["household", "person", "ss_enrollment", "ss_payment"],
        help="指定数据类型（默认按表头识别）",
    )
    p.add_argument("--source", help="数据来源部门（默认取文件中的“数据来源”或按数据类型）")
    p.add_argument(
        "--as-of", help="数据时点 YYYY-MM-DD（默认取文件中的“数据时点”或文件名中的日期）"
    )
    p.add_argument(
        "--delta",
        action="store_true",
        help="文件只含变化的记录：不把文件中没有的记录标记为“不在最新回流中”",
    )
    p.add_argument("--errors-dir", metavar="DIR", help="把拒收的行写成 Excel 工作簿，放在此目录")
    _add_db(p)
    p.set_defaults(func=cmd_import)

    forms = sub.add_parser("forms", help="一表通：数据项和报表")
    forms_sub = forms.add_subparsers(dest="forms_command", required=True, metavar="COMMAND")
    p = forms_sub.add_parser("list", help="列出报表模板")
    p.add_argument("--json", action="store_true", help="每个模板输出一行 JSON")
    p.set_defaults(func=cmd_forms_list)
    p = forms_sub.add_parser("check", help="检查数据项字典或报表模板文件")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_forms_check)
    p = forms_sub.add_parser("prefill", help="按回流数据计算各数据项（每个村和全镇）")
    p.add_argument("--period", required=True, help="统计期：2026-10、2026Q3、2026H2、2026")
    p.add_argument("--area", help="只显示该区划（12位代码）")
    p.add_argument("--json", action="store_true", help="每个值输出一行 JSON")
    p.add_argument("--save", action="store_true", help="同时保存为本期的值（不覆盖经办人的修改）")
    _add_db(p)
    p.set_defaults(func=cmd_forms_prefill)
    p = forms_sub.add_parser("set", help="填写一个数据项的值（供脚本使用）")
    p.add_argument("element", metavar="ELEMENT")
    p.add_argument("value", metavar="VALUE")
    p.add_argument("--period", required=True, help="统计期：2026-10、2026Q3、2026H2、2026")
    p.add_argument("--area", required=True, help="12位区划代码（村或本乡镇）")
    p.add_argument("--reason", help="修改由回流数据计算的值时须说明理由")
    _add_db(p)
    p.set_defaults(func=cmd_forms_set)
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
