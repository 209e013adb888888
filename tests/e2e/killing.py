"""Killing a real ``govshare`` process (``kill -9``) at a named step.

The child is told where to stop through :mod:`govshare_desktop.core.killpoints`: the environment
names a marker file in the test's own directory, which lists the step. The child stops itself
there (SIGSTOP); the parent sees it stopped and kills it — the step is hit every time, with no
race against the child's speed."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

from govshare_desktop.core.killpoints import ENV, MAGIC
from tests.e2e.cli import ADMIN_PASSWORD, PASSWORDS
from tests.e2e.launch import command

REPO = Path(__file__).resolve().parents[2]


def marker(directory: Path, *steps: str) -> Path:
    path = directory / "killpoints"
    path.write_text("\n".join([MAGIC, *steps]) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def kill_at(
    step: str,
    *args: str,
    db: Path,
    user: str = "admin",
    program: str = "cli",
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """Run ``govshare ARGS --db DB`` (``program="window"``: the window) through the test launcher
    (:mod:`tests.e2e.launch`) until it reaches ``step``,
    kill it there (SIGKILL) and return its stdout. Fails if the process ends without reaching
    the step, or does not reach it within ``timeout`` seconds."""
    full_env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "GOVSHARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GOVSHARE_USER": user,
        "GOVSHARE_PASSWORD": PASSWORDS.get(user, ""),
        ENV: str(marker(db.parent, step)),
        **(env or {}),
    }
    process = subprocess.Popen(
        command(program, *args, "--db", str(db)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=full_env,
    )
    watchdog = threading.Timer(timeout, process.kill)  # a step never reached: no hang
    watchdog.start()
    try:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
    finally:
        watchdog.cancel()
    if not os.WIFSTOPPED(status):  # it finished (reaped here): say how
        out, err = process.communicate(timeout=timeout)
        raise AssertionError(f"{step} was never reached:\n{out}\n{err}")
    os.kill(process.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == -signal.SIGKILL
    assert f"KILLPOINT {step}" in err, err
    return out
