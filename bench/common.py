"""What the benches share: the township a bench measures on (a copy of the one given — never the
original: opening it migrates it — or a demo township generated for the run), and the process's
memory."""

from __future__ import annotations

import shutil
from pathlib import Path


def township(db: str | Path | None, households: int, work: Path) -> Path:
    """``work``/bench.sqlite: a copy of ``db`` (its write-ahead log too, if one was left beside
    it), or, without one, a demo township of ``households`` (seed 1)."""
    target = work / "bench.sqlite"
    if db:
        for suffix in ("", "-wal"):
            if Path(f"{db}{suffix}").exists():
                shutil.copyfile(f"{db}{suffix}", f"{target}{suffix}")
        return target
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.store.engine import open_tool_store

    store = open_tool_store(target)
    generate(store, households=households, seed=1)
    store.dispose()
    return target


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]
