"""First run (issue 19): the accounts and secrets shown once can be copied and printed on one page
(账户交接单); the disk-encryption advice wraps instead of being cut; the forced password change
does not ask again for the password just typed — real dialogs, a real sign-in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QTimer
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from govshare_desktop.core.security import signin
from govshare_desktop.core.security.permissions import Role
from govshare_desktop.core.store.location import DISK_ENCRYPTION_ADVICE
from govshare_desktop.ui import app as app_module
from govshare_desktop.ui.form_output import PrintPreview, paint_pages
from govshare_desktop.ui.handover import handover_page
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.signin import ChangePasswordDialog, LoginDialog, SetupDialog

SHOWN = [
    ("管理员账户", "admin"),
    ("管理员初始密码", "Kq7#mV2p-Lx9d"),
    ("演示经办人账户", "demo"),
    ("经办人初始密码", "Tz4!wQ8r-Pn3e"),
    ("恢复密钥", "RKEY-7F3A-91C2-44D0-B6E8-0A5F-2C19-D7B3-5E60"),
]
NOTES = [("磁盘加密", f"未启用。{DISK_ENCRYPTION_ADVICE}。")]


@pytest.fixture
def setup_dialog(qtbot) -> SetupDialog:
    dialog = SetupDialog(SHOWN, notes=NOTES, where="/home/镇政府/govshare.db")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_disk_encryption_advice_wraps_instead_of_being_cut(setup_dialog) -> None:
    note = setup_dialog.findChild(QLabel, "note_磁盘加密")
    assert note.wordWrap() and note.text().endswith("第二道防线。")
    metrics = note.fontMetrics()
    assert metrics.horizontalAdvance(note.text()) > note.width()  # longer than a line …
    assert note.height() >= note.heightForWidth(note.width())  # … and all of it shown
    assert note.height() >= 2 * metrics.lineSpacing()
    setup_dialog.grab().save("/tmp/setup_dialog.png")


def test_each_secret_and_all_of_them_can_be_copied(qtbot, setup_dialog) -> None:
    clipboard = QApplication.clipboard()
    setup_dialog.findChild(QPushButton, "copy_恢复密钥").click()
    assert clipboard.text() == SHOWN[-1][1]
    setup_dialog.findChild(QPushButton, "copy_管理员初始密码").click()
    assert clipboard.text() == "Kq7#mV2p-Lx9d"
    setup_dialog.findChild(QPushButton, "copy_all").click()
    copied = clipboard.text().splitlines()
    assert copied[:5] == [f"{label}：{value}" for label, value in SHOWN]
    assert copied[5].startswith("磁盘加密：未启用")
    clipboard.clear()


def test_the_handover_sheet_prints_on_one_page(qtbot, setup_dialog, tmp_path: Path) -> None:
    setup_dialog.findChild(QPushButton, "print_handover").click()
    preview = setup_dialog.preview
    assert isinstance(preview, PrintPreview) and "账户交接单（共 1 页）" in preview.windowTitle()
    qtbot.waitUntil(lambda: preview.painted >= 1, timeout=20000)
    assert preview.findChild(QPrintPreviewWidget).pageCount() == 1
    with qtbot.waitSignal(preview.destroyed, timeout=5000):
        preview.close()
    # What the printer gets, drawn into a PDF here only to read it back.
    page = handover_page(SHOWN, NOTES, unit="青禾镇", where="/home/镇政府/govshare.db")
    pdf = tmp_path / "交接单.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(pdf))
    paint_pages(printer, [page])
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace(" ", "")
    for label, value in SHOWN:
        assert label in text and value.replace(" ", "") in text, value
    for words in ("账户交接单", "单位：青禾镇", "磁盘加密", "交接人（签字）", "保险柜"):
        assert words in text, words
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), "/tmp/handover"], check=True, timeout=60
    )


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A township whose 经办人 ``zhou`` has an initial password to change."""
    from govshare_desktop.core.store.township import init_township

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026ho")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    signin.add_account(setup.store, "zhou", Role.CLERK, "Chushi#2026ho")  # must change
    setup.store.dispose()
    return db


def test_the_forced_change_does_not_ask_again_for_the_password_just_typed(
    qtbot, qapp, office: Path, monkeypatch
) -> None:
    monkeypatch.delenv("GOVSHARE_USER", raising=False)
    monkeypatch.delenv("GOVSHARE_PASSWORD", raising=False)
    seen: dict[str, object] = {}

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, LoginDialog):
            dialog.user.setText("zhou")
            dialog.password.setText("Chushi#2026ho")
            dialog.try_sign_in()
        elif isinstance(dialog, ChangePasswordDialog):
            seen["asked_old"] = dialog.old.isVisible()
            seen["focus"] = dialog.focusWidget() is dialog.new
            dialog.grab().save("/tmp/forced_change.png")
            dialog.new.setText("Xinmima#2026ho")
            dialog.again.setText("Xinmima#2026ho")
            dialog.change()
            return
        QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    app_module._sign_in(qapp, window, app_module.parse_args(["--db", str(office)]), office)
    assert seen == {"asked_old": False, "focus": True}
    assert window.store is not None and window.store.principal.username == "zhou"
    qtbot.waitUntil(lambda: window.integrity_task is not None and window.integrity_task.done)
    qtbot.waitUntil(lambda: window.backup_task is None or window.backup_task.done, timeout=20000)
    window.close()
    signin.sign_in(office, "zhou", "Xinmima#2026ho").store.dispose()  # the new one holds


def test_a_change_from_the_menu_still_asks_the_current_password(qtbot, office: Path) -> None:
    signed = signin.sign_in(office, "admin", "Guanli#2026ho")
    dialog = ChangePasswordDialog(signed.store, forced=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.old.isVisible()
    signed.store.dispose()
