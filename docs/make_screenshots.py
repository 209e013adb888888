"""Regenerate the README screenshots from a fresh demo township (offscreen; needs a CJK font).

QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import contextlib

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from govshare_desktop.core.demo import generate
from govshare_desktop.core.store.engine import open_tool_store
from govshare_desktop.ui.i18n import install_chinese
from govshare_desktop.ui.main_window import MainWindow
from govshare_desktop.ui.zoom import apply_default_font

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


def _forms(app: QApplication, window, forms) -> None:  # type: ignore[no-untyped-def]
    """The 一表通 list, one 统计表, one 花名册 and one 登记表, as a clerk sees them."""
    from govshare_desktop.core.domain.period import Period

    def choose(combo, data) -> None:  # type: ignore[no-untyped-def]
        combo.setCurrentIndex(combo.findData(data))

    october = Period.parse("2026-10")
    choose(forms.period, "2026-10")
    choose(forms.area, "441900199201")
    prefilled = forms.prefill()  # off the UI thread: wait for it
    while not prefilled.done:
        app.processEvents()
        time.sleep(0.01)
    choose(forms.template, "")
    app.processEvents()
    window.grab().save(str(OUT / "forms.png"))

    choose(forms.area, forms.township_code)
    choose(forms.template, "rs_resident_pension_enrollment")
    app.processEvents()
    window.grab().save(str(OUT / "form_table.png"))

    choose(forms.template, "mz_elderly_allowance_roster")
    people = [s for s, _ in forms.sheet.sheet_model.form.subjects]
    now = datetime(2026, 11, 5, 10, 0)
    for person, amount in zip(people[:6], ("200", "200", "300", "200", "200", "500"), strict=False):
        forms.pool.set("S_ALLOWANCE_AMOUNT", person, october, amount, user="演示", now=now)
    forms.reload()
    app.processEvents()
    window.grab().save(str(OUT / "form_roster.png"))

    november = Period.parse("2026-11")
    forms.pool.set("S_ALLOWANCE_AMOUNT", people[0], november, "200", user="演示", now=now)
    dialog = window.open_form("mz_elderly_allowance_application", people[0])
    if dialog is not None:
        app.processEvents()
        dialog.grab().save(str(OUT / "form_individual.png"))


def _charts(app: QApplication, store) -> None:  # type: ignore[no-untyped-def]
    """The 工作台's charts of the whole township, after November's 按回流数据预填."""
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.forms.catalog import load_catalog
    from govshare_desktop.core.forms.values import FormValues
    from govshare_desktop.core.services import forms
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.ui.charts import ChartsPanel

    catalog = load_catalog(store)
    ctx = Context(store, clock=lambda: datetime(2026, 11, 26, 9, 0))
    pool = FormValues(store, catalog.dictionary, catalog.templates)
    forms.prefill(ctx, pool, Period.parse("2026-11"))
    panel = ChartsPanel(store, today=lambda: date(2026, 11, 26))
    panel.resize(1280, 800)
    panel.show()
    app.processEvents()
    panel.grab().save(str(OUT / "charts.png"))
    panel.close()


def _security(app: QApplication, tmp: str) -> None:
    """The login dialog, the 系统管理员's accounts and the 审计管理员's audit viewer."""
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.store.township import init_township
    from govshare_desktop.ui.signin import LoginDialog

    db = Path(tmp) / "office.db"
    setup = signin.initialise(db, admin_password="Guanli#2026doc")
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", demo=True)
    for name, role, display in (("li", Role.CLERK, "李经办"), ("zhao", Role.AUDITOR, "赵审计")):
        signin.add_account(setup.store, name, role, "Qingshui#2026doc", display_name=display)
    setup.store.dispose()
    login = LoginDialog(db, title="登录 — govshare-desktop", user="li")
    login.show()
    app.processEvents()
    login.grab().save(str(OUT / "login.png"))
    signed = signin.sign_in(db, "admin", "Guanli#2026doc")
    from govshare_desktop.core.security.safekeeping import backup_now

    backup_now(signed.store, now=datetime(2026, 11, 25, 9, 12, 40))
    backup_now(signed.store, now=datetime(2026, 11, 26, 8, 58, 3))
    admin = MainWindow(signed.store, today=lambda: date(2026, 11, 26))
    admin.resize(1100, 520)
    admin.show()
    app.processEvents()
    admin.grab().save(str(OUT / "admin_users.png"))
    from govshare_desktop.ui.admin import AdminPanel, BackupsView

    panel = admin.findChild(AdminPanel)
    panel.setCurrentWidget(admin.findChild(BackupsView))
    admin.findChild(BackupsView).table.selectRow(0)
    app.processEvents()
    admin.grab().save(str(OUT / "admin_backups.png"))
    for wrong in ("li", "nobody"):
        with contextlib.suppress(Exception):
            signin.sign_in(db, wrong, "Wrong#2026doc")
    auditor = signin.sign_in(db, "zhao", "Qingshui#2026doc")
    window = MainWindow(auditor.store, today=lambda: date(2026, 11, 26))
    dialog = window.open_audit()
    dialog.resize(1100, 420)
    app.processEvents()
    dialog.grab().save(str(OUT / "audit_viewer.png"))
    for each in (admin, window):
        each.close()
    signed.store.dispose()
    auditor.store.dispose()


def _desk(app: QApplication, window, tmp: str) -> None:  # type: ignore[no-untyped-def]
    """The menus, 关于, the 待遇发放 list with its 合计 row, and the first run's accounts with
    the 账户交接单 (issue 19)."""
    import subprocess

    from PySide6.QtPrintSupport import QPrinter

    from govshare_desktop.core.store.location import DISK_ENCRYPTION_ADVICE
    from govshare_desktop.ui.form_output import paint_pages
    from govshare_desktop.ui.handover import handover_page
    from govshare_desktop.ui.signin import SetupDialog

    for title, name in (("文件", "menu_file"), ("查看", "menu_view")):
        menu = window.menus.menus[title]
        menu.popup(window.mapToGlobal(window.menuBar().pos()))
        app.processEvents()
        menu.grab().save(str(OUT / f"{name}.png"))
        menu.hide()
    about = window.menus.show_about()
    app.processEvents()
    about.grab().save(str(OUT / "about.png"))
    about.close()
    window.show_page("ss_payment")
    window.search.setText("张")
    window._apply_filters()
    app.processEvents()
    window.grab().save(str(OUT / "payments_total.png"))
    window.search.clear()
    window._apply_filters()
    shown = [
        ("管理员账户", "admin"),
        ("管理员初始密码", "Kq7#mV2p-Lx9d"),
        ("恢复密钥", "RKEY-7F3A-91C2-44D0-B6E8-0A5F-2C19-D7B3-5E60"),
    ]  # made up for the picture
    notes = [("磁盘加密", f"未启用。{DISK_ENCRYPTION_ADVICE}。")]
    setup = SetupDialog(shown, notes=notes, where=r"D:\govshare\govshare.db")
    setup.show()
    app.processEvents()
    setup.grab().save(str(OUT / "setup_dialog.png"))
    setup.close()
    pdf = Path(tmp) / "handover.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(pdf))
    page = handover_page(shown, notes, unit="青禾镇（演示数据）", where=r"D:\govshare\govshare.db")
    paint_pages(printer, [page])
    png = Path(tmp) / "handover"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(png)], check=True)
    (OUT / "handover.png").write_bytes(png.with_suffix(".png").read_bytes())


def _busy(store, tmp: str) -> None:  # type: ignore[no-untyped-def]
    """Work waiting on the 工作台: two report tasks from the county (one overdue), the checks'
    cases, a correction sent and one to send, the receipts not yet written out. (No backup: this
    store has no key file beside it, so a backup of it would not count as complete.)"""
    sys.path.insert(0, str(OUT.parent))  # the tests' county, which signs its own packages
    from govshare_desktop.core.backflow.packages import import_package
    from govshare_desktop.core.exchange.trust import register_sender
    from govshare_desktop.core.security.permissions import Principal, Role
    from govshare_desktop.core.services import checks, reports
    from govshare_desktop.core.services.context import Context
    from tests.county import County

    now = datetime(2026, 11, 26, 8, 58)
    county = County()
    police = County(code="441900000003", name="东莞市公安局（演示数据）")  # corrections go there
    sysadmin = store.acting(Principal("admin", Role.SYSADMIN))
    for sender in (county, police):
        register_sender(sysadmin, sender.public_pem, code=sender.code, name=sender.name, now=now)
    for period, deadline in (("2026-10", "2026-11-20"), ("2026-11", "2026-12-07")):
        path = Path(tmp) / f"task-{period}.zip"
        path.write_bytes(county.task("mz_elderly", period, version="builtin", deadline=deadline))
        import_package(store, path, user="tool", now=now)
    ctx = Context(store, clock=lambda: now)
    checks.run(ctx)
    people = [c.subject for c in checks.cases(ctx, check_id="over_60_not_receiving")[:2]]
    for number, person in enumerate(people):
        reports.raise_correction(
            ctx, dataset="person", record_key=person, field="联系电话",
            proposed=f"1380000000{number}", basis="村委会入户核实",
        )  # fmt: skip
        if number == 0:
            reports.send_corrections(ctx)


def main() -> int:
    app = QApplication(sys.argv)
    apply_default_font(app)  # as the program: at least 10.5 pt
    install_chinese(app)
    with tempfile.TemporaryDirectory() as tmp:
        # What the window remembers (sizes, zoom, pages, folders) goes to the throwaway folder.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        os.environ["GOVSHARE_EXPORT_DIR"] = str(Path(tmp) / "exports")
        store = open_tool_store(Path(tmp) / "demo.db", encrypted=True)
        generate(store, households=500, seed=1)
        _busy(store, tmp)
        window = MainWindow(store, today=lambda: date(2026, 11, 26))
        window.resize(1280, 760)
        window.show()
        for _ in range(20):  # the charts come once the cards are painted, then both settle
            app.processEvents()
        window.grab().save(str(OUT / "home.png"))  # the 工作台, where the window opens
        window.show_page("person")
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
            _forms(app, window, forms)
        _desk(app, window, tmp)
        _charts(app, store)
        _import_preview(app, store)
        _security(app, tmp)
        window.close()
        store.dispose()
    print(f"screenshots written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
