"""``govshare`` — headless commands over the same core services the window uses.

    govshare init --area 441900199000 --name 青禾镇 [--county-name 东莞市]
    govshare demo --households 300 --seed 1
    govshare info
    govshare search 张三
    govshare export-list person [--village CODE] [--search 王] [--filter status=normal] --out F.xlsx
    govshare trust add county.pub.pem --sender 441900000000 --name 东莞市政务服务和数据管理局
    govshare trust list
    govshare import FILE_OR_PACKAGE… [--dry-run] [--json] [--errors-dir DIR]
    govshare export TEMPLATE_ID --period 2026-10 [--area CODE] [--subject ID…] --format pdf --out F

Every command takes ``--db PATH`` (default: ``GOVSHARE_DB`` or the per-user data directory).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop import __version__
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.killpoints import reached

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.dictionary import Element
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.security.signin import PendingSetup
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


ENV_USER, ENV_PASSWORD = "GOVSHARE_USER", "GOVSHARE_PASSWORD"
ENV_ADMIN_PASSWORD, ENV_NEW_PASSWORD = "GOVSHARE_ADMIN_PASSWORD", "GOVSHARE_NEW_PASSWORD"


def _open(args: argparse.Namespace, credentials: tuple[str, str] | None = None) -> Store:
    """Sign in — the user from ``GOVSHARE_USER`` and the password from ``GOVSHARE_PASSWORD``, or
    asked for — and open the database as that user (permissions and audit follow)."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.location import held_lock

    path = _initialised_path(args)
    user, password = credentials or _credentials()
    signed = signin.sign_in(path, user, password)
    lock = held_lock(path)
    if lock is not None:  # a second writer is told who has the database
        lock.note(account=user)
    if signed.must_change_password and args.command != "passwd":
        signed.store.dispose()
        raise UserError(f"“{user}”首次登录（或密码被重置），须先修改密码：govshare passwd")
    if not signed.store.encrypted:
        print("警告：本机无法使用 SQLCipher，数据库未加密。", file=sys.stderr)
    return signed.store


def _initialised_path(args: argparse.Namespace) -> Path:
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path

    path = sqlite_path(resolve_url(args.db))
    if path is None:
        raise UserError("只支持本机的 SQLite 数据库文件")
    if not signin.is_initialised(path):
        if not path.exists():
            raise UserError(f"数据库 {path} 不存在：请先运行 govshare init 或 govshare demo")
        raise UserError(
            f"数据库 {path} 由早期版本创建，尚未设置管理员和加密。"
            "请运行 govshare init --area 区划代码 --name 名称 完成设置（数据会被加密，原数据保留）"
        )
    return path


def _credentials() -> tuple[str, str]:
    import getpass
    import os

    user = os.environ.get(ENV_USER) or input("用户名：").strip()
    password = os.environ.get(ENV_PASSWORD) or getpass.getpass("密码：")
    if os.environ.get(ENV_PASSWORD) and sys.stderr.isatty() and not os.environ.get("CI"):
        print(
            f"警告：密码取自环境变量 {ENV_PASSWORD}，同一台电脑上的其他程序可能读到它；"
            "请只在脚本中使用，用完即删除。",
            file=sys.stderr,
        )
    return user, password


def _print_setup(setup: PendingSetup) -> None:
    """The secrets, before the database becomes usable (a kill after this leaves it finishable,
    a kill before it leaves only temporaries)."""
    if setup.admin_password:
        print(
            f"管理员账户：admin　初始密码：{setup.admin_password}（只显示这一次；首次登录须修改）"
        )
    print(
        f"恢复密钥：{setup.recovery_secret}（只显示这一次；请抄写后放入保险柜，忘记所有密码时用它恢复）",
        flush=True,
    )
    from govshare_desktop.core.store.location import DISK_ENCRYPTION_ADVICE, volume_encrypted

    if volume_encrypted(setup.path) is False:
        print(f"注意：数据库所在磁盘未加密。{DISK_ENCRYPTION_ADVICE}。", file=sys.stderr)


