"""The frozen program (PyInstaller) and its .deb, built and run as an IT contact would.

One PyInstaller build for the module (about a minute); the .deb is installed into a clean dpkg
root (``dpkg --root``), so the test needs no container and leaves this machine's packages alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govshare_desktop import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
ADMIN_PASSWORD = "Guanli#2026deb"


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: int = 600):
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/govshare-desktop, built by the build script (which smoke-tests it itself)."""
    dist = tmp_path_factory.mktemp("dist")
    built = run(
        INSTALLER / "build_frozen.sh",
        "--dist",
        dist,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert "smoke: 通过" in built.stdout, built.stdout
    return dist / "govshare-desktop"


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What an office PC has: no virtualenv, no display, no developer variables."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


def test_frozen_program_passes_its_smoke_test(frozen: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shot = tmp_path / "window.png"
    result = run(
        frozen / "govshare-desktop",
        "--smoke",
        env=clean_env(home, GOVSHARE_SMOKE_SCREENSHOT=str(shot)),
    )
    assert "smoke: 报表 PDF" in result.stdout and "smoke: 通过" in result.stdout
    assert shot.read_bytes().startswith(b"\x89PNG")  # what the bundled Qt draws
    assert run(frozen / "govshare", "--version", env=clean_env(home)).stdout.split() == [
        "govshare-desktop",
        __version__,
    ]
    assert not any(home.rglob("*.db")), "the smoke test must clean up after itself"
    # What went in: resources and migrations, and none of the unused Qt modules.
    internal = frozen / "_internal"
    assert (internal / "govshare_desktop/resources/forms/elements.toml").is_file()
    assert (internal / "govshare_desktop/core/store/migrations/versions").is_dir()
    assert not list(internal.rglob("*Qt6Quick*")) and not list(internal.rglob("*Qt6Qml*"))
    assert not list(internal.rglob("*.pyc"))  # no bytecode written into the program folder


class DpkgRoot:
    """A clean directory tree with its own dpkg database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "var/lib/dpkg/info").mkdir(parents=True)
        (path / "var/lib/dpkg/updates").mkdir()
        (path / "var/lib/dpkg/status").touch()
        (path / "var/lib/dpkg/available").touch()

    def dpkg(self, *args: str | Path) -> None:
        # The clean root has no libc6 & co. registered (--force-depends); maintainer scripts run
        # outside the root with DPKG_ROOT set (--force-script-chrootless).
        run("dpkg", f"--root={self.path}", "--force-script-chrootless", "--force-depends", *args)

    def version(self) -> str:
        return run(
            "dpkg-query", f"--root={self.path}", "-W", "-f=${Version}", "govshare-desktop"
        ).stdout

    @property
    def app(self) -> Path:
        return self.path / "opt/govshare-desktop"


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb: a Debian-family system")
def test_deb_installs_upgrades_and_removes_keeping_data(frozen: Path, tmp_path: Path) -> None:
    debs = tmp_path / "debs"
    new_deb = debs / f"govshare-desktop_{__version__}_{_arch()}.deb"
    run(INSTALLER / "linux/build_deb.sh", "--app", frozen, "--out", debs, "--fast")
    # An "earlier release": the same program under a lower version, with a file the new one
    # no longer has (an upgrade must not leave it behind).
    old_app = tmp_path / "old/govshare-desktop"
    shutil.copytree(frozen, old_app, symlinks=True)
    (old_app / "_internal/dropped_in_next_release.txt").write_text("old")
    run(
        INSTALLER / "linux/build_deb.sh",
        "--app",
        old_app,
        "--out",
        tmp_path / "old",
        "--fast",
        "--version",
        "0.0.9",
    )

    fields = run("dpkg-deb", "-f", new_deb, "Package", "Version", "Depends").stdout
    assert f"Version: {__version__}" in fields and "libegl1" in fields
    contents = run("dpkg-deb", "-c", new_deb).stdout
    for path in (
        "./opt/govshare-desktop/govshare-desktop",
        "./usr/bin/govshare -> /opt/govshare-desktop/govshare",
        "./usr/share/applications/govshare-desktop.desktop",
        "./usr/share/icons/hicolor/256x256/apps/govshare-desktop.png",
    ):
        assert path in contents, path
    assert "root/root" in contents.splitlines()[0]

    root = DpkgRoot(tmp_path / "root")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(
        home,
        GOVSHARE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GOVSHARE_USER="admin",
        GOVSHARE_PASSWORD=ADMIN_PASSWORD,
    )
    root.dpkg("-i", tmp_path / "old" / f"govshare-desktop_0.0.9_{_arch()}.deb")
    assert root.version() == "0.0.9"
    run(root.app / "govshare", "demo", "--households", "30", env=env)
    before = _info(root.app, env)
    data = home / ".local/share/govshare-desktop"
    assert (data / "govshare.db").is_file() and (data / "govshare.db.keys").is_file()

    root.dpkg("-i", new_deb)  # the upgrade
    assert root.version() == __version__
    assert not (root.app / "_internal/dropped_in_next_release.txt").exists()
    assert _info(root.app, env) == before
    run(root.app / "govshare", "audit", "verify", env=env)
    smoke = run(root.app / "govshare-desktop", "--smoke", env=clean_env(home))
    assert "smoke: 通过" in smoke.stdout

    root.dpkg("--purge", "govshare-desktop")
    assert not root.app.exists()
    assert not (root.path / "usr/share/applications/govshare-desktop.desktop").exists()
    assert (data / "govshare.db").is_file() and (data / "govshare.db.keys").is_file()


def _arch() -> str:
    return run("dpkg", "--print-architecture").stdout.strip()


def _info(app: Path, env: dict[str, str]) -> list[str]:
    """``govshare info`` without the line that names the file and its size."""
    lines = run(app / "govshare", "info", env=env).stdout.splitlines()
    return [line for line in lines if not line.startswith("数据库：")]
