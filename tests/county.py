"""The county side, as the tests play it: a department with keys of its own that issues report tasks
(with a form of its own), reads the township's report packages strictly by the contract
(exchange-format.md) — signature with the PEM the township exported, every value row, the PDF opened
with poppler — and answers with replies and receipts."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govshare_desktop.core.exchange.package import (
    Manifest,
    VerifiedPackage,
    build_package,
    verify_package,
)

TOWNSHIP = {"code": "441900199000", "name": "青禾镇人民政府"}
VALUES_HEADER = ["数据项代码", "对象", "统计期", "值", "来源", "说明"]


@dataclass
class Report:
    """A report package as the county reads it."""

    manifest: Manifest
    report: dict[str, Any]
    values: list[dict[str, str]]
    pdf: bytes
    pdf_text: str


@dataclass
class County:
    code: str = "441900000002"
    name: str = "东莞市民政局"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    sequence: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)  # last sequence seen per sender

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # ------------------------------------------------------------ packages going down

    def package(
        self,
        kind: str,
        files: dict[str, bytes],
        *,
        recipient: dict[str, str] = TOWNSHIP,
        sequence: int | None = None,
        datasets: dict[str, str] | None = None,
        as_of: str | None = None,
        mode: str | None = None,
        package_id: str | None = None,
    ) -> bytes:
        if sequence is None:
            sequence = self.sequence.get(recipient["code"], 0) + 1
            self.sequence[recipient["code"]] = sequence
        manifest = {
            "format": "govshare-exchange/1",
            "package_id": package_id or str(uuid.uuid4()),
            "kind": kind,
            "sender": {"code": self.code, "name": self.name},
            "recipient": recipient,
            "sequence": sequence,
            "created_at": "2026-12-02T09:00:00+08:00",
            "files": [
                {
                    "path": path,
                    "dataset": (datasets or {}).get(path, kind),
                    "source_department": self.name,
                    "format": path.rsplit(".", 1)[1],
                    "encoding": "utf-8",
                }
                for path in files
            ],
        }
        if as_of:
            manifest["as_of"] = as_of
        if mode:
            for entry in manifest["files"]:
                entry["mode"] = mode
        return build_package(manifest, files, self.private_pem)

    def task(
        self,
        template_id: str,
        period: str,
        *,
        version: str = "2027.1",
        deadline: str = "2027-01-08",
        area: str = TOWNSHIP["code"],
        templates: dict[str, str] | None = None,
        elements: str | None = None,
        task_id: str | None = None,
        **package: Any,
    ) -> bytes:
        document = {
            "task_id": task_id or f"MZ-{uuid.uuid4().hex[:8]}",
            "template_id": template_id,
            "template_version": version,
            "period": period,
            "area": area,
            "issued_by": {"code": self.code, "name": self.name},
            "issued_at": "2026-12-02T09:00:00+08:00",
            "deadline": deadline,
            "note": "请按期报送",
        }
        files = {"data/task.json": json.dumps(document, ensure_ascii=False).encode("utf-8")}
        for name, text in (templates or {}).items():
            files[f"data/templates/{name}"] = text.encode("utf-8")
        if elements is not None:
            files["data/elements.toml"] = elements.encode("utf-8")
        return self.package("report_task", files, **package)

    def reply(self, package_id: str, result: str, note: str = "", **package: Any) -> bytes:
        return self.replies([("report", package_id, result, note)], **package)

    def replies(self, answers: list[tuple[str, str, str, str]], **package: Any) -> bytes:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["答复编号", "针对", "编号", "结果", "说明", "答复日期", "生效批次"])
        for target, number, result, note in answers:
            writer.writerow([str(uuid.uuid4()), target, number, result, note, "2026-12-03", ""])
        return self.package(
            "reply", {"data/replies.csv": out.getvalue().encode("utf-8")}, **package
        )

    def receipt(self, manifest: Manifest, status: str = "applied", **package: Any) -> bytes:
        document = {
            "package_id": manifest.package_id,
            "sequence": manifest.sequence,
            "received_at": datetime(2026, 12, 3, 10, 0).astimezone().isoformat(),
            "status": status,
            "reason_code": None,
        }
        data = json.dumps(document).encode("utf-8")
        return self.package("receipt", {"data/receipt.json": data}, **package)

    # ------------------------------------------------------------ packages coming up

    def read_package(self, data: bytes, township_pem: bytes) -> VerifiedPackage:
        """Verify as the contract says (signature with the registered key, recipient, sequence
        one more than the last from this sender)."""
        verified = verify_package(
            data, trusted_keys={TOWNSHIP["code"]: township_pem}, recipient_code=self.code
        )
        manifest = verified.manifest
        assert manifest.sender.code == TOWNSHIP["code"]
        assert manifest.sequence == self.received.get(manifest.sender.code, 0) + 1, (
            f"sequence {manifest.sequence} after {self.received.get(manifest.sender.code, 0)}"
        )
        self.received[manifest.sender.code] = manifest.sequence
        return verified

    def read_report(self, data: bytes, township_pem: bytes) -> Report:
        verified = self.read_package(data, township_pem)
        manifest = verified.manifest
        assert manifest.kind == "report"
        paths = sorted(entry.path for entry in manifest.files)
        assert paths == ["data/form.pdf", "data/report.json", "data/values.csv"]
        report = json.loads(verified.read("data/report.json"))
        for key in ("task_id", "template_id", "template_version", "period", "area"):
            assert key in report, key
        assert set(report["submitted_by"]) == {"role", "name"}
        reader = csv.reader(io.StringIO(verified.read("data/values.csv").decode("utf-8")))
        header = next(reader)
        assert header == VALUES_HEADER
        values = [dict(zip(header, row, strict=True)) for row in reader]
        assert report["values"] == len(values)
        assert manifest.file("data/values.csv").rows == len(values)
        for row in values:
            assert row["来源"] in ("computed", "entered", "overridden"), row
            assert row["统计期"] == report["period"]
        pdf = verified.read("data/form.pdf")
        return Report(manifest, report, values, pdf, pdf_text(pdf))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text through poppler (pdfinfo must accept it first)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        assert "Pages:" in info.stdout
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
