"""The 工作台 page, the first after signing in: the township and the date, then one card per line of
the desk (:func:`govshare_desktop.core.services.home.desk`) — the count big, the title, one line of
detail, the particulars as a tooltip; overdue in bold red, due soon in amber, nothing to do as a
green ✓. A click, Enter or Space on a card opens its page; the arrow keys, Home and End move between
cards. The desk is read afresh whenever the page is shown (and on F5).

What the cards say is the core's; this only draws it. A new kind of work is a new source in the core,
not a new widget here.

Charts: :meth:`HomeView.add_panel` puts a panel (a chart, …) in the column right of the cards; the
column stays hidden while it is empty.

Signals of :class:`HomeView`: ``page_requested(str)`` — the clerk opened a card: the key of the page
to show (a key of ``window_pages.PAGES``, or ``backup`` for 立即备份).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.services import home
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import Store

OVERDUE_COLOUR = "#b91c1c"
SOON_COLOUR = "#9a3412"
OK_COLOUR = "#15803d"
TEXT_COLOUR = "#111827"
MUTED_COLOUR = "#4b5563"
STRIPES = {home.OVERDUE: OVERDUE_COLOUR, home.SOON: "#f59e0b", home.OK: "#d1d5db"}
TWO_COLUMNS = 880  # px of room from which panels (charts) go two a row
CARDS_WIDTH = 420  # px: a card's count, title and two lines of detail without clipping


def figure(item: home.DueItem) -> str:
    """What the card shows big: the count, or ✓ when there is nothing to do, ! when uncounted
    and not fine."""
    if item.count:
        return f"{item.count:,}"
    return "✓" if item.urgency == home.OK else "!"


def figure_colour(item: home.DueItem) -> str:
    if item.urgency == home.OVERDUE:
        return OVERDUE_COLOUR
    if item.urgency == home.SOON:
        return SOON_COLOUR
    return OK_COLOUR if not item.count else TEXT_COLOUR


class DueCard(QFrame):
    """One line of the desk, focusable; a click, Enter or Space opens it."""

    opened = Signal()
    moved = Signal(int)  # a key that moves to another card: Up, Down, Home, End

    MOVES = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End)

    def __init__(self, item: home.DueItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setObjectName(f"home_{item.key}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        red = item.urgency == home.OVERDUE
        self.setStyleSheet(
            f"DueCard {{ background:#ffffff; border:1px solid #e5e7eb;"
            f" border-left:6px solid {STRIPES[item.urgency]}; border-radius:4px; }}"
            f"DueCard:focus {{ background:#eff6ff; border:2px solid #2563eb;"
            f" border-left:6px solid {STRIPES[item.urgency]}; }}"
            "DueCard:hover { background:#f9fafb; }"
        )
        self.count_label = QLabel(figure(item), self)
        self.count_label.setObjectName("count")
        self.count_label.setMinimumWidth(88)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count_label.setStyleSheet(
            f"font-size:26pt; font-weight:bold; color:{figure_colour(item)}; border:none;"
        )
        self.title_label = QLabel(item.title, self)
        self.title_label.setObjectName("title")
        self.title_label.setStyleSheet(
            f"font-size:13pt; font-weight:bold; color:{TEXT_COLOUR}; border:none;"
        )
        self.detail_label = QLabel(item.detail, self)
        self.detail_label.setObjectName("detail")
        self.detail_label.setWordWrap(True)
        colour = OVERDUE_COLOUR if red else MUTED_COLOUR
        weight = "bold" if red else "normal"
        self.detail_label.setStyleSheet(
            f"font-size:11pt; color:{colour}; font-weight:{weight}; border:none;"
        )
        hint = QLabel("打开 ›" if item.page != "backup" else "立即备份 ›", self)
        hint.setStyleSheet("color:#2563eb; font-size:10.5pt; border:none;")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title_label)
        text.addWidget(self.detail_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 8, 14, 8)
        row.addWidget(self.count_label)
        row.addLayout(text, 1)
        row.addWidget(hint)
        if item.more:
            self.setToolTip("\n".join(item.more))
        shown = item.detail + ("（已逾期）" if red else "")
        self.setAccessibleName(f"{item.title}：{figure(item)}。{shown}")

    @property
    def overdue(self) -> bool:
        return self.item.overdue

    def resizeEvent(self, event: QResizeEvent) -> None:
        """As tall as its wrapped detail needs at this width: the scroll area scrolls rather than
        squeeze the cards (a wrapped label's minimum height ignores its width)."""
        super().resizeEvent(event)
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            self.setMinimumHeight(layout.heightForWidth(self.width()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.opened.emit()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit()
            return
        if event.key() in self.MOVES:  # before the scroll area takes them
            self.moved.emit(event.key())
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(self)


class HomeView(QWidget):
    """The 工作台 page."""

    page_requested = Signal(str)

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = datetime.now,
        parent: QWidget | None = None,
    ) -> None:
        """``clock``: the window's day (what is overdue is judged on it) at the time of day."""
        super().__init__(parent)
        self.setObjectName("home_view")
        self.store = store
        self.clock = clock
        self.cards: list[DueCard] = []
        self.heading = QLabel(self)
        self.heading.setObjectName("home_heading")
        self.heading.setStyleSheet(f"font-size:18pt; font-weight:bold; color:{TEXT_COLOUR};")
        self.subheading = QLabel(self)
        self.subheading.setObjectName("home_subheading")
        self.subheading.setStyleSheet(f"font-size:11pt; color:{MUTED_COLOUR};")

        self._list = QWidget(self)
        self._cards = QVBoxLayout(self._list)
        self._cards.setContentsMargins(0, 0, 8, 0)
        self._cards.setSpacing(8)
        self._cards.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("home_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Not focusable itself: shown from another page, the focus goes to the first card.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(self._list)
        scroll.setMinimumWidth(CARDS_WIDTH)  # a chart panel beside them never squeezes the cards

        # The column for panels beside the cards (charts), hidden while empty; it scrolls rather
        # than widen the window past a small screen (1366 × 768).
        panels = QWidget(self)
        self._panels = QVBoxLayout(panels)
        self._panels.setContentsMargins(0, 0, 0, 0)
        self.side = QScrollArea(self)
        self.side.setObjectName("home_side")
        self.side.setWidgetResizable(True)
        self.side.setFrameShape(QFrame.Shape.NoFrame)
        self.side.setWidget(panels)
        self.side.hide()

        body = QHBoxLayout()
        body.addWidget(scroll, 2)
        body.addWidget(self.side, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addSpacing(6)
        layout.addLayout(body, 1)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)

    def context(self) -> Context:
        return Context(self.store, clock=self.clock)

    def add_panel(self, panel: QWidget) -> None:
        """A panel (a chart …) in the column right of the cards. A panel with ``set_columns``
        lays itself out in one column or two as the room allows."""
        self._panels.addWidget(panel)
        self.side.show()
        self._fit_panels()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_panels()

    def _fit_panels(self) -> None:
        columns = 2 if self.side.viewport().width() >= TWO_COLUMNS else 1
        for n in range(self._panels.count()):
            item = self._panels.itemAt(n)
            panel = item.widget() if item is not None else None
            if panel is not None and hasattr(panel, "set_columns"):
                panel.set_columns(columns)

    def refresh(self) -> None:
        """The desk read afresh; the card that had the focus keeps it."""
        desk = home.desk(self.context())
        focused = next((c.item.key for c in self.cards if c.hasFocus()), None)
        self.heading.setText(desk.heading)
        principal = self.store.principal
        who = f"{principal.label}，" if principal.role is not None else ""
        self.subheading.setText(f"{who}今天要办的事" + ("：点击或按回车打开" if desk.items else ""))
        for card in self.cards:
            self._cards.removeWidget(card)
            card.setParent(None)  # out of the focus chain at once (the page's last focus)
            card.deleteLater()
        self.cards = []
        for position, item in enumerate(desk.items):
            card = DueCard(item, self._list)
            card.opened.connect(lambda page=item.page: self.page_requested.emit(page))
            card.moved.connect(lambda key, card=card: self._move(card, key))
            self._cards.insertWidget(position, card)
            self.cards.append(card)
        # Focus given to the page (shown from another page) goes to the first card.
        if self.cards:  # (a proxy deleted with its card is forgotten by Qt)
            self.setFocusProxy(self.cards[0])
        for before, after in zip(self.cards, self.cards[1:], strict=False):
            QWidget.setTabOrder(before, after)
        if not desk.items:
            self.subheading.setText(f"{who}您的角色没有需要办理的事项。")
        if focused is not None:
            self.focus_card(focused)

    def focus_first(self) -> None:
        if self.cards:
            self.cards[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_card(self, key: str) -> None:
        for card in self.cards:
            if card.item.key == key:
                card.setFocus(Qt.FocusReason.OtherFocusReason)

    def card(self, key: str) -> DueCard | None:
        return next((c for c in self.cards if c.item.key == key), None)

    def _move(self, card: DueCard, key: int) -> None:
        """Up and Down to the card before and after, Home and End to the first and last."""
        at = self.cards.index(card)
        target = {
            Qt.Key.Key_Up: max(0, at - 1),
            Qt.Key.Key_Down: min(len(self.cards) - 1, at + 1),
            Qt.Key.Key_Home: 0,
            Qt.Key.Key_End: len(self.cards) - 1,
        }[Qt.Key(key)]
        self.cards[target].setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
