"""Regenerate the README screenshots from a fresh demo township (offscreen; needs a CJK font).

QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from govshare_desktop.core.demo import generate
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.ui.i18n import install_chinese
from govshare_desktop.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parent


SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def _import_preview(app: QApplication, store) -> None:  # type: ignore[no-untyped-def]
    """The import wizard's preview of two sample files (skipped without ../shared/samples)."""
    import time

    from govshare_desktop.ui.import_wizard import ImportWizard

    files = [
        SAMPLES / "青禾镇_户籍人口回流_2026-10.xlsx",
        SAMPLES / "青禾镇_城乡居民养老金发放明细_202608-202610.csv",
    ]
    if not all(f.exists() for f in files):
        print("samples not found: import screenshot skipped")
        return
    wizard = ImportWizard(store, files)
    wizard.show()

    def wait(page) -> None:  # type: ignore[no-untyped-def]
        for _ in range(1000):
            app.processEvents()
            if wizard.currentPage() is page and page.isComplete():
                return
            time.sleep(0.02)

    wizard.next()
    wait(wizard.mapping_page)
    wizard.next()
    wait(wizard.preview_page)
    wizard.preview_page.tabs.setCurrentIndex(1)
    app.processEvents()
    wizard.grab().save(str(OUT / "import_preview.png"))
    wizard.close()


def main() -> int:
    app = QApplication(sys.argv)
    install_chinese(app)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "demo.db")
        generate(store, households=500, seed=1)
        window = MainWindow(store, today=lambda: date(2026, 11, 26))
        window.resize(1280, 760)
        window.show()
        app.processEvents()
        window.grab().save(str(OUT / "main_window.png"))

        window.search.setText("wf")
        window._apply_filters()
        app.processEvents()
        view = window.current_view
        view.select_first()
        card = window.open_person(view.model.raw_row(0)[0])
        app.processEvents()
        window.grab().save(str(OUT / "search.png"))
        if card is not None:
            card.grab().save(str(OUT / "person_card.png"))
        window.show_page("household")
        window.search.clear()
        window._apply_filters()
        app.processEvents()
        household = window.open_household(window.current_view.model.row_id(0))
        app.processEvents()
        if household is not None:
            household.grab().save(str(OUT / "household.png"))
        window.show_page("forms")
        forms = window.forms_view
        if forms is not None:
            forms.period.setCurrentIndex(forms.period.findData("2026-10"))
            forms.area.setCurrentIndex(forms.area.findData("441900199201"))
            forms.prefill()
            forms.template.setCurrentIndex(forms.template.findData("mz_elderly"))
            app.processEvents()
            window.grab().save(str(OUT / "forms.png"))
        _import_preview(app, store)
        window.close()
        store.dispose()
    print(f"screenshots written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
