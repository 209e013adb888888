"""「安装报表模板…」 in the 系统管理员's window, and the 一表通 page showing each period's version
of a form — with pytest-qt, on real encrypted and demo databases and real template files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTabWidget

from govshare_desktop.core.forms.catalog import install_elements, install_template, load_catalog
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.ui.forms_admin import TemplatesView
from govshare_desktop.ui.main_window import MainWindow

ADMIN = "Guanli#2026ui"
SHIPPED = resource_path("forms", "templates", "mz_elderly.toml").read_text(encoding="utf-8")
NEW_TITLE = "老年人口及高龄津贴情况统计表（2027版）"
V = "441900199201"


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """An encrypted database with a township and its 系统管理员."""
    from govshare_desktop.core.store.township import init_township

    db = tmp_path / "office.db"
    setup = signin.initialise(db, admin_password=ADMIN)
    with setup.store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
    setup.store.dispose()
    return db


def _rows(view: TemplatesView, template_id: str) -> list[tuple[str, str, str]]:
    table = view.table
    return [
        (table.item(r, 0).text(), table.item(r, 3).text(), table.item(r, 4).text())
        for r in range(table.rowCount())
        if table.item(r, 2).text() == template_id
    ]


def test_the_sysadmin_installs_a_template_from_the_window(
    qtbot, office: Path, tmp_path: Path, monkeypatch
) -> None:
    signed = signin.sign_in(office, "admin", ADMIN)
    window = MainWindow(signed.store)
    qtbot.addWidget(window)
    window.show()
    view = window.findChild(TemplatesView)
    panel = window.findChild(QTabWidget, "admin_panel")
    assert view is not None and panel.tabText(panel.indexOf(view)) == "报表模板"
    panel.setCurrentWidget(view)  # the 系统管理员 opens the 「报表模板」 tab
    assert view.install_button.isVisible()
    assert _rows(view, "mz_elderly") == [("老年人口及高龄津贴情况统计表", "内置", "内置")]
    before = view.table.rowCount()

    newer = tmp_path / "mz_elderly_2027.toml"
    newer.write_text(
        'version = "2027.1"\n' + SHIPPED.replace("老年人口及高龄津贴情况统计表", NEW_TITLE),
        encoding="utf-8",
    )
    told: list[str] = []
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    chosen = [str(newer)]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (chosen[0], "报表模板 (*.toml)")
    )
    qtbot.mouseClick(view.install_button, Qt.MouseButton.LeftButton)
    assert warned == [] and told and told[0].startswith(f"已安装报表模板“{NEW_TITLE}”")
    assert view.table.rowCount() == before + 1  # the list refreshed: the newest first
    assert _rows(view, "mz_elderly") == [
        (NEW_TITLE, "2027.1", "文件安装"),
        ("老年人口及高龄津贴情况统计表", "内置", "内置"),
    ]

    broken = tmp_path / "broken.toml"
    broken.write_text(
        'version = "2028.1"\n' + SHIPPED.replace('element = "P_80PLUS"', 'element = "NOPE"', 1),
        encoding="utf-8",
    )
    chosen[0] = str(broken)
    qtbot.mouseClick(view.install_button, Qt.MouseButton.LeftButton)
    assert warned == [
        "报表模板 broken.toml 第 3 列引用的数据项“NOPE”不在数据项字典中"
        "（模板只能引用，不能定义数据项）"
    ]
    assert view.table.rowCount() == before + 1 and len(told) == 1
    chosen[0] = ""  # the dialog cancelled: nothing happens
    qtbot.mouseClick(view.install_button, Qt.MouseButton.LeftButton)
    assert len(told) == 1 and len(warned) == 1
    auditor = Principal("zhao", Role.AUDITOR)
    (entry,) = audit_trail(signed.store).entries(auditor, action="install_forms")
    assert entry.username == "admin" and entry.object == "mz_elderly"
    signed.store.dispose()


def test_the_forms_page_shows_each_period_its_version(qtbot, window) -> None:
    store = window.store
    now = datetime(2026, 11, 20, 9, 0)
    newer = 'version = "2027.1"\n' + SHIPPED.replace("老年人口及高龄津贴情况统计表", NEW_TITLE)
    later = (
        'id = "mz_disabled"\nversion = "1"\ntitle = "残疾人两项补贴情况统计表"\n'
        'department = "民政"\nkind = "table"\nperiod_type = "month"\n'
        '[[columns]]\nelement = "S_DISABLED_SUBSIDY"\n'
    )
    with store.transaction() as session:
        dictionary = load_catalog(session).dictionary
        install_elements(
            session,
            '[[element]]\ncode = "S_DISABLED_SUBSIDY"\nname = "享受两项补贴人数"\n'
            'type = "integer"\nlevel = "area"\n',
            "elements.toml",
            dictionary=dictionary,
            package_id="T-1",
            user="admin",
            now=now,
        )
        dictionary = load_catalog(session).dictionary
        for text, name, start in ((newer, "new.toml", "2026-11"), (later, "later.toml", "2027-01")):
            install_template(
                session,
                text,
                name,
                dictionary=dictionary,
                origin="package",
                package_id="T-1",
                effective_from=start,
                user="admin",
                now=now,
            )
    window.show_page("forms")
    view = window.forms_view
    view.area.setCurrentIndex(view.area.findData(V))
    view.template.setCurrentIndex(view.template.findData("mz_elderly"))
    view.period.setCurrentIndex(view.period.findData("2026-10"))
    assert view.sheet.sheet_model.form.template.title == "老年人口及高龄津贴情况统计表"
    view.period.setCurrentIndex(view.period.findData("2026-11"))
    assert view.sheet.sheet_model.form.template.title == NEW_TITLE
    view.template.setCurrentIndex(view.template.findData("mz_disabled"))
    assert "在 2026-11 期尚未生效（自 2027-01 期起适用）" in view.status.text()
    assert not view.submit_button.isEnabled() and view.model.rowCount() == 0
