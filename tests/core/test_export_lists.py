"""List export to .xlsx: real workbooks written by the exporter, read back with openpyxl."""

from __future__ import annotations

import errno
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import text

from govshare_desktop.core.browse import (
    DATASETS,
    HOUSEHOLDS,
    PAYMENTS,
    PERSONS,
    Browser,
    Query,
)
from govshare_desktop.core.domain import masking
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export.lists import (
    display_width,
    export_list,
    sheet_name,
)
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.security.audit import audit_trail

TODAY = date(2026, 11, 26)


def _export(store, query, path, *, masked, **kwargs):
    return export_list(store, query, path, masked=masked, today=TODAY, **kwargs)


def _column(sheet, header: str) -> int:
    """1-based index of the column with this header."""
    return next(c.column for c in sheet[1] if c.value == header)


def _raw_rows(store, query):
    return list(Browser(store).iter_rows(query))


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_every_dataset_has_bold_frozen_header_autofilter_and_all_rows(demo_store, tmp_path, key):
    query = Query(DATASETS[key])
    result = _export(demo_store, query, tmp_path / f"{key}.xlsx", masked=True)
    count = Browser(demo_store).count(query)
    assert result.rows == count > 0
    assert result.path == tmp_path / f"{key}.xlsx" and len(result.sha256) == 64

    sheet = load_workbook(result.path).active
    columns = DATASETS[key].columns
    assert sheet.title == DATASETS[key].title
    assert [c.value for c in sheet[1]] == [c.header for c in columns]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(columns))}{count + 1}"
    assert sheet.max_row == count + 1
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.paperSize == 9  # printed: A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0


def test_person_cells_keep_their_kind(demo_store, tmp_path):
    query = Query(PERSONS)
    result = _export(demo_store, query, tmp_path / "persons.xlsx", masked=False)
    sheet = load_workbook(result.path).active
    raw = _raw_rows(demo_store, query)
    ids, born, age = (_column(sheet, h) for h in ("公民身份号码", "出生日期", "年龄"))
    household_no = _column(sheet, "户号")
    for number, row in enumerate(sheet.iter_rows(min_row=2), start=0):
        values = raw[number]
        id_cell = row[ids - 1]
        assert id_cell.data_type == "s" and isinstance(id_cell.value, str)
        assert id_cell.value == values[PERSONS.column_index("id_number")]  # all 18 characters
        assert isinstance(row[household_no - 1].value, str)  # a long digit code stays text
        assert isinstance(row[born - 1].value, datetime)
        assert row[born - 1].number_format == "yyyy-mm-dd"
        assert row[born - 1].value.date().isoformat() == values[PERSONS.column_index("birth_date")]
        assert isinstance(row[age - 1].value, int)
    assert sheet.cell(2, _column(sheet, "性别")).value in ("男", "女")  # labels, not codes


def test_money_is_yuan_with_two_decimals(demo_store, tmp_path):
    query = Query(PAYMENTS, {"period": 202610})
    result = _export(demo_store, query, tmp_path / "payments.xlsx", masked=True)
    sheet = load_workbook(result.path).active
    raw = _raw_rows(demo_store, query)
    assert result.rows == len(raw) > 0
    total = _column(sheet, "实发金额（元）")
    paid = _column(sheet, "发放日期")
    for number, row in enumerate(sheet.iter_rows(min_row=2)):
        cell = row[total - 1]
        assert isinstance(cell.value, (int, float)) and cell.data_type == "n"
        assert cell.number_format in ("0.00", "#,##0.00")
        assert round(cell.value * 100) == raw[number][PAYMENTS.column_index("total")]
        assert isinstance(row[paid - 1].value, datetime)
        assert row[2].value == "2026-10"  # 发放年月 as the window shows it


def test_masked_export_hides_names_and_id_numbers(demo_store, tmp_path):
    query = Query(PERSONS)
    result = _export(demo_store, query, tmp_path / "masked.xlsx", masked=True)
    raw = _raw_rows(demo_store, query)
    sheet = load_workbook(result.path).active
    first = raw[0]
    full_id = first[PERSONS.column_index("id_number")]
    assert sheet.cell(2, 1).value == masking.mask_id_number(full_id)
    assert sheet.cell(2, 2).value == masking.mask_name(first[PERSONS.column_index("name")])
    assert sheet.cell(2, _column(sheet, "出生日期")).value.endswith("-**-**")
    # No full ID number, name or phone number anywhere in the package (cells, properties, strings).
    with zipfile.ZipFile(result.path) as package:
        xml = "".join(package.read(n).decode("utf-8") for n in package.namelist())
    for values in raw[:50]:
        assert values[PERSONS.column_index("id_number")] not in xml
        phone = values[PERSONS.column_index("phone")]
        assert not phone or phone not in xml
        name = values[PERSONS.column_index("name")]
        if len(name) >= 2:
            assert f">{name}<" not in xml


