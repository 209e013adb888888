"""The idle lock during an import preview on a database file: the preview holds the file's one
write transaction, so the lock lets it go (rolled back, the database as before) before writing its
own audit entry — rather than freeze for the busy timeout and lose the entry — and the wizard, shown
again after the password, says so and previews again from the mapping."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard
from sqlalchemy import func, select

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.models import Person
from govshare_desktop.core.store.township import add_village, init_township
from govshare_desktop.ui.import_wizard import ImportWizard
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.signin import LoginDialog

CLERK = "Qingshui#2026held"
AUDITOR = Principal("zhao", Role.AUDITOR)


@pytest.fixture
def office(tmp_path: Path) -> Path:
    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026held")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        add_village(session, "441900199201", "东岭村委会")
    signin.add_account(setup.store, "li", Role.CLERK, CLERK, must_change=False)
    setup.store.dispose()
    return db


def _next(qtbot, wizard: QWizard, page) -> None:
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is page and page.isComplete(), timeout=30_000)


def test_the_lock_lets_a_held_preview_go_and_the_wizard_previews_again(
    qtbot, office: Path, samples: Path, monkeypatch
) -> None:
    signed = signin.sign_in(office, "li", CLERK)
    store = signed.store
    window = MainWindow(store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.show()
    wizard = ImportWizard(store, [samples / "青禾镇_户籍人口回流_2026-10.xlsx"], window)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    _next(qtbot, wizard, wizard.preview_page)
    held = wizard.held
    assert held is not None and held.state == "held"

    seen: list[tuple[bool, float]] = []
    locked_at: list[float] = []

    def unlock(dialog: LoginDialog) -> int:
        seen.append((wizard.isHidden(), time.monotonic() - locked_at[0]))
        dialog.password.setText(CLERK)
        dialog.try_sign_in()
        return dialog.result()

    monkeypatch.setattr(LoginDialog, "exec", unlock)
    real_lock = window.lock

    def timed_lock() -> None:
        locked_at.append(time.monotonic())
        real_lock()

    monkeypatch.setattr(window, "lock", timed_lock)
    window.enable_idle_lock(office, minutes=0.002)
    qtbot.waitUntil(lambda: bool(seen) and not window.locked, timeout=20_000)
    window.idle.stop()

    hidden, waited = seen[0]
    assert hidden  # the preview's rows were off screen while locked
    assert waited < 3.0  # not the busy timeout: the file was free for the lock's entry
    assert held.state == "rolled_back" and wizard.held is None
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    actions = [e.action for e in audit_trail(store).entries(AUDITOR, limit=2)]
    assert actions == ["unlock", "lock"]  # both written, in order

    qtbot.waitUntil(wizard.isVisible, timeout=5000)
    assert wizard.currentPage() is wizard.mapping_page
    assert "屏幕锁定时" in wizard.mapping_page.notice.text()
    _next(qtbot, wizard, wizard.preview_page)  # previewed again
    _next(qtbot, wizard, wizard.result_page)  # and imported
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1042
    wizard.close()
    store.dispose()


def test_a_preview_still_being_made_is_stopped_and_leaves_the_file_free(
    qtbot, office: Path, samples: Path
) -> None:
    """Locked (or 上一步) while the preview runs: it is stopped and waited for, so it cannot go on
    to hold the file after the wizard has left the page."""
    signed = signin.sign_in(office, "li", CLERK)
    store = signed.store
    wizard = ImportWizard(store, [samples / "青禾镇_户籍人口回流_2026-10.xlsx"])
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    wizard.next()  # the preview starts on its thread …
    assert wizard.currentPage() is wizard.preview_page
    wizard.before_lock()  # … and the screen locks at once
    assert wizard.currentPage() is wizard.mapping_page
    assert wizard.task is not None and wizard.task.done and wizard.held is None
    started = time.monotonic()
    with store.transaction() as session:  # the file takes a write at once
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        add_village(session, "441900199202", "西岭村委会")
    assert time.monotonic() - started < 3.0
    store.dispose()


def test_the_preview_waits_for_the_windows_work_that_writes_when_it_ends(
    qtbot, window, samples: Path
) -> None:
    """The daily backup still running when the clerk previews an import on a PC: its audit entry
    at the end would wait for the held preview and fail, so the preview waits for it, saying so."""
    import threading

    from govshare_desktop.core.services import session
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.ui.tasks import run_task, running_tasks

    qtbot.waitUntil(lambda: not running_tasks(window), timeout=20_000)  # the charts, the counts
    store = window.store
    release = threading.Event()
    ended: list[object] = []

    def backup(_progress, cancel) -> str:  # type: ignore[no-untyped-def]
        while not release.wait(0.02):
            cancel.check()
        session.searched(Context(store), "每日自动备份", page="test", results=0)  # an entry
        return "backed up"

    task = run_task(window, "正在进行每日自动备份……", backup, ended.append, ended.append)
    wizard = ImportWizard(store, [samples / "青禾镇_户籍人口回流_2026-10.xlsx"], window)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    wizard.next()
    assert wizard.currentPage() is wizard.preview_page
    qtbot.wait(600)
    assert wizard.held is None and not wizard.preview_page.isComplete()  # not yet held
    assert "正在等待「每日自动备份」完成" in wizard.preview_page.waiting.text()
    release.set()
    qtbot.waitUntil(lambda: task.done, timeout=10_000)
    assert ended == ["backed up"]  # its entry written: nothing held the file
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=30_000)
    assert wizard.held is not None and wizard.held.state == "held"
    assert wizard.preview_page.waiting.isHidden()
    wizard.reject()
