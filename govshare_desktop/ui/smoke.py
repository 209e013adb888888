"""``govshare-desktop --smoke``: check a build (installed, frozen or from source) without a person.

It goes through what a clerk's first minutes touch, with everything the bundle must carry:
resources (code tables, form templates), the Alembic migrations, SQLCipher and Argon2 (setup and
sign-in), Qt's platform plugin and widgets (the main window, built and painted offscreen), and
reportlab with a CJK font (one 统计表 rendered to PDF). It prints one line per step and exits 0,
or prints what failed and exits 1.

Without ``--db`` it works in a temporary directory that it removes afterwards: a fresh encrypted
database with a small demo township. With ``--db`` it opens that database instead, signed in from
``GOVSHARE_USER``/``GOVSHARE_PASSWORD`` (an installed program's data after an upgrade), and
writes nothing into it but the audit entries of the sign-in and the export.
"""

# Imports inside functions — lazy: the self-check loads the core only when it runs.

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from govshare_desktop.core.security.permissions import Action

if TYPE_CHECKING:  # the store loads with the first step, as in the program
    from govshare_desktop.core.store.engine import Store

ENV_SCREENSHOT = "GOVSHARE_SMOKE_SCREENSHOT"  # a PNG of the main window, if set
SMOKE_TEMPLATE = "mz_elderly"  # a 统计表 with merged headers, filled from the demo data
SMOKE_HOUSEHOLDS = 20
_CLERK = "smoke"


def run(db: str | None) -> int:
    """The whole check; the QApplication must exist (offscreen)."""
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="govshare-smoke-"))
    try:
        store = _open(Path(db) if db else work / "govshare.db")
        _window(store)
        if store.principal.may(Action.EXPORT):
            _form_pdf(store, work)
        else:
            _say(f"{store.principal.label}不导出报表，跳过报表 PDF")
        store.dispose()
    except BaseException as exc:
        _say(f"失败：{exc or type(exc).__name__}")
        traceback.print_exc()
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _say(f"通过（{time.perf_counter() - started:.1f} 秒）")
    return 0


def _say(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def _open(path: Path) -> Store:
    from govshare_desktop.core.resources import resources_dir
    from govshare_desktop.core.security import signin
    from govshare_desktop.core.security.permissions import Role
    from govshare_desktop.core.store.engine import sqlcipher_available
    from govshare_desktop.ui.signin import sign_in_quietly

    _say(f"资源目录 {resources_dir()}")
    if signin.is_initialised(path):
        signed = sign_in_quietly(path)
        if signed is None:
            raise RuntimeError("检查已有数据库需要 GOVSHARE_USER 和 GOVSHARE_PASSWORD")
        _say(f"已登录 {path}（{signed.principal.username}）")
        return signed.store
    from govshare_desktop.core.demo import generate

    setup = signin.initialise(path)
    password = signin.generate_password()
    signin.add_account(setup.store, _CLERK, Role.CLERK, password, must_change=False)
    setup.store.dispose()
    signed = signin.sign_in(path, _CLERK, password)
    summary = generate(signed.store, households=SMOKE_HOUSEHOLDS)
    cipher = "SQLCipher 加密" if sqlcipher_available() else "未加密（无 SQLCipher）"
    _say(f"新数据库 {cipher}，演示数据 {summary.persons} 人，已登录")
    return signed.store


def _window(store: Store) -> None:
    from PySide6.QtWidgets import QApplication

    from govshare_desktop.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.attach(store)
    if window.grab().isNull():
        raise RuntimeError("主窗口无法绘制")
    if not store.principal.may(Action.VIEW):  # 系统管理员, 审计管理员: no residents' data
        _say(f"主窗口：{window.windowTitle()}（不显示居民数据）")
        window.close()
        return
    if window.home_view is None or not window.home_view.cards:
        raise RuntimeError("工作台没有显示")
    _say(f"工作台：{len(window.home_view.cards)} 项")
    window.show_page("person")
    deadline = time.monotonic() + 30
    while window.current_view.model.rowCount() == 0 and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    if window.current_view.model.rowCount() == 0:
        raise RuntimeError("主窗口没有显示任何数据")
    shot = os.environ.get(ENV_SCREENSHOT)
    if shot:  # to look at what a build draws (fonts, styles), e.g. on a CI runner
        window.grab().save(shot)
        _say(f"截图：{shot}")
    _say(f"主窗口：{window.windowTitle()}，第一页 {window.current_view.model.rowCount()} 行")
    window.close()


def _form_pdf(store: Store, work: Path) -> None:
    from govshare_desktop.core.domain.period import Period
    from govshare_desktop.core.export.forms import export_sheets, form_sheets
    from govshare_desktop.core.forms.catalog import load_catalog
    from govshare_desktop.core.forms.values import FormValues

    catalog = load_catalog(store)  # the shipped forms and those installed in the database
    pool = FormValues(store, catalog.dictionary, catalog.templates)
    sheets = form_sheets(pool, SMOKE_TEMPLATE, Period.of_date(date.today()))
    [written] = export_sheets(store, sheets, work / "smoke.pdf", fmt="pdf")
    data = written.path.read_bytes()
    if not data.startswith(b"%PDF") or b"/FontFile2" not in data:
        raise RuntimeError(f"{written.path} 不是嵌入了中文字体的 PDF")
    _say(f"报表 PDF：{sheets[0].title}，{len(data)} 字节")
