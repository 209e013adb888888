"""The township's signing key and its outbox: packages signed, numbered per recipient, kept, written
whole, verifiable with the exported public key — also after the key is rotated."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.outbox import (
    Outgoing,
    file_entry,
    make_package,
    make_receipt,
    outbox_entries,
    unwritten,
    write_package,
)
from govshare_desktop.core.exchange.package import Party, verify_package
from govshare_desktop.core.exchange.township_key import (
    current_key,
    public_keys,
    rotate_key,
    signing_pem,
)
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import OutboxPackage, TownshipKey

NOW = datetime(2026, 12, 2, 9, 0)
AUDITOR = Principal("auditor", Role.AUDITOR)


def _entries(store: Store):
    return audit_trail(store.acting(AUDITOR)).entries(AUDITOR)


COUNTY = Party("441900000000", "东莞市民政局")
OTHER = Party("441900000001", "东莞市人力资源和社会保障局")


def _send(store: Store, session, recipient: Party = COUNTY, subject: str = "测试") -> OutboxPackage:
    data = b'{"x": 1}'
    return make_package(
        store,
        session,
        Outgoing(
            kind="receipt",
            recipient=recipient,
            subject=subject,
            files={"data/receipt.json": data},
            entries={"data/receipt.json": file_entry("receipt", "json")},
        ),
        now=NOW,
    )


def _verify(store: Store, content: bytes, recipient: Party = COUNTY):
    with store.sessions() as session:
        township = session.scalar(select(TownshipKey).order_by(TownshipKey.id))
        keys = {"441900199000": township.public_key_pem.encode()}
    return verify_package(content, trusted_keys=keys, recipient_code=recipient.code)


def test_packages_are_signed_numbered_per_recipient_and_kept(demo_store: Store) -> None:
    with demo_store.transaction() as session:
        first = _send(demo_store, session)
        second = _send(demo_store, session)
        elsewhere = _send(demo_store, session, OTHER)
    assert (first.sequence, second.sequence, elsewhere.sequence) == (1, 2, 1)
    package = _verify(demo_store, second.content)
    manifest = package.manifest
    assert manifest.sender.code == "441900199000" and manifest.sequence == 2
    assert manifest.kind == "receipt" and manifest.audit_anchor is not None
    # the anchor is the audit head when the package was made: the trail holds it
    seq, mac = manifest.audit_anchor.split(":")
    entries = {e.seq: e for e in _entries(demo_store)}
    assert entries[int(seq)].mac == mac
    made = sorted((e for e in entries.values() if e.action == "package"), key=lambda e: e.seq)
    assert [e.object for e in made] == [first.package_id, second.package_id, elsewhere.package_id]
    with demo_store.sessions() as session:
        listed = outbox_entries(session)
        assert [e.sequence for e in listed if e.recipient_code == COUNTY.code] == [2, 1]
        assert {p.package_id for p in unwritten(session)} == {
            first.package_id,
            second.package_id,
            elsewhere.package_id,
        }
        assert listed[0].receipt_label == "—"


def test_private_key_is_never_stored_in_the_clear(demo_store: Store) -> None:
    with demo_store.transaction() as session:
        _send(demo_store, session)
        key = current_key(session)
        assert key is not None
        pem = signing_pem(key, demo_store.secret)
    raw_private = pem.split(b"\n")[1]
    database = Path(demo_store.path).read_bytes() + Path(str(demo_store.path) + "-wal").read_bytes()
    assert b"PRIVATE KEY" not in database and raw_private not in database
    sealed = json.loads(key.private_wrapped)
    assert set(sealed) == {"aead", "nonce", "ciphertext"}
    # another database key cannot unseal it
    with pytest.raises(UserError, match="无法解开"):
        signing_pem(key, os.urandom(32))


def test_rotation_keeps_old_packages_verifiable(demo_store: Store) -> None:
    with demo_store.transaction() as session:
        before = _send(demo_store, session)
        old, new = rotate_key(session, demo_store.secret, user="admin", now=NOW)
        after = _send(demo_store, session)
    assert old is not None and old.private_wrapped is None and old.retired_at == NOW
    assert before.key_fingerprint == old.fingerprint and after.key_fingerprint == new.fingerprint
    with demo_store.sessions() as session:
        keys = public_keys(session)
    assert [k.fingerprint for k in keys] == [new.fingerprint, old.fingerprint]
    assert keys[1].retired_at == NOW
    for row, key in ((before, keys[1]), (after, keys[0])):
        verified = verify_package(
            row.content,
            trusted_keys={"441900199000": key.pem},
            recipient_code=COUNTY.code,
        )
        assert verified.manifest.package_id == row.package_id
    with pytest.raises(UserError, match="已停用"):
        signing_pem(old, demo_store.secret)


def test_writing_a_package_is_whole_audited_and_remembered(
    demo_store: Store, tmp_path: Path
) -> None:
    with demo_store.transaction() as session:
        row = _send(demo_store, session)
    folder = tmp_path / "usb"
    folder.mkdir()
    written = write_package(demo_store, row.package_id, folder, now=NOW)
    assert written.read_bytes() == row.content
    assert [p.name for p in folder.iterdir()] == [row.file_name]  # no temp file left
    assert written.stat().st_mode & 0o077 == 0
    with demo_store.sessions() as session:
        assert session.get(OutboxPackage, row.package_id).written_to == str(folder)
        assert unwritten(session) == []
    sends = [e for e in _entries(demo_store) if e.action == "send"]
    assert sends[-1].object == row.package_id
    with pytest.raises(UserError, match="不存在"):
        write_package(demo_store, row.package_id, tmp_path / "gone", now=NOW)


def test_a_full_disk_leaves_no_half_package(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govshare_desktop.core.exchange.outbox as outbox

    with demo_store.transaction() as session:
        row = _send(demo_store, session)

    def full(target: Path, data: bytes) -> None:
        target.write_bytes(data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox, "private_write", full)
    with pytest.raises(UserError, match="磁盘已满"):
        write_package(demo_store, row.package_id, tmp_path, now=NOW)
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".*part")) == []
    with demo_store.sessions() as session:
        assert session.get(OutboxPackage, row.package_id).written_at is None


def test_receipt_document_follows_the_contract(demo_store: Store) -> None:
    with demo_store.transaction() as session:
        row = make_receipt(
            demo_store,
            session,
            COUNTY,
            package_id="3f0e0c9e-1111-4222-8333-444455556666",
            sequence=4,
            kind="report_task",
            status="applied",
            reason_code=None,
            now=NOW,
        )
    package = _verify(demo_store, row.content)
    document = json.loads(package.read("data/receipt.json"))
    assert document["package_id"] == "3f0e0c9e-1111-4222-8333-444455556666"
    assert document["sequence"] == 4 and document["status"] == "applied"
    assert document["reason_code"] is None
    assert set(document) == {"package_id", "sequence", "received_at", "status", "reason_code"}
    assert row.refers_to == "3f0e0c9e-1111-4222-8333-444455556666"
