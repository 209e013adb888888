"""``govshare server init`` and ``server upgrade``: a township's database on a PostgreSQL server
(office mode), set up and upgraded by the system administrator, connected as the database's owner.
Each PC's program connects as the application role these commands grant (``--app-role``)."""

# Imports inside functions — lazy: each command loads only the core it uses.

from __future__ import annotations

import argparse
import os

from govshare_desktop.cli.common import ENV_ADMIN_PASSWORD, Command, arg
from govshare_desktop.cli.setup import TOWNSHIP_ARGS, _finish

# core.store.server_roles.ENV_APP_PASSWORD and APP_ROLE (a test checks): the parser is built
# without the core.
ENV_APP_PASSWORD = "GOVSHARE_APP_PASSWORD"
APP_ROLE = "govshare_app"

URL_ARG = arg(
    "--url",
    required=True,
    metavar="连接地址",
    help="以数据库所有者连接，例：postgresql://govshare_owner@192.168.1.10/qinghe?sslmode="
    "verify-full（经网络连接须加密；口令放在 pgpass 文件中，不写在地址里）",
)


def cmd_server_init(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.setup import prepare_server

    _finish(
        prepare_server(
            args.url,
            code=args.area,
            name=args.name,
            county_name=args.county_name or "",
            admin_password=os.environ.get(ENV_ADMIN_PASSWORD),
            app_role=args.app_role,
            app_password=os.environ.get(ENV_APP_PASSWORD) or None,
        )
    )
    print(
        "各台电脑以 --db 上面的连接地址（或环境变量 GOVSHARE_DB）登录同一数据库；"
        "该数据库用户的口令写在各台电脑的 pgpass 文件中"
    )
    return 0


def cmd_server_upgrade(args: argparse.Namespace) -> int:
    from govshare_desktop.core.services.setup import upgrade_server

    done = upgrade_server(
        args.url,
        app_role=args.app_role,
        app_password=os.environ.get(ENV_APP_PASSWORD) or None,
    )
    print(done.said)
    return 0


COMMANDS = [
    Command(
        "init",
        "在 PostgreSQL 服务器上建立本乡镇的共用数据库（多人办公；数据库由服务器管理员先建好、为空，"
        "以其所有者连接），并为各台电脑上的程序授权一个权限最小的数据库用户",
        cmd_server_init,
        [
            URL_ARG,
            *TOWNSHIP_ARGS,
            arg(
                "--app-role",
                default=APP_ROLE,
                metavar="数据库用户",
                help=f"各台电脑上的程序连接数据库所用的用户（默认 {APP_ROLE}；没有则新建，"
                f"口令取自环境变量 {ENV_APP_PASSWORD}，不设置则不设口令、由服务器管理员设置）",
            ),
        ],
        group="server",
        database=False,
        use_cases=("setup.prepare_server",),
    ),
    Command(
        "upgrade",
        "安装新版本的程序后升级服务器上的数据库结构（以数据库所有者连接），并重新为各台电脑的"
        "数据库用户授权",
        cmd_server_upgrade,
        [
            URL_ARG,
            arg(
                "--app-role",
                metavar="数据库用户",
                help="另外为这个数据库用户授权（没有则新建；默认只为已授权的用户重新授权）",
            ),
        ],
        group="server",
        database=False,
        use_cases=("setup.upgrade_server",),
    ),
]
