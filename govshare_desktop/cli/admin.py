"""``govshare passwd``, ``users``, ``audit``, ``backup`` and ``restore``: what the administrators
(and everyone, for their own password) do."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.cli.common import (
    Command,
    arg,
    ask_credentials,
    context,
    current_password,
    day,
    initialised_path,
    new_password,
    open_store,
)

if TYPE_CHECKING:
    from govshare_desktop.core.security.audit import Verification


def cmd_passwd(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import change_own_password

    ctx = context(args)
    change_own_password(ctx, current_password(), new_password())
    print(f"“{ctx.user}”的密码已修改")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.services.admin import list_accounts

    for account in list_accounts(context(args)):
        state = "已停用" if account.disabled else "正常"
        expires = f"，有效期至 {account.expires_at}" if account.expires_at else ""
        role = Role(account.role).label
        print(f"{account.username}\t{account.display_name}\t{role}\t{state}{expires}")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.services.admin import add_account

    role = Role.parse(args.role)
    add_account(
        context(args),
        args.username,
        role,
        new_password("初始密码："),
        display_name=args.name or "",
        expires_at=day(args.expires),
    )
    print(f"已新增用户 {args.username}（{role.label}），首次登录须修改密码")
    return 0


def cmd_users_change(args: argparse.Namespace) -> int:
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.services.admin import change_account

    ctx = context(args)
    action = args.users_command
    if action == "reset-password":
        change_account(ctx, args.username, password=new_password("新的初始密码："))
    elif action == "set-role":
        change_account(ctx, args.username, role=Role.parse(args.role))
    else:
        change_account(ctx, args.username, disabled=action == "lock")
    print(f"已修改用户 {args.username}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import verify_audit

    result = verify_audit(
        context(args),
        against=Path(args.against) if args.against else None,
        anchor=args.anchor,
        backups=Path(args.backups) if args.backups else None,
    )
    if args.json:
        print(json.dumps(_verification_json(result), ensure_ascii=False))
        return 0 if result.ok else 3
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


def _verification_json(result: Verification) -> dict[str, object]:
    return {
        "ok": result.ok,
        "entries": result.entries,
        "format1": result.format1,
        "head": str(result.head) if result.head else None,
        "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in result.problems],
        "anchors": [
            {
                "source": a.source,
                "anchor": str(a.anchor) if a.anchor else None,
                "reached": a.reached,
                "message": a.message,
            }
            for a in result.anchors
        ],
    }


def cmd_audit_list(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import audit_entries

    for entry in audit_entries(
        context(args), action=args.action, username=args.user, limit=args.limit
    ):
        print(
            f"{entry.seq}\t{entry.at:%Y-%m-%d %H:%M:%S}\t{entry.username}\t{entry.action}"
            f"\t{entry.outcome}\t{entry.object}\t{entry.detail}"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.admin import back_up

    result = back_up(
        context(args), Path(args.out) if args.out else None, generations=args.generations
    )
    print(f"已备份：{result.path}（{result.size / 1048576:.1f} MB，SHA-256 {result.sha256}）")
    if result.path.suffix == ".dump":  # a server's pg_dump (office mode)
        print(f"说明文件已一并保存：{result.path}.json（乡镇、校验值；恢复时须与备份放在一起）")
    else:
        print(f"密钥文件已一并保存：{result.path}.keys（恢复时需要它和当时的密码或恢复密钥）")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup. A database too damaged to sign in to is restored by a 系统管理员 of the
    backup."""
    from govshare_desktop.core.security.signin import DatabaseUnreadable
    from govshare_desktop.core.services import admin
    from govshare_desktop.core.services.context import Context

    credentials = ask_credentials()
    if args.open_to:
        ctx = Context(open_store(args, credentials))
        admin.open_server_backup(ctx, Path(args.file), Path(args.open_to))
        print(
            f"已把 {args.file} 解开到 {args.open_to}。该文件含全乡镇（街道）的个人信息："
            "恢复完成后请立即删除。"
        )
        return 0
    try:
        store = open_store(args, credentials)
    except DatabaseUnreadable as exc:
        print(f"{exc.message.split('。')[0]}。将用备份替换它（损坏的文件另存为安全副本）。")
        path = initialised_path(args)
        safety = admin.restore_unreadable(path, Path(args.file), *credentials)
    else:
        safety = admin.restore(Context(store), Path(args.file))
    print(f"已从 {args.file} 恢复数据库。恢复前的数据库另存为：{safety or '—'}")
    return 0


