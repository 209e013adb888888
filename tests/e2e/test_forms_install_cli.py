"""``govshare forms install``: the 系统管理员 adds a department's template (a newer version of a
shipped one) from a file; ``forms check`` says the same about the same file; ``forms list --db``
shows every version and where it came from; a 经办人 may not install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from govshare_desktop.core.resources import resource_path
from tests.e2e.cli import govshare

SHIPPED = resource_path("forms", "templates", "mz_elderly.toml").read_text(encoding="utf-8")
NEW_TITLE = "老年人口及高龄津贴情况统计表（2027版）"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govshare_desktop.cli", "forms", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_the_sysadmin_installs_a_new_version(tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, user="admin", check=True)
    newer = tmp_path / "mz_elderly_2027.toml"
    newer.write_text(
        'version = "2027.1"\n' + SHIPPED.replace("老年人口及高龄津贴情况统计表", NEW_TITLE),
        encoding="utf-8",
    )
    checked = check(newer)
    assert checked.returncode == 0, checked.stderr
    assert f"报表“{NEW_TITLE}”（民政，版本 2027.1）" in checked.stdout

    installed = govshare("forms", "install", str(newer), "--from", "2027-01", db=db, user="admin")
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip() == (
        f"已安装报表模板“{NEW_TITLE}”（民政，mz_elderly_2027.toml，版本 2027.1），"
        "自 2027-01 期起适用；已上报的报表仍按上报时的版本"
    )
    again = govshare("forms", "install", str(newer), db=db, user="admin")
    assert again.returncode == 0 and "内容相同，未作改动" in again.stdout

    refused = govshare("forms", "install", str(newer), db=db, user="clerk")
    assert refused.returncode == 2 and "无权安装报表模板" in refused.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text(
        'version = "2028.1"\n' + SHIPPED.replace('element = "P_80PLUS"', 'element = "NOPE"', 1),
        encoding="utf-8",
    )
    said = check(broken)
    assert said.returncode == 2 and "broken.toml" in said.stderr and "NOPE" in said.stderr
    failed = govshare("forms", "install", str(broken), db=db, user="admin")
    assert failed.returncode == 2 and failed.stderr == said.stderr  # the same words

    listed = govshare("forms", "list", "--json", db=db, user="admin")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    elderly = [r for r in rows if r["id"] == "mz_elderly"]
    assert [(r["version"], r["origin"], r["effective_from"]) for r in elderly] == [
        ("", "builtin", ""),
        ("2027.1", "file", "2027-01"),
    ]
    plain = subprocess.run(
        [sys.executable, "-m", "govshare_desktop.cli", "forms", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plain.returncode == 0
    assert "mz_elderly\t民政\t老年人口及高龄津贴情况统计表\tmonth\t内置\t内置\t各期" in plain.stdout
