"""Guards against Qt bindings that miscount references to the Python objects a signal carries.

PySide6 6.12.0 dropped a reference to ``None`` for every signal delivered to a Python slot (and
to ``True`` for every ``Signal(object)`` emission). On Python 3.11, where these objects are not
immortal, a long session counts them down to zero and the interpreter aborts.

From Python 3.12 on, ``None``, ``True`` and ``False`` are immortal (PEP 683): their counts never
change, so watching them proves nothing there. The test therefore watches ordinary (mortal)
objects as well — what a slot returns and what a ``Signal(object)`` carries — whose counts mean
the same on every Python, and the singletons only where they are mortal.
"""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox

EMISSIONS = 500
IMMORTAL_SINGLETONS = sys.version_info >= (3, 12)


class _Emitter(QObject):
    carried = Signal(object)


class _Token:
    """A mortal object: its reference count is exact on every Python version."""


def _counts(*objects: object) -> list[int]:
    return [sys.getrefcount(o) for o in objects]


def test_signals_to_python_slots_keep_reference_counts(qtbot) -> None:
    returned, carried = _Token(), _Token()
    box = QCheckBox()
    qtbot.addWidget(box)
    emitter = _Emitter()
    box.toggled.connect(lambda _checked: returned)  # what a slot returns is released once
    emitter.carried.connect(lambda _value: returned)
    watched: list[object] = [returned, carried]
    if not IMMORTAL_SINGLETONS:
        watched += [None, True, False]
    before = _counts(*watched)
    for i in range(EMISSIONS):
        box.setChecked(i % 2 == 0)
        emitter.carried.emit(carried)
        emitter.carried.emit(None)
        emitter.carried.emit(i % 3 == 0)
    after = _counts(*watched)
    drift = [b - a for a, b in zip(before, after, strict=True)]
    # A few references come and go with Qt's own caches; hundreds lost means a binding bug.
    assert all(d > -EMISSIONS // 5 for d in drift), f"reference counts fell: {drift}"
    assert all(d < EMISSIONS // 5 for d in drift[:2]), f"references leaked: {drift}"