USERNAME = arg("username", metavar="用户名", help="登录用户名")
ROLE_HELP = (
    "clerk 经办人 / reviewer 审核人 / sysadmin 系统管理员 / auditor 审计管理员（也可写中文名称）"
)

COMMANDS = [
    Command(
        "passwd",
        "修改自己的密码（GOVSHARE_NEW_PASSWORD 或提示输入新密码）",
        cmd_passwd,
        use_cases=("admin.change_own_password",),
    ),
    Command("list", "列出用户", cmd_users_list, group="users", use_cases=("admin.list_accounts",)),
    Command(
        "add",
        "新增用户（初始密码：GOVSHARE_NEW_PASSWORD 或提示输入）",
        cmd_users_add,
        [
            USERNAME,
            arg("--role", required=True, metavar="角色", help=ROLE_HELP),
            arg("--name", metavar="姓名", help="姓名（显示用）"),
            arg("--expires", metavar="日期", help="账户有效期至，例：2026-12-31（默认长期有效）"),
        ],
        group="users",
        use_cases=("admin.add_account",),
    ),
    *(
        Command(
            action,
            text,
            cmd_users_change,
            [USERNAME],
            group="users",
            use_cases=("admin.change_account",),
        )
        for action, text in (
            ("lock", "停用（锁定）用户"),
            ("unlock", "启用（解锁）用户，并清除登录失败锁定"),
            ("reset-password", "重置密码（用户下次登录须修改）"),
        )
    ),
    Command(
        "set-role",
        "修改用户角色",
        cmd_users_change,
        [USERNAME, arg("role", metavar="角色", help=ROLE_HELP)],
        group="users",
        use_cases=("admin.change_account",),
    ),
    Command(
        "verify",
        "校验审计日志是否完整（被改、删、调换或插入时返回非零）",
        cmd_audit_verify,
        [
            arg("--json", action="store_true", help="以 JSON 输出校验结果"),
            arg("--anchor", metavar="序号:MAC", help="导出文件或数据包中记录的审计锚点"),
            arg(
                "--against",
                metavar="文件",
                help="从本程序导出的 .xlsx/.pdf 或发出的数据包 .zip 中读取审计锚点",
            ),
            arg(
                "--backups",
                metavar="文件夹",
                help="以此文件夹中每份备份的审计日志末条为锚点（默认：数据库旁的 backups；"
                "服务器：本机数据文件夹下的 server-backups，读每份转储旁清单记下的末条）",
            ),
        ],
        group="audit",
        use_cases=("admin.verify_audit",),
    ),
    Command(
        "list",
        "列出审计记录（审计管理员）",
        cmd_audit_list,
        [
            arg(
                "--action",
                metavar="操作",
                help="只列出该操作的记录，例：login、login_failed、import",
            ),
            arg("--user", metavar="用户名", help="只列出该用户的记录"),
            arg(
                "--limit",
                type=int,
                default=100,
                metavar="条数",
                help="最多列出的条数，从最新的起（默认 100）",
            ),
        ],
        group="audit",
        use_cases=("admin.audit_entries",),
    ),
    Command(
        "backup",
        "备份数据库（SQLite 在线备份；服务器上用 pg_dump，系统管理员），校验后保留最近 N 份",
        cmd_backup,
        [
            arg(
                "--out",
                metavar="文件夹",
                help="备份文件夹（默认：数据库旁的 backups；服务器：本机数据文件夹下的 server-backups）",
            ),
            arg(
                "--generations",
                type=int,
                default=7,
                metavar="份数",
                help="保留最近的份数，更早的删除（默认 7）",
            ),
        ],
        use_cases=("admin.back_up",),
    ),
    Command(
        "restore",
        "从备份恢复数据库（先校验备份，失败时原数据库不变）",
        cmd_restore,
        [
            arg(
                "file",
                metavar="备份文件",
                help="要恢复的备份文件（.db，它的 .keys 密钥文件须在同一文件夹；"
                "服务器：.dump，它的 .json 说明文件须在同一文件夹）",
            ),
            arg(
                "--open-to",
                metavar="文件",
                help="不恢复：把加密的服务器备份解开，写到此新文件（含全乡镇的个人信息，"
                "供服务器管理员用 pg_restore 手工恢复，用完即删；记入审计日志）",
            ),
        ],
        use_cases=("admin.restore", "admin.restore_unreadable", "admin.open_server_backup"),
    ),
]
