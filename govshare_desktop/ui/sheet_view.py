"""A form on screen as its paper reads — title, statutory marks, merged headers, rows, signature
areas — with the empty and prefilled cells editable in place.

The layout is :func:`govshare_desktop.core.forms.sheet.build_sheet`'s, the same one the Excel and
PDF exports use. A value typed here goes into the 一表通 pool (element, subject, period), so every
other form that uses the element shows it too. Enter or Tab saves and moves to the next cell to
fill (down the column in a table, along the rows in a 登记表).

Signals of :class:`SheetView`: ``changed()`` — a value was saved.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.compute import OTHER_LABEL
from govshare_desktop.core.forms.sheet import (
    HEADER,
    LABEL,
    NUMBER,
    SIGNATURE,
    STUB,
    TITLE,
    TOTAL,
    VALUE,
    Cell,
    Sheet,
    build_sheet,
)
from govshare_desktop.core.forms.values import (
    COMPUTED,
    DERIVED,
    OVERRIDDEN,
    FormData,
    FormValues,
    StaleValue,
    canonical,
    display,
)
from govshare_desktop.core.services.forms import set_value
from govshare_desktop.core.store.models import FormValue
from govshare_desktop.ui.form_fit import breakable, fit_headers, use_width
from govshare_desktop.ui.form_output import FormOutput
from govshare_desktop.ui.usecases import context

_Index = QModelIndex | QPersistentModelIndex

ORIGIN_TEXT = {COMPUTED: "回流数据", OVERRIDDEN: "经办人修改", "entered": "经办人填报"}
BACKGROUNDS = {
    COMPUTED: QColor("#e8f1fb"),
    DERIVED: QColor("#ececec"),  # 合计 worked out from the rows: read-only
    OVERRIDDEN: QColor("#fff1d6"),
    "missing": QColor("#fffbe0"),
    "problem": QColor("#fde2e1"),
    HEADER: QColor("#f2f2f2"),
    NUMBER: QColor("#f2f2f2"),
    LABEL: QColor("#f7f7f7"),
}
CELL_ROLE = Qt.ItemDataRole.UserRole + 1
OTHER_TIP = (
    "回流数据中不在本乡镇户籍、无法归到村（社区）的人员（如外地户籍在本地领取待遇），"
    "单列一行，使各村与本行相加等于合计"
)


class SheetModel(QAbstractTableModel):
    """The cells of a :class:`Sheet`; covered positions of merged cells are empty.

    Signals: ``entry_refused(str)`` — a typed value was not saved, with the Chinese reason."""

    entry_refused = Signal(str)

    def __init__(
        self,
        pool: FormValues,
        data: FormData,
        *,
        masked: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.pool = pool
        self.form = data
        self.masked = masked
        self.sheet: Sheet = build_sheet(data, masked=masked)
        self.reason_for: Any = None  # callable(element name) -> str | None
        self.problems: dict[str, list[str]] = {}
        self._update_problems()

    # ---------------------------------------------------------------- reading

    def cell(self, index: _Index) -> Cell | None:
        return self.sheet.cells.get((index.row(), index.column()))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.sheet.rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.sheet.columns

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        cell = self.cell(index) if index.isValid() else None
        if cell is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.EditRole:
            return cell.text.replace(",", "")
        if role == CELL_ROLE:
            return cell
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = {
                "left": Qt.AlignmentFlag.AlignLeft,
                "center": Qt.AlignmentFlag.AlignHCenter,
                "right": Qt.AlignmentFlag.AlignRight,
            }[cell.align]
            vertical = (
                Qt.AlignmentFlag.AlignBottom
                if cell.role == SIGNATURE
                else Qt.AlignmentFlag.AlignVCenter
            )
            return int(horizontal | vertical)
        if role == Qt.ItemDataRole.FontRole and cell.role in (TITLE, HEADER, TOTAL):
            font = QFont()
            font.setBold(True)
            if cell.role == TITLE:
                font.setPointSizeF(font.pointSizeF() * 1.6)
            return font
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(cell)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(cell)
        return None

    def _background(self, cell: Cell) -> QBrush | None:
        if cell.role == VALUE:
            if cell.subject in self.problems and cell.element in self._rule_elements(cell.subject):
                return QBrush(BACKGROUNDS["problem"])
            if cell.origin in BACKGROUNDS:
                return QBrush(BACKGROUNDS[cell.origin])
            if cell.value is None and cell.editable:
                return QBrush(BACKGROUNDS["missing"])
            return None
        if cell.role == STUB and cell.subject in self.problems:
            return QBrush(BACKGROUNDS["problem"])
        colour = BACKGROUNDS.get(cell.role)
        return QBrush(colour) if colour else None

    def _tooltip(self, cell: Cell) -> str | None:
        if cell.role == STUB and cell.subject in self.problems:
            return "\n".join(self.problems[cell.subject])
        if cell.role == STUB and cell.subject == self.form.other_subject:
            return OTHER_TIP
        if cell.element is None or cell.subject is None:
            return None
        element = self.form.dictionary[cell.element]
        lines = [f"{element.name}（{element.source}）"]
        row = self.form.row(cell.element, cell.subject)
        if self.form.derived(cell.element, cell.subject):
            if cell.subject == self.form.other_subject:
                lines.append(f"“{OTHER_LABEL}”行只有回流数据，此项请填在各村（社区）")
            else:
                lines.append(self.form.total_note(cell.element) + "，不能直接填写")
        elif row is not None:
            lines.append(
                f"{ORIGIN_TEXT.get(row.origin, row.origin)}：{row.changed_by}，"
                f"{row.changed_at:%Y-%m-%d %H:%M}"
            )
            if row.origin == OVERRIDDEN:
                lines.append(f"回流数据计算值：{display(element, row.computed_value)}")
                lines.append(f"修改理由：{row.reason or ''}")
        elif cell.element in self.form.attributes:
            lines.append("来自户籍回流数据（如有误，请走校核纠错）")
        else:
            lines.append("待填报" if cell.editable else "")
        lines += [f"⚠ {m}" for m in self.problems.get(cell.subject, [])]
        return "\n".join(x for x in lines if x)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        cell = self.cell(index) if index.isValid() else None
        if cell is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if cell.editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    # ---------------------------------------------------------------- rules

    def _update_problems(self) -> None:
        self.problems = {}
        self._failed_names: dict[str, set[str]] = {}
        for result in self.form.rule_results():
            if result.passed is False:
                prefix = "错误" if result.rule.severity == "error" else "提示"
                self.problems.setdefault(result.area, []).append(f"{prefix}：{result.rule.message}")
                self._failed_names.setdefault(result.area, set()).update(result.rule.check.names)

    def _rule_elements(self, subject: str) -> set[str]:
        return self._failed_names.get(subject, set())

    def problem_messages(self) -> list[str]:
        return list(dict.fromkeys(m for ms in self.problems.values() for m in ms))

    # ---------------------------------------------------------------- editing

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        cell = self.cell(index) if index.isValid() else None
        if role != Qt.ItemDataRole.EditRole or cell is None or not cell.editable:
            return False
        assert cell.element is not None and cell.subject is not None
        element = self.form.dictionary[cell.element]
        row = self.form.row(cell.element, cell.subject)
        if str(value).strip() == cell.text.replace(",", "").strip():
            return False  # nothing changed: no reason to ask for
        reason = None
        if element.computed:
            try:
                new = canonical(element, value)
            except UserError:
                new = None
            if row is None or row.computed_value != new:
                reason = self.reason_for(element.name) if self.reason_for else None
                if reason is None:
                    return False
        try:
            saved = set_value(
                context(self.pool.store),
                self.pool,
                cell.element,
                cell.subject,
                self.form.period,
                value,
                reason=reason,
                seen=row.version if row is not None else 0,
            )
        except StaleValue as exc:  # another clerk changed it: show theirs, say so
            self._stored(cell.element, cell.subject, exc.current)
            self.entry_refused.emit(exc.message)
            return False
        except UserError as exc:
            self.entry_refused.emit(exc.message)
            return False
        self._stored(cell.element, cell.subject, saved)
        return True

    def _stored(self, element: str, subject: str, saved: FormValue) -> None:
        """``saved`` is the stored value now: the sheet, its totals and colours follow it."""
        self.form.stored.setdefault(element, {})[subject] = saved
        self.sheet = build_sheet(
            self.form, masked=self.masked
        )  # totals and colours follow the new value
        self._update_problems()
        self.dataChanged.emit(
            self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
        )

    def next_editable(self, index: _Index) -> QModelIndex:
        """The next cell to fill after ``index``: down the column in tables and rosters, along the
        rows in individual forms."""
        positions = [(r, c) for r, c, cell in self.sheet.value_cells() if cell.editable]
        if self.form.template.kind != "individual":
            positions.sort(key=lambda p: (p[1], p[0]))
        here = (index.row(), index.column())
        if here in positions and positions.index(here) + 1 < len(positions):
            row, column = positions[positions.index(here) + 1]
            return self.index(row, column)
        return QModelIndex()

    def first_editable(self) -> QModelIndex:
        """The first cell still to fill, else the first cell that may be changed."""
        editable = [(r, c, cell) for r, c, cell in self.sheet.value_cells() if cell.editable]
        empty = [(r, c) for r, c, cell in editable if cell.value is None]
        if self.form.template.kind != "individual":
            empty.sort(key=lambda p: (p[1], p[0]))
        first = empty[0] if empty else (editable[0][:2] if editable else None)
        return self.index(*first) if first else QModelIndex()


class _RuledDelegate(QStyledItemDelegate):
    """Draws the form's ruling: borders around every cell of the table part only; headers wrap
    between words (:mod:`~govshare_desktop.ui.form_fit`), the title follows the zoom."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        super().initStyleOption(option, index)
        cell = index.data(CELL_ROLE)
        if isinstance(cell, Cell) and cell.role in (HEADER, LABEL):  # a 登记表's labels too
            option.text = breakable(option.text)
        elif isinstance(cell, Cell) and cell.role == TITLE:
            view = self.parent()
            if isinstance(view, QWidget):
                font = option.font
                font.setPointSizeF(view.font().pointSizeF() * 1.6)  # the view's, zoomed
                option.font = font

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        super().paint(painter, option, index)
        model = index.model()
        sheet = getattr(model, "sheet", None)
        if sheet is None:
            return
        first, last = sheet.table_rows
        if first <= index.row() <= last:
            painter.save()
            painter.setPen(QPen(QColor("#404040"), 1))
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


