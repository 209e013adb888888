"""``govshare forms …`` and ``export``: 一表通 templates, 预填, values and forms to files."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from govshare_desktop.cli.common import (
    DB_HELP,
    PERIOD_HELP,
    Command,
    arg,
    context,
    end_progress,
    period,
    pool,
)
from govshare_desktop.core.errors import UserError


def cmd_forms_check(args: argparse.Namespace) -> int:
    """A dictionary (has [[element]]) or a template — the same check as ``forms install``;
    errors name the file and the field."""
    from govshare_desktop.core.forms.catalog import check_template_text, read_form_file
    from govshare_desktop.core.forms.dictionary import load_dictionary, parse_elements, toml_text

    path = Path(args.file)
    text = read_form_file(path)
    document = toml_text(text, path.name)
    if "element" in document:
        elements = parse_elements(document, path.name)
        computed = sum(1 for e in elements.values() if e.computed)
        print(f"{args.file}：{len(elements)} 个数据项（{computed} 个由回流数据计算），检查通过")
        return 0
    template = check_template_text(text, path.name, load_dictionary())
    print(
        f"{args.file}：报表“{template.title}”（{template.department}，版本 "
        f"{template.version_label}），{len(template.columns)} 列，"
        f"{len(template.rules)} 条规则，检查通过"
    )
    return 0


def cmd_forms_list(args: argparse.Namespace) -> int:
    """The shipped templates — with ``--db``, every version installed in that database too —
    with each one's version and where it came from."""
    from govshare_desktop.core.forms.catalog import ORIGINS, TemplateSet
    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.templates import load_templates

    if getattr(args, "db", None):
        from govshare_desktop.core.services.forms import catalog

        found = catalog(context(args))
        templates, problems = found.templates, found.problems
    else:
        shipped, problems = load_templates(load_dictionary())
        templates = TemplateSet.built_in(shipped)
    for problem in problems:
        print(f"警告：{problem}", file=sys.stderr)
    for template_id in templates:
        for entry in templates.installed(template_id):
            template = entry.template
            fields = ("id", "title", "department", "kind", "period_type", "version")
            row = {f: getattr(template, f) for f in fields}
            row.update(
                origin=entry.origin,
                effective_from=str(entry.effective_from or ""),
                package_id=entry.package_id or "",
            )
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
                continue
            when = f"自 {entry.effective_from} 起" if entry.effective_from else "各期"
            print(
                f"{template.id}\t{template.department}\t{template.title}\t{template.period_type}"
                f"\t{entry.version_label}\t{ORIGINS[entry.origin]}\t{when}"
            )
    return 0


def cmd_forms_install(args: argparse.Namespace) -> int:
    """「安装报表模板」 (系统管理员): a department's template — a new form, or a newer version of
    one — or a dictionary file's new data elements, kept in the database."""
    from govshare_desktop.core.services.forms import install_template_file

    start = str(period(args.effective_from)) if args.effective_from else ""
    print(install_template_file(context(args), Path(args.file), effective_from=start))
    return 0


def cmd_forms_prefill(args: argparse.Namespace) -> int:
    """What the back-flow data gives for each element (``--save``: 预填 the period, as the window's
    「按回流数据预填」 does)."""
    from govshare_desktop.core.forms.compute import compute_area_values
    from govshare_desktop.core.services.forms import prefill

    when = period(args.period)
    ctx = context(args)
    values = pool(ctx.store)
    township, _ = values.township()
    if args.save:
        print(f"已保存：{prefill(ctx, values, when).summary()}", file=sys.stderr)
    computed = compute_area_values(
        ctx.store, list(values.dictionary.values()), when, township_code=township
    )
    for code, by_area in computed.items():
        shown = {a: v for a, v in by_area.items() if not args.area or a == args.area}
        if args.json:
            for area, value in shown.items():
                row = {"element": code, "area": area, "period": str(when), "value": value}
                print(json.dumps(row, ensure_ascii=False))
            continue
        element = values.dictionary[code]
        print(
            f"{code}\t{element.name}（{element.unit or '—'}）\t"
            + "  ".join(f"{a}:{v}" for a, v in shown.items())
        )
    return 0


