"""申请共享: a share request drafted from one catalog entry — the 信息项 wanted (ticked from the
entry's, no more than the work needs), 用途, 依据, 范围 and 使用期限. The request is
:func:`govshare_desktop.core.services.sharing.draft_request`; what it refuses (nothing ticked, a
field left empty, a 使用期限 already past) is said in the dialog in red, which stays open to put it
right. A 不予共享 entry never gets here: the catalog page disables 「申请共享…」 and says why.

Also here: :func:`resource_html`, the catalog entry as the page shows it below its list.

Signals of :class:`ShareRequestDialog`: ``drafted(object)`` — the request was made (its
:class:`~govshare_desktop.core.store.models.ShareRequest`, 待审核).
"""

from __future__ import annotations

import html
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.services import sharing
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.sharing.catalog import Resource
from govshare_desktop.ui.correction_dialog import ERROR_STYLE

ITEM_COLUMNS = 3  # 信息项 check boxes per line
DATE_FORMAT = "yyyy年MM月dd日"  # Chinese order: year, month, day
GREY = "#6b7280"


def condition_label(resource: Resource) -> str:
    """「共享条件」, or for a 不予 entry 「不予共享依据」."""
    return "不予共享依据" if resource.share_type == "不予" else "共享条件"


def resource_html(resource: Resource) -> str:
    """The entry in full: 摘要, 信息项, 共享条件 (or the basis of 不予), 共享方式, 发布日期 and
    how its back-flow stands."""
    esc = html.escape
    lines = [
        f"<b>{esc(resource.name)}</b>　<span style='color:{GREY}'>{esc(resource.code)}｜"
        f"{esc(resource.provider)}｜{esc(resource.share_type)}共享</span>",
        f"<b>摘要：</b>{esc(resource.summary or '—')}",
        f"<b>信息项：</b>{esc('、'.join(resource.items) or '—')}",
    ]
    if resource.share_type != "无条件":
        lines.append(f"<b>{condition_label(resource)}：</b>{esc(resource.condition or '—')}")
    lines.append(
        f"<b>共享方式：</b>{esc(resource.method)}　<b>更新周期：</b>{esc(resource.cycle)}"
        f"　<b>发布日期：</b>{resource.published_on:%Y-%m-%d}"
        f"　<b>回流情况：</b>{esc(resource.freshness())}"
    )
    return "<br>".join(lines)


class ShareRequestDialog(QDialog):
    """申请共享 for one catalog entry."""

    drafted = Signal(object)

    def __init__(self, ctx: Context, resource: Resource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.resource = resource
        self.setObjectName("share_request_dialog")
        self.setWindowTitle("申请共享")
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "按“最小必要”勾选履行职责所需的信息项，写明用途、依据和使用范围。申请经审核人"
            "审核通过后，在「共享申请」中发送给县级政务数据共享平台。",
            self,
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color:{GREY};")
        layout.addWidget(intro)
        layout.addLayout(self._form())
        self.error = QLabel(self)
        self.error.setObjectName("share_request_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton("提交申请", QDialogButtonBox.ButtonRole.AcceptRole)
        assert self.ok is not None
        self.ok.setObjectName("share_request_ok")
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if self.items:
            self.items[0].setFocus()

    def _form(self) -> QFormLayout:
        resource = self.resource
        form = QFormLayout()
        about = QLabel(
            f"{resource.name}（{resource.code}）\n{resource.provider}｜{resource.share_type}共享"
            f"｜{resource.method}",
            self,
        )
        form.addRow("资源：", about)
        if resource.share_type == "有条件":
            condition = QLabel(resource.condition, self)
            condition.setWordWrap(True)
            form.addRow("共享条件：", condition)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.items: list[QCheckBox] = []
        for n, item in enumerate(resource.items):
            box = QCheckBox(item, self)
            box.setObjectName(f"share_item_{n}")
            box.toggled.connect(lambda _on: self.error.clear())
            grid.addWidget(box, n // ITEM_COLUMNS, n % ITEM_COLUMNS)
            self.items.append(box)
        form.addRow("信息项：", grid)
        self.purpose = self._line("share_purpose", "必填，例如：核对重度残疾人护理补贴对象")
        form.addRow("用途：", self.purpose)
        self.basis = self._line("share_basis", "必填，例如：《政务数据共享条例》；民政部门履职需要")
        form.addRow("依据：", self.basis)
        self.scope = self._line("share_scope", "必填，例如：本镇户籍的补贴对象")
        form.addRow("范围：", self.scope)
        self.until = QDateEdit(self)
        self.until.setObjectName("share_use_until")
        self.until.setDisplayFormat(DATE_FORMAT)
        self.until.setCalendarPopup(True)
        year_on = self.ctx.now().date() + timedelta(days=365)
        self.until.setDate(QDate(year_on.year, year_on.month, year_on.day))
        self.until.setToolTip("到期后继续使用须重新申请（谁使用谁负责）")
        form.addRow("使用期限：", self.until)
        return form

    def _line(self, name: str, hint: str) -> QLineEdit:
        line = QLineEdit(self)
        line.setObjectName(name)
        line.setPlaceholderText(hint)
        line.textEdited.connect(lambda _text: self.error.clear())
        return line

    def use_until(self) -> date:
        chosen = self.until.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def chosen_items(self) -> list[str]:
        return [box.text() for box in self.items if box.isChecked()]

    def submit(self) -> None:
        """The request, or why not (in red; the dialog stays open to put it right)."""
        try:
            row = sharing.draft_request(
                self.ctx,
                resource_code=self.resource.code,
                items=self.chosen_items(),
                purpose=self.purpose.text(),
                basis=self.basis.text(),
                scope=self.scope.text(),
                use_until=self.use_until(),
            )
        except UserError as exc:
            self.error.setText(exc.message)
            return
        self.drafted.emit(row)
        self.accept()
