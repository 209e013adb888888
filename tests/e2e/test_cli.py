"""The headless journey: init or demo → info → search, through the installed console script."""

import subprocess
import sys
from pathlib import Path

import pytest

from govshare_desktop.core.store.migrate import SCHEMA_HEAD
from tests.e2e.cli import govshare


def test_demo_info_search(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    made = govshare("demo", "--households", "60", "--seed", "3", db=db)
    assert made.returncode == 0, made.stderr
    assert "演示乡镇已生成：60 户" in made.stdout

    info = govshare("info", db=db)
    assert info.returncode == 0, info.stderr
    assert "青禾镇（441900199000）【演示数据】" in info.stdout
    assert "户籍户数：60" in info.stdout
    assert "医保参保记录：" in info.stdout and "火化记录：" in info.stdout
    assert f"数据库版本：{SCHEMA_HEAD}" in info.stdout

    found = govshare("search", "441900", db=db)
    assert found.returncode == 0, found.stderr
    first = found.stdout.splitlines()[0].split("\t")
    assert first[0].startswith("441900") and "********" in first[0]  # masked by default

    again = govshare("demo", "--households", "60", db=db)
    assert again.returncode == 2
    assert "错误" in again.stderr


def test_init_rejects_bad_code(tmp_path: Path) -> None:
    result = govshare("init", "--area", "12345", "--name", "某镇", db=tmp_path / "x.db")
    assert result.returncode == 2
    assert "12位" in result.stderr


@pytest.mark.parametrize("args", [("init", "--area", "441900199000", "--name", "青禾镇")])
def test_init_then_info(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "real.db"
    assert govshare(*args, db=db).returncode == 0
    info = govshare("info", db=db)
    assert "青禾镇（441900199000）" in info.stdout and "演示" not in info.stdout


def test_forms_check_and_prefill(tmp_path: Path) -> None:
    import json

    from govshare_desktop.core.resources import resource_path

    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "govshare_desktop.cli",
            "forms",
            "check",
            str(resource_path("forms", "elements.toml")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "检查通过" in ok.stdout
    broken = tmp_path / "elements.toml"
    broken.write_text(
        '[[element]]\ncode = "A"\nname = "x"\ntype = "float"\nlevel = "area"\n', encoding="utf-8"
    )
    bad = subprocess.run(
        [sys.executable, "-m", "govshare_desktop.cli", "forms", "check", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "elements.toml" in bad.stderr and "type" in bad.stderr

    db = tmp_path / "demo.db"
    assert govshare("demo", "--households", "40", "--seed", "5", db=db).returncode == 0
    run = govshare("forms", "prefill", "--period", "2026-10", "--json", db=db)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    total = {r["element"]: r["value"] for r in rows if r["area"] == "441900199000"}
    other = "441900199000-other"  # 其他（未落户）: records with no village
    totals = {r["area"]: r["value"] for r in rows if r["element"] == "P_TOTAL"}
    villages = [v for area, v in totals.items() if area not in ("441900199000", other)]
    assert len(villages) == 6 and not totals.get(other)  # every registered person has a village
    assert sum(villages) == total["P_TOTAL"] > 0
    assert total["P_60PLUS"] >= total["P_80PLUS"]
    assert govshare("forms", "prefill", "--period", "2026-13", db=db).returncode == 2


def test_forms_list_and_template_check(tmp_path: Path) -> None:
    import json

    from govshare_desktop.core.resources import resource_path

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "govshare_desktop.cli", "forms", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = [json.loads(line) for line in run("list", "--json").stdout.splitlines()]
    assert {"id", "title", "department", "kind", "period_type"} <= set(listed[0])
    assert len(listed) >= 11 and {t["kind"] for t in listed} == {"table", "roster", "individual"}
    good = run("check", str(resource_path("forms", "templates", "mz_elderly.toml")))
    assert good.returncode == 0 and "检查通过" in good.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(
        'id = "x"\ntitle = "x"\ndepartment = "x"\nkind = "table"\nperiod_type = "month"\n'
        '[[columns]]\nelement = "NOPE"\n',
        encoding="utf-8",
    )
    bad = run("check", str(broken))
    assert bad.returncode != 0 and "broken.toml" in bad.stderr and "NOPE" in bad.stderr


def test_forms_set_and_saved_prefill(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert govshare("demo", "--households", "30", "--seed", "2", db=db).returncode == 0
    saved = govshare("forms", "prefill", "--period", "2026-10", "--save", db=db)
    assert saved.returncode == 0 and "已保存" in saved.stderr
    entered = govshare(
        "forms", "set", "S_LOW_INCOME", "7", "--period", "2026-10", "--area", "441900199201", db=db
    )
    assert entered.returncode == 0 and "= 7（entered）" in entered.stdout
    refused = govshare(
        "forms", "set", "P_TOTAL", "7", "--period", "2026-10", "--area", "441900199201", db=db
    )
    assert refused.returncode == 2 and "理由" in refused.stderr
    override = govshare(
        "forms",
        "set",
        "P_TOTAL",
        "7",
        "--period",
        "2026-10",
        "--area",
        "441900199201",
        "--reason",
        "核实",
        db=db,
    )
    assert override.returncode == 0 and "overridden" in override.stdout
    again = govshare("forms", "prefill", "--period", "2026-10", "--save", db=db)
    assert "新增 0 个值，随回流数据更新 0 个" in again.stderr  # the override is not replaced
