from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from govshare_desktop.ui.first_run import FirstRunDialog


def test_rejects_a_code_that_is_not_a_township(qtbot, monkeypatch) -> None:
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.code_edit.setText("441900199201")  # a village, not a township
    dialog.name_edit.setText("东岭村")
    dialog._accept_init()
    assert dialog.choice == "" and "乡镇" in warnings[0]


def test_accepts_township_or_demo(qtbot, monkeypatch) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.code_edit.setText("441900199000")
    dialog.name_edit.setText(" 青禾镇 ")
    dialog._accept_init()
    assert (dialog.choice, dialog.code, dialog.name) == ("init", "441900199000", "青禾镇")
    demo = FirstRunDialog()
    qtbot.addWidget(demo)
    qtbot.mouseClick(demo.findChild(QPushButton, "demo_button"), Qt.MouseButton.LeftButton)
    assert demo.choice == "demo"
