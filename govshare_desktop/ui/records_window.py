"""The records the main window opens, whatever page it shows: the person card, the household,
an individual form (登记表/申请表) and the 纠错 dialog — and the 一表通 value pool those forms are
filled from.

:class:`RecordsWindow` sits between :class:`~govshare_desktop.ui.session_window.SessionWindow`
(masking, the idle lock, signing out) and :class:`~govshare_desktop.ui.main_window.MainWindow`
(pages, search, filters). Like both, this module loads only Qt at import.
"""

# Imports inside functions — lazy: the window paints before SQLAlchemy and the core load (start-up time).

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QMessageBox

from govshare_desktop.ui.session_window import SessionWindow

if TYPE_CHECKING:  # the store and the use cases load after the window is shown
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.services.checks import CaseView
    from govshare_desktop.ui.correction_dialog import CorrectionDialog
    from govshare_desktop.ui.records import HouseholdDialog, PersonCardDialog

log = logging.getLogger(__name__)


class RecordsWindow(SessionWindow):
    """A signed-in window that opens records and their forms (once :attr:`store` is set).

    Subclasses override :meth:`_corrections_changed` to show a new 纠错 where they list them.
    """

    def __init__(self, today: Callable[[], date] = date.today) -> None:
        super().__init__()
        self._today = today
        self._form_pool: FormValues | None = None

    def form_pool(self) -> FormValues | None:
        """The 一表通 value pool (the dictionary and every template version, shipped and
        installed in the database, loaded once); None if the dictionary is broken — the reason
        is in the status bar and the log."""
        if self._form_pool is None:
            from govshare_desktop.core.forms.catalog import load_catalog
            from govshare_desktop.core.forms.dictionary import FormsError
            from govshare_desktop.core.forms.values import FormValues

            assert self.store is not None
            try:
                catalog = load_catalog(self.store)
            except FormsError as exc:
                log.error("forms dictionary: %s", exc)
                self.statusBar().showMessage(f"一表通数据项字典有误，暂不可用：{exc}")
                return None
            for problem in catalog.problems:
                log.error("form template: %s", problem)
            self._form_pool = FormValues(self.store, catalog.dictionary, catalog.templates)
        return self._form_pool

    def _individual_forms(self, subject: str) -> list[tuple[str, str, str]]:
        pool = self.form_pool()
        if pool is None:
            return []
        return [
            (t.id, f"{t.department}｜{t.title}", t.subject)
            for t in pool.templates.values()
            if t.kind == "individual" and (subject == "household" or t.subject == "person")
        ]

    def open_form(self, template_id: str, subject: str) -> QDialog | None:
        """An individual form (登记表/申请表) for a person (ID number) or a household (户号)."""
        from govshare_desktop.core.domain.period import Period, PeriodKind
        from govshare_desktop.core.errors import UserError
        from govshare_desktop.ui.sheet_view import FormDialog

        pool = self.form_pool()
        if pool is None:
            return None
        period = Period.of_date(self._today(), PeriodKind.MONTH)
        try:
            data = pool.collect(template_id, subject, period)
        except UserError as exc:
            QMessageBox.information(self, "不能填写此表", exc.message)
            return None
        dialog = FormDialog(pool, data, masked=self.masked, reason=self.unmask_reason, parent=self)
        self._show_dialog(dialog)
        return dialog

    def open_person(self, id_number: str) -> PersonCardDialog | None:
        from govshare_desktop.core.records import person_card
        from govshare_desktop.ui.records import PersonCardDialog

        assert self.store is not None
        card = person_card(self.store, id_number)
        if card is None:
            return None
        forms = [(t, title) for t, title, _ in self._individual_forms("person")]
        dialog = PersonCardDialog(
            card, masked=self.masked, today=self._today(), forms=forms, parent=self
        )
        dialog.household_requested.connect(self.open_household)
        dialog.form_requested.connect(self.open_form)
        dialog.correction_requested.connect(self.open_correction)
        self._show_dialog(dialog)
        return dialog

    def open_household(self, household_id: int) -> HouseholdDialog | None:
        from govshare_desktop.core.records import household_members
        from govshare_desktop.ui.records import HouseholdDialog

        assert self.store is not None
        found = household_members(self.store, household_id)
        if found is None:
            return None
        household, members = found
        dialog = HouseholdDialog(
            household,
            members,
            masked=self.masked,
            today=self._today(),
            forms=self._individual_forms("household"),
            parent=self,
        )
        dialog.person_requested.connect(self.open_person)
        dialog.form_requested.connect(self.open_form)
        dialog.correction_requested.connect(self.open_correction)
        self._show_dialog(dialog)
        return dialog

    def open_correction(
        self, dataset: str, record_key: str, case: CaseView | None = None
    ) -> CorrectionDialog | None:
        """The 纠错 dialog for a person (ID number) or household (户号), or a check case's person."""
        from govshare_desktop.core.errors import UserError
        from govshare_desktop.ui.correction_dialog import CorrectionDialog

        assert self.store is not None
        try:
            dialog = CorrectionDialog(
                self.store,
                dataset=dataset,
                record_key=record_key,
                masked=self.masked,
                case_id=case.id if case else None,
                case_title=case.title if case else "",
                parent=self,
            )
        except UserError as exc:
            QMessageBox.information(self, "不能纠错", exc.message)
            return None
        dialog.raised.connect(lambda _row: self._corrections_changed())
        self._show_dialog(dialog)
        return dialog

    def open_case_correction(self, case: CaseView) -> CorrectionDialog | None:
        return self.open_correction("person", case.subject, case)

    def _corrections_changed(self) -> None:
        """A 纠错 was raised (from a case: the case is now 确认有误)."""
