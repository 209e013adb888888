"""Every path that writes personal data goes through the same controls: the department workbook
(表样) fill as much as a form or a list export — masked by default, a reason and the permission
for full data, an audit entry with the file's SHA-256 before the file appears, the audit anchor in
the file, and a file private to its owner. Real workbooks, real audit trail."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook

from govshare_desktop.core.browse import PERSONS, Query
from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.audited import read_anchor
from govshare_desktop.core.export.forms import export_sheets, form_sheets
from govshare_desktop.core.export.lists import export_list
from govshare_desktop.core.export.workbook_fill import fill_workbook
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from tests.core.test_workbook_fill import (
    PERIOD,
    ROSTER_MAPPING,
    TODAY,
    TOWNSHIP,
    roster_workbook,
    write_mapping,
)

AUDITOR = Principal("auditor", Role.AUDITOR)


def _roster(pool: FormValues, tmp_path: Path) -> Path:
    roster_workbook(tmp_path / "roster.xlsx")
    return write_mapping(tmp_path / "roster.toml", ROSTER_MAPPING)


def _entries(pool: FormValues, name: str) -> list:
    found = audit_trail(pool.store).entries(AUDITOR, action="export")
    return [json.loads(e.detail) for e in found if e.object == name]


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_department_roster_is_masked_by_default_and_audited(pool, tmp_path) -> None:
    mapping = _roster(pool, tmp_path)
    out = fill_workbook(pool, mapping, TOWNSHIP, PERIOD, tmp_path / "masked.xlsx", today=TODAY)
    data = pool.collect("mz_elderly_allowance_roster", TOWNSHIP, PERIOD)
    text = "\n".join(
        str(c.value) for row in load_workbook(out)["花名册"].iter_rows() for c in row if c.value
    )
    for subject, _ in data.subjects:
        assert subject not in text  # no full ID number
        assert masking.mask_id_number(subject) in text
        assert data.value("P_NAME", subject) not in text.split("\n")
    (entry,) = _entries(pool, "masked.xlsx")
    assert entry["masked"] is True and entry["workbook"] == "roster.xlsx"
    assert entry["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert read_anchor(out) is not None
    if os.name == "posix":
        assert _private(out)


def test_a_full_data_roster_needs_a_reason_and_the_permission(pool, tmp_path) -> None:
    mapping = _roster(pool, tmp_path)
    target = tmp_path / "full.xlsx"
    with pytest.raises(UserError, match="须说明事由"):
        fill_workbook(pool, mapping, TOWNSHIP, PERIOD, target, masked=False)
    auditor = FormValues(pool.store.acting(AUDITOR), pool.dictionary, pool.templates)
    with pytest.raises(PermissionDenied):
        fill_workbook(auditor, mapping, TOWNSHIP, PERIOD, target, masked=False, reason="查看")
    assert not target.exists() and not list(tmp_path.glob(".*full*"))
    fill_workbook(pool, mapping, TOWNSHIP, PERIOD, target, masked=False, reason="报县民政局")
    (entry,) = _entries(pool, "full.xlsx")
    assert entry["masked"] is False and entry["reason"] == "报县民政局"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_every_export_of_personal_data_is_private_to_its_owner(pool, tmp_path) -> None:
    old = os.umask(0o022)  # an ordinary login's umask: files 0644 unless made private
    try:
        sheets = form_sheets(pool, "mz_elderly_allowance_roster", PERIOD, masked=True)
        (pdf,) = export_sheets(pool.store, sheets, tmp_path / "r.pdf", fmt="pdf")
        (xlsx,) = export_sheets(pool.store, sheets, tmp_path / "r.xlsx", fmt="xlsx")
        listed = export_list(
            pool.store, Query(PERSONS, {}), tmp_path / "l.xlsx", masked=True, today=TODAY
        )
    finally:
        os.umask(old)
    for path in (pdf.path, xlsx.path, listed.path):
        assert _private(path), f"{path.name}: {oct(path.stat().st_mode)}"
