"""The 审计管理员's export of (filtered) audit entries to .xlsx — itself audited.

Here, above :mod:`govshare_desktop.core.security.audit`, not in it: the trail is written and
verified below the exporters, and a file leaving the program goes through
:func:`~govshare_desktop.core.export.audited.audited_write` like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govshare_desktop.core.export.audited import ExportedFile, audited_write
from govshare_desktop.core.export.form_xlsx import put_text
from govshare_desktop.core.security.audit import EVENTS
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import AuditEntry

HEADERS = ["序号", "时间", "用户", "角色", "操作", "对象", "结果", "详情", "校验码"]
WIDTHS = (8, 20, 12, 10, 16, 30, 8, 60, 20)


def export_entries(store: Store, path: Any, entries: list[AuditEntry]) -> ExportedFile:
    """``entries`` (as the viewer shows them) to the workbook ``path``, anchored to the trail."""

    def write(temp: Path, anchor: str) -> None:
        from openpyxl import Workbook  # heavy: openpyxl loads only for workbooks
        from openpyxl.styles import Font  # heavy: openpyxl loads only for workbooks

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "审计日志"
        workbook.properties.keywords = f"govshare-audit:{anchor}"
        for column, header in enumerate(HEADERS, start=1):
            cell = sheet.cell(row=1, column=column, value=header)
            cell.font = Font(bold=True)
        for row, entry in enumerate(entries, start=2):
            sheet.cell(row=row, column=1, value=entry.seq)
            sheet.cell(row=row, column=2, value=entry.at).number_format = "yyyy-mm-dd hh:mm:ss"
            texts = [
                entry.username,
                entry.role,
                EVENTS.get(entry.action, entry.action),
                entry.object,
                entry.outcome,
                entry.detail,
                entry.mac,
            ]
            for column, value in enumerate(texts, start=3):
                put_text(sheet.cell(row=row, column=column), value)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:I{max(1, len(entries)) + 1}"
        for letter, width in zip("ABCDEFGHI", WIDTHS, strict=True):
            sheet.column_dimensions[letter].width = width
        workbook.save(temp)

    return audited_write(
        store,
        Path(path),
        write,
        masked=True,
        count=len(entries),
        detail={"kind": "audit trail"},
        permission=Action.READ_AUDIT,
    )
