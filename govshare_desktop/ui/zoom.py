"""Zoom for the pages — the lists and the form view — with Ctrl+= / Ctrl+- / Ctrl+0, and a default
font of at least 10.5 pt, for eyes that read all day.

The zoom sets the font of the window's pages (its stacked widget); Qt hands it down to every
child. What a font change does not redo by itself is done here: a list's row height and its
column widths follow the font (:func:`follow_font`), and the form view lays itself out again
(``SheetView.changeEvent``). The zoom is remembered (QSettings), and column widths are saved as at
100 %, so a width dragged at one zoom is the same width at another.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QHeaderView, QTableView, QWidget

from govshare_desktop.ui.settings import settings

MIN_POINTS = 10.5
STEPS = (80, 90, 100, 110, 125, 150, 175, 200)  # percent
ROW_PADDING = 10  # pixels above and below a list's line of text


def apply_default_font(app: QApplication) -> QFont:
    """The program's font: the system's, at least :data:`MIN_POINTS` points."""
    font = app.font()
    if font.pointSizeF() < MIN_POINTS:
        font.setPointSizeF(MIN_POINTS)
        app.setFont(font)
    return font


def base_points() -> float:
    return max(QApplication.font().pointSizeF(), 1.0)


def ratio(widget: QWidget) -> float:
    """How much bigger than the program's font ``widget`` is drawn (1.0 at 100 %)."""
    return widget.font().pointSizeF() / base_points()


class _FontFollower(QObject):
    """On a font change, a list's rows take the new line height and its dragged (interactive)
    column widths grow or shrink with the font."""

    def __init__(self, table: QTableView, made_at: float) -> None:
        super().__init__(table)
        self.table = table
        self.points = made_at

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.FontChange:
            self.fit()
        return False

    def fit(self) -> None:
        table = self.table
        points = table.font().pointSizeF()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + ROW_PADDING)
        header = table.horizontalHeader()
        scale = points / self.points if self.points > 0 else 1.0
        if abs(scale - 1.0) > 0.001:
            for column in range(header.count()):
                if header.sectionResizeMode(column) in (
                    QHeaderView.ResizeMode.Interactive,
                    QHeaderView.ResizeMode.Fixed,
                ):
                    header.resizeSection(column, round(header.sectionSize(column) * scale))
        self.points = points


def follow_font(table: QTableView, made_at: float | None = None) -> None:
    """``table``'s rows and columns follow its font from now on. ``made_at``: the point size its
    widths were made for (default: its font now)."""
    if table.property("follows_font"):
        return
    table.setProperty("follows_font", True)
    follower = _FontFollower(table, made_at if made_at is not None else table.font().pointSizeF())
    table.installEventFilter(follower)
    if made_at is not None:
        follower.fit()


class Zoom(QObject):
    """The zoom of ``target`` (the window's pages), in percent of the program's font.

    Signals: ``zoomed(int)`` — the zoom changed, to this percent."""

    zoomed = Signal(int)

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.target = target
        stored = settings().value("zoom", 100)
        try:
            percent = int(stored)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            percent = 100
        self.percent = 100
        self.set_percent(percent if percent in STEPS else 100, remember=False)

    def set_percent(self, percent: int, *, remember: bool = True) -> None:
        percent = min(max(percent, STEPS[0]), STEPS[-1])
        self.adopt(self.target)  # tables shown since: made at the program's font
        font = QFont(self.target.font())
        font.setPointSizeF(base_points() * percent / 100)
        self.target.setFont(font)
        self.percent = percent
        if remember:
            settings().setValue("zoom", percent)
        self.zoomed.emit(percent)

    def adopt(self, page: QWidget) -> None:
        """Lists on a page built after the zoom was set follow it (their widths were made at
        the program's font)."""
        # Not imported here: at start (the zoom is set before the window paints) that would load
        # the forms, SQLAlchemy and the store first (~0.5 s); no form is shown before it loads.
        sheet_view = sys.modules.get("govshare_desktop.ui.sheet_view")
        forms = getattr(sheet_view, "SheetView", None)
        for table in page.findChildren(QTableView):
            if forms is None or not isinstance(table, forms):
                follow_font(table, made_at=base_points())

    def zoom_in(self) -> None:
        bigger = [s for s in STEPS if s > self.percent]
        self.set_percent(bigger[0] if bigger else STEPS[-1])

    def zoom_out(self) -> None:
        smaller = [s for s in STEPS if s < self.percent]
        self.set_percent(smaller[-1] if smaller else STEPS[0])

    def reset(self) -> None:
        self.set_percent(100)
