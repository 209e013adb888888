"""The frozen bundle beside ``python -m govshare_desktop``: size, and start-up to the first window.

    make bench-bundle                  (builds dist/govshare-desktop first if it is missing)
    python bench/bench_bundle.py --app dist/govshare-desktop [--deb dist/…deb] [--runs 7]

Start-up is measured as a clerk sees it: from process start to the main window shown
(``--quit-after-show``: the window is shown, the event loop turns once, the process exits),
offscreen, in a fresh home directory. "Cold" drops the page cache first (as root on Linux:
``/proc/sys/vm/drop_caches``), which is what the first start after switching the PC on costs;
otherwise only warm starts are reported. Targets (issue 7): bundle under 200 MB, frozen cold
start under 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def folder_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def can_drop_caches() -> bool:
    return sys.platform.startswith("linux") and os.access(DROP_CACHES, os.W_OK)


def drop_caches() -> None:
    os.sync()
    DROP_CACHES.write_text("3\n")


def start_once(command: list[str], home: Path, *, cold: bool) -> float:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    if cold:
        drop_caches()
    started = time.perf_counter()
    subprocess.run([*command, "--quit-after-show"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(name: str, command: list[str], runs: int, cold: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        start_once(command, Path(home), cold=False)  # first start writes nothing we keep
        figures = {}
        if cold:
            colds = [start_once(command, Path(home), cold=True) for _ in range(3)]
            figures["cold"] = statistics.median(colds)
        warms = [start_once(command, Path(home), cold=False) for _ in range(runs)]
        figures["warm"] = statistics.median(warms)
    shown = "  ".join(f"{k} {v:.2f} s" for k, v in figures.items())
    print(f"  {name:<34} {shown}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "govshare-desktop")
    parser.add_argument("--deb", type=Path, help="the .deb built from it, to report its size")
    parser.add_argument("--runs", type=int, default=7, help="warm starts per program (median)")
    args = parser.parse_args()
    app = args.app.resolve()
    if not (app / "govshare-desktop").exists() and not (app / "govshare-desktop.exe").exists():
        sys.exit(f"no frozen program in {app}: run installer/build_frozen.sh first")

    size = folder_size(app)
    internal = app / "_internal"
    print(f"bundle {app}: {size / 2**20:.0f} MB (target under 200 MB)")
    parts = sorted(
        (
            (folder_size(p) if p.is_dir() else p.stat().st_size, p.name)
            for p in internal.iterdir()
            if not p.is_symlink()  # links to Qt's libraries, counted where they are
        ),
        reverse=True,
    )
    print("  largest parts: " + ", ".join(f"{n} {s / 2**20:.0f} MB" for s, n in parts[:6]))
    if args.deb:
        print(f"package {args.deb.name}: {args.deb.stat().st_size / 2**20:.0f} MB")

    cold = can_drop_caches()
    print(
        "start-up to the first window (offscreen), median"
        + (" — cold: page cache dropped before each start" if cold else " (warm only)")
    )
    frozen = measure("frozen bundle", [str(app / "govshare-desktop")], args.runs, cold)
    source = measure(
        "python -m govshare_desktop", [sys.executable, "-m", "govshare_desktop"], args.runs, cold
    )
    for kind in frozen:
        print(f"  frozen / python ({kind}): {frozen[kind] / source[kind]:.2f}x")
    if cold:
        print(f"  target: frozen cold start under 3 s — {frozen['cold']:.2f} s")


if __name__ == "__main__":
    main()
