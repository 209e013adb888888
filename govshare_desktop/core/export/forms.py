"""Exporting 一表通 forms: the one entry point the window, the print preview and ``govshare export``
share. A 统计表 or 花名册 is one sheet; individual forms are one sheet per person (a batch, read
chunk by chunk as it is written: :mod:`govshare_desktop.core.export.batch`), written into one file
(one form a page) or one file each.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import CANCELLED
from govshare_desktop.core.export.audited import ExportedFile, audited_write, require_reason
from govshare_desktop.core.export.batch import Choice, FormBatch, form_batch
from govshare_desktop.core.export.form_xlsx import write_xlsx
from govshare_desktop.core.export.pdf import Sheets, write_pdf
from govshare_desktop.core.forms.sheet import Sheet, build_sheet
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.store.engine import Store

if TYPE_CHECKING:  # Unpack is in typing from Python 3.11
    from typing_extensions import Unpack

FORMATS = ("xlsx", "pdf")


def form_sheets(
    pool: FormValues, template_id: str, period: Period, **choice: Unpack[Choice]
) -> list[Sheet]:
    """The sheets to export, all of them built: see :func:`form_stream`."""
    return list(form_stream(pool, template_id, period, **choice))


def form_stream(
    pool: FormValues, template_id: str, period: Period, **choice: Unpack[Choice]
) -> Sheets:
    """The sheets to export: one for a 统计表/花名册 (``area``: the township by default, or a
    village); one per subject for a 登记表 — ``subjects``, or everyone the template selects —
    as a :class:`~govshare_desktop.core.export.batch.FormBatch`, built as it is read."""
    if template_id not in pool.templates:
        known = "、".join(sorted(pool.templates))
        raise UserError(f"没有报表模板“{template_id}”。可用：{known}")
    area, masked = choice.get("area"), choice.get("masked", False)
    township_code, _ = pool.township()
    # The version the form of this period is filled with (collect resolves it the same way).
    template = pool.template_for(template_id, period, area or township_code)
    if template.kind == "individual":
        return form_batch(pool, template_id, period, **choice)
    if choice.get("subjects"):
        raise UserError(f"“{template.title}”不是登记表，不能按人导出（去掉 --subject）")
    return [build_sheet(pool.collect(template_id, area or township_code, period), masked=masked)]


def describe(sheets: Sheets) -> tuple[str, str, Period, str, bool]:
    """(title, template id, period, area — empty for individual forms —, masked) of what is
    exported or printed, without reading a streamed batch."""
    if isinstance(sheets, FormBatch):
        return sheets.title, sheets.template.id, sheets.period, "", sheets.masked
    sheets = list(sheets)
    data = sheets[0].data
    area = data.area if data.template.kind != "individual" else ""
    masked = all(sheet.masked for sheet in sheets)
    return sheets[0].title, data.template.id, data.period, area, masked


def export_sheets(
    store: Store,
    sheets: Sheets,
    out: Path,
    *,
    fmt: str,
    each: bool = False,
    watermark: bool = False,
    font: str = "",
    reason: str = "",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[ExportedFile]:
    """Write the sheets as ``fmt`` to ``out`` — or, with ``each``, one file per sheet into the
    directory ``out`` (named after the person or household and the form). Each file is checked
    against the user's permissions and recorded in the audit trail before it appears. Full
    personal data (unmasked sheets with names, ID numbers…) needs a ``reason``, which is
    recorded with it. The file's author, and the PDF's ``watermark`` (who exported it, when),
    are the signed-in account: the one identity the audit trail knows. ``progress(done, total,
    label)``: forms of one PDF, or files with ``each``; once ``cancel`` is set,
    :class:`~govshare_desktop.core.progress.Cancelled` and no file (with ``each``: none of them)."""
    if fmt not in FORMATS:
        raise UserError(f"导出格式“{fmt}”无效，可用：xlsx、pdf")
    _, template_id, period, area, masked = describe(sheets)
    require_reason(masked, reason)
    out = Path(out)
    author = store.principal.username
    mark = f"{author} {datetime.now():%Y-%m-%d %H:%M}" if watermark else None

    def write(batch: Sheets, path: Path, report: Progress | None) -> ExportedFile:
        def make(temp: Path, anchor: str) -> None:
            if fmt == "pdf":
                write_pdf(
                    batch,
                    temp,
                    watermark=mark,
                    font=font,
                    author=author,
                    anchor=anchor,
                    progress=report,
                    cancel=cancel,
                )
            else:
                write_xlsx(list(batch), temp, author=author, anchor=anchor)

        return audited_write(
            store,
            path,
            make,
            masked=masked,
            count=len(batch),
            detail={
                "template": template_id,
                "period": str(period),
                "area": area,
                "format": fmt,
                **({"reason": reason.strip()} if reason.strip() else {}),
            },
        )

    if not each:
        return [write(sheets, out, progress)]
    out.mkdir(parents=True, exist_ok=True)
    written: list[ExportedFile] = []
    for number, sheet in enumerate(sheets, start=1):
        if cancel is not None and cancel.cancelled:
            for done in written:  # all or nothing
                done.path.unlink(missing_ok=True)
            cancel.check(CANCELLED)
        written.append(write([sheet], out / file_name(sheet, fmt), None))
        if progress is not None:
            progress(number, len(sheets), f"已导出 {number} 份，共 {len(sheets)} 份")
    return written


def file_name(sheet: Sheet, fmt: str) -> str:
    """``<序号或姓名>-<表名>-<期>.<fmt>``, safe on Windows."""
    data = sheet.data
    who = ""
    if data.template.kind == "individual":
        where = sheet.position("P_NAME", data.area)  # the name as the form shows it (masked or not)
        who = (sheet.cells[where].text if where else "") + data.area[-4:]
    parts = [p for p in (who, sheet.title, str(data.period)) if p]
    # A mask's * is kept as a full-width ＊ (Windows forbids *): 郑_福 would read as a name.
    name = "-".join(parts).replace("*", "＊")
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name) + f".{fmt}"
