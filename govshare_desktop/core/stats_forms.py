"""一表通 completion for the 工作台: for each form filled by period, how many of the values the clerk
answers for in the current period are filled — the same count the form itself shows at its foot
(「已填 12 / 40 项」, :meth:`~govshare_desktop.core.forms.values_form.FormData.completeness`).

The current period of a form is the one of its kind (month, quarter, half-year, year) that holds
the day, as the 一表通 page chooses it first. 统计表 and 花名册 count; 登记表/申请表 are made one
per person when needed and have no period to complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from govshare_desktop.core.domain.period import Period, PeriodKind
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.stats import BARS, COMPLETION, PERCENT, Chart, Series

KINDS = ("table", "roster")


@dataclass(frozen=True)
class FormCompletion:
    template_id: str
    title: str
    period: Period
    filled: int
    required: int


def form_completion(pool: FormValues, area: str, today: date) -> list[FormCompletion]:
    """Each 统计表 and 花名册 in effect, for ``area`` (the township or one village) in its
    current period, in the catalog's order."""
    out = []
    for template_id, newest in pool.templates.items():
        if newest.kind not in KINDS or newest.period_type not in {k.value for k in PeriodKind}:
            continue
        period = Period.of_date(today, PeriodKind(newest.period_type))
        if template_id not in pool.templates.in_effect(period):
            continue
        data = pool.collect(template_id, area, period)
        filled, required = data.completeness()
        out.append(FormCompletion(template_id, data.template.title, period, filled, required))
    return out


def completion_chart(pool: FormValues, area: str, area_name: str, today: date) -> Chart:
    rows = form_completion(pool, area, today)
    return Chart(
        COMPLETION,
        f"{area_name}一表通本期填报完成情况",
        BARS,
        PERCENT,
        tuple(f"{row.title}（{row.period.label}）" for row in rows),
        (
            Series(
                "完成率",
                tuple(row.filled for row in rows),
                tuple(row.required for row in rows),
                ("已填", "应填"),
                unit="项",
            ),
        ),
        footnote=(
            "各统计表、花名册本期（所在月、季、半年或年）已填数据项占应填数据项的比例："
            "统计表计各村（社区）各项，合计行自动计算不计；花名册计经办人填写的项，"
            "户籍信息不计。登记表、申请表按人填写，不在此列。"
        ),
        empty_text="暂无按期填报的报表",
        heading="报表（本期）",
    )
