"""The import wizard with pytest-qt: every sample through the pages, the mapping correction, cancel."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWizard
from sqlalchemy import func, select

from govshare_desktop.core.exchange.trust import trust_sender
from govshare_desktop.core.store.models import Enrollment, Payment, Person
from govshare_desktop.core.store.township import add_village, init_township
from govshare_desktop.ui.import_wizard import ImportWizard


@pytest.fixture
def township(store):
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        add_village(session, "441900199201", "东岭村委会")
    return store


def _next(qtbot, wizard: QWizard, page) -> None:
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is page and page.isComplete(), timeout=20_000)


def _column(table, header: str) -> int:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index(header)


def test_every_sample_through_the_wizard(qtbot, township, samples) -> None:
    with township.transaction() as session:
        pem = (samples / "keys" / "county-demo-ed25519.pub.pem").read_bytes()
        trust_sender(
            session,
            pem,
            code="441900000000",
            name="东莞市",
            user="admin",
            now=datetime(2026, 11, 1),
        )
    files = [
        samples / "青禾镇_户籍人口回流_2026-10.xlsx",
        samples / "青禾镇_城乡居民养老保险参保_2026-10.csv",
        samples / "青禾镇_城乡居民养老金发放明细_202608-202610.csv",
    ]
    wizard = ImportWizard(township, files)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.files_page.list.count() == 3 and wizard.files_page.isComplete()

    _next(qtbot, wizard, wizard.mapping_page)
    page = wizard.mapping_page
    assert page.file.count() == 3
    assert page.dataset.currentData() == "person"
    assert page.problem.text() == ""

    _next(qtbot, wizard, wizard.preview_page)
    summary = wizard.preview_page.summary
    expected = {
        p.name: json.loads((samples / f"{p.name}.expected.json").read_text("utf-8")) for p in files
    }
    for row in range(summary.rowCount()):
        name = summary.item(row, 0).text()
        assert int(summary.item(row, _column(summary, "新增")).text()) == expected[name]["accepted"]
        assert int(summary.item(row, _column(summary, "拒收")).text()) == len(
            expected[name]["rejected"]
        )
    assert wizard.preview_page.rejections.rowCount() == 2
    with township.sessions() as session:  # the preview is held, not committed
        assert session.scalar(select(func.count()).select_from(Person)) == 0

    _next(qtbot, wizard, wizard.result_page)
    with township.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1042
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 730
        assert session.scalar(select(func.count()).select_from(Payment)) == 762
    report = wizard.result_page.report.toPlainText()
    assert "校核：2 名已死亡人员" in report
    assert wizard.result_page.save_errors.isVisible()

    # The package in a second run: all four datasets.
    package = samples / "回流数据包_青禾镇_0001.zip"
    second = ImportWizard(township, [package])
    qtbot.addWidget(second)
    second.show()
    _next(qtbot, second, second.mapping_page)
    _next(qtbot, second, second.preview_page)
    assert second.preview_page.summary.rowCount() == 4
    _next(qtbot, second, second.result_page)
    assert (
        "已导入"
        in second.result_page.summary.item(0, _column(second.result_page.summary, "状态")).text()
    )


def test_clerk_corrects_an_unrecognised_column(qtbot, township, tmp_path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "证件号码,名字,联系电话\n11010519491231002X,张三,13800001111\n", encoding="utf-8"
    )
    wizard = ImportWizard(township, [path])
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.mapping_page
    qtbot.waitUntil(lambda: page.planned, timeout=10_000)
    assert not page.isComplete() and "姓名" in page.problem.text()
    combo = page.columns.cellWidget(1, 2)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findText("姓名"))
    assert page.isComplete() and page.problem.text() == ""
    _next(qtbot, wizard, wizard.preview_page)
    _next(qtbot, wizard, wizard.result_page)
    with township.sessions() as session:
        assert session.scalar(select(Person.name)) == "张三"


def test_a_changes_only_file_marks_nothing_absent(qtbot, township, tmp_path) -> None:
    first = tmp_path / "all.csv"
    first.write_text(
        "公民身份号码,姓名,联系电话\n11010519491231002X,张三,13800001111\n440524188001010014,李四,13800002222\n",
        encoding="utf-8",
    )
    change = tmp_path / "change.csv"
    change.write_text(
        "公民身份号码,姓名,联系电话\n11010519491231002X,张三,13900009999\n", encoding="utf-8"
    )
    for path, delta in ((first, False), (change, True)):
        wizard = ImportWizard(township, [path])
        qtbot.addWidget(wizard)
        wizard.show()
        wizard.next()
        qtbot.waitUntil(lambda w=wizard: w.mapping_page.planned, timeout=10_000)
        page = wizard.mapping_page
        combo = page.columns.cellWidget(1, 2)
        combo.setCurrentIndex(combo.findText("姓名"))
        page.delta.setChecked(delta)
        _next(qtbot, wizard, wizard.preview_page)
        _next(qtbot, wizard, wizard.result_page)
        summary = wizard.result_page.summary
        absent = int(summary.item(0, _column(summary, "本次不再包含")).text())
        assert absent == 0  # the first is a first import; the second only carries changes
    with township.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Person).where(Person.absent_batch_id.is_not(None))
            )
            == 0
        )
        assert session.scalar(select(Person.phone).where(Person.name == "张三")) == "13900009999"


def _rows(table, columns: int) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(columns)]
        for r in range(table.rowCount())
    ]


def test_preview_of_several_files_is_the_import_and_the_report_shows_the_findings(
    qtbot, township, samples
) -> None:
    """The package and the three tables queued together: the preview (one dry run, rolled back)
    predicts the import's counts file by file; the report names the rows left as they were and
    the payments whose amounts changed."""
    with township.transaction() as session:
        trust_sender(
            session,
            (samples / "keys" / "county-demo-ed25519.pub.pem").read_bytes(),
            code="441900000000",
            name="东莞市",
            user="admin",
            now=datetime(2026, 11, 1),
        )
    files = [
        samples / "回流数据包_青禾镇_0001.zip",
        samples / "青禾镇_户籍人口回流_2026-10.xlsx",
        samples / "青禾镇_城乡居民养老保险参保_2026-10.csv",
        samples / "青禾镇_城乡居民养老金发放明细_202608-202610.csv",
    ]
    wizard = ImportWizard(township, files)
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    _next(qtbot, wizard, wizard.preview_page)
    counted = len(["文件", "数据类型", "读取行数", "新增", "更新", "未变", "拒收", "本次不再包含"])
    preview = _rows(wizard.preview_page.summary, counted)
    with township.sessions() as session:  # the preview is held, not committed
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    _next(qtbot, wizard, wizard.result_page)
    result = _rows(wizard.result_page.summary, counted)
    assert preview == result
    assert len(result) == 7
    assert result[4][3:] == ["0", "0", "1042", "2", "0"]  # the workbook meets the package
    assert result[6][3:] == ["0", "762", "0", "0", "0"]
    report = wizard.result_page.report.toPlainText()
    assert "拒收的行（第 104、205 行）没有改动任何记录" in report
    assert "保持原样（第 104 行被拒收）：户 19920500030" in report
    assert "校核：762 条已有的待遇发放记录" in report and "+1,110.78 元" in report
    assert "金额变化：" in report and "个人账户养老金" in report
    assert "522422196403163711" not in report  # masked on screen
    assert wizard.result_page.save_errors.isVisible()


def test_a_rejected_row_becomes_a_correction_from_the_result_page(
    qtbot, qtmodeltester, township, samples
):
    """The result page offers 「向数据来源部门纠错…」: the rows this import left out, masked; the
    checksum row gets the right number and a basis and goes to the corrections waiting to be sent."""
    from govshare_desktop.core.services import reports
    from govshare_desktop.core.services.context import Context
    from govshare_desktop.ui.rejected_dialog import FIELD, KEY, STATE

    wizard = ImportWizard(township, [samples / "青禾镇_户籍人口回流_2026-10.xlsx"])
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    _next(qtbot, wizard, wizard.preview_page)
    _next(qtbot, wizard, wizard.result_page)
    button = wizard.result_page.correct
    assert button.isVisible()
    dialog = wizard.result_page.open_rejected()
    qtbot.addWidget(dialog)
    model = dialog.model
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and "2 行可以" in dialog.note.text()
    assert model.index(1, KEY).data() == "441900********1591"  # masked
    assert model.index(1, FIELD).data() == "公民身份号码"
    dialog.table.selectRow(1)
    dialog.proposed.setText("441900196111251590")
    dialog.raise_selected()  # no basis
    assert "依据" in dialog.problem.text()
    dialog.basis.setText("居民身份证")
    qtbot.mouseClick(dialog.submit, Qt.MouseButton.LeftButton)
    assert "已提出纠错" in dialog.problem.text()
    assert model.index(1, STATE).data() == "已提出"
    (raised,) = reports.correction_list(Context(township))
    assert (raised.record_key, raised.proposed_value, raised.state) == (
        "441900196111251591",
        "441900196111251590",
        "draft",
    )
    assert raised.department == "东莞市公安局"  # the workbook's 数据提供单位


def test_the_preview_is_the_import_held_back_and_cancel_drop_it(qtbot, township, samples) -> None:
    """The preview of table files imports them once and holds the transaction: nobody sees the
    rows meanwhile; Back or Cancel rolls it back; 「导入」 commits it (no second import)."""
    from govshare_desktop.core.backflow import pipeline

    runs: list[str] = []
    real_run = pipeline.run_plan

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(args[1].file_name)
        return real_run(*args, **kwargs)

    def persons() -> int:
        with township.sessions() as session:
            return session.scalar(select(func.count()).select_from(Person)) or 0

    files = [samples / "青禾镇_户籍人口回流_2026-10.xlsx"]
    wizard = ImportWizard(township, files)
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    import govshare_desktop.core.backflow.runner as runner

    runner.run_plan = counted  # type: ignore[assignment]
    try:
        _next(qtbot, wizard, wizard.preview_page)
        assert wizard.held is not None and wizard.held.state == "held"
        assert persons() == 0  # held: not seen outside
        wizard.back()  # back to the mapping: rolled back
        assert wizard.held is None and persons() == 0
        _next(qtbot, wizard, wizard.preview_page)
        held = wizard.held
        _next(qtbot, wizard, wizard.result_page)
        assert held is not None and held.state == "committed"
        assert persons() == 1042
        assert len(runs) == 2  # two previews, and the import committed the second: no third run
    finally:
        runner.run_plan = real_run  # type: ignore[assignment]

    # Cancel at the preview: nothing kept.
    again = ImportWizard(township, [samples / "青禾镇_城乡居民养老保险参保_2026-10.csv"])
    qtbot.addWidget(again)
    again.show()
    _next(qtbot, again, again.mapping_page)
    _next(qtbot, again, again.preview_page)
    held = again.held
    again.reject()
    assert held is not None and held.state == "rolled_back"
    with township.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 0
