"""A form's status: draft, submitted (its values locked) and returned, and its completeness."""

from __future__ import annotations

from datetime import datetime

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.values_pool import ValuePool
from govshare_desktop.core.forms.values_text import RETURNED, SUBMITTED
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.models import FormStatus


class Workflow(ValuePool):
    """Submitting and returning forms over the value pool."""

    def completeness(self, template_id: str, area: str, period: Period) -> tuple[int, int]:
        """(filled, required): every value cell of the form (every row, every column)."""
        return self.collect(template_id, area, period).completeness()

    def submit(
        self, template_id: str, area: str, period: Period, *, user: str, now: datetime
    ) -> None:
        """Lock the form. Refused while a value is missing or an error-level rule fails."""
        self.store.principal.require(Action.SUBMIT_FORM)
        template = self.template_for(template_id, period, area)
        if template.kind == "individual":
            raise UserError(f"“{template.title}”是个人填写、签字的登记表，打印后按纸质流程报送")
        data = self.collect(template_id, area, period)
        filled, required = data.completeness()
        if filled < required:
            raise UserError(f"“{template.title}”还有 {required - filled} 项未填写，不能上报")
        failed = list(
            dict.fromkeys(
                r.rule.message
                for r in data.rule_results()
                if r.rule.severity == "error" and r.passed is False
            )
        )
        if failed:
            raise UserError(f"“{template.title}”未通过校验，不能上报：" + "；".join(failed))
        self._set_status(template_id, area, period, SUBMITTED, None, user, now, template.version)

    def return_(
        self, template_id: str, area: str, period: Period, *, reason: str, user: str, now: datetime
    ) -> None:
        self.store.principal.require(Action.RETURN_FORM)
        if not reason.strip():
            raise UserError("退回报表须填写理由")
        if self.status(template_id, area, period) != SUBMITTED:
            raise UserError("只有已上报的报表才能退回")
        self._set_status(template_id, area, period, RETURNED, reason, user, now)

    def _set_status(
        self,
        template_id: str,
        area: str,
        period: Period,
        status: str,
        reason: str | None,
        user: str,
        now: datetime,
        version: str | None = None,
    ) -> None:
        """``version``: the template version a submitted form was filled with, pinned the first
        time it is submitted (a returned form, submitted again, keeps it)."""
        with self.store.transaction() as session:
            row = self._status_row(session, template_id, area, period)
            if row is None:
                row = FormStatus(template=template_id, area=area, period=str(period))
                session.add(row)
            row.status, row.reason, row.changed_by, row.changed_at = status, reason, user, now
            if version is not None and row.template_version is None:
                row.template_version = version
            audit_trail(self.store).record(
                session,
                self.store.principal,
                "submit" if status == SUBMITTED else "return",
                f"{template_id} {area} {period}",
                detail={"reason": reason} if reason else None,
                now=now,
            )
