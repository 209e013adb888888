"""一表通 as a clerk works it: 预填 a period, type a value, submit and return a form."""

from __future__ import annotations

from dataclasses import dataclass

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.values import FormValues, PrefillReport
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.models import FormValue


@dataclass(frozen=True)
class Prefilled:
    report: PrefillReport  # values computed from the back-flow data
    carried: int  # entered values carried over from last period (where allowed)

    def summary(self) -> str:
        return (
            f"新增 {self.report.inserted} 个值，随回流数据更新 {len(self.report.changed)} 个，"
            f"保留经办人修改 {len(self.report.kept_overrides)} 个（回流数据已不同，请核对），"
            f"沿用上期填报 {self.carried} 个"
        )


def prefill(ctx: Context, pool: FormValues, period: Period) -> Prefilled:
    """「按回流数据预填」: every computed element for every village and the township, then last
    period's entered values where an element allows it — the same in the window and from
    ``govshare forms prefill --save``."""
    township_code, _ = pool.township()
    now = ctx.now()
    report = pool.prefill(period, township_code=township_code, user=ctx.user, now=now)
    carried = pool.carry_forward(period, user=ctx.user, now=now)
    return Prefilled(report, carried)


def set_value(
    ctx: Context,
    pool: FormValues,
    element: str,
    subject: str,
    period: Period,
    value: str,
    *,
    reason: str | None = None,
) -> FormValue:
    """A value typed by the clerk (a computed one overridden needs ``reason``)."""
    return pool.set(element, subject, period, value, user=ctx.user, now=ctx.now(), reason=reason)


def submit(ctx: Context, pool: FormValues, template: str, area: str, period: Period) -> None:
    pool.submit(template, area, period, user=ctx.user, now=ctx.now())


def return_form(
    ctx: Context, pool: FormValues, template: str, area: str, period: Period, reason: str
) -> None:
    pool.return_(template, area, period, reason=reason, user=ctx.user, now=ctx.now())
