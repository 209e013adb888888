"""Package import against the store: trust, refusals that change nothing, replay, held packages."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.exchange.package import build_package
from govshare_desktop.core.exchange.trust import trust_sender

COUNTY = "441900000000"
TOWNSHIP = "441900199000"
PERSON_HEADER = "公民身份号码,姓名,性别代码,民族代码,出生日期,户号,与户主关系代码,所属村（社区）代码,人员状态,变动日期,联系电话"


def _key() -> tuple[bytes, bytes]:
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def _person_csv(*people: tuple[str, str]) -> bytes:
    lines = [PERSON_HEADER]
    for number, name in people:
        info = idnumber.parse(number)
        lines.append(
            f"{number},{name},{info.sex_code},01,{info.birth_date},19920100001,02,441900199201,正常,,"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _package(private: bytes, sequence: int, people, *, recipient: str = TOWNSHIP) -> bytes:
    data = _person_csv(*people)
    manifest = {
        "format": "govshare-exchange/1",
        "package_id": str(uuid.uuid4()),
        "kind": "backflow",
        "sender": {"code": COUNTY, "name": "东莞市政务服务和数据管理局"},
        "recipient": {"code": recipient, "name": "青禾镇人民政府"},
        "sequence": sequence,
        "created_at": "2026-10-31T09:00:00+08:00",
        "as_of": "2026-10-31",
        "files": [
            {
                "path": "data/person.csv",
                "dataset": "person",
                "source_department": "东莞市公安局",
                "format": "csv",
                "encoding": "utf-8",
                "rows": len(people),
            }
        ],
    }
    return build_package(manifest, {"data/person.csv": data}, private)


def _person(i: int) -> tuple[str, str]:
    return idnumber.make("441900", date(1960 + i, 1, 2), i, male=True), f"测试{i}"


@pytest.fixture
def keys():
    return _key()


@pytest.fixture
def trusted(township, keys):
    with township.transaction() as session:
        trust_sender(
            session,
            keys[1],
            code=COUNTY,
            name="东莞市政务服务和数据管理局",
            user="admin",
            now=datetime(2026, 11, 1),
        )
    return township


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _dump(store) -> list:
    with store.engine.connect() as conn:
        return [
            conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
            for t in ("batch", "household", "person", "package_receipt", "record_history")
        ]


def test_sample_package_imports_with_expected_counts(trusted, samples, township) -> None:
    # the sample is signed with the demo county key: trust that instead of the test key
    with township.transaction() as session:
        pem = (samples / "keys" / "county-demo-ed25519.pub.pem").read_bytes()
        trust_sender(
            session, pem, code=COUNTY, name="东莞市", user="admin", now=datetime(2026, 11, 1)
        )
    name = "回流数据包_青禾镇_0001.zip"
    expected = json.loads((samples / f"{name}.expected.json").read_text(encoding="utf-8"))
    result = import_package(township, samples / name, user="test")
    assert (result.status, result.kind, result.sequence) == (
        "applied",
        expected["kind"],
        expected["sequence"],
    )
    assert {d.dataset: d.inserted for d in result.datasets} == expected["datasets"]
    assert [r for d in result.datasets for r in d.rejections] == expected["rejected"]


def test_package_is_refused_without_a_trusted_key(township, keys, tmp_path) -> None:
    path = _write(tmp_path, "p1.zip", _package(keys[0], 1, [_person(1)]))
    before = _dump(township)
    result = import_package(township, path, user="test")
    assert (result.status, result.reason_code) == ("refused", "unknown_sender")
    assert _dump(township) == before


@pytest.mark.parametrize(
    "case", ["modified_data", "bad_signature", "other_key", "wrong_recipient", "dotdot_member"]
)
def test_refused_packages_change_nothing(trusted, keys, tmp_path, case) -> None:
    good = _package(keys[0], 1, [_person(1)])
    if case == "modified_data":
        data = _rezip(good, {"data/person.csv": _person_csv(_person(2))})
        reason = "checksum_mismatch"
    elif case == "bad_signature":
        sig = zipfile.ZipFile(io.BytesIO(good)).read("manifest.sig")
        data = _rezip(good, {"manifest.sig": (b"A" if sig[:1] != b"A" else b"B") + sig[1:]})
        reason = "signature_invalid"
    elif case == "other_key":
        data = _package(_key()[0], 1, [_person(1)])
        reason = "signature_invalid"
    elif case == "wrong_recipient":
        data = _package(keys[0], 1, [_person(1)], recipient="441900198000")
        reason = "wrong_recipient"
    else:
        data = _rezip(good, {}, extra={"../evil.csv": b"x"})
        reason = "unsafe_member"
    before = _dump(trusted)
    result = import_package(trusted, _write(tmp_path, "p.zip", data), user="test")
    assert (result.status, result.reason_code) == ("refused", reason)
    assert result.message
    assert _dump(trusted) == before


def test_replay_gap_and_release(trusted, keys, tmp_path) -> None:
    p1 = _write(tmp_path, "p1.zip", _package(keys[0], 1, [_person(1)]))
    p2 = _write(tmp_path, "p2.zip", _package(keys[0], 2, [_person(1), _person(2)]))
    p3 = _write(tmp_path, "p3.zip", _package(keys[0], 3, [_person(1), _person(2), _person(3)]))
    assert import_package(trusted, p1, user="t").status == "applied"
    before = _dump(trusted)
    replay = import_package(trusted, p1, user="t")
    assert replay.status == "already_received" and "已经接收过" in replay.message
    assert _dump(trusted) == before
    held = import_package(trusted, p3, user="t")
    assert held.status == "held" and held.datasets == []
    with trusted.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM person")).scalar() == 1
    filled = import_package(trusted, p2, user="t")
    assert filled.status == "applied"
    assert [r.status for r in filled.released] == ["applied"]  # 3 follows 2 by itself
    with trusted.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM person")).scalar() == 3
        statuses = conn.execute(
            text("SELECT sequence, status FROM package_receipt ORDER BY sequence")
        ).all()
    assert statuses == [(1, "applied"), (2, "applied"), (3, "applied")]


def _rezip(
    original: bytes, replace: dict[str, bytes], *, extra: dict[str, bytes] | None = None
) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, replace.get(info.filename, source.read(info.filename)))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def test_demo_township_trusts_the_demo_county_key(store, samples) -> None:
    from govshare_desktop.core.demo import generate

    generate(store, households=20, seed=2)
    result = import_package(store, samples / "回流数据包_青禾镇_0001.zip", user="clerk")
    assert result.status == "applied"
    assert [d.dataset for d in result.datasets] == [
        "household",
        "person",
        "ss_enrollment",
        "ss_payment",
    ]


# ---------------------------------------------------------------- issue 13: what the manifest
# declares is checked against what is read; every outcome is audited


def _audit(store) -> list[tuple]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, action, object, outcome, detail FROM audit_log ORDER BY seq")
        ).all()
    return [(u, a, o, out, json.loads(d)) for u, a, o, out, d in rows]


def _with_manifest(private: bytes, sequence: int, people, **entry) -> bytes:
    data = _person_csv(*people)
    manifest = json.loads(
        zipfile.ZipFile(io.BytesIO(_package(private, sequence, people))).read("manifest.json")
    )
    manifest["files"][0].update(entry)
    return build_package(manifest, {"data/person.csv": data}, private)


def test_a_package_declaring_more_rows_than_it_carries_is_refused(trusted, keys, tmp_path) -> None:
    people = [_person(i) for i in range(1, 6)]
    path = _write(tmp_path, "p1.zip", _with_manifest(keys[0], 1, people, rows=99_999))
    before = _dump(trusted)
    result = import_package(trusted, path, user="test")
    assert (result.status, result.reason_code) == ("refused", "manifest_mismatch")
    assert "99,999 行" in result.message and "实际读到 5 行" in result.message
    assert "已整体拒收" in result.message
    assert _dump(trusted) == before  # no receipt, no batch, no person
    entries = _audit(trusted)
    assert len(entries) == 2  # the refusal, and the receipt "refused" made for the county
    assert entries[1][1] == "package" and entries[1][4]["kind"] == "receipt"
    user, action, obj, outcome, detail = entries[0]
    assert (user, action, obj, outcome) == ("clerk", "import", "p1.zip", "refused")
    assert detail["reason_code"] == "manifest_mismatch" and detail["sequence"] == 1
    assert detail["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert detail["sender"] == COUNTY and detail["sender_verified"] is True
    # the same package with the true count goes in (sequence 1 was not used up)
    good = _write(tmp_path, "p1b.zip", _with_manifest(keys[0], 1, people, rows=5))
    assert import_package(trusted, good, user="test").status == "applied"


def test_a_package_whose_file_is_not_the_declared_format_is_refused(
    trusted, keys, tmp_path
) -> None:
    path = _write(tmp_path, "p.zip", _with_manifest(keys[0], 1, [_person(1)], format="xlsx"))
    result = import_package(trusted, path, user="test")
    assert (result.status, result.reason_code) == ("refused", "manifest_mismatch")
    assert "格式为“xlsx”" in result.message


def test_refusal_replay_and_hold_are_audited(trusted, keys, tmp_path) -> None:
    from govshare_desktop.core.backflow.runner import Source, import_files

    p1 = _write(tmp_path, "p1.zip", _package(keys[0], 1, [_person(1)]))
    p3 = _write(tmp_path, "p3.zip", _package(keys[0], 3, [_person(3)]))
    forged = _write(tmp_path, "forged.zip", _package(_key()[0], 2, [_person(2)]))
    wrong = _write(
        tmp_path, "wrong.zip", _package(keys[0], 2, [_person(2)], recipient="441900198000")
    )
    truncated = _write(tmp_path, "cut.zip", p1.read_bytes()[: len(p1.read_bytes()) // 2])
    results = import_files(
        trusted, [Source(p) for p in (p1, p1, p3, forged, wrong, truncated)], user="t"
    )
    assert [r.status for r in results] == [
        "applied",
        "already_received",
        "held",
        "refused",
        "refused",
        "refused",
    ]
    assert "截断" in results[-1].message and "数据包" in results[-1].message
    entries = _audit(trusted)
    imports = [e for e in entries if e[1] == "import"]
    assert [(e[2], e[3], e[4]["status"]) for e in imports] == [
        ("p1.zip", "ok", "applied"),
        ("p1.zip", "ok", "already_received"),
        ("p3.zip", "ok", "held"),
        ("forged.zip", "refused", "refused"),
        ("wrong.zip", "refused", "refused"),
        ("cut.zip", "refused", "refused"),
    ]
    by_file = {e[2]: e[4] for e in imports}
    assert by_file["p3.zip"]["sequence"] == 3 and by_file["p3.zip"]["last_applied"] == 1
    assert by_file["forged.zip"]["reason_code"] == "signature_invalid"
    assert by_file["forged.zip"]["sender_verified"] is False
    assert by_file["wrong.zip"]["reason_code"] == "wrong_recipient"
    assert by_file["cut.zip"]["reason_code"] == "malformed"
    for name, path in (("forged.zip", forged), ("cut.zip", truncated)):
        assert by_file[name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert by_file[name]["reason"]
    assert {e[0] for e in imports} == {"clerk"}


def test_a_dry_run_audits_nothing(trusted, keys, tmp_path) -> None:
    forged = _write(tmp_path, "forged.zip", _package(_key()[0], 1, [_person(1)]))
    assert import_package(trusted, forged, user="t", dry_run=True).status == "refused"
    assert _audit(trusted) == []


def test_a_package_member_with_a_control_character_rejects_the_row(trusted, keys, tmp_path) -> None:
    people = [_person(1), (_person(2)[0], "王\0芳")]
    path = _write(tmp_path, "p1.zip", _package(keys[0], 1, people))
    result = import_package(trusted, path, user="t")
    assert result.status == "applied"
    assert [r.reason_code for d in result.datasets for r in d.rejections] == ["control_character"]
