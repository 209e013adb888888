"""Journey: a clerk (or the county's script) imports every sample through `govshare import --json`;
and a writer killed with SIGKILL mid-import leaves the database as it was."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from govshare_desktop.core.domain import idnumber
from tests.e2e.cli import cli_env, connect, govshare
from tests.e2e.launch import command


def test_every_sample_through_the_cli(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    tables = sorted(p for p in samples.iterdir() if p.suffix in (".xlsx", ".csv"))
    tables.sort(key=lambda p: 0 if "户籍" in p.name else 1)  # persons first, as a clerk would
    run = govshare("import", "--json", *map(str, tables), db=db)
    assert run.returncode == 0, run.stderr
    outputs = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["file"] for o in outputs] == [p.name for p in tables]
    for path, output in zip(tables, outputs, strict=True):
        expected = json.loads((samples / f"{path.name}.expected.json").read_text(encoding="utf-8"))
        assert output["dataset"] == expected["dataset"]
        assert output["rows_read"] == expected["rows"]
        assert output["inserted"] == expected["accepted"]
        assert output["rejected"] == len(expected["rejected"])
        assert [
            {"row": r["row"], "reason_code": r["reason_code"]} for r in output["rejections"]
        ] == expected["rejected"]
        assert all(r["message"] and r["column"] for r in output["rejections"])
        assert isinstance(output["batch_id"], int)
        for key in ("households", "deceased", "moved_out", "total_fen"):
            if key in expected:
                assert output["summary"][key] == expected[key]
        if "deceased_still_paid" in expected:
            assert [
                {k: d[k] for k in ("id_number", "name", "died")}
                for d in output["summary"]["deceased_still_paid"]
            ] == expected["deceased_still_paid"]

    package = samples / "回流数据包_青禾镇_0001.zip"
    refused = govshare("import", "--json", str(package), db=db)
    assert refused.returncode != 0
    assert json.loads(refused.stdout)["reason_code"] == "unknown_sender"
    govshare(
        "trust",
        "add",
        str(samples / "keys" / "county-demo-ed25519.pub.pem"),
        "--sender",
        "441900000000",
        "--name",
        "东莞市政务服务和数据管理局",
        db=db,
        user="admin",  # registering a sender is the 系统管理员's
        check=True,
    )
    assert "441900000000" in govshare("trust", "list", db=db, check=True).stdout
    applied = json.loads(govshare("import", "--json", str(package), db=db, check=True).stdout)
    expected = json.loads((samples / f"{package.name}.expected.json").read_text(encoding="utf-8"))
    assert (applied["kind"], applied["sequence"], applied["status"]) == ("backflow", 1, "applied")
    assert {d["dataset"]: d["rows_read"] for d in applied["datasets"]} == expected["datasets"]
    again = json.loads(govshare("import", "--json", str(package), db=db, check=True).stdout)
    assert again["status"] == "already_received"


def test_dry_run_through_the_cli_writes_nothing(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    dry = json.loads(
        govshare(
            "import",
            "--json",
            "--dry-run",
            str(samples / "青禾镇_户籍人口回流_2026-10.xlsx"),
            db=db,
            check=True,
        ).stdout
    )
    assert dry["inserted"] == 1042 and dry["batch_id"] is None
    with connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM person").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM batch").fetchone()[0] == 0


def test_unreadable_file_is_refused_with_a_message(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    result = govshare("import", "--json", str(bad), db=db)
    assert result.returncode != 0
    output = json.loads(result.stdout)
    assert output["status"] == "refused" and "坏文件.xlsx" in output["message"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_writer_killed_mid_import_leaves_the_database_as_before(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    path = tmp_path / "pay.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("社会保障号码,发放年月,基础养老金,个人账户养老金,实发金额\n")
        for i in range(4_000):
            number = idnumber.make(
                "441900", date(1940 + i % 50, 1 + i % 12, 1 + i % 28), i % 499, male=True
            )
            for month in range(1, 13):
                for year in (2023, 2024, 2025, 2026):
                    fh.write(f"{number},{year}{month:02d},238.00,10.00,248.00\n")
    # How long a whole import takes here, on a copy.
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    Path(f"{copy}.keys").write_bytes(Path(f"{db}.keys").read_bytes())  # the same key file
    started = time.perf_counter()
    govshare("import", str(path), db=copy, check=True)
    whole = time.perf_counter() - started

    with connect(db) as conn:
        before = [
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("batch", "ss_payment")
        ]
    process = subprocess.Popen(
        command("cli", "import", str(path), "--db", str(db)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
    )
    time.sleep(max(0.5, whole * 0.6))  # well into the transaction: chunks are being written
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    with connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = [
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("batch", "ss_payment")
        ]
    assert after == before
    # And the database takes the import afterwards.
    govshare("import", str(path), db=db, check=True)


def _trust_county(db: Path, samples: Path) -> None:
    govshare(
        "trust",
        "add",
        str(samples / "keys" / "county-demo-ed25519.pub.pem"),
        "--sender",
        "441900000000",
        "--name",
        "东莞市政务服务和数据管理局",
        db=db,
        user="admin",
        check=True,
    )


def _data(db: Path) -> list:
    """Every row of the tables an import writes (sign-in writes the audit trail, not these)."""
    tables = (
        "batch",
        "household",
        "person",
        "ss_enrollment",
        "ss_payment",
        "record_history",
        "package_receipt",
        "area",
    )
    with connect(db) as conn:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables]


def _json_counts(stdout: str) -> list[tuple]:
    counts = []
    for line in stdout.splitlines():
        output = json.loads(line)
        for d in output.get("datasets", [output]):
            counts.append(
                (
                    output["file"],
                    output.get("status"),
                    d.get("file"),
                    *(d.get(k) for k in ("inserted", "updated", "unchanged", "absent", "rejected")),
                )
            )
    return counts


@pytest.mark.parametrize(
    "package_first",
    # One order is enough for the fast tier: tests/core/backflow/test_import_safety.py runs both.
    [pytest.param(True, marks=pytest.mark.slow), False],
    ids=["package-first", "package-last"],
)
def test_dry_run_of_several_files_equals_the_real_run(
    tmp_path: Path, samples: Path, package_first: bool
) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    _trust_county(db, samples)
    tables = [
        samples / "青禾镇_户籍人口回流_2026-10.xlsx",
        samples / "青禾镇_城乡居民养老保险参保_2026-10.csv",
        samples / "青禾镇_城乡居民养老金发放明细_202608-202610.csv",
    ]
    package = samples / "回流数据包_青禾镇_0001.zip"
    files = [str(p) for p in ([package, *tables] if package_first else [*tables, package])]
    before = _data(db)
    dry = govshare("import", "--json", "--dry-run", *files, db=db, check=True)
    assert _data(db) == before  # row for row
    real = govshare("import", "--json", *files, db=db, check=True)
    assert _json_counts(dry.stdout) == _json_counts(real.stdout)
    assert len(_json_counts(real.stdout)) == 7  # four datasets of the package, three tables
    if package_first:  # the tables meet what the package wrote
        assert [c[3:] for c in _json_counts(real.stdout)[4:]] == [
            (0, 0, 1042, 0, 2),
            (0, 730, 0, 0, 0),
            (0, 762, 0, 0, 0),
        ]


def test_rejected_rows_and_changed_amounts_as_the_clerk_reads_them(
    tmp_path: Path, samples: Path
) -> None:
    db = tmp_path / "t.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    _trust_county(db, samples)
    govshare("import", str(samples / "回流数据包_青禾镇_0001.zip"), db=db, check=True)
    workbook = samples / "青禾镇_户籍人口回流_2026-10.xlsx"
    payments = samples / "青禾镇_城乡居民养老金发放明细_202608-202610.csv"
    errors = tmp_path / "errors"
    out = govshare(
        "import", str(workbook), str(payments), "--errors-dir", str(errors), db=db, check=True
    ).stdout
    assert "拒收的行（第 104、205 行）没有改动任何记录" in out
    assert "本次不再包含 0" in out
    assert "校核：762 条已有的待遇发放记录" in out and "实发金额合计差额 +1,110.78 元" in out
    assert re.search(r"2026-08：个人账户养老金 \d+\.\d\d → \d+\.\d\d，实发金额", out)
    assert "…… 另有 742 条金额变化" in out
    assert "522422196403163711" not in out  # masked on screen
    assert (errors / "青禾镇_城乡居民养老金发放明细_202608-202610_金额变化.xlsx").exists()
    with connect(db) as conn:
        heads = conn.execute(
            "SELECT household_no, head_name FROM household"
            " WHERE household_no IN ('19920500030', '19920500060') ORDER BY 1"
        ).fetchall()
        assert heads == [("19920500030", "郭子俊"), ("19920500060", "叶梓宏")]
        assert conn.execute(
            "SELECT COUNT(*) FROM person WHERE absent_batch_id IS NOT NULL"
        ).fetchone() == (0,)
    again = govshare("import", "--json", str(payments), db=db, check=True)
    summary = json.loads(again.stdout)["summary"]
    assert (summary["amount_changes"], summary["amount_change_total_fen"]) == (0, 0)
