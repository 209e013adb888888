"""The window on the township's server (issue 18, office mode): the first run's 「连接单位服务器…」
takes an address only once it is checked (encrypted unless local, reachable, set up by the
administrator) and remembers it, so every later start opens the server; the program started on a
server's URL signs in and shows the township; the idle lock checks the password against the
server's keys."""

from __future__ import annotations

import os
import subprocess

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton

from govshare_desktop.core.errors import UserError
from govshare_desktop.ui import settings
from govshare_desktop.ui.first_run import FirstRunDialog
from govshare_desktop.ui.signin import unlock_check
from tests.e2e.cli import CLERK_PASSWORD, add_clerk
from tests.e2e.launch import command
from tests.pg.test_pg_cli import _server_init


@pytest.fixture
def office_server(pg_url: str) -> str:
    """A township set up on the server by its administrator, with the 经办人 ``clerk``."""
    done = _server_init(pg_url, "--area", "441900199000", "--name", "青禾镇")
    assert done.returncode == 0, done.stderr
    add_clerk(pg_url)
    return pg_url


def _connect(qtbot, monkeypatch, typed: str) -> tuple[FirstRunDialog, list[str]]:  # type: ignore[no-untyped-def]
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(f"{a[1]}：{a[2]}"))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (typed, True))
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    button = dialog.findChild(QPushButton, "server_button")
    assert button is not None and button.text() == "连接单位服务器…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return dialog, warnings


def test_connecting_to_the_township_server_at_first_run(qtbot, monkeypatch, office_server) -> None:
    dialog, warnings = _connect(qtbot, monkeypatch, f" {office_server} ")
    assert warnings == [] and (dialog.choice, dialog.url) == ("server", office_server)
    settings.remember_server(dialog.url)
    assert settings.remembered_server() == office_server


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "postgresql://govshare_app@192.0.2.10/qinghe",
            "连接没有要求加密",
        ),  # no TLS over a network
        ("postgresql://govshare_app:secret@localhost/qinghe", "口令不要写在连接地址里"),
        ("/home/clerk/govshare.db", "不是数据库服务器的连接地址"),
    ],
)
def test_an_address_that_will_not_do_is_refused(qtbot, monkeypatch, typed, said) -> None:
    dialog, warnings = _connect(qtbot, monkeypatch, typed)
    assert dialog.choice == "" and len(warnings) == 1 and said in warnings[0]


def test_a_server_not_yet_set_up_is_refused(qtbot, monkeypatch, pg_url) -> None:
    dialog, warnings = _connect(qtbot, monkeypatch, pg_url)
    assert dialog.choice == "" and "govshare server init" in warnings[0]


def test_the_program_opens_the_server_and_locks_on_its_keys(office_server, tmp_path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "GOVSHARE_USER": "clerk",
        "GOVSHARE_PASSWORD": CLERK_PASSWORD,
    }
    started = subprocess.run(
        command("window", "--db", office_server, "--quit-after-load"),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert started.returncode == 0, started.stderr
    assert "Traceback" not in started.stderr

    # Started without --db, the program opens the server the first run remembered (QSettings in
    # the config folder: the same key the dialog writes).
    conf = tmp_path / "config" / settings.ORGANISATION / f"{settings.APPLICATION}.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    section, key = settings.SERVER_KEY.split("/")
    conf.write_text(f"[{section}]\n{key}={office_server}\n", encoding="utf-8")
    env.pop("GOVSHARE_DB", None)
    again = subprocess.run(
        command("window", "--quit-after-load"), capture_output=True, text=True, timeout=120, env=env
    )
    assert again.returncode == 0, again.stderr
    env["GOVSHARE_PASSWORD"] = "not-the-password"  # it really signed in on the server
    wrong = subprocess.run(
        command("window", "--quit-after-load"), capture_output=True, text=True, timeout=120, env=env
    )
    assert wrong.returncode != 0 and "用户名或密码" in wrong.stderr

    unlock_check(office_server, "clerk", CLERK_PASSWORD)
    with pytest.raises(UserError, match="用户名或密码"):
        unlock_check(office_server, "clerk", "not-the-password")


def test_the_backups_page_backs_the_server_up_to_a_usb_stick(qtbot, pg_url, tmp_path) -> None:
    """备份与恢复 on a server: 「备份到其他位置（U盘）…」 makes a pg_dump with its 说明文件 there,
    and the list shows it, a restore could start from it."""
    from govshare_desktop.core.services import setup
    from govshare_desktop.ui.backups_view import BackupsView

    prepared = setup.prepare_server(pg_url, code="441900199000", name="青禾镇")
    admin = prepared.pending.finish().store  # the 系统管理员, signed in
    view = BackupsView(admin)
    qtbot.addWidget(view)
    usb = tmp_path / "U盘"
    usb.mkdir()
    view.ask_folder = lambda _start: usb
    view.backup_elsewhere()
    qtbot.waitUntil(lambda: view.message is not None, timeout=60000)
    dumps = sorted(p.name for p in usb.iterdir())
    assert any(name.endswith(".dump") for name in dumps), dumps
    assert [f.path.suffix for f in view.files] == [".dump"] and view.folder == usb
    admin.dispose()
