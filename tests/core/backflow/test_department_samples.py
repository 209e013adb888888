"""The 民政, 医保, 殡葬, 卫健 and 残联 sample files: what tests/department_samples.py writes, each
imported cleanly with its expected counts, and all of them joining the 户籍 sample."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from govshare_desktop.core.backflow.pipeline import import_file
from tests.department_samples import FILES, PERSON_WORKBOOK, SAMPLE_DIR, build

# These samples are made in this repository: they are read from it whatever GOVSHARE_SAMPLES says.
SAMPLES = SAMPLE_DIR


def _expected(dataset: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{FILES[dataset]}.expected.json").read_text(encoding="utf-8"))


def _cells(path: Path) -> tuple[list[tuple[Any, ...]], list[str]]:
    sheet = load_workbook(path).active
    return list(sheet.iter_rows(values_only=True)), sorted(map(str, sheet.merged_cells.ranges))


def test_the_samples_are_what_the_script_writes(tmp_path: Path) -> None:
    build(tmp_path)
    for name in FILES.values():
        made, kept = tmp_path / name, SAMPLES / name
        assert kept.exists(), f"{name} missing: run python -m tests.department_samples"
        if name.endswith(".csv"):
            assert made.read_bytes() == kept.read_bytes(), name
        else:
            assert _cells(made) == _cells(kept), name
        expected = Path(f"{kept}.expected.json")
        assert Path(f"{made}.expected.json").read_bytes() == expected.read_bytes(), name


@pytest.mark.parametrize("dataset", list(FILES))
def test_each_sample_imports_cleanly(township, dataset: str) -> None:
    expected = _expected(dataset)
    started = time.perf_counter()
    result = import_file(township, SAMPLES / FILES[dataset], user="test")
    seconds = time.perf_counter() - started
    assert result.dataset == expected["dataset"] == dataset
    assert (result.rows_read, result.inserted, result.rejected) == (
        expected["rows"],
        expected["accepted"],
        0,
    )
    assert result.rejections == [] == expected["rejected"]
    assert result.report is not None and result.report.new_villages == []
    if "total_fen" in expected:
        assert result.summary["total_fen"] == expected["total_fen"]
    assert seconds < 5  # about 0.1 s for the 990 医保 rows


def test_department_and_date_come_from_the_sheet(township) -> None:
    result = import_file(township, SAMPLES / FILES["disability_card"], user="test")
    with township.engine.connect() as conn:
        source, as_of = conn.execute(
            text("SELECT source_department, as_of FROM batch WHERE id = :id"),
            {"id": result.batch_id},
        ).one()
    assert (source, as_of) == ("东莞市残疾人联合会", "2026-10-31")
    # the two-row header: 残疾人证信息 over 证号, 类别, 等级, 发证日期, 有效期至
    assert set(result.headers) >= {"残疾人证号", "残疾类别", "残疾等级", "发证日期", "有效期至"}


def test_the_samples_join_the_registry_sample(township) -> None:
    import_file(township, SAMPLES / PERSON_WORKBOOK, user="test")
    for name in FILES.values():
        assert import_file(township, SAMPLES / name, user="test").rejected == 0
    with township.engine.connect() as conn:

        def ids(sql: str) -> set[str]:
            return {r[0] for r in conn.execute(text(sql))}

        persons = ids("SELECT id_number FROM person")
        for dataset in FILES:
            assert ids(f"SELECT id_number FROM {dataset}") <= persons, dataset
        deceased = ids("SELECT id_number FROM person WHERE status = 'deceased'")
        assert ids("SELECT id_number FROM cremation") == deceased
        assert ids("SELECT id_number FROM death_certificate") == deceased
        found = ids(
            "SELECT a.id_number FROM assistance a JOIN cremation c ON c.id_number = a.id_number "
            "WHERE a.status_code = '1' AND a.end_date IS NULL"
        )
    cross = _expected("assistance")["cross_checks"]["assistance_after_cremation"]
    assert sorted(found) == cross and len(cross) == 1