class SheetView(QTableView):
    """Signals: ``changed()`` — a value was saved; ``message(str)`` — a typed value was refused
    (shown beside the cell too, and the cell stays open for a correction)."""

    changed = Signal()
    message = Signal(str)

    def __init__(
        self,
        pool: FormValues,
        data: FormData,
        *,
        masked: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sheet_view")
        self.setModel(SheetModel(pool, data, masked=masked, parent=self))
        self.sheet_model.reason_for = self._ask_reason
        self.sheet_model.dataChanged.connect(lambda *_: self.changed.emit())
        self.sheet_model.entry_refused.connect(self._refused)
        self._refusal: str | None = None
        self.setItemDelegate(_RuledDelegate(self))
        self.setShowGrid(False)
        self.horizontalHeader().setVisible(False)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        paper = self.palette()  # white paper (a style sheet here would stop the zoom's font)
        paper.setColor(QPalette.ColorRole.Base, QColor("white"))
        self.setPalette(paper)
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(120)
        self._relayout.timeout.connect(self._lay_out)
        self._lay_out()
        start = self.sheet_model.first_editable()
        if start.isValid():
            self.setCurrentIndex(start)
        else:
            self.setCurrentIndex(QModelIndex())  # nothing to type: no cell highlighted

    @property
    def sheet_model(self) -> SheetModel:
        model = self.model()
        assert isinstance(model, SheetModel)
        return model

    def _lay_out(self) -> None:
        sheet = self.sheet_model.sheet
        self.clearSpans()
        for row, column, cell in sheet:
            if cell.rowspan > 1 or cell.colspan > 1:
                self.setSpan(row, column, cell.rowspan, cell.colspan)
        metrics = self.fontMetrics()
        char = metrics.horizontalAdvance("中")
        line = metrics.height()
        widths = [int(width * char + char) for width in sheet.column_widths]
        header_rows = set()
        for row, column, cell in sheet:
            if cell.role == HEADER:
                header_rows.add(row)
            elif cell.role in (VALUE, STUB, TOTAL) and cell.colspan == 1:
                # This screen's font, not the printed one, decides what fits here.
                widths[column] = max(widths[column], metrics.horizontalAdvance(cell.text) + char)
        for column, width in enumerate(use_width(self, widths)):
            self.setColumnWidth(column, width)
        for row in range(sheet.rows):
            lines = sheet.row_heights.get(row, 1.0)
            if row in header_rows and lines == 1.0:
                lines = 1.8  # headers wrap
            self.setRowHeight(row, int(lines * line + line * 0.7))
        fit_headers(self, sheet)  # each header's words whole, its rows tall enough

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._lay_out()  # zoomed: widths and heights follow the font

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() < 0:  # its first size: laid out for it at once
            self._lay_out()
        elif event.size().width() != event.oldSize().width():
            self._relayout.start()  # the form uses the width it has, once the resizing stops

    def _refused(self, text: str) -> None:
        self._refusal = text
        self.message.emit(text)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        super().closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        if self._refusal is not None:  # stay on the cell, say why beside it, let them correct it
            text, self._refusal = self._refusal, None
            current = self.currentIndex()
            where = self.viewport().mapToGlobal(self.visualRect(current).bottomLeft())
            QToolTip.showText(where, text, self)
            QTimer.singleShot(0, lambda: self.edit(current))
            return
        if hint in (
            QAbstractItemDelegate.EndEditHint.SubmitModelCache,
            QAbstractItemDelegate.EndEditHint.EditNextItem,
        ):
            following = self.sheet_model.next_editable(self.currentIndex())
            if following.isValid():
                self.setCurrentIndex(following)

    def _ask_reason(self, name: str) -> str | None:
        reason, ok = QInputDialog.getText(
            self, "修改预填值", f"“{name}”由回流数据计算得出。请说明修改理由："
        )
        return reason.strip() if ok and reason.strip() else None


class FormDialog(QDialog):
    """One 登记表/申请表 for one person or household, from their card: prefilled from the registry,
    the rest typed in place (saved at once), then printed and signed."""

    def __init__(
        self,
        pool: FormValues,
        data: FormData,
        *,
        masked: bool,
        reason: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("form_dialog")
        self.setWindowTitle(f"{data.template.department}｜{data.template.title}")
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        self.sheet = SheetView(pool, data, masked=masked, parent=self)
        layout.addWidget(self.sheet, 1)
        self.status = QLabel(self)
        self.status.setObjectName("form_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(self)
        self.output = FormOutput(
            self,
            pool.store,
            lambda _p: [self.sheet.sheet_model.sheet],
            lambda: self._file_name(data),
            reason=lambda: reason,  # why the window shows full data, for the export's record
        )
        for button in self.output.buttons():
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.sheet.changed.connect(self._update_status)
        self.sheet.message.connect(lambda text: self._update_status(refused=text))
        self._update_status()

    def _file_name(self, data: FormData) -> str:
        sheet = self.sheet.sheet_model.sheet
        where = sheet.position("P_NAME", data.area)
        who = sheet.cells[where].text if where else data.area
        return f"{who}-{data.template.title}"

    def _update_status(self, refused: str = "") -> None:
        model = self.sheet.sheet_model
        filled, required = model.form.completeness()
        problems = model.problem_messages()
        text = f"已填 {filled} / {required} 项（{model.form.period.label}）。每项填写后即保存。"
        text += "　" + "；".join(problems) if problems else ""
        self.status.setText(refused_text(refused) + text)


def refused_text(refused: str) -> str:
    """A refused entry, in red, ahead of a status line (rich text)."""
    if not refused:
        return ""
    return f"<span style='color:#b91c1c'>未保存：{escape(refused)}</span><br>"
