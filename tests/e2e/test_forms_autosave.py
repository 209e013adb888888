"""Journey: a clerk types into a form and the process dies (power cut, killed) before anything is
closed. Every accepted cell was committed when it was typed: reopening finds it, and the database
is intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.store.engine import open_store

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from PySide6.QtWidgets import QApplication, QLineEdit
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = QApplication([])
    from govshare_desktop.core.security.permissions import Principal, Role
    from govshare_desktop.core.store.engine import open_store
    from govshare_desktop.ui.main_window import MainWindow

    store = open_store(sys.argv[1]).acting(Principal("clerk", Role.CLERK), os.urandom(32))
    window = MainWindow(store, today=lambda: date(2026, 11, 26))
    window.show()
    window.show_page("forms")
    forms = window.forms_view
    forms.period.setCurrentIndex(forms.period.findData("2026-10"))
    forms.template.setCurrentIndex(forms.template.findData("mz_elderly_allowance_roster"))
    view = forms.sheet
    view.edit(view.currentIndex())
    editor = view.indexWidget(view.currentIndex())
    QTest.keyClicks(editor, "260")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    app.processEvents()
    print(view.sheet_model.form.subjects[0][0], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no dispose, no atexit
    """
)


def test_a_typed_value_survives_the_process_being_killed(tmp_path: Path, demo_store) -> None:
    db = Path(demo_store.path)
    demo_store.dispose()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(db)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    person = run.stdout.strip().splitlines()[-1]
    store = open_store(db)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    dictionary = load_dictionary()
    templates, _ = load_templates(dictionary)
    values = FormValues(store, dictionary, templates).values(Period.parse("2026-10"), [person])
    assert values["S_ALLOWANCE_AMOUNT"][person].value == "26000"  # 260.00 yuan, in fen
    store.dispose()
