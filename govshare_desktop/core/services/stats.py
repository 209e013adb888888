"""The 工作台's charts — 参保率 and 领取率, the population pyramid, pension payments by month and
一表通 completion — for the township or one village, and the same charts printed or exported to
PDF and Excel (aggregates only: no personal data leaves, but the export is audited like any other).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import ExportedFile
from govshare_desktop.core.export.charts import FORMATS, export_chart_file
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancelled, check
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.stats import Chart, ChartSet
from govshare_desktop.core.stats_forms import completion_chart
from govshare_desktop.core.stats_queries import (
    STOPPED,
    coverage_chart,
    interruptible,
    payments_chart,
    population_chart,
)
from govshare_desktop.core.store.township import get_township, villages

if TYPE_CHECKING:
    from govshare_desktop.core.browse import Interrupt


def areas(ctx: Context) -> list[tuple[str, str]]:
    """What the charts can be drawn for: (code, name) of the township (全镇), then each village."""
    ctx.principal.require(Action.VIEW)
    township = get_township(ctx.store)
    if township is None:
        raise UserError("尚未初始化乡镇（街道），请先运行 govshare init")
    with ctx.store.sessions() as session:
        return [(township.code, f"{township.name}（全镇）")] + [
            (v.code, v.name) for v in villages(session)
        ]


def _area(ctx: Context, area: str | None) -> tuple[str | None, str, str]:
    """(village code or None for the township, the chart's area name, the area code)."""
    township = get_township(ctx.store)
    if township is None:
        raise UserError("尚未初始化乡镇（街道），请先运行 govshare init")
    if area is None or area == township.code:
        return None, township.name, township.code
    with ctx.store.sessions() as session:
        names = {v.code: v.name for v in villages(session)}
    if area not in names:
        raise UserError(f"区划代码“{area}”不是本乡镇（街道）的村（社区）")
    return area, names[area], area


def coverage(ctx: Context, area: str | None = None, interrupt: Interrupt | None = None) -> Chart:
    """城乡居民养老保险 参保率 and 领取率: per village with the township's lines, or one village
    beside the township. ``interrupt`` (or ``ctx.cancel``) stops its statement midway."""
    ctx.principal.require(Action.VIEW)
    village, name, _ = _area(ctx, area)
    with ctx.store.sessions() as session, interruptible(session, interrupt, ctx.cancel):
        return coverage_chart(session, ctx.now().date(), village, name)


def population(ctx: Context, area: str | None = None, interrupt: Interrupt | None = None) -> Chart:
    """The population pyramid (age band × sex) of the township's or a village's registry."""
    ctx.principal.require(Action.VIEW)
    village, name, _ = _area(ctx, area)
    with ctx.store.sessions() as session, interruptible(session, interrupt, ctx.cancel):
        return population_chart(session, ctx.now().date(), village, name)


def payments(ctx: Context, area: str | None = None, interrupt: Interrupt | None = None) -> Chart:
    """城乡居民养老保险 paid in each of the last twelve months (yuan)."""
    ctx.principal.require(Action.VIEW)
    village, name, _ = _area(ctx, area)
    with ctx.store.sessions() as session, interruptible(session, interrupt, ctx.cancel):
        return payments_chart(session, ctx.now().date(), village, name)


def completion(ctx: Context, area: str | None = None, interrupt: Interrupt | None = None) -> Chart:
    """一表通: filled / required values of each form for its current period (its few short
    statements are not interrupted: the cancel is looked at between the forms)."""
    ctx.principal.require(Action.VIEW)
    _, name, code = _area(ctx, area)
    catalog = load_catalog(ctx.store)
    pool = FormValues(ctx.store, catalog.dictionary, catalog.templates)
    return completion_chart(pool, code, name, ctx.now().date(), ctx.cancel)


def charts(ctx: Context, area: str | None = None, interrupt: Interrupt | None = None) -> ChartSet:
    """The four charts of the township (``area`` None or its code) or of one village. Once
    ``interrupt`` is called or ``ctx.cancel`` set, the statement running is stopped and
    :class:`~govshare_desktop.core.progress.Cancelled` raised (the window is closing, or another
    area was chosen)."""
    _, name, code = _area(ctx, area)
    township = get_township(ctx.store)
    assert township is not None
    full_name = name if code == township.code else township.name + name
    made = []
    for chart in (coverage, population, payments, completion):
        check(ctx.cancel)  # the 工作台 works them out beside the window: it may close meanwhile
        if interrupt is not None and interrupt.requested:
            raise Cancelled(STOPPED)
        made.append(chart(ctx, area, interrupt))
    return ChartSet(code, full_name, ctx.now().date(), tuple(made))


def export_charts(ctx: Context, chart_set: ChartSet, out: Path, *, fmt: str) -> ExportedFile:
    """The charts to ``.pdf`` (one A4 page each, drawn with reportlab) or ``.xlsx`` (a sheet
    each: the figures and a native Excel chart of them) — audited."""
    if fmt not in FORMATS:
        raise UserError(f"不支持的导出格式“{fmt}”（可用：{'、'.join(FORMATS)}）")
    return export_chart_file(ctx.store, chart_set, Path(out), fmt=fmt, author=ctx.user)


def charts_to_print(ctx: Context, chart_set: ChartSet) -> ChartSet:
    """The charts, cleared for the printer: the permission to print and an audit entry, made
    before the preview opens (Qt does not tell whether the page was then printed)."""
    ctx.principal.require(Action.PRINT)
    ctx.audit(
        "print",
        f"统计图（{chart_set.area_name}）",
        {"charts": [c.key for c in chart_set.charts], "area": chart_set.area},
    )
    return chart_set
