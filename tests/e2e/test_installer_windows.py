"""The Windows installer script (installer/windows/govshare.nsi), checked on any system.

With NSIS's ``makensis`` on PATH (Debian/Ubuntu: ``apt-get install nsis``) the script is compiled
against a fake one-folder build: the same makensis 3 that builds the real installer on Windows,
so syntax, defines, includes, language strings and the payload layout checks are all exercised.
Running the installer (files, shortcuts, registry, upgrade) needs Windows: see the workflow
.github/workflows/windows-installer.yml.

Without makensis only the text checks run: whatever the uninstaller deletes, it is never the
per-user data (%LOCALAPPDATA%\\govshare-desktop: the database, its key file, backups, logs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NSI = ROOT / "installer" / "windows" / "govshare.nsi"
MAKENSIS = shutil.which("makensis")
needs_makensis = pytest.mark.skipif(
    MAKENSIS is None,
    reason="makensis (NSIS 3) not on PATH; install it with `apt-get install nsis` to compile "
    "installer/windows/govshare.nsi",
)

# Where residents' data lives; no Delete/RMDir of the script may point there.
USER_DATA = re.compile(
    r"\$(LOCALAPPDATA|APPDATA|PROFILE|DOCUMENTS|TEMP)\b|%LOCALAPPDATA%|%APPDATA%|govshare\.db|backups",
    re.IGNORECASE,
)


def _fake_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist" / "govshare-desktop"
    (dist / "_internal").mkdir(parents=True)
    (dist / "govshare-desktop.exe").write_bytes(b"MZ fake window program")
    (dist / "govshare.exe").write_bytes(b"MZ fake console program")
    (dist / "_internal" / "x.txt").write_text("stands for the bundled modules\n")
    return dist


def _makensis(*defines: str) -> subprocess.CompletedProcess[str]:
    # -WX: a new warning fails the test. Absolute paths: makensis changes into the script's folder.
    assert MAKENSIS is not None
    return subprocess.run(
        [MAKENSIS, "-V2", "-WX", *(f"-D{d}" for d in defines), str(NSI)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_makensis
def test_compiles_against_a_fake_build(tmp_path: Path) -> None:
    dist = _fake_dist(tmp_path)
    # Not "setup.exe": makensis warns (9000) that Windows applies compatibility shims to that name.
    out = tmp_path / "govshare-desktop-9.8.7-setup.exe"
    done = _makensis("VERSION=9.8.7", f"DIST={dist}", f"OUTFILE={out}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.is_file()
    assert out.read_bytes()[:2] == b"MZ"


@needs_makensis
def test_version_is_required(tmp_path: Path) -> None:
    dist = _fake_dist(tmp_path)
    out = tmp_path / "govshare-desktop-x-setup.exe"
    done = _makensis(f"DIST={dist}", f"OUTFILE={out}")
    assert done.returncode != 0
    assert "VERSION is not defined" in done.stdout + done.stderr
    assert not out.exists()


@needs_makensis
def test_refuses_a_payload_that_is_not_a_onefolder_build(tmp_path: Path) -> None:
    dist = _fake_dist(tmp_path)
    (dist / "govshare.exe").unlink()  # e.g. a Linux build: `govshare` is a symlink there
    out = tmp_path / "govshare-desktop-9.8.7-setup.exe"
    done = _makensis("VERSION=9.8.7", f"DIST={dist}", f"OUTFILE={out}")
    assert done.returncode != 0
    assert "govshare.exe not found" in done.stdout + done.stderr


def _script() -> str:
    # The BOM matters: without it makensis on a Chinese Windows reads the file as GBK.
    raw = NSI.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "govshare.nsi must be UTF-8 with a byte-order mark"
    return raw.decode("utf-8-sig")


def _expand_defines(text: str) -> str:
    """Replace ${NAME} by the script's own `!define NAME "value"` (a few rounds: nested ones)."""
    defines = dict(re.findall(r'^\s*!define\s+(\w+)\s+"([^"]*)"', text, re.MULTILINE))
    for _ in range(5):
        text = re.sub(r"\$\{(\w+)\}", lambda m: defines.get(m.group(1), m.group(0)), text)
    return text


def _blocks(text: str, start: str, end: str) -> list[str]:
    found = re.finditer(rf"^\s*{start}.*?^\s*{end}\b", text, re.MULTILINE | re.DOTALL)
    return [m.group(0) for m in found]


def _file_commands(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if re.match(r"\s*(Delete|RMDir)\b", line, re.IGNORECASE)
    ]


def test_uninstaller_never_deletes_user_data() -> None:
    text = _expand_defines(_script())
    uninstaller = _blocks(text, r'Section\s+"(Uninstall|un\.)', "SectionEnd")
    uninstaller += _blocks(text, r"Function\s+un\.", "FunctionEnd")
    assert uninstaller, "no uninstaller section found"
    commands = _file_commands("\n".join(uninstaller))
    assert any("$INSTDIR" in c for c in commands)  # it does delete the program
    offending = [c for c in commands if USER_DATA.search(c)]
    assert not offending, f"the uninstaller deletes user data: {offending}"
    # Nor does anything else in the script (shared macros, the upgrade step).
    offending = [c for c in _file_commands(text) if USER_DATA.search(c)]
    assert not offending, f"the script deletes user data: {offending}"
    # Recursive deletes only of the bundled modules, never of a whole folder the user chose.
    recursive = [c for c in commands if re.match(r"RMDir\s+/r", c, re.IGNORECASE)]
    assert recursive == ['RMDir /r "$INSTDIR\\_internal"'], recursive


def test_uninstaller_says_the_data_is_kept() -> None:
    text = _script()
    unwelcome = re.search(r"^LangString TXT_UNWELCOME \$\{LANG_SIMPCHINESE\} (.*)$", text, re.M)
    assert unwelcome, "no Chinese text for the uninstaller's first page"
    assert r"%LOCALAPPDATA%\${APP_ID}" in unwelcome.group(1)
    assert "保留" in unwelcome.group(1)
