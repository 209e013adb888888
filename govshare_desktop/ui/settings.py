"""What the window remembers between runs, in QSettings (the registry on Windows, an INI file under
``~/.config/govshare/`` elsewhere): its size and place, the splitters, the list pages' column
widths, the zoom, and for each account the last page and the folder exports go to.

Nothing here is personal data or a secret: sizes, page names and folders. Tests point QSettings at
a folder of their own (``QSettings.setPath`` with ``setDefaultFormat(IniFormat)``: see
``tests/conftest.py``), never the user's.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter, QWidget

ORGANISATION = "govshare"
APPLICATION = "govshare-desktop"
EXPORT_FOLDER = "govshare 导出"  # under 文档 (Documents)
ENV_EXPORT_DIR = "GOVSHARE_EXPORT_DIR"


def settings() -> QSettings:
    """The program's settings (in the default format: native, or INI where tests ask for it)."""
    return QSettings(
        QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def _user_key(user: str, name: str) -> str:
    return f"users/{user or '-'}/{name}"


def user_value(user: str, name: str, default: str = "") -> str:
    value = settings().value(_user_key(user, name), default)
    return value if isinstance(value, str) else default


def set_user_value(user: str, name: str, value: str) -> None:
    settings().setValue(_user_key(user, name), value)


# ---------------------------------------------------------------- the window


def restore_window(window: QMainWindow, name: str = "main_window") -> bool:
    """Size, place and toolbars as they were when the window last closed (False: first run)."""
    stored = settings()
    geometry = stored.value(f"{name}/geometry")
    if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
        return False
    state = stored.value(f"{name}/state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    return True


def save_window(window: QMainWindow, name: str = "main_window") -> None:
    stored = settings()
    stored.setValue(f"{name}/geometry", window.saveGeometry())
    stored.setValue(f"{name}/state", window.saveState())
    save_splitters(window)


# ---------------------------------------------------------------- splitters and columns


def save_splitters(root: QWidget) -> None:
    """Every named splitter under ``root``."""
    stored = settings()
    for splitter in root.findChildren(QSplitter):
        if splitter.objectName():
            stored.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())


def restore_splitters(root: QWidget) -> int:
    """Every named splitter under ``root`` as it was; returns how many were restored."""
    stored = settings()
    restored = 0
    for splitter in root.findChildren(QSplitter):
        state = stored.value(f"splitters/{splitter.objectName()}")
        if splitter.objectName() and isinstance(state, QByteArray):
            restored += splitter.restoreState(state)
    return restored


def save_columns(header: QHeaderView, key: str, zoom: float = 1.0) -> None:
    """The widths of a list's columns (only widths: the order and sort are the list's own), as
    they would be at 100 % when the list is shown at ``zoom``."""
    widths = [str(round(header.sectionSize(i) / zoom)) for i in range(header.count())]
    settings().setValue(f"columns/{key}", ",".join(widths))


def restore_columns(header: QHeaderView, key: str, zoom: float = 1.0) -> bool:
    """The widths the clerk left, if the list still has as many columns (at ``zoom``)."""
    value = settings().value(f"columns/{key}")
    if not isinstance(value, str) or not value:
        return False
    try:
        widths = [int(w) for w in value.split(",")]
    except ValueError:
        return False
    if len(widths) != header.count():
        return False
    for column, width in enumerate(widths):
        if width > 0:
            header.resizeSection(column, round(width * zoom))
    return True


# ---------------------------------------------------------------- export folder


def default_export_folder() -> Path:
    """文档/govshare 导出, or the folder ``GOVSHARE_EXPORT_DIR`` names (an office that keeps
    exports on another drive; the tests)."""
    configured = os.environ.get(ENV_EXPORT_DIR)
    if configured:
        return Path(configured)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / EXPORT_FOLDER


def export_folder(user: str) -> Path:
    """Where ``user``'s exports go: the folder they last exported to, else 文档/govshare 导出. The
    default folder is made if it is missing; a remembered folder that is gone (a USB stick
    taken out) falls back to the default."""
    remembered = user_value(user, "export_folder")
    if remembered and Path(remembered).is_dir():
        return Path(remembered)
    folder = default_export_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path.home()
    return folder


def remember_export(user: str, path: Path) -> None:
    """``user`` exported to ``path``: its folder is where the next export goes."""
    set_user_value(user, "export_folder", str(path.parent))


SERVER_KEY = "database/server"  # 连接单位服务器: the URL every start opens (no password in it)


def remembered_server() -> str:
    """The township server chosen at the first run (「连接单位服务器」), or ""."""
    return str(settings().value(SERVER_KEY, "") or "")


def remember_server(url: str) -> None:
    settings().setValue(SERVER_KEY, url)
