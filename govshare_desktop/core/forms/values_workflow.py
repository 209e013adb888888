"""A form's status: draft, submitted (its values locked) and returned, and its completeness."""

from __future__ import annotations

from datetime import datetime

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.values_form import FormData
from govshare_desktop.core.forms.values_pool import ValuePool
from govshare_desktop.core.forms.values_text import ACCEPTED, IN_REVIEW, RETURNED, SUBMITTED
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
        """Lock the form (no package: :func:`govshare_desktop.core.reports.sending.submit_report`
        is 上报, which also makes the report package). Refused as :meth:`submittable` says."""
        template = self.submittable(template_id, area, period).template
        self._set_status(template_id, area, period, SUBMITTED, None, user, now, template.version)

    def submittable(self, template_id: str, area: str, period: Period) -> FormData:
        """The form, if it may be submitted: not a 登记表, not already locked, every value
        filled and every error-level rule passed; else a UserError saying what is missing."""
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
        if data.locked:
            said = {IN_REVIEW: "正在等待审核", SUBMITTED: "已上报", ACCEPTED: "已被接收"}
            raise UserError(f"“{template.title}”{said[data.status]}，不能重复上报")
        return data

    def return_(
        self, template_id: str, area: str, period: Period, *, reason: str, user: str, now: datetime
    ) -> None:
        self.store.principal.require(Action.RETURN_FORM)
        if not reason.strip():
            raise UserError("退回报表须填写理由")
        if self.status(template_id, area, period) not in (SUBMITTED, IN_REVIEW):
            raise UserError("只有待审核或已上报的报表才能退回")
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