def _set_up(args: argparse.Namespace, fill: Callable[[Store], str]) -> None:
    """Set a new database up (or encrypt one from an earlier version) under temporary names:
    ``fill`` it, print what it says and the secrets, and only then make it usable. What an
    interrupted setup left is recognised and cleared first, with a notice."""
    import os

    from govshare_desktop.core.security import signin

    notice = signin.clear_interrupted_setup(args.db or "")
    if notice:
        print(f"注意：{notice}", file=sys.stderr)
    pending = signin.begin_setup(args.db or "", admin_password=os.environ.get(ENV_ADMIN_PASSWORD))
    try:
        said = fill(pending.store)
        print(f"{said}数据库：{pending.path}")
        _print_setup(pending)
        reached("setup:shown")
        pending.finish().store.dispose()
    except BaseException:
        pending.abandon()
        raise


def cmd_init(args: argparse.Namespace) -> int:
    from govshare_desktop.core.store.township import init_township

    def fill(store: Store) -> str:
        with store.transaction() as session:
            township = init_township(
                session, args.area, args.name, county_name=args.county_name or ""
            )
        return f"已初始化：{township.name}（{township.code}），"

    _set_up(args, fill)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.security import signin

    def fill(store: Store) -> str:
        started = time.perf_counter()
        result = generate(store, households=args.households, seed=args.seed, progress=_progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        reached("setup:filled")
        return (
            f"演示乡镇已生成：{result.households} 户，{result.persons} 人，"
            f"{result.enrollments} 条参保，{result.payments} 条发放，"
            f"用时 {time.perf_counter() - started:.1f} 秒。"
        )

    if signin.is_initialised(args.db or ""):
        store = _open(args)
        print(f"{fill(store)}数据库：{store.url}")
    else:
        _set_up(args, fill)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from govshare_desktop.core.records import summary
    from govshare_desktop.core.store.migrate import current_revision
    from govshare_desktop.core.store.township import get_township

    store = _open(args)
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
    if store.path is not None:
        from govshare_desktop.core.store.location import disk_encryption_text

        lines.append(f"磁盘加密：{disk_encryption_text(store.path)}")
    print("\n".join(lines))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from govshare_desktop.core.browse import PERSONS, Browser, Query, format_cell
    from govshare_desktop.core.security.permissions import Action
    from govshare_desktop.core.store.search import HINT, SearchKind, classify

    if classify(args.text).kind in (SearchKind.EMPTY, SearchKind.NOTHING):
        raise UserError(f"“{args.text}”中没有可查找的内容：{HINT}")
    store = _open(args)
    store.principal.require(Action.UNMASK if args.unmasked else Action.VIEW)
    if args.unmasked and not (args.reason or "").strip():
        raise UserError("显示完整的个人信息须用 --reason 说明事由（记入审计日志）")
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
    store.audit().log(
        store.principal,
        "unmask" if args.unmasked else "search",
        args.text,
        detail={"results": len(ids), "where": "cli search"}
        | ({"reason": args.reason} if args.unmasked else {}),
    )
    print(f"共 {len(ids)} 条", file=sys.stderr)
    return 0


def cmd_export_list(args: argparse.Namespace) -> int:
    """A browse list (what the window lists with the same search and filters) to .xlsx."""
    from pathlib import Path

    from govshare_desktop.core.browse import DATASETS, Query
    from govshare_desktop.core.export.lists import export_list

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
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"输出文件“{out}”应以 .xlsx 结尾")
    if args.unmasked:
        if not (args.reason or "").strip():
            raise UserError("导出完整的个人信息须用 --reason 说明事由（记入审计日志）")
        print("注意：导出的文件含完整的个人信息，请妥善保管。", file=sys.stderr)
    result = export_list(
        _open(args),
        Query(dataset, filters),
        out,
        masked=not args.unmasked,
        today=date.today(),
        reason=args.reason or "",
        progress=lambda done, total: _progress(done, total, f"导出{dataset.title}名单"),
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    note = "已脱敏" if result.masked else "含完整个人信息"
    print(f"已导出 {result.rows} 行（{note}）：{result.path}\tSHA-256 {result.sha256}")
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    from datetime import datetime
    from pathlib import Path

    from govshare_desktop.core.exchange.trust import register_sender

    path = Path(args.pem)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取公钥文件“{path}”：{exc.strerror or exc}") from None
    store = _open(args)
    sender = register_sender(store, pem, code=args.sender, name=args.name, now=datetime.now())
    print(f"已登记发送方 {sender.code} {sender.name} 的公钥，指纹 {sender.fingerprint}")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from govshare_desktop.core.store.models import TrustedSender

    store = _open(args)
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
    """Import the files in the order given. ``--dry-run`` runs exactly that — the same files in the
    same order, in one transaction rolled back at the end — so its counts are the real run's."""
    import json
    from pathlib import Path

    from govshare_desktop.core.backflow.error_workbook import write_error_workbook
    from govshare_desktop.core.backflow.runner import Source, import_files
    from govshare_desktop.core.domain.masking import mask_id_number, mask_name

    store = _open(args)
    outcomes = import_files(
        store,
        [Source(Path(name)) for name in args.paths],
        user=store.principal.username,
        dry_run=args.dry_run,
        plan_options={
            "dataset": args.dataset,
            "source_department": args.source,
            "as_of": _date(args.as_of),
            "full_snapshot": not args.delta,
        },
    )

    def masked(item: dict) -> str:
        return f"{mask_name(item.get('name'))}（{mask_id_number(item.get('id_number'))}）"

    for outcome in outcomes:
        output = outcome.as_json()
        if outcome.package is not None:
            package = outcome.package
            lines = [
                f"{outcome.file}：数据包"
                + (f"第 {package.sequence} 号" if package.sequence is not None else "（序号不明）")
                + f"，{_PACKAGE_STATUS[package.status]}"
            ]
            if package.message:
                lines.append(f"  {package.message}")
        elif outcome.refused:
            lines = [f"{outcome.file}：未导入。{outcome.message}"]
        else:
            lines = []
        for result in outcome.datasets:
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
            report = result.report
            if report is not None:
                lines += [f"  {line}" for line in report.lines()]
                changes = report.amount_change_lines(masked)
                lines += [f"    {line}" for line in changes[:20]]
                if report.amount_change_count > 20:
                    lines.append(f"    …… 另有 {report.amount_change_count - 20} 条金额变化")
            amounts = report.amount_changes if report is not None else []
            if args.errors_dir and (result.rejections or amounts):
                stem = Path(result.file.split(":")[-1]).stem
                suffix = "未导入的行" if result.rejections else "金额变化"
                target = Path(args.errors_dir) / f"{stem}_{suffix}.xlsx"
                write_error_workbook(
                    store,
                    target,
                    file_name=result.file,
                    headers=result.headers,
                    rejections=result.rejections,
                    amount_changes=amounts,
                )
                lines.append(
                    f"  {'未导入的行' if result.rejections else '金额变化'}已写入：{target}"
                )
        if args.json:
            print(json.dumps(output, ensure_ascii=False, default=str))
        else:
            print("\n".join(lines))
    return 1 if any(outcome.refused for outcome in outcomes) else 0


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
    from govshare_desktop.core.store.township import get_township

    period = _period(args.period)
    store = _open(args)
    township = get_township(store)
    if township is None:
        raise UserError("尚未设置本乡镇（街道），请先运行 govshare init")
    elements = load_dictionary()
    if args.save:
        from datetime import datetime

        report = _pool(store, elements).prefill(
            period, township_code=township.code, user=store.principal.username, now=datetime.now()
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

    period = _period(args.period)
    elements = load_dictionary()
    pool = _pool(_open(args), elements)
    row = pool.set(
        args.element,
        args.area,
        period,
        args.value,
        user=pool.store.principal.username,
        now=datetime.now(),
        reason=args.reason,
    )
    element = elements[args.element]
    print(f"{element.name}（{args.area}，{period}）= {display(element, row.value)}（{row.origin}）")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from govshare_desktop.core.export.forms import export_sheets, form_sheets
    from govshare_desktop.core.forms.dictionary import load_dictionary

    period = _period(args.period)
    pool = _pool(_open(args), load_dictionary())
    if args.workbook:
        from govshare_desktop.core.export.workbook_fill import fill_workbook

        subjects = args.subject or []
        if len(subjects) > 1:
            raise UserError("按部门表样导出登记表时，一次只能写一个 --subject")
        area = subjects[0] if subjects else (args.area or pool.township()[0])
        out = fill_workbook(
            pool,
            args.workbook,
            area,
            period,
            Path(args.out),
            masked=not args.unmasked,
            reason=args.reason or "",
        )
        import hashlib

        print(f"{out}\t1 份\tSHA-256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
        return 0
    if not args.format:
        raise UserError(
            "请用 --format xlsx 或 --format pdf 指定导出格式（或用 --workbook 按部门表样导出）"
        )
    sheets = form_sheets(
        pool,
        args.template,
        period,
        area=args.area,
        subjects=args.subject,
        masked=not args.unmasked,
    )
    written = export_sheets(
        pool.store,
        sheets,
        Path(args.out),
        fmt=args.format,
        each=args.each,
        watermark=args.watermark,
        reason=args.reason or "",
        progress=lambda done, total: _progress(done, total, "导出"),
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    logging.getLogger("govshare_desktop.export").info(
        "exported %s %s: %s", args.template, period, [(str(f.path), f.sha256) for f in written]
    )
    for exported in written:
        print(f"{exported.path}\t{exported.forms} 份\tSHA-256 {exported.sha256}")
    return 0


def _new_password(prompt: str = "新密码：") -> str:
    import getpass
    import os

    if os.environ.get(ENV_NEW_PASSWORD):
        return os.environ[ENV_NEW_PASSWORD]
    first = getpass.getpass(prompt)
    if getpass.getpass("再输入一次：") != first:
        raise UserError("两次输入的密码不一致")
    return first


def cmd_passwd(args: argparse.Namespace) -> int:
    import getpass
    import os

    from govshare_desktop.core.security.signin import change_password

    store = _open(args)
    old = os.environ.get(ENV_PASSWORD) or getpass.getpass("当前密码：")
    change_password(store, old, _new_password())
    print(f"“{store.principal.username}”的密码已修改")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.security.permissions import Role

    store = _open(args)
    if args.users_command == "list":
        for account in signin.list_accounts(store):
            state = "已停用" if account.disabled else "正常"
            expires = f"，有效期至 {account.expires_at}" if account.expires_at else ""
            print(
                f"{account.username}\t{account.display_name}\t{Role(account.role).label}"
                f"\t{state}{expires}"
            )
        return 0
    if args.users_command == "add":
        signin.add_account(
            store,
            args.username,
            Role.parse(args.role),
            _new_password("初始密码："),
            display_name=args.name or "",
            expires_at=_date(args.expires),
        )
        print(f"已新增用户 {args.username}（{Role.parse(args.role).label}），首次登录须修改密码")
        return 0
    changes: dict[str, object] = {
        "lock": {"disabled": True},
        "unlock": {"disabled": False},
        "set-role": {"role": Role.parse(getattr(args, "role", "") or "clerk")},
        "reset-password": {},
    }[args.users_command]
    if args.users_command == "reset-password":
        changes = {"password": _new_password("新的初始密码：")}
    signin.change_account(store, args.username, **changes)  # type: ignore[arg-type]
    print(f"已修改用户 {args.username}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from govshare_desktop.core.export.audited import read_anchor
    from govshare_desktop.core.security.audit import Anchor

    store = _open(args)
    anchor = Anchor.parse(args.anchor) if args.anchor else None
    source = "指定的锚点"
    if args.against:
        found = read_anchor(Path(args.against))
        if found is None:
            raise UserError(f"文件 {args.against} 中没有审计锚点（不是本程序导出的文件？）")
        anchor, source = Anchor.parse(found), f"文件 {Path(args.against).name}"
    result = store.audit().verify(
        store.principal,
        anchor,
        source=source,
        backups=Path(args.backups) if args.backups else None,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "entries": result.entries,
                    "format1": result.format1,
                    "head": str(result.head) if result.head else None,
                    "problems": [
                        {"seq": p.seq, "kind": p.kind, "message": p.message}
                        for p in result.problems
                    ],
                    "anchors": [
                        {
                            "source": a.source,
                            "anchor": str(a.anchor) if a.anchor else None,
                            "reached": a.reached,
                            "message": a.message,
                        }
                        for a in result.anchors
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        for problem in result.problems:
            print(f"第 {problem.seq} 条：{problem.message}")
        print("核对的锚点：")
        for checked in result.anchors:
            mark = {True: "✓", False: "✗", None: "—"}[checked.reached]
            where = f"（{checked.anchor.seq}）" if checked.anchor else ""
            print(f"  {mark} {checked.source}{where}：{checked.message}")
        verdict = "完整" if result.ok else f"有 {len(result.problems)} 处问题"
        old = f"（其中升级前的旧格式 {result.format1} 条）" if result.format1 else ""
        print(f"审计日志共 {result.entries} 条{old}，{verdict}；最新：{result.head or '—'}")
    return 0 if result.ok else 3


def cmd_audit_list(args: argparse.Namespace) -> int:
    store = _open(args)
    for entry in store.audit().entries(
        store.principal, action=args.action, username=args.user, limit=args.limit
    ):
        print(
            f"{entry.seq}\t{entry.at:%Y-%m-%d %H:%M:%S}\t{entry.username}\t{entry.action}"
            f"\t{entry.outcome}\t{entry.object}\t{entry.detail}"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from govshare_desktop.core.security.safekeeping import backup_now

    store = _open(args)
    result = backup_now(store, Path(args.out) if args.out else None, generations=args.generations)
    print(f"已备份：{result.path}（{result.size / 1048576:.1f} MB，SHA-256 {result.sha256}）")
    print(f"密钥文件已一并保存：{result.path}.keys（恢复时需要它和当时的密码或恢复密钥）")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup. A database too damaged to sign in to is restored by a 系统管理员 of the
    backup (see safekeeping.restore_unreadable)."""
    from pathlib import Path

    from govshare_desktop.core.security.safekeeping import restore_from, restore_unreadable
    from govshare_desktop.core.security.signin import DatabaseUnreadable

    credentials = _credentials()
    try:
        store = _open(args, credentials)
    except DatabaseUnreadable as exc:
        print(f"{exc.message.split('。')[0]}。将用备份替换它（损坏的文件另存为安全副本）。")
        safety = restore_unreadable(_initialised_path(args), Path(args.file), *credentials)
    else:
        safety = restore_from(store, Path(args.file))
    print(f"已从 {args.file} 恢复数据库。恢复前的数据库另存为：{safety or '—'}")
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
    p.add_argument("--reason", help="--unmasked 时须说明事由（记入审计日志）")
    _add_db(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "export-list", help="把户籍、人员、参保或待遇发放名单导出为 Excel（默认脱敏）"
    )
    p.add_argument(
        "dataset",
        metavar="DATASET",
        choices=["household", "person", "ss_enrollment", "ss_payment"],
        help="household（户籍）、person（人员）、ss_enrollment（参保）或 ss_payment（待遇发放）",
    )
    p.add_argument("--village", metavar="CODE", help="只导出该村（社区）（12位区划代码）")
    p.add_argument(
        "--search", metavar="TEXT", help="与窗口中的查找相同：姓名、身份证号（片段）或拼音首字母"
    )
    p.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        help="其他筛选条件，可重复，例：status=normal、scheme=170、registry=out、period=202610",
    )
    p.add_argument(
        "--unmasked", action="store_true", help="导出完整的姓名、证件号码、电话和住址（注意保密）"
    )
    p.add_argument("--reason", help="--unmasked 时须说明事由（记入审计日志）")
    p.add_argument("--out", required=True, metavar="PATH.xlsx", help="输出的 Excel 文件")
    _add_db(p)
    p.set_defaults(func=cmd_export_list)

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
    p = sub.add_parser("passwd", help="修改自己的密码（GOVSHARE_NEW_PASSWORD 或提示输入新密码）")
    _add_db(p)
    p.set_defaults(func=cmd_passwd)

    users = sub.add_parser("users", help="用户管理（系统管理员）")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = users_sub.add_parser("list", help="列出用户")
    _add_db(p)
    p = users_sub.add_parser("add", help="新增用户（初始密码：GOVSHARE_NEW_PASSWORD 或提示输入）")
    p.add_argument("username")
    p.add_argument(
        "--role", required=True, help="clerk 经办人 / reviewer 审核人 / sysadmin / auditor"
    )
    p.add_argument("--name", help="姓名（显示用）")
    p.add_argument("--expires", help="账户有效期至（YYYY-MM-DD）")
    _add_db(p)
    for action, text in (
        ("lock", "停用（锁定）用户"),
        ("unlock", "启用（解锁）用户，并清除登录失败锁定"),
        ("reset-password", "重置密码（用户下次登录须修改）"),
    ):
        p = users_sub.add_parser(action, help=text)
        p.add_argument("username")
        _add_db(p)
    p = users_sub.add_parser("set-role", help="修改用户角色")
    p.add_argument("username")
    p.add_argument("role")
    _add_db(p)
    users.set_defaults(func=cmd_users)

    audit = sub.add_parser("audit", help="审计日志")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = audit_sub.add_parser(
        "verify", help="校验审计日志是否完整（被改、删、调换或插入时返回非零）"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--anchor", metavar="SEQ:MAC", help="导出文件或数据包中记录的审计锚点")
    p.add_argument(
        "--against",
        metavar="FILE",
        help="从本程序导出的 .xlsx/.pdf 或发出的数据包 .zip 中读取审计锚点",
    )
    p.add_argument(
        "--backups",
        metavar="DIR",
        help="以此文件夹中每份备份的审计日志末条为锚点（默认：数据库旁的 backups）",
    )
    _add_db(p)
    p.set_defaults(func=cmd_audit_verify)
    p = audit_sub.add_parser("list", help="列出审计记录（审计管理员）")
    p.add_argument("--action")
    p.add_argument("--user")
    p.add_argument("--limit", type=int, default=100)
    _add_db(p)
    p.set_defaults(func=cmd_audit_list)

    p = sub.add_parser("backup", help="备份数据库（SQLite 在线备份，校验后保留最近 N 份）")
    p.add_argument("--out", metavar="DIR", help="备份文件夹（默认：数据库旁的 backups）")
    p.add_argument("--generations", type=int, default=7, help="保留份数（默认 7）")
    _add_db(p)
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="从备份恢复数据库（先校验备份，失败时原数据库不变）")
    p.add_argument("file", metavar="FILE")
    _add_db(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "export",
        help="导出报表为 Excel 或 PDF（登记表：每人一份，合并为一个文件或 --each 每人一个文件）",
    )
    p.add_argument("template", metavar="TEMPLATE_ID", help="报表模板 id（见 govshare forms list）")
    p.add_argument("--period", required=True, help="统计期：2026-10、2026Q3、2026H2、2026")
    p.add_argument("--area", help="村（社区）或乡镇的区划代码（默认：全镇）")
    p.add_argument(
        "--subject",
        nargs="+",
        metavar="ID_NUMBER",
        help="登记表：为这些人（身份号码）或户（户号）导出（默认：模板条件选出的所有对象）",
    )
    p.add_argument("--format", choices=("xlsx", "pdf"))
    p.add_argument(
        "--workbook",
        metavar="MAPPING",
        help="按部门自己的表样（resources/forms/workbooks 中的映射 id 或 .toml 路径）导出 .xlsx",
    )
    p.add_argument("--out", required=True, help="输出文件（--each 时为文件夹）")
    p.add_argument("--each", action="store_true", help="登记表每人一个文件")
    p.add_argument(
        "--unmasked",
        action="store_true",
        help="导出完整的姓名、身份号码等（默认脱敏；须用 --reason 说明事由，注意保密）",
    )
    p.add_argument("--masked", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument(
        "--reason", help="--unmasked 导出含完整个人信息的报表（花名册、登记表）时须说明事由"
    )
    p.add_argument("--watermark", action="store_true", help="PDF 加水印（导出人和时间）")
    _add_db(p)
    p.set_defaults(func=cmd_export)

    return parser


ENV_LOCK_WAIT = "GOVSHARE_LOCK_WAIT"
LOCK_WAIT = 10.0  # seconds a command waits for another writer (the window, an import) to finish


def _writer_lock(args: argparse.Namespace) -> AbstractContextManager[object]:
    """Every command that opens a database writes to it (signing in is audited), so each holds
    the database's one writer lock while it runs: a second command waits up to
    ``GOVSHARE_LOCK_WAIT`` seconds, then stops naming who has the database."""
    import os
    from contextlib import nullcontext

    if getattr(args, "db", "absent") == "absent":
        return nullcontext()
    from govshare_desktop.core.store.engine import resolve_url, sqlite_path
    from govshare_desktop.core.store.location import acquire_writer_lock

    path = sqlite_path(resolve_url(args.db))
    if path is None or not (path.exists() or args.command in ("init", "demo")):
        return nullcontext()  # nothing to lock (the command says what is missing)
    try:
        wait = float(os.environ.get(ENV_LOCK_WAIT) or LOCK_WAIT)
    except ValueError:
        raise UserError(f"{ENV_LOCK_WAIT} 应为秒数，例如 30") from None
    if args.command == "restore":
        wait = 0.0  # refused at once while anyone else has the database: no swap after a wait
    return acquire_writer_lock(path, wait=wait, purpose=f"执行 govshare {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _writer_lock(args):
            return int(args.func(args))
    except UserError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
