"""The programs as installed make full-strength hashes; only the test launcher makes cheap ones,
and the installed program opens a database whose keys the launcher made (``real_kdf``: these
tests are about the hashing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.cli import govshare

pytestmark = pytest.mark.real_kdf

FULL = {"m": 65536, "t": 3, "p": 4}
CHEAP = {"m": 8, "t": 1, "p": 1}


def _costs(db: Path) -> list[dict[str, int]]:
    """The Argon2id costs of every hash and wrapped key in the database's key file."""
    keys = json.loads(Path(f"{db}.keys").read_text(encoding="utf-8"))
    costs = []
    for user in keys["users"].values():
        m, t, p = map(int, re.search(r"m=(\d+),t=(\d+),p=(\d+)", user["phc"]).groups())
        costs += [{"m": m, "t": t, "p": p}, {k: user["wrapped"][k] for k in "mtp"}]
    costs.append({k: keys["recovery"][k] for k in "mtp"})
    return costs


def test_a_plain_govshare_init_makes_full_strength_keys(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    made = govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, product=True)
    assert made.returncode == 0, made.stderr
    costs = _costs(db)
    assert len(costs) == 5 and all(c == FULL for c in costs), costs  # admin, clerk, recovery


def test_the_launcher_is_cheap_and_the_product_opens_what_it_made(tmp_path: Path) -> None:
    db = tmp_path / "launched.db"
    govshare("init", "--area", "441900199000", "--name", "青禾镇", db=db, check=True)
    assert all(c == CHEAP for c in _costs(db))
    info = govshare("info", db=db, product=True)
    assert info.returncode == 0 and "青禾镇" in info.stdout, info.stderr
    # The clerk's hash was upgraded at sign-in (the wrapped key keeps its own costs).
    keys = json.loads(Path(f"{db}.keys").read_text(encoding="utf-8"))
    assert "m=65536,t=3,p=4" in keys["users"]["clerk"]["phc"]
