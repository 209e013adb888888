"""The integrity check at start beside the window (issue 20): it reads the whole file, so the
window is usable at once — a clerk can look and search — while nothing is written until it has
passed; a damaged database found by it turns read-only with the message. The checker itself is
the real ``quick_check`` elsewhere (tests/e2e/test_damaged_start.py, tests/core/test_backup.py);
here it is held back by the test so that the moment before it ends can be looked at."""

from __future__ import annotations

import argparse
import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.services import forms
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store import backup
from govshare_desktop.ui import app

V = "441900199201"


@pytest.fixture
def held_check(monkeypatch):  # type: ignore[no-untyped-def]
    """quick_check, answering ``result["problems"]`` once ``release`` is set."""
    release, result = threading.Event(), {"problems": []}

    def check(store, connect=None, **_kw):  # type: ignore[no-untyped-def]
        assert release.wait(30)
        return result["problems"]

    monkeypatch.setattr(backup, "quick_check", check)
    return release, result


def _type_a_value(store) -> None:  # type: ignore[no-untyped-def]
    dictionary = load_dictionary()
    templates, _ = load_templates(dictionary)
    pool = FormValues(store, dictionary, templates)
    forms.set_value(Context(store), pool, "S_LOW_INCOME", V, Period.parse("2026-10"), "5")


def _started(window, demo_store):  # type: ignore[no-untyped-def]
    args = argparse.Namespace(quit_after_load=False)
    return app._checked(window, demo_store, args)


def test_nothing_is_written_until_the_check_has_passed(
    qtbot, window, demo_store, held_check
) -> None:
    release, _ = held_check
    store = _started(window, demo_store)
    assert "正在检查数据库是否完好" in window.statusBar().currentMessage()
    with pytest.raises(UserError, match=r"正在检查数据库是否完好.*检查完成前不能"):
        _type_a_value(store)
    assert forms.catalog(Context(store))  # reading goes on meanwhile
    release.set()
    qtbot.waitUntil(lambda: store.principal.gate.state == "passed", timeout=10000)
    _type_a_value(store)  # now saved
    assert "正在检查" not in window.statusBar().currentMessage()
    assert window.backup_task is not None  # the daily backup waited for the check
    qtbot.waitUntil(lambda: window.backup_task.done, timeout=30000)


def test_damage_found_beside_the_window_makes_it_read_only(
    qtbot, window, demo_store, held_check, monkeypatch
) -> None:
    release, result = held_check
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: said.append(a[2]))
    store = _started(window, demo_store)
    result["problems"] = [
        "*** in database main ***\nPage 12: btreeInitPage() returns error code 11"
    ]
    release.set()
    qtbot.waitUntil(lambda: bool(said), timeout=10000)
    assert "数据库检查发现损坏" in said[0] and "只读" in said[0]
    assert store.principal.damaged
    with pytest.raises(UserError, match="已以只读方式打开"):
        _type_a_value(store)
