"""目录 and 共享申请 as a script runs them: the platform's catalog comes in through ``govshare
import``; ``catalog list`` finds an entry by its pinyin initials; the clerk drafts a request, the
审核人 approves it, ``share send`` writes the signed package into a folder and the platform reads it
with the exported key; a refusal without its reason is refused, the proper reply applied;
``share list`` and ``share register`` show where things stand."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.core.test_sharing import PLATFORM, _catalog, _replies
from tests.county import TOWNSHIP, County
from tests.e2e.cli import FIRST_PASSWORD, govshare

REVIEWER_PASSWORD = "Audit#2026e2e"


def _run(*args: str, db: Path, user: str = "clerk", **kw) -> str:  # type: ignore[no-untyped-def]
    done = govshare(*args, db=db, user=user, **kw)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _reviewer(db: Path) -> None:
    _run(
        "users", "add", "shenhe", "--role", "reviewer", db=db, user="admin",
        env={"GOVSHARE_NEW_PASSWORD": FIRST_PASSWORD},
    )  # fmt: skip
    _run(
        "passwd", db=db, user="shenhe", password=FIRST_PASSWORD,
        env={"GOVSHARE_NEW_PASSWORD": REVIEWER_PASSWORD},
    )  # fmt: skip


def test_catalog_request_approve_send_and_answer(tmp_path: Path) -> None:
    db = tmp_path / "gov.db"
    _run("demo", "--households", "30", "--seed", "3", db=db, user="admin")
    platform = County(code="441900000000", name=PLATFORM)
    (tmp_path / "platform.pem").write_bytes(platform.public_pem)
    _run(
        "trust", "add", str(tmp_path / "platform.pem"), "--sender", platform.code,
        "--name", platform.name, db=db, user="admin",
    )  # fmt: skip
    _run("keys", "export", "--out", str(tmp_path / "township.pem"), db=db, user="admin")
    _reviewer(db)

    (tmp_path / "catalog.zip").write_bytes(_catalog(platform))
    said = _run("import", str(tmp_path / "catalog.zip"), db=db)
    assert "共 4 项资源" in said, said
    found = _run("catalog", "list", "--search", "cjrz", db=db)
    assert "4419-CL-0002\t残疾人证信息" in found and "有条件共享" in found
    refused = govshare(
        "share", "request", "4419-ZR-0003", "--items", "权利人", "--purpose", "p",
        "--basis", "b", "--scope", "s", "--until", "2027-12-31", db=db,
    )  # fmt: skip
    assert refused.returncode != 0 and "不予共享资源" in refused.stderr

    drafted = _run(
        "share", "request", "4419-CL-0002", "--items", "公民身份号码、残疾等级",
        "--purpose", "核对护理补贴对象", "--basis", "《政务数据共享条例》",
        "--scope", "本镇补贴对象", "--until", "2027-12-31", db=db,
    )  # fmt: skip
    assert "待审核人审核" in drafted
    (request,) = json.loads(_run("share", "list", "--json", db=db))
    assert request["state_label"] == "待审核"
    denied = govshare("share", "approve", request["request_id"], db=db)  # a 经办人
    assert denied.returncode != 0
    _run(
        "share", "approve", request["request_id"], db=db, user="shenhe", password=REVIEWER_PASSWORD
    )

    usb = tmp_path / "usb"
    usb.mkdir()
    sent = _run("share", "send", "--out", str(usb), db=db)
    assert "共享申请数据包" in sent and "已写入" in sent
    pem = (tmp_path / "township.pem").read_bytes()
    packages = sorted(usb.glob("*_share_request.zip"))
    assert len(packages) == 1, list(usb.iterdir())
    platform.received[TOWNSHIP["code"]] = 1  # the catalog's receipt went first
    seen = platform.read_package(packages[0].read_bytes(), pem)
    lines = list(csv.reader(io.StringIO(seen.read("data/share_requests.csv").decode("utf-8"))))
    assert lines[1][1:4] == ["4419-CL-0002", "残疾人证信息", "公民身份号码、残疾等级"]

    reply = tmp_path / "reply.zip"
    reply.write_bytes(_replies(platform, [(request["request_id"], "refused", "", "")]))
    bad = govshare("import", str(reply), db=db)
    assert "须说明理由" in bad.stdout + bad.stderr
    reply.write_bytes(
        _replies(platform, [(request["request_id"], "refused", "非本级职责", "")], sequence=2)
    )
    assert "不同意，理由：非本级职责" in _run("import", str(reply), db=db)
    listed = _run("share", "list", db=db)
    assert "不同意" in listed and "答复：非本级职责" in listed
    register = _run("share", "register", db=db)
    assert "户籍人员" in register and "数据回流" in register
