"""`govshare search` follows the core rule: punctuation or spaces only find no one (issue 13)."""

from pathlib import Path

import pytest

from tests.e2e.cli import govshare


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "demo.db"
    made = govshare("demo", "--households", "20", "--seed", "3", db=path)
    assert made.returncode == 0, made.stderr
    return path


@pytest.mark.parametrize("text", ["%", "'", " ", "_", "*", ""])
def test_punctuation_lists_no_one(db: Path, text: str) -> None:
    found = govshare("search", text, db=db)
    assert found.returncode != 0
    assert found.stdout == ""
    assert "请输入姓名、身份号码或拼音首字母" in found.stderr


def test_a_name_with_punctuation_still_searches(db: Path) -> None:
    found = govshare("search", "441900%", db=db)  # the % is ignored, the digits are searched
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("441900")
