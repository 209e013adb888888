"""Forms and lists leaving the program — files and paper — with the same controls everywhere:
the permission (full personal data needs its own and a reason), an audit entry, masked by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.audited import ExportedFile, require_reason
from govshare_desktop.core.export.forms import describe, export_sheets, form_stream
from govshare_desktop.core.export.pdf import Sheets
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context

if TYPE_CHECKING:
    from govshare_desktop.core.browse import Query
    from govshare_desktop.core.export.lists import ExportResult


def forms_to_print(ctx: Context, sheets: Sheets) -> Sheets:
    """The sheets (a list, or a batch still to be read), cleared for the printer: the permission
    to print (and, for full personal data, to export it), and an entry made before the preview
    opens — Qt does not tell whether the page was then printed."""
    ctx.principal.require(Action.PRINT)
    title, template, period, _, masked = describe(sheets)
    if not masked:
        ctx.principal.require(Action.EXPORT_UNMASKED)
    ctx.audit(
        "print",
        title,
        {"template": template, "period": str(period), "forms": len(sheets), "masked": masked},
    )
    return sheets


def export_forms(
    ctx: Context,
    sheets: Sheets,
    out: Path,
    *,
    fmt: str,
    each: bool = False,
    watermark: bool = False,
    reason: str = "",
) -> list[ExportedFile]:
    """Sheets as shown (masked or not) to .xlsx or .pdf — one file, or one per person; a batch of
    individual forms is read as it is written."""
    return export_sheets(
        ctx.store,
        sheets,
        Path(out),
        fmt=fmt,
        each=each,
        watermark=watermark,
        reason=reason,
        progress=ctx.progress,
        cancel=ctx.cancel,
    )


def export_template(
    ctx: Context,
    pool: FormValues,
    template: str,
    period: Period,
    out: Path,
    *,
    fmt: str,
    area: str | None = None,
    subjects: Sequence[str] | None = None,
    masked: bool = True,
    each: bool = False,
    watermark: bool = False,
    reason: str = "",
) -> list[ExportedFile]:
    """A template's form(s) for a period — what ``govshare export`` does — masked by default."""
    sheets = form_stream(pool, template, period, area=area, subjects=subjects, masked=masked)
    return export_forms(ctx, sheets, out, fmt=fmt, each=each, watermark=watermark, reason=reason)


def fill_department_workbook(
    ctx: Context,
    pool: FormValues,
    mapping: str | Path,
    area: str,
    period: Period,
    out: Path,
    *,
    masked: bool = True,
    reason: str = "",
) -> Path:
    """A department's own workbook (表样) filled from the form — the same controls as any export."""
    from govshare_desktop.core.export.workbook_fill import fill_workbook  # heavy: openpyxl

    return fill_workbook(
        pool,
        mapping,
        area,
        period,
        Path(out),
        masked=masked,
        reason=reason,
        today=ctx.now().date(),
        progress=ctx.progress,
        cancel=ctx.cancel,
    )


def export_list(
    ctx: Context,
    query: Query,
    out: Path,
    *,
    masked: bool = True,
    reason: str = "",
    columns: Sequence[str] | None = None,
) -> ExportResult:
    """Every row a list page shows (its search, filters and sort) to .xlsx, masked by default."""
    from govshare_desktop.core.export.lists import export_list as write_list  # heavy: xlsxwriter

    require_reason(masked, reason)
    return write_list(
        ctx.store,
        query,
        Path(out),
        masked=masked,
        today=ctx.now().date(),
        columns=columns,
        reason=reason,
        progress=ctx.progress,
        cancel=ctx.cancel,
    )
