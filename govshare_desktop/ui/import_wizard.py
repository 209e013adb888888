"""The import wizard: files → detected dataset and column mapping (editable) → preview with counts and
diffs (a dry run) → import with progress and Cancel → change report and the error workbook.

Every step calls the core (``core.backflow``, ``core.services.imports``) off the UI thread through
:func:`~govshare_desktop.ui.tasks.run_task`; the wizard only shows what comes back. The pages are
in :mod:`govshare_desktop.ui.import_pages`, what they show in
:mod:`govshare_desktop.ui.import_results`.

Signals: ``imported()`` — data was committed (the main window refreshes its pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget, QWizard

from govshare_desktop.core.backflow.runner import HeldImport
from govshare_desktop.core.store.engine import Store
from govshare_desktop.ui.import_pages import FilesPage, MappingPage, PreviewPage, ResultPage
from govshare_desktop.ui.import_results import Item
from govshare_desktop.ui.tasks import Task, abandon_tasks, running_tasks


class ImportWizard(QWizard):
    imported = Signal()

    def __init__(
        self, store: Store, paths: Sequence[Path] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.items: list[Item] = []
        self.task: Task | None = None  # the step running off the UI thread
        # The preview's import, held uncommitted until 「导入」 (None: nothing held).
        self.held: HeldImport | None = None
        if not store.server:  # one writer to a file: the window waits while a preview is held
            self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setObjectName("import_wizard")
        self.setWindowTitle("导入回流数据")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(980, 640)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步 >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< 上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "完成")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        self.files_page = FilesPage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        self.result_page = ResultPage(self)
        for page in (self.files_page, self.mapping_page, self.preview_page, self.result_page):
            self.addPage(page)
        # Past the preview there is no way back: the import has been committed.
        self.preview_page.setCommitPage(True)
        self.preview_page.setButtonText(QWizard.WizardButton.CommitButton, "导入")
        self.files_page.add_paths(list(paths))

    def let_go(self) -> None:
        """Roll back a held preview (Back, Cancel, closing the wizard): the database as before."""
        held, self.held = self.held, None
        if held is not None and held.state == "held":
            held.rollback()

    def writers_at_work(self) -> list[str]:
        """What of the window's work (not this wizard's, not the quiet reading beside the window)
        is still running — on a database file, where a held preview would keep it from writing
        when it ends; nothing on a server."""
        window = self.parentWidget()
        if self.store.server or window is None:
            return []
        mine = {id(t) for t in running_tasks(self)}
        return [
            t.title.removeprefix("正在").removeprefix("进行").rstrip("…. ")
            for t in running_tasks(window)
            if not t.quiet and id(t) not in mine
        ]

    def before_lock(self) -> None:
        """The screen locks. On a database file a held preview keeps the file's one write
        transaction, so the lock's audit entry (and every other write) would wait for it and fail:
        the preview is let go — stopped or rolled back, the database as before — and, shown again
        after the password, the wizard is back at the mapping and says so. On a server other
        clerks work on beside a held preview: it stays."""
        if self.store.server or self.currentPage() is not self.preview_page:
            return
        self.back()  # the preview page's cleanup stops and rolls back
        self.mapping_page.notice.setText(
            "屏幕锁定时，未保存的导入预览已放弃，数据库保持原样。请点“下一步”重新预览。"
        )

    def done(self, result: int) -> None:
        if self.task is not None and not self.task.done:  # a preview still being made: stopped
            abandon_tasks([self.task])
        self.let_go()
        super().done(result)
