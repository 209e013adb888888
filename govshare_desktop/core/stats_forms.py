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
from typing import Any

from sqlalchemy import text

from govshare_desktop.core.domain.period import Period, PeriodKind
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.progress import Cancel, check
from govshare_desktop.core.stats import BARS, COMPLETION, PERCENT, Chart, Series

KINDS = ("table", "roster")


@dataclass(frozen=True)
class FormCompletion:
    template_id: str
    title: str
    period: Period
    filled: int
    required: int


def form_completion(
    pool: FormValues, area: str, today: date, cancel: Cancel | None = None
) -> list[FormCompletion]:
    """Each 统计表 and 花名册 in effect, for ``area`` (the township or one village) in its
    current period, in the catalog's order (``cancel`` looked at before each form)."""
    out = []
    for template_id, newest in pool.templates.items():
        check(cancel)
        if newest.kind not in KINDS or newest.period_type not in {k.value for k in PeriodKind}:
            continue
        period = Period.of_date(today, PeriodKind(newest.period_type))
        if template_id not in pool.templates.in_effect(period):
            continue
        if newest.kind == "roster":  # counted, not collected: a roster lists the township
            template = pool.template_for(template_id, period, area)
            filled, required = roster_completeness(pool, template, area, period)
            out.append(FormCompletion(template_id, template.title, period, filled, required))
            continue
        data = pool.collect(template_id, area, period)
        filled, required = data.completeness()
        out.append(FormCompletion(template_id, data.template.title, period, filled, required))
    return out


def roster_completeness(
    pool: FormValues, template: Template, area: str, period: Period
) -> tuple[int, int]:
    """(filled, required) of a 花名册 as :meth:`~govshare_desktop.core.forms.values_form.
    FormData.completeness` counts it — the entered elements of everyone it lists — in two
    counts instead of collecting the roster (500,000 people at the largest townships)."""
    from govshare_desktop.core.export.batch import selection  # lazy: the batch's selection SQL

    codes = [c for c in template.elements if not pool.dictionary[c].computed]
    township_code, _ = pool.township()
    params: dict[str, Any] = {"period": str(period)}
    table, key, conditions = selection(template, period, params)
    if area != township_code:
        params["village"] = area
        conditions.append("t.village_code = :village")
    chosen = f"SELECT {key} FROM {table} t WHERE {' AND '.join(conditions)}"
    elements = ", ".join(f":e{i}" for i in range(len(codes)))
    params.update({f"e{i}": code for i, code in enumerate(codes)})
    with pool.store.engine.connect() as connection:
        people = int(
            connection.execute(text(f"SELECT COUNT(*) FROM ({chosen}) s"), params).scalar() or 0
        )
        filled = 0
        if codes and people:
            filled = int(
                connection.execute(
                    text(
                        "SELECT COUNT(*) FROM form_value v WHERE v.period = :period"
                        f" AND v.element IN ({elements}) AND v.value IS NOT NULL"
                        f" AND v.subject IN ({chosen})"
                    ),
                    params,
                ).scalar()
                or 0
            )
    return filled, len(codes) * people


def completion_chart(
    pool: FormValues, area: str, area_name: str, today: date, cancel: Cancel | None = None
) -> Chart:
    rows = form_completion(pool, area, today, cancel)
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
