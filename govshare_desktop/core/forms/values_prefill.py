"""预填: values computed from the back-flow written into the pool (overrides kept), and carrying
entered values forward from the previous period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.compute import compute_area_values
from govshare_desktop.core.forms.values_form import PrefillReport
from govshare_desktop.core.forms.values_pool import ValuePool
from govshare_desktop.core.forms.values_text import COMPUTED, ENTERED, OVERRIDDEN
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.models import Batch, FormValue

PREFILL_ATTEMPTS = 3  # a prefill that meets a clerk's save starts again this many times


class Prefilling(ValuePool):
    """Prefill and carry-forward over the value pool."""

    # ---------------------------------------------------------------- prefill

    def prefill(
        self, period: Period, *, township_code: str, user: str, now: datetime
    ) -> PrefillReport:
        """Compute every computed element for every village and the township and store it. A value
        the clerk overrode is kept; the report says where the back-flow now differs from it."""
        self.store.principal.require(Action.EDIT_FORMS)
        computed = compute_area_values(
            self.store, list(self.dictionary.values()), period, township_code=township_code
        )
        for _attempt in range(PREFILL_ATTEMPTS):
            try:
                return self._store_computed(computed, period, user=user, now=now)
            except (StaleDataError, IntegrityError):  # a clerk saved one of them meanwhile
                continue
        raise UserError("其他经办人正在填写这些数据项，预填没有完成；请稍后再点「预填」")

    def _store_computed(
        self, computed: dict[str, dict[str, int]], period: Period, *, user: str, now: datetime
    ) -> PrefillReport:
        """One transaction: the computed values stored where nothing overrides them. A value
        changed by another writer since it was read here fails the whole transaction (its
        version), and :meth:`prefill` tries again on what is stored then."""
        report = PrefillReport()
        with self.store.transaction() as session:
            batch_id = session.scalar(select(func.max(Batch.id)))
            existing = {
                (r.element, r.subject): r
                for r in session.scalars(
                    select(FormValue).where(
                        FormValue.period == str(period), FormValue.element.in_(list(computed))
                    )
                )
            }
            for code, by_area in computed.items():
                for area, number in by_area.items():
                    new = str(number)
                    row = existing.get((code, area))
                    if row is None:
                        session.add(
                            FormValue(
                                element=code,
                                subject=area,
                                period=str(period),
                                value=new,
                                origin=COMPUTED,
                                computed_value=new,
                                batch_id=batch_id,
                                changed_by=user,
                                changed_at=now,
                            )
                        )
                        report.inserted += 1
                        continue
                    if row.origin == OVERRIDDEN:
                        if row.computed_value != new:
                            report.kept_overrides.append((code, area, row.value, new))
                            row.computed_value, row.batch_id = new, batch_id
                        continue
                    if row.value != new:
                        report.changed.append((code, area, row.value, new))
                        self._history(session, row, new, COMPUTED, None, user, now)
                        row.value = row.computed_value = new
                        row.origin, row.batch_id, row.changed_by, row.changed_at = (
                            COMPUTED,
                            batch_id,
                            user,
                            now,
                        )
        return report

    def carry_forward(self, period: Period, *, user: str, now: datetime) -> int:
        """Start this period from last period's entered values, for elements that allow it
        (``carry_forward = true``) and only where this period has no value yet. Returns how many."""
        self.store.principal.require(Action.EDIT_FORMS)
        codes = [e.code for e in self.dictionary.values() if e.carry_forward]
        if not codes:
            return 0
        previous = str(period.previous())
        carried = 0
        with self.store.transaction() as session:
            have = set(
                session.execute(
                    select(FormValue.element, FormValue.subject).where(
                        FormValue.period == str(period), FormValue.element.in_(codes)
                    )
                ).all()
            )
            for old in session.scalars(
                select(FormValue).where(
                    FormValue.period == previous,
                    FormValue.element.in_(codes),
                    FormValue.origin.in_([ENTERED, OVERRIDDEN]),
                    FormValue.value.is_not(None),
                )
            ):
                if (old.element, old.subject) in have:
                    continue
                row = FormValue(
                    element=old.element,
                    subject=old.subject,
                    period=str(period),
                    value=old.value,
                    origin=ENTERED,
                    computed_value=None,
                    reason=f"沿用{period.previous().label}",
                    changed_by=user,
                    changed_at=now,
                )
                session.add(row)
                session.flush()
                self._history(
                    session, row, old.value, ENTERED, row.reason, user, now, old=(None, None)
                )
                carried += 1
        return carried
