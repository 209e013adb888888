"""Start-up steps that wait for the window to be painted — the database is opened once the
shell is on screen — and what a measured start (``--quit-after-show``, ``--quit-after-paint``)
reports on stderr for a benchmark timing it from outside the process."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget


def report_step(step: str) -> None:
    """``govshare-startup <step> <wall-clock seconds> <RSS MB> <peak RSS MB>`` on stderr: when a
    start-up step was reached, for a benchmark timing the start from outside the process."""
    rss = peak = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                value = int(rest.split()[0]) / 1024
                rss, peak = (value, peak) if key == "VmRSS" else (rss, value)
    except OSError:  # not Linux
        pass
    print(f"govshare-startup {step} {time.time():.4f} {rss:.0f} {peak:.0f}", file=sys.stderr)


def after_paint(window: QWidget, then: Callable[[], object]) -> None:
    """``then()`` once, after the next time ``window`` (or a widget in it) has been painted — not
    merely shown: a window is shown before the event loop has drawn it."""

    class Painted(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.window() is window
            ):
                QApplication.instance().removeEventFilter(self)  # type: ignore[union-attr]
                QTimer.singleShot(0, then)  # once this paint is done
                self.deleteLater()
            return False

    QApplication.instance().installEventFilter(Painted(window))  # type: ignore[union-attr]


def once(then: Callable[[], object]) -> Callable[[], None]:
    """``then()`` on the first call only."""
    called: list[bool] = []

    def call() -> None:
        if not called:
            called.append(True)
            then()

    return call