def test_unmasked_export_has_full_values(demo_store, tmp_path):
    query = Query(HOUSEHOLDS)
    raw = _raw_rows(demo_store, query)
    result = _export(demo_store, query, tmp_path / "full.xlsx", masked=False)
    sheet = load_workbook(result.path).active
    assert sheet.cell(2, _column(sheet, "户主姓名")).value == raw[0][2]
    assert sheet.cell(2, _column(sheet, "住址")).value == raw[0][6]
    assert isinstance(sheet.cell(2, _column(sheet, "在册人数")).value, int)
    assert not result.masked


def test_formula_looking_text_stays_text(demo_store, tmp_path):
    with demo_store.engine.begin() as conn:
        first_id = conn.execute(text("SELECT id FROM person ORDER BY id LIMIT 1")).scalar()
        conn.execute(
            text("UPDATE person SET name = :n, phone = :p WHERE id = :id"),
            {"n": '=HYPERLINK("http://x","y")', "p": "+8613800000000", "id": first_id},
        )
        conn.execute(
            text("UPDATE household SET address = '@SUM(1,2)', head_name = '-2+3' WHERE id = 1")
        )
    persons = _export(demo_store, Query(PERSONS), tmp_path / "p.xlsx", masked=False)
    households = _export(demo_store, Query(HOUSEHOLDS), tmp_path / "h.xlsx", masked=False)
    sheet = load_workbook(persons.path).active
    cells = {c.value: c for row in sheet.iter_rows(min_row=2) for c in row if c.value}
    for value in ('=HYPERLINK("http://x","y")', "+8613800000000"):
        assert cells[value].data_type == "s"
        assert cells[value].quotePrefix  # stays text even when the cell is edited in Excel
    sheet = load_workbook(households.path).active
    cells = {c.value: c for row in sheet.iter_rows(min_row=2) for c in row if c.value}
    assert cells["@SUM(1,2)"].data_type == "s" and cells["-2+3"].data_type == "s"
    for path in (persons.path, households.path):
        with zipfile.ZipFile(path) as package:
            assert "<f>" not in package.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_search_and_filters_export_what_the_window_lists(demo_store, tmp_path):
    browser = Browser(demo_store)
    with demo_store.engine.connect() as conn:
        village = conn.execute(text("SELECT village_code FROM person LIMIT 1")).scalar()
    query = Query(PERSONS, {"village": village, "search": "王"}).sorted_by("age", descending=True)
    expected = [browser.rows(PERSONS, [i])[i][0] for i in browser.ids(query)]
    result = _export(demo_store, query, tmp_path / "found.xlsx", masked=False)
    sheet = load_workbook(result.path).active
    assert result.rows == browser.count(query) == len(expected) > 0
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == expected


def test_chosen_columns_only(demo_store, tmp_path):
    result = _export(
        demo_store,
        Query(PERSONS),
        tmp_path / "two.xlsx",
        masked=True,
        columns=["name", "village"],
    )
    sheet = load_workbook(result.path).active
    assert [c.value for c in sheet[1]] == ["姓名", "所属村（社区）"]
    assert sheet.auto_filter.ref == f"A1:B{result.rows + 1}"


def test_an_empty_list_still_has_its_header(demo_store, tmp_path):
    query = Query(PERSONS, {"search": "不存在的人名字"})
    result = _export(demo_store, query, tmp_path / "empty.xlsx", masked=True)
    sheet = load_workbook(result.path).active
    assert result.rows == 0
    assert [c.value for c in sheet[1]][:2] == ["公民身份号码", "姓名"]


