"""Simplified Chinese for Qt's own texts (OK/Cancel, Close, context menus) and a Chinese locale."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

_installed: list[QTranslator] = []


def install_chinese(app: QApplication) -> bool:
    """Load ``qtbase_zh_CN`` from the Qt installation. Returns False if it is missing (not fatal)."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    if _installed:
        return True
    translator = QTranslator(app)
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load("qtbase_zh_CN", path):
        return False
    app.installTranslator(translator)
    _installed.append(translator)
    return True
