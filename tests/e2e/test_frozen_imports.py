"""The migration scripts are data files to PyInstaller: whatever of the package they import must
be listed in the spec's hiddenimports, or the frozen program cannot set up a database (a fast
check of what the slow frozen build found once: ``No module named …members``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "govshare_desktop" / "core" / "store" / "migrations"
IMPORT = re.compile(r"^\s*(?:from|import) (govshare_desktop[\w.]*)", re.MULTILINE)


def test_every_module_the_migrations_import_is_a_hidden_import() -> None:
    imported = {
        name
        for script in MIGRATIONS.rglob("*.py")
        for name in IMPORT.findall(script.read_text("utf-8"))
    }
    assert imported  # the scripts do import the package
    spec = (ROOT / "installer" / "govshare.spec").read_text("utf-8")
    hidden = set(re.findall(r'"(govshare_desktop[\w.]*)"', spec))
    assert imported <= hidden, sorted(imported - hidden)