def test_progress_is_reported_every_few_thousand_rows(demo_store, tmp_path):
    calls: list[tuple[int, int]] = []
    query = Query(PAYMENTS)
    result = _export(
        demo_store,
        query,
        tmp_path / "all.xlsx",
        masked=True,
        progress=lambda d, t, _label: calls.append((d, t)),
    )
    total = Browser(demo_store).count(query)
    assert calls[0] == (0, total) and calls[-1] == (total, total) and result.rows == total
    assert 2 < len(calls) < total // 1000
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_cancel_leaves_no_file(demo_store, tmp_path):
    target = tmp_path / "cancelled.xlsx"
    cancel = Cancel()

    def progress(done: int, total: int, _label: str) -> None:
        if done:
            cancel.cancel()  # the clerk presses 取消 after the first progress report

    with pytest.raises(Cancelled) as raised:
        _export(
            demo_store,
            Query(PAYMENTS),
            target,
            masked=True,
            progress=progress,
            cancel=cancel,
        )
    assert isinstance(raised.value, UserError) and "取消" in raised.value.message
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("demo.db")] == []


def test_cancel_keeps_an_existing_file(demo_store, tmp_path):
    target = tmp_path / "list.xlsx"
    target.write_bytes(b"the earlier export")
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        _export(demo_store, Query(HOUSEHOLDS), target, masked=True, cancel=cancel)
    assert target.read_bytes() == b"the earlier export"


def test_full_disk_is_a_user_error_naming_the_file(demo_store, tmp_path, monkeypatch):
    target = tmp_path / "out" / "人员名单.xlsx"
    target.parent.mkdir()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", no_space)
    with pytest.raises(UserError) as raised:
        _export(demo_store, Query(PERSONS), target, masked=True)
    assert str(target) in raised.value.message and "磁盘空间不足" in raised.value.message
    assert list(target.parent.iterdir()) == []  # no half file, no temporary directory


def test_missing_folder_is_a_user_error(demo_store, tmp_path):
    target = tmp_path / "nowhere" / "x.xlsx"
    with pytest.raises(UserError) as raised:
        _export(demo_store, Query(PERSONS), target, masked=True)
    assert str(target) in raised.value.message


def test_overwrites_an_existing_file_atomically(demo_store, tmp_path):
    target = tmp_path / "list.xlsx"
    target.write_bytes(b"old")
    result = _export(demo_store, Query(HOUSEHOLDS), target, masked=True)
    assert load_workbook(target).active.max_row == result.rows + 1


def test_columns_are_wide_enough_for_chinese_text(demo_store, tmp_path):
    result = _export(demo_store, Query(HOUSEHOLDS), tmp_path / "h.xlsx", masked=False)
    sheet = load_workbook(result.path).active
    widths = {c.value: sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
    assert widths["户主公民身份号码"] >= 18  # 8 CJK characters, and 18-digit values
    assert widths["住址"] > widths["户号"]  # long Chinese addresses
    assert all(6 <= w <= 62 for w in widths.values())


def test_display_width_and_sheet_names():
    assert display_width("王芳") == 4 and display_width("441900") == 6
    assert display_width("（元）") == 6
    assert sheet_name("人员") == "人员"
    assert sheet_name("a/b[c]") == "a_b_c_"
    assert len(sheet_name("长" * 40)) == 31


def test_every_list_export_is_audited_with_its_anchor(demo_store, tmp_path):
    import json

    from govshare_desktop.core.export.audited import read_anchor
    from govshare_desktop.core.security.audit import Anchor
    from govshare_desktop.core.security.permissions import Principal, Role

    auditor = Principal("zhao", Role.AUDITOR)
    result = _export(
        demo_store, Query(PERSONS), tmp_path / "full.xlsx", masked=False, reason="民政办核对"
    )
    entry = audit_trail(demo_store).entries(auditor, action="export", limit=1)[0]
    detail = json.loads(entry.detail)
    assert entry.object == "full.xlsx"
    assert detail["sha256"] == result.sha256 and detail["count"] == result.rows
    assert detail["masked"] is False and detail["reason"] == "民政办核对"
    assert detail["dataset"] == "person"
    assert audit_trail(demo_store).verify(auditor, Anchor.parse(read_anchor(result.path))).ok


def test_export_needs_the_permission_and_leaves_no_file(demo_store, tmp_path):
    from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role

    auditor = demo_store.acting(Principal("zhao", Role.AUDITOR))
    with pytest.raises(PermissionDenied, match="无权导出"):
        _export(auditor, Query(PERSONS), tmp_path / "no.xlsx", masked=True)
    assert not (tmp_path / "no.xlsx").exists()
