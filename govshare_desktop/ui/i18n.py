"""Simplified Chinese for Qt's own texts (OK/Cancel, Close, context menus, the file and print
dialogs) and a Chinese locale, so dates read year first.

Qt's ``qtbase_zh_CN`` catalogue is loaded from PySide6's translations folder (or, in the frozen
program, wherever the bundle put it). It lacks a few strings of Qt 6's own file and print dialogs —
the file dialog said 「Look in」 and 「Files of type」 — which :data:`MISSING` supplies.

Dates: our own widgets write ``yyyy-MM-dd`` (:data:`DATE_FORMAT`); Qt's file dialog writes the
modification dates in the *system* locale's order, so on Linux and UOS/Kylin a non-Chinese
``LC_TIME`` is set to Chinese before the application starts (:func:`chinese_dates`). Windows takes
the user's regional settings as they are.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

import PySide6
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

log = logging.getLogger(__name__)

DATE_FORMAT = "yyyy-MM-dd"  # every date the program writes: year, month, day
CATALOGUE = "qtbase_zh_CN"

# (context, source text, disambiguation) → Chinese: Qt 6 strings qtbase_zh_CN does not have.
MISSING: dict[tuple[str, str, str | None], str] = {
    ("QFileDialog", "&Look in:", None): "查找范围(&L)：",
    ("QFileDialog", "Files of &type:", None): "文件类型(&T)：",
    ("QAbstractFileIconProvider", "Folder", "All other platforms"): "文件夹",
    ("QAbstractFileIconProvider", "Drive", None): "驱动器",
    ("QPrintSettingsOutput", "Page &Set:", None): "奇偶页(&S)：",  # 全部页面 / 奇数页面 / 偶数页面
}

_installed: list[QTranslator] = []


class _Missing(QTranslator):
    """The strings of :data:`MISSING`; for any other, nothing (None: Qt asks the next
    translator — an empty string would be taken as the translation)."""

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        return MISSING.get((context, source, disambiguation or None))

    def isEmpty(self) -> bool:
        return False


def translation_dirs() -> list[Path]:
    """Where ``qtbase_zh_CN.qm`` may be: Qt's own answer first, then PySide6's package and the
    frozen bundle (PyInstaller's ``_MEIPASS``)."""
    dirs = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    package = Path(PySide6.__file__).parent
    dirs += [package / "Qt" / "translations", package / "translations"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs += [Path(bundle) / "PySide6" / "Qt" / "translations", Path(bundle) / "translations"]
    return dirs


def install_chinese(app: QCoreApplication) -> bool:
    """Load Qt's Chinese and :data:`MISSING`, and make the default locale Chinese. Returns False
    if the catalogue is missing (not fatal: Qt's texts stay English, logged)."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    if _installed:
        return len(_installed) == 2
    missing = _Missing(app)
    translator = QTranslator(app)
    loaded = False
    for folder in translation_dirs():
        if translator.load(CATALOGUE, str(folder)):
            app.installTranslator(translator)
            _installed.append(translator)
            loaded = True
            break
    if not loaded:
        log.warning("Qt's Chinese (%s.qm) not found in %s", CATALOGUE, translation_dirs())
    app.installTranslator(missing)  # asked first: it was installed last
    _installed.append(missing)
    return loaded


def installed() -> list[QObject]:
    """The translators installed (for the tests)."""
    return list(_installed)


def chinese_dates(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Before the application starts: on Linux and UOS/Kylin, dates in Qt's own dialogs follow
    ``LC_TIME`` — set it to Chinese unless it (or ``LC_ALL``, which overrides it) already is one.
    Returns whether it was set."""
    if sys.platform == "win32":
        return False
    current = environ.get("LC_ALL") or environ.get("LC_TIME") or environ.get("LANG") or ""
    if current.startswith("zh") or environ.get("LC_ALL"):
        return False
    environ["LC_TIME"] = "zh_CN.UTF-8"
    return True
