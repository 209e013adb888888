"""govshare-exchange/1 packages: the real sample verifies, and every kind of tampering is refused whole."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import random
import re
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.package import (
    FORMAT,
    REASONS,
    PackageRefused,
    build_package,
    load_public_key,
    public_key_fingerprint,
    read_manifest_unverified,
    verify_package,
)
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from tests.samples import SAMPLES

SAMPLE_PACKAGE = SAMPLES / "回流数据包_青禾镇_0001.zip"
SAMPLE_KEY = SAMPLES / "keys" / "county-demo-ed25519.pub.pem"

COUNTY = "441900000000"
TOWNSHIP = "441900199000"
OTHER_TOWNSHIP = "441900198000"

# What each refusal's message must name (the failed check), besides being Chinese.
CHECK_WORDS = {
    "signature_invalid": "签名校验",
    "unknown_sender": "发送方",
    "wrong_recipient": "接收方",
    "checksum_mismatch": "SHA-256",
    "unsafe_member": "安全检查",
    "malformed": "格式检查",
}

PERSON_CSV = (
    "公民身份号码,姓名,性别代码\n441900199001010012,陈一,1\n441900199002020024,李二,2\n"
).encode()
HOUSEHOLD_CSV = "户号,户别,户主姓名\n19900100001,家庭户,陈一\n".encode()
FILES = {"data/person.csv": PERSON_CSV, "data/household.csv": HOUSEHOLD_CSV}


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def county_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def trusted(county_key: Ed25519PrivateKey) -> dict[str, bytes]:
    return {COUNTY: _public_pem(county_key)}


def manifest_dict(**changes: object) -> dict:
    doc: dict = {
        "format": FORMAT,
        "package_id": "3f1c1a52-7a0e-4c55-9d7e-2b4c7f0e9a11",
        "kind": "backflow",
        "sender": {"code": COUNTY, "name": "东莞市政务服务和数据管理局"},
        "recipient": {"code": TOWNSHIP, "name": "青禾镇人民政府"},
        "sequence": 2,
        "created_at": "2026-11-30T09:00:00+08:00",
        "as_of": "2026-11-30",
        "files": [
            {
                "path": "data/person.csv",
                "dataset": "person",
                "source_department": "东莞市公安局",
                "format": "csv",
                "encoding": "utf-8",
                "rows": 2,
            },
            {
                "path": "data/household.csv",
                "dataset": "household",
                "source_department": "东莞市公安局",
                "format": "csv",
                "encoding": "utf-8",
                "rows": 1,
                "mode": "delta",
            },
        ],
    }
    doc.update(changes)
    return doc


@pytest.fixture(scope="module")
def package(county_key: Ed25519PrivateKey) -> bytes:
    return build_package(manifest_dict(), FILES, _private_pem(county_key))


def unpack(pkg: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(pkg)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def rezip(
    members: list[tuple[str | zipfile.ZipInfo, bytes]], *, method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names some tests want
        with zipfile.ZipFile(buffer, "w", compression=method) as zf:
            for name, content in members:
                zf.writestr(name, content)
    return buffer.getvalue()


def replace(pkg: bytes, name: str, content: bytes) -> bytes:
    return rezip([(n, content if n == name else c) for n, c in unpack(pkg)])


def sign(key: Ed25519PrivateKey, manifest_raw: bytes) -> bytes:
    return base64.b64encode(key.sign(manifest_raw)) + b"\n"


def signed(
    key: Ed25519PrivateKey, manifest_raw: bytes, files: dict[str, bytes] | None = None
) -> bytes:
    """A package with this exact manifest text, signed by ``key`` (no validation on the way)."""
    members = [("manifest.json", manifest_raw), ("manifest.sig", sign(key, manifest_raw))]
    return rezip(members + list((FILES if files is None else files).items()))


def manifest_bytes(doc: dict) -> bytes:
    """The manifest text with the right checksums filled in (not signed)."""
    for entry in doc["files"] if isinstance(doc["files"], list) else []:
        entry.setdefault("sha256", hashlib.sha256(FILES[entry["path"]]).hexdigest())
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


def verify(pkg: bytes | Path, trusted_keys: dict[str, bytes], **kwargs: object):
    kwargs.setdefault("recipient_code", TOWNSHIP)
    return verify_package(pkg, trusted_keys=trusted_keys, **kwargs)  # type: ignore[arg-type]


def refused(
    pkg: bytes | Path,
    trusted_keys: dict[str, bytes],
    reason: str,
    *fragments: str,
    **kwargs: object,
) -> PackageRefused:
    with pytest.raises(PackageRefused) as caught:
        verify(pkg, trusted_keys, **kwargs)
    exc = caught.value
    assert exc.reason_code == reason, exc.message
    assert reason in REASONS
    assert re.search(r"[\u4e00-\u9fff]", exc.message), exc.message
    assert "拒收" in exc.message
    assert CHECK_WORDS[reason] in exc.message, exc.message
    for fragment in fragments:
        assert fragment in exc.message, exc.message
    assert isinstance(exc, UserError)
    return exc


# --- the real sample ------------------------------------------------------------------------------


def test_real_sample_verifies() -> None:
    keys = {COUNTY: SAMPLE_KEY.read_bytes()}
    verified = verify(SAMPLE_PACKAGE, keys)
    manifest = verified.manifest
    expected = json.loads(
        SAMPLE_PACKAGE.with_name(SAMPLE_PACKAGE.name + ".expected.json").read_text("utf-8")
    )
    assert manifest.kind == expected["kind"] == "backflow"
    assert manifest.sequence == expected["sequence"] == 1
    assert manifest.as_of is not None and manifest.as_of.isoformat() == "2026-10-31"
    assert manifest.sender.code == COUNTY and manifest.recipient.code == TOWNSHIP
    assert len(manifest.files) == 4
    assert {f.dataset: f.rows for f in manifest.files} == expected["datasets"]
    assert all(f.mode == "full" for f in manifest.files)
    assert manifest.created_at.utcoffset() is not None
    person = verified.read("data/person.csv")
    assert len(person.decode("utf-8").splitlines()) == 1045  # header + 1044
    assert verified.sha256 == hashlib.sha256(SAMPLE_PACKAGE.read_bytes()).hexdigest()
    with zipfile.ZipFile(SAMPLE_PACKAGE) as zf:
        assert manifest.raw == zf.read("manifest.json")
    # bytes in, same result
    assert verify(SAMPLE_PACKAGE.read_bytes(), keys).manifest == manifest


def test_real_sample_unknown_sender_and_wrong_recipient() -> None:
    refused(SAMPLE_PACKAGE, {}, "unknown_sender", COUNTY, "东莞市政务服务和数据管理局")
    other_key = _public_pem(Ed25519PrivateKey.generate())
    refused(SAMPLE_PACKAGE, {"441900111000": other_key}, "unknown_sender", COUNTY)
    keys = {COUNTY: SAMPLE_KEY.read_bytes()}
    refused(
        SAMPLE_PACKAGE,
        keys,
        "wrong_recipient",
        TOWNSHIP,
        OTHER_TOWNSHIP,
        recipient_code=OTHER_TOWNSHIP,
    )
    # a different key registered for the county: the signature does not verify
    refused(SAMPLE_PACKAGE, {COUNTY: other_key}, "signature_invalid", COUNTY)


def test_real_sample_claims_and_key() -> None:
    claims = read_manifest_unverified(SAMPLE_PACKAGE)
    assert (claims.sender.code, claims.sequence, len(claims.files)) == (COUNTY, 1, 4)
    fingerprint = public_key_fingerprint(SAMPLE_KEY.read_bytes())
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)


# --- built packages that are fine ----------------------------------------------------------------


def test_built_package_round_trip(
    county_key: Ed25519PrivateKey, package: bytes, trusted: dict[str, bytes]
) -> None:
    verified = verify(package, trusted)
    manifest = verified.manifest
    assert verified.sha256 == hashlib.sha256(package).hexdigest()
    assert (manifest.kind, manifest.sequence, manifest.as_of.isoformat()) == (
        "backflow",
        2,
        "2026-11-30",
    )  # type: ignore[union-attr]
    assert [f.path for f in manifest.files] == ["data/person.csv", "data/household.csv"]
    assert manifest.file("data/household.csv").mode == "delta"
    assert manifest.file("data/person.csv").mode == "full"
    for path, content in FILES.items():
        assert verified.read(path) == content
        assert manifest.file(path).sha256 == hashlib.sha256(content).hexdigest()
    with pytest.raises(KeyError):
        verified.read("manifest.json")
    members = dict(unpack(package))
    assert list(members) == [
        "manifest.json",
        "manifest.sig",
        "data/person.csv",
        "data/household.csv",
    ]
    assert manifest.raw == members["manifest.json"]
    assert "青禾镇人民政府" in members["manifest.json"].decode("utf-8")  # ensure_ascii=False
    assert members["manifest.json"].startswith(b'{\n  "format"')  # indent=2, key order kept
    assert re.fullmatch(rb"[A-Za-z0-9+/]{86}==\n", members["manifest.sig"])
    assert read_manifest_unverified(package) == manifest
    # Ed25519 and the fixed ZIP times make building reproducible
    assert build_package(manifest_dict(), FILES, _private_pem(county_key)) == package


def test_build_does_not_change_the_callers_manifest(county_key: Ed25519PrivateKey) -> None:
    doc = manifest_dict()
    build_package(doc, FILES, _private_pem(county_key))
    assert "sha256" not in doc["files"][0]


def test_directory_entry_data_is_tolerated(
    county_key: Ed25519PrivateKey, package: bytes, trusted: dict[str, bytes]
) -> None:
    members = unpack(package)
    pkg = rezip([*members[:2], ("data/", b""), *members[2:]])
    assert verify(pkg, trusted).read("data/person.csv") == PERSON_CSV


def test_receipt_without_files_or_as_of(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes]
) -> None:
    doc = manifest_dict(kind="receipt", files=[])
    del doc["as_of"]
    verified = verify(build_package(doc, {}, _private_pem(county_key)), trusted)
    assert verified.manifest.files == () and verified.manifest.as_of is None


# --- signature, sender, recipient ----------------------------------------------------------------


def test_flipped_signature_byte(package: bytes, trusted: dict[str, bytes]) -> None:
    sig = bytearray(base64.b64decode(dict(unpack(package))["manifest.sig"]))
    sig[10] ^= 0x01
    pkg = replace(package, "manifest.sig", base64.b64encode(bytes(sig)) + b"\n")
    refused(pkg, trusted, "signature_invalid", COUNTY)


def test_signature_not_base64(package: bytes, trusted: dict[str, bytes]) -> None:
    refused(
        replace(package, "manifest.sig", b"not a signature!\n"),
        trusted,
        "signature_invalid",
        "base64",
    )
    refused(replace(package, "manifest.sig", b"\n"), trusted, "signature_invalid", "manifest.sig")


def test_signed_by_another_key(trusted: dict[str, bytes]) -> None:
    pkg = build_package(manifest_dict(), FILES, _private_pem(Ed25519PrivateKey.generate()))
    refused(pkg, trusted, "signature_invalid", COUNTY)


def test_manifest_edited_after_signing(package: bytes, trusted: dict[str, bytes]) -> None:
    raw = dict(unpack(package))["manifest.json"]
    edited = raw.replace(b'"sequence": 2', b'"sequence": 3')
    assert edited != raw
    refused(replace(package, "manifest.json", edited), trusted, "signature_invalid")
    # whitespace counts too: the signature is over the exact bytes
    refused(replace(package, "manifest.json", raw + b"\n"), trusted, "signature_invalid")


def test_manifest_listing_an_extra_file_after_signing(
    package: bytes, trusted: dict[str, bytes]
) -> None:
    doc = json.loads(dict(unpack(package))["manifest.json"])
    doc["files"].append(
        {**doc["files"][0], "path": "data/extra.csv", "sha256": hashlib.sha256(b"x").hexdigest()}
    )
    members = unpack(package)
    members[0] = ("manifest.json", json.dumps(doc, ensure_ascii=False, indent=2).encode())
    refused(rezip([*members, ("data/extra.csv", b"x")]), trusted, "signature_invalid")


def test_unknown_sender_is_checked_before_files(package: bytes) -> None:
    tampered = replace(package, "data/person.csv", PERSON_CSV + b"x")
    refused(tampered, {}, "unknown_sender", COUNTY)


def test_wrong_recipient_is_checked_before_files(package: bytes, trusted: dict[str, bytes]) -> None:
    tampered = replace(package, "data/person.csv", PERSON_CSV + b"x")
    refused(tampered, trusted, "wrong_recipient", TOWNSHIP, recipient_code=OTHER_TOWNSHIP)


def test_broken_configured_key_is_an_installation_error(package: bytes) -> None:
    with pytest.raises(UserError) as caught:
        verify(package, {COUNTY: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
    assert not isinstance(caught.value, PackageRefused)
    assert COUNTY in caught.value.message and "公钥" in caught.value.message


# --- files ---------------------------------------------------------------------------------------


def test_modified_data_file(package: bytes, trusted: dict[str, bytes]) -> None:
    changed = PERSON_CSV.replace("陈一".encode(), "陈三".encode())
    exc = refused(
        replace(package, "data/person.csv", changed),
        trusted,
        "checksum_mismatch",
        "data/person.csv",
    )
    expected = hashlib.sha256(PERSON_CSV).hexdigest()
    actual = hashlib.sha256(changed).hexdigest()
    assert expected[:16] in exc.message and actual[:16] in exc.message


def test_listed_file_missing(package: bytes, trusted: dict[str, bytes]) -> None:
    members = [m for m in unpack(package) if m[0] != "data/household.csv"]
    refused(rezip(members), trusted, "checksum_mismatch", "data/household.csv", "不在数据包中")


def test_corrupt_compressed_data(county_key: Ed25519PrivateKey, trusted: dict[str, bytes]) -> None:
    noise = random.Random(1).randbytes(4000)  # incompressible: the deflate stream holds it verbatim
    files = {**FILES, "data/person.csv": noise}
    pkg = bytearray(build_package(manifest_dict(), files, _private_pem(county_key)))
    with zipfile.ZipFile(io.BytesIO(bytes(pkg))) as zf:
        info = zf.getinfo("data/person.csv")
    # the local header is 30 bytes + the name; flip a byte in the middle of the compressed data
    pkg[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    refused(bytes(pkg), trusted, "checksum_mismatch", "data/person.csv", "损坏")


# --- unsafe members ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.csv", ".."),
        ("data/../../evil.csv", ".."),
        ("/etc/evil.csv", "绝对路径"),
        ("/data/person2.csv", "绝对路径"),
        ("C:/evil.csv", "盘符"),
        ("data\\evil.csv", "反斜杠"),
        ("data/./evil.csv", "路径不规范"),
        ("data//evil.csv", "路径不规范"),
        ("data/evil.csv:stream", "Windows"),
        ("data/con.csv", "保留设备名"),
        ("data/evil.csv.", "结尾"),
        ("data/evil\u202ecsv.exe", "不可见字符"),
        ("evil.csv", "不在 data/ 目录下"),
        ("Manifest.json", "重复"),
        ("other/", "data/ 以外的目录"),
    ],
)
def test_unsafe_member_names(
    package: bytes, trusted: dict[str, bytes], name: str, why: str
) -> None:
    pkg = rezip([*unpack(package), (name, b"x")])
    exc = refused(pkg, trusted, "unsafe_member", why)
    assert "成员" in exc.message


def test_unsafe_names_are_refused_before_the_signature(package: bytes) -> None:
    # no trusted key at all: the container check still comes first
    refused(rezip([*unpack(package), ("../evil.csv", b"x")]), {}, "unsafe_member", "..")


def test_symlink_member(package: bytes, trusted: dict[str, bytes]) -> None:
    link = zipfile.ZipInfo("data/person.csv")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = [(n, c) for n, c in unpack(package) if n != "data/person.csv"]
    refused(
        rezip([*members, (link, b"/etc/passwd")]),
        trusted,
        "unsafe_member",
        "符号链接",
        "data/person.csv",
    )


def test_special_file_member(package: bytes, trusted: dict[str, bytes]) -> None:
    fifo = zipfile.ZipInfo("data/fifo.csv")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    refused(rezip([*unpack(package), (fifo, b"")]), trusted, "unsafe_member", "特殊文件")


def test_extra_unlisted_member(package: bytes, trusted: dict[str, bytes]) -> None:
    pkg = rezip([*unpack(package), ("data/extra.csv", b"a,b\n")])
    refused(pkg, trusted, "unsafe_member", "data/extra.csv", "清单")


@pytest.mark.parametrize(
    "duplicate", ["data/person.csv", "data/Person.csv", "DATA/person.csv", "manifest.json"]
)
def test_duplicate_members(package: bytes, trusted: dict[str, bytes], duplicate: str) -> None:
    members = unpack(package)
    content = dict(members).get(duplicate, PERSON_CSV)
    exc = refused(rezip([*members, (duplicate, content)]), trusted, "unsafe_member", "重复")
    assert duplicate in exc.message


@pytest.mark.parametrize(
    "name",
    ["data/inner.zip", "data/inner.7z", "data/inner.rar", "data/person.csv.gz", "data/a.tar"],
)
def test_nested_archive_member(package: bytes, trusted: dict[str, bytes], name: str) -> None:
    refused(
        rezip([*unpack(package), (name, b"PK\x03\x04")]), trusted, "unsafe_member", "压缩包", name
    )


def test_listed_file_whose_content_is_an_archive(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes]
) -> None:
    files = {**FILES, "data/person.csv": gzip.compress(PERSON_CSV)}
    pkg = build_package(manifest_dict(), files, _private_pem(county_key))
    refused(pkg, trusted, "unsafe_member", "data/person.csv", "压缩包")


def test_xlsx_data_file_is_not_a_nested_archive(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes]
) -> None:
    xlsx = rezip([("[Content_Types].xml", b"<Types/>")])
    doc = manifest_dict(
        kind="report",
        files=[{**manifest_dict()["files"][0], "path": "data/report.xlsx", "format": "xlsx"}],
    )
    pkg = build_package(doc, {"data/report.xlsx": xlsx}, _private_pem(county_key))
    assert verify(pkg, trusted).read("data/report.xlsx") == xlsx


def test_zip_bomb(package: bytes, trusted: dict[str, bytes]) -> None:
    zeros = bytes(50 * 2**20)
    members = [(n, zeros if n == "data/person.csv" else c) for n, c in unpack(package)]
    pkg = rezip(members)
    assert len(pkg) < 100 * 2**10
    refused(pkg, trusted, "unsafe_member", "压缩炸弹", "data/person.csv")
    # not even a trusted key is needed to refuse it: nothing was decompressed
    refused(pkg, {}, "unsafe_member", "压缩炸弹")


def test_size_limits(package: bytes, trusted: dict[str, bytes]) -> None:
    refused(package, trusted, "unsafe_member", "单个文件上限", max_member_bytes=64)
    refused(package, trusted, "unsafe_member", "总大小", max_total_bytes=500)


def test_encrypted_member(package: bytes, trusted: dict[str, bytes]) -> None:
    pkg = bytearray(package)
    position = pkg.find(b"PK\x01\x02")  # first central directory entry (manifest.json)
    pkg[position + 8] |= 0x01  # general purpose flag: encrypted
    refused(bytes(pkg), trusted, "unsafe_member", "加密")


# --- malformed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello, not a zip", b"PK\x03\x04 truncated"])
def test_not_a_zip(trusted: dict[str, bytes], data: bytes) -> None:
    refused(data, trusted, "malformed", "ZIP")


def test_truncated_package(package: bytes, trusted: dict[str, bytes]) -> None:
    refused(package[: len(package) // 2], trusted, "malformed", "ZIP")


def test_manifest_not_json(county_key: Ed25519PrivateKey, trusted: dict[str, bytes]) -> None:
    refused(signed(county_key, b"{not json"), trusted, "malformed", "manifest.json", "JSON")
    refused(signed(county_key, b"[1, 2]"), trusted, "malformed", "JSON 对象")
    refused(signed(county_key, "\ufeff{}".encode()), trusted, "malformed", "JSON")
    refused(signed(county_key, b"\xff\xfe{}"), trusted, "malformed", "UTF-8")


def test_wrong_format_string(county_key: Ed25519PrivateKey, trusted: dict[str, bytes]) -> None:
    raw = manifest_bytes(manifest_dict(format="govshare-exchange/2"))
    refused(signed(county_key, raw), trusted, "malformed", "govshare-exchange/2", "format")


def test_missing_manifest_or_signature(package: bytes, trusted: dict[str, bytes]) -> None:
    members = unpack(package)
    refused(
        rezip([m for m in members if m[0] != "manifest.json"]),
        trusted,
        "malformed",
        "manifest.json",
    )
    refused(
        rezip([m for m in members if m[0] != "manifest.sig"]), trusted, "malformed", "manifest.sig"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "gift"}, "kind"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": "2"}, "sequence"),
        ({"package_id": "not-a-uuid"}, "package_id"),
        ({"recipient": {"code": "4419", "name": "青禾镇"}}, "recipient.code"),
        ({"created_at": "2026-11-30T09:00:00"}, "时区"),
        ({"as_of": "2026/11/30"}, "as_of"),
        ({"files": "data/person.csv"}, "files"),
    ],
)
def test_signed_manifest_with_bad_fields(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes], changes: dict, field: str
) -> None:
    raw = manifest_bytes(manifest_dict(**changes))
    refused(signed(county_key, raw), trusted, "malformed", field)


def test_signed_manifest_missing_field_or_duplicate_key(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes]
) -> None:
    doc = manifest_dict()
    del doc["kind"]
    refused(signed(county_key, manifest_bytes(doc)), trusted, "malformed", "kind")
    raw = manifest_bytes(manifest_dict()).replace(b'"sequence": 2', b'"sequence": 2, "sequence": 9')
    refused(signed(county_key, raw), trusted, "malformed", "sequence", "重复")


def test_unsigned_bad_manifest_reports_the_signature(
    county_key: Ed25519PrivateKey, trusted: dict[str, bytes]
) -> None:
    doc = manifest_dict()
    del doc["kind"]
    raw = manifest_bytes(doc)
    pkg = rezip(
        [
            ("manifest.json", raw),
            ("manifest.sig", sign(Ed25519PrivateKey.generate(), raw)),
            *FILES.items(),
        ]
    )
    refused(pkg, trusted, "signature_invalid")


def test_unsupported_compression(package: bytes, trusted: dict[str, bytes]) -> None:
    refused(rezip(unpack(package), method=zipfile.ZIP_BZIP2), trusted, "malformed", "压缩方式")


def test_read_manifest_unverified(package: bytes, trusted: dict[str, bytes]) -> None:
    forged = build_package(
        manifest_dict(sequence=7), FILES, _private_pem(Ed25519PrivateKey.generate())
    )
    claims = read_manifest_unverified(forged)  # claims are readable before trust is checked …
    assert (claims.sender.code, claims.sequence) == (COUNTY, 7)
    refused(forged, trusted, "signature_invalid")  # … and refused when it is
    with pytest.raises(PackageRefused) as caught:
        read_manifest_unverified(b"garbage")
    assert caught.value.reason_code == "malformed"


# --- in memory only, and no library exception escapes -------------------------------------------


def test_verification_never_touches_the_disk(
    package: bytes, trusted: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    path = source / "回流数据包_0002.zip"
    path.write_bytes(package)
    cwd = tmp_path / "cwd"
    temp = tmp_path / "temp"
    cwd.mkdir()
    temp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    verified = verify(path, trusted)
    assert verified.read("data/person.csv") == PERSON_CSV
    read_manifest_unverified(path)
    with pytest.raises(PackageRefused):
        verify(rezip([*unpack(package), ("../evil.csv", b"x")]), trusted)
    assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["in", "cwd", "temp", path.name])


def test_byte_flips_give_a_refusal_or_exactly_the_signed_content(
    package: bytes, trusted: dict[str, bytes]
) -> None:
    rng = random.Random(20261130)
    accepted = 0
    for _ in range(400):
        damaged = bytearray(package)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        try:
            verified = verify(bytes(damaged), trusted)
        except PackageRefused as exc:
            assert exc.reason_code in REASONS
            continue
        accepted += 1
        assert {p: verified.read(p) for p in FILES} == FILES
    assert accepted < 400


# --- keys ----------------------------------------------------------------------------------------


def test_load_public_key_and_fingerprint(county_key: Ed25519PrivateKey) -> None:
    pem = _public_pem(county_key)
    assert load_public_key(pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == county_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw = county_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert public_key_fingerprint(pem) == hashlib.sha256(raw).hexdigest()


def test_load_public_key_refuses_other_keys(county_key: Ed25519PrivateKey) -> None:
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for bad, word in [(rsa_pem, "Ed25519"), (b"garbage", "PEM"), (_private_pem(county_key), "PEM")]:
        with pytest.raises(UserError) as caught:
            load_public_key(bad)
        assert word in caught.value.message and re.search(r"[\u4e00-\u9fff]", caught.value.message)


def test_build_package_refuses_bad_input(county_key: Ed25519PrivateKey) -> None:
    pem = _private_pem(county_key)
    with pytest.raises(ValueError, match="没有提供内容"):
        build_package(manifest_dict(), {"data/person.csv": PERSON_CSV}, pem)
    with pytest.raises(ValueError, match="没有列入清单"):
        build_package(manifest_dict(), {**FILES, "data/extra.csv": b""}, pem)
    with pytest.raises(ValueError, match="kind"):
        build_package(manifest_dict(kind="gift"), FILES, pem)
    with pytest.raises(UserError, match="私钥"):
        build_package(manifest_dict(), FILES, _public_pem(county_key))


def test_a_package_going_up_carries_the_audit_anchor(store, tmp_path) -> None:
    """A report going up is written through audited_write, like any export: the audit head goes
    into its signed manifest, and a later cut or rewrite of the township's trail shows against it."""
    from govshare_desktop.core.export.audited import audited_write, read_anchor
    from govshare_desktop.core.security.audit import Anchor

    township_key = Ed25519PrivateKey.generate()
    for i in range(3):
        audit_trail(store).log(store.principal, "search", f"查找 {i}")
    report = manifest_dict(
        kind="report",
        sender={"code": TOWNSHIP, "name": "青禾镇人民政府"},
        recipient={"code": COUNTY, "name": "东莞市政务服务和数据管理局"},
        sequence=1,
    )
    del report["as_of"]
    written = audited_write(
        store,
        tmp_path / "report.zip",
        lambda temp, anchor: temp.write_bytes(
            build_package(report, FILES, _private_pem(township_key), audit_anchor=anchor)
        ),
        masked=True,
        count=2,
        action="send",
    )
    anchor = read_anchor(written.path)
    assert anchor is not None and Anchor.parse(anchor).seq == 3  # the head before the "send"
    received = verify(
        written.path.read_bytes(), {TOWNSHIP: _public_pem(township_key)}, recipient_code=COUNTY
    )
    assert received.manifest.audit_anchor == anchor  # covered by the signature
    auditor = Principal("zhao", Role.AUDITOR)
    assert audit_trail(store).verify(auditor, Anchor.parse(anchor)).ok
    with pytest.raises(ValueError, match="audit_anchor"):
        build_package(report, FILES, _private_pem(township_key), audit_anchor="3:xyz")