def cmd_forms_set(args: argparse.Namespace) -> int:
    from govshare_desktop.core.forms.values import display
    from govshare_desktop.core.services.forms import set_value

    when = period(args.period)
    ctx = context(args)
    values = pool(ctx.store)
    row = set_value(ctx, values, args.element, args.area, when, args.value, reason=args.reason)
    element = values.dictionary[args.element]
    print(f"{element.name}（{args.area}，{when}）= {display(element, row.value)}（{row.origin}）")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.output import export_template, fill_department_workbook

    when = period(args.period)
    ctx = context(args, "导出")
    values = pool(ctx.store)
    if args.workbook:
        import hashlib

        subjects = args.subject or []
        if len(subjects) > 1:
            raise UserError("按部门表样导出登记表时，一次只能写一个 --subject")
        area = subjects[0] if subjects else (args.area or values.township()[0])
        out = fill_department_workbook(
            ctx,
            values,
            args.workbook,
            area,
            when,
            Path(args.out),
            masked=not args.unmasked,
            reason=args.reason or "",
        )
        print(f"{out}\t1 份\tSHA-256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
        return 0
    if not args.format:
        raise UserError(
            "请用 --format xlsx 或 --format pdf 指定导出格式（或用 --workbook 按部门表样导出）"
        )
    written = export_template(
        ctx,
        values,
        args.template,
        when,
        Path(args.out),
        fmt=args.format,
        area=args.area,
        subjects=args.subject,
        masked=not args.unmasked,
        each=args.each,
        watermark=args.watermark,
        reason=args.reason or "",
    )
    end_progress()
    logging.getLogger("govshare_desktop.export").info(
        "exported %s %s: %s", args.template, when, [(str(f.path), f.sha256) for f in written]
    )
    for exported in written:
        print(f"{exported.path}\t{exported.forms} 份\tSHA-256 {exported.sha256}")
    return 0


PERIOD = arg("--period", required=True, metavar="统计期", help=PERIOD_HELP)
AREA_HELP = "12位区划代码：村（社区）或本乡镇"

COMMANDS = [
    Command(
        "list",
        "列出报表模板",
        cmd_forms_list,
        [
            arg("--json", action="store_true", help="每个模板（每个版本）输出一行 JSON"),
            arg(
                "--db",
                metavar="路径",
                default=argparse.SUPPRESS,  # without it: the shipped templates, no signing in
                help=f"同时列出该数据库中安装的报表模板及各版本（须登录）。{DB_HELP}",
            ),
        ],
        group="forms",
        database=False,
        use_cases=("forms.catalog",),
    ),
    Command(
        "check",
        "检查数据项字典或报表模板文件（与 forms install 的检查相同）",
        cmd_forms_check,
        [arg("file", metavar="文件.toml", help="数据项字典或报表模板文件（TOML）")],
        group="forms",
        database=False,
    ),
    Command(
        "install",
        "安装报表模板（新的报表，或已有报表的新版本）或数据项字典的新数据项（系统管理员）",
        cmd_forms_install,
        [
            arg("file", metavar="文件.toml", help="报表模板或数据项字典文件（TOML）"),
            arg(
                "--from",
                dest="effective_from",
                metavar="统计期",
                help="新版本自该统计期起适用（默认：各期；已上报的报表仍按上报时的版本）",
            ),
        ],
        group="forms",
        use_cases=("forms.install_template_file",),
    ),
    Command(
        "prefill",
        "按回流数据计算各数据项（每个村和全镇）；--save 即窗口中的「按回流数据预填」",
        cmd_forms_prefill,
        [
            PERIOD,
            arg("--area", metavar="区划代码", help="只显示该区划（12位代码）"),
            arg("--json", action="store_true", help="每个值输出一行 JSON"),
            arg(
                "--save",
                action="store_true",
                help="同时保存为本期的值（不覆盖经办人的修改），并沿用上期可沿用的填报",
            ),
        ],
        group="forms",
        use_cases=("forms.prefill",),
    ),
    Command(
        "set",
        "填写一个数据项的值（供脚本使用）",
        cmd_forms_set,
        [
            arg("element", metavar="数据项", help="数据项代码（govshare forms prefill 可见）"),
            arg("value", metavar="值", help="填写的值"),
            PERIOD,
            arg("--area", required=True, metavar="区划代码", help=AREA_HELP),
            arg("--reason", metavar="理由", help="修改由回流数据计算的值时须说明理由"),
        ],
        group="forms",
        use_cases=("forms.set_value",),
    ),
    Command(
        "export",
        "导出报表为 Excel 或 PDF（登记表：每人一份，合并为一个文件或 --each 每人一个文件）",
        cmd_export,
        [
            arg("template", metavar="报表模板", help="报表模板 ID（govshare forms list 可见）"),
            PERIOD,
            arg("--area", metavar="区划代码", help="村（社区）或乡镇的区划代码（默认：全镇）"),
            arg(
                "--subject",
                nargs="+",
                metavar="身份号码",
                help="登记表：为这些人（身份号码）或户（户号）导出（默认：模板条件选出的所有对象）",
            ),
            arg("--format", choices=("xlsx", "pdf"), help="导出格式：xlsx（Excel）或 pdf"),
            arg(
                "--workbook",
                metavar="表样",
                help="按部门自己的表样（resources/forms/workbooks 中的映射 id 或 .toml 路径）导出 .xlsx",
            ),
            arg("--out", required=True, metavar="文件", help="输出文件（--each 时为文件夹）"),
            arg("--each", action="store_true", help="登记表每人一个文件"),
            arg(
                "--unmasked",
                action="store_true",
                help="导出完整的姓名、身份号码等（默认脱敏；须用 --reason 说明事由，注意保密）",
            ),
            arg("--masked", action="store_true", help=argparse.SUPPRESS),  # the default now
            arg(
                "--reason",
                metavar="事由",
                help="--unmasked 导出含完整个人信息的报表（花名册、登记表）时须说明事由",
            ),
            arg("--watermark", action="store_true", help="PDF 加水印（导出人和时间）"),
        ],
        use_cases=("output.export_template", "output.fill_department_workbook"),
    ),
]
