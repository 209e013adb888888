"""Journey from scripts (issue 18): ``govshare laptop checkout`` a village, type on the laptop's
database as on any other (``--db`` the file, the same account and password), ``govshare laptop
checkin`` — conflicts listed and nothing applied without ``--take``, then taken; a second check-in
refused in Chinese."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import connect, govshare, provision

V = "441900199201"
PERIOD = ("--period", "2026-11")


def _value(db: Path, element: str) -> str | None:
    connection = connect(db)
    try:
        row = connection.execute(
            "SELECT value FROM form_value WHERE element = ? AND subject = ? AND period = ?",
            (element, V, "2026-11"),
        ).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


def _set(db: Path, element: str, value: str) -> None:
    govshare("forms", "set", element, value, *PERIOD, "--area", V, db=db, check=True)


def test_a_village_out_to_a_laptop_and_back(tmp_path: Path, demo_store) -> None:
    db = Path(demo_store.path)
    demo_store.dispose()
    provision(db)
    govshare("forms", "prefill", *PERIOD, "--save", db=db, check=True)
    _set(db, "S_LOW_INCOME", "3")
    out = tmp_path / "laptop" / "东村.db"
    out.parent.mkdir()
    run = govshare(
        "laptop",
        "checkout",
        "--village",
        V,
        *PERIOD,
        "--laptop",
        "笔记本1",
        "--out",
        str(out),
        db=db,
    )
    assert run.returncode == 0, run.stderr
    assert "检出到" in run.stdout and out.is_file() and Path(f"{out}.keys").is_file()
    run = govshare("laptop", "status", db=db, check=True)
    assert V in run.stdout and "已检出" in run.stdout and "笔记本1" in run.stdout

    # On the laptop: the same account, the same password, the laptop's file as the database.
    run = govshare("laptop", "status", db=out, check=True)
    assert "本数据库是笔记本检出" in run.stdout
    _set(out, "S_LOW_INCOME", "4")
    _set(out, "S_ELDERLY_ALLOWANCE", "2")

    _set(db, "S_LOW_INCOME", "7")  # the office changed it meanwhile
    run = govshare("laptop", "checkin", str(out), db=db)
    assert run.returncode == 1, run.stderr
    assert "低保对象人数" in run.stderr and "“7”" in run.stderr and "“4”" in run.stderr
    assert "--take" in run.stderr
    assert (_value(db, "S_LOW_INCOME"), _value(db, "S_ELDERLY_ALLOWANCE")) == ("7", None)

    run = govshare("laptop", "checkin", str(out), "--take", "laptop", db=db)
    assert run.returncode == 0, run.stderr
    assert "已检入" in run.stdout and "人员、户籍等记录不写回" in run.stdout
    assert (_value(db, "S_LOW_INCOME"), _value(db, "S_ELDERLY_ALLOWANCE")) == ("4", "2")
    run = govshare("laptop", "status", db=db, check=True)
    assert "没有检出到笔记本的村（社区）" in run.stdout

    run = govshare("laptop", "checkin", str(out), "--take", "laptop", db=db)
    assert run.returncode == 2 and "不能再次检入" in run.stderr
    run = govshare("laptop", "checkout", "--village", "441900199999", "--out", "x.db", db=db)
    assert run.returncode == 2 and "不是本乡镇（街道）" in run.stderr
