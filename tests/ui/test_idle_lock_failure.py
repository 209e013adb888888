"""The idle lock never depends on a write succeeding: with the audit trail refusing every entry
(a full disk, a trail that cannot be written), the window still hides personal data — also an
open print preview — and locks again after being unlocked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtWidgets import QDialog

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import AuditFailed, audit_trail
from govshare_desktop.core.security.permissions import Role
from govshare_desktop.core.store.township import init_township
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.signin import LoginDialog

CLERK = "Qingshui#2026lock"


def test_the_lock_holds_when_the_audit_trail_cannot_be_written(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026lock")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "li", Role.CLERK, CLERK, must_change=False)
    setup.store.dispose()
    signed = signin.sign_in(db, "li", CLERK)
    window = MainWindow(signed.store, today=lambda: date(2026, 11, 26))
    qtbot.addWidget(window)
    window.show()
    preview = QDialog(window)  # e.g. a print preview of a roster
    preview.show()

    def refuse(*_args, **_kwargs):
        raise AuditFailed("审计日志无法写入（IntegrityError）")

    monkeypatch.setattr(type(audit_trail(signed.store)), "log", refuse)
    seen: list[tuple[bool, bool]] = []

    def unlock(dialog: LoginDialog) -> int:
        seen.append((window.centralWidget().isHidden(), preview.isHidden()))
        dialog.password.setText(CLERK)
        dialog.try_sign_in()
        return dialog.result()

    monkeypatch.setattr(LoginDialog, "exec", unlock)
    window.enable_idle_lock(db, minutes=0.002)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=10_000)  # locked, unlocked, locked again
    window.idle.stop()
    assert seen[:2] == [(True, True), (True, True)]
    qtbot.waitUntil(lambda: not window.centralWidget().isHidden(), timeout=5000)
    assert preview.isVisible()  # shown again after unlocking
    signed.store.dispose()
