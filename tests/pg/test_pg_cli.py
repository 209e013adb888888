"""Office mode from the command line, as the township's system administrator and two clerks' PCs
use it: ``govshare server init --url`` sets the township up on the server, then every command
takes the same URL as ``--db`` — a user added on one "PC" signs in on another, an import made by
one is seen by the other. A server reached over the network without TLS is refused before
connecting, in Chinese."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.cli import ADMIN_PASSWORD, add_clerk, govshare
from tests.e2e.launch import command

PERSON_XLSX = "青禾镇_户籍人口回流_2026-10.xlsx"


def _server_init(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("cli", "server", "init", "--url", url, *extra),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )


def test_server_init_then_two_pcs_share_the_township(
    pg_url: str, samples: Path, tmp_path: Path
) -> None:
    done = _server_init(pg_url, "--area", "441900199000", "--name", "青禾镇")
    assert done.returncode == 0, done.stderr
    assert "已初始化：青禾镇（441900199000）" in done.stdout and "恢复密钥" in done.stdout
    assert "postgresql" in done.stdout and "--db" in done.stdout

    again = _server_init(pg_url, "--area", "441900199000", "--name", "青禾镇")
    assert again.returncode == 2 and "已经设置过管理员和密钥" in again.stderr

    db = pg_url  # every command takes the URL as --db
    add_clerk(db)  # "PC 1": the administrator adds the 经办人, who sets a password
    imported = govshare("import", str(samples / PERSON_XLSX), db=db, check=True)
    assert "导入" in imported.stdout
    info = govshare("info", db=db, check=True).stdout  # "PC 2": another process, same server
    assert "青禾镇（441900199000）" in info and "postgresql" in info
    accepted = json.loads((samples / f"{PERSON_XLSX}.expected.json").read_text("utf-8"))["accepted"]
    assert f"户籍人数：{accepted}" in info
    file_db = tmp_path / "gov.db"  # the same import into a file: the same people found
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=file_db, check=True)
    govshare("import", str(samples / PERSON_XLSX), db=file_db, check=True)
    for typed in ("王", "王芳", "0101", "wf"):  # a name, its characters, an ID fragment, initials
        on_server = govshare("search", typed, db=db, check=True)
        in_file = govshare("search", typed, db=file_db, check=True)
        assert on_server.stdout == in_file.stdout and on_server.stderr.endswith(in_file.stderr)
    assert "共 0 条" not in govshare("search", "王", db=db).stderr


def test_a_server_over_the_network_without_tls_is_refused(tmp_path: Path) -> None:
    url = "postgresql://govshare@192.0.2.10/qinghe"  # TEST-NET-1: nothing answers there
    done = _server_init(url, "--area", "441900199000", "--name", "青禾镇")
    assert done.returncode == 2
    assert "连接没有要求加密" in done.stderr and "sslmode=verify-full" in done.stderr
    info = govshare("info", db=url)
    assert info.returncode == 2 and "192.0.2.10" in info.stderr and "TLS" in info.stderr


def test_a_file_path_is_not_a_server(tmp_path: Path) -> None:
    done = _server_init(str(tmp_path / "gov.db"), "--area", "441900199000", "--name", "青禾镇")
    assert done.returncode == 2 and "不是数据库服务器的连接地址" in done.stderr
