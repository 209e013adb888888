"""The import wizard recognises each sample of the 民政, 医保, 殡葬, 卫健 and 残联 datasets, and its
preview counts are the expected ones."""

from __future__ import annotations

import json

from govshare_desktop.ui.import_wizard import ImportWizard
from tests.department_samples import FILES, SAMPLE_DIR
from tests.ui.test_import_wizard import _column, _next, township  # noqa: F401 (the fixture)


def test_the_wizard_recognises_every_department_sample(qtbot, township) -> None:  # noqa: F811
    files = [SAMPLE_DIR / name for name in FILES.values()]
    wizard = ImportWizard(township, files)
    qtbot.addWidget(wizard)
    wizard.show()
    _next(qtbot, wizard, wizard.mapping_page)
    page = wizard.mapping_page
    assert page.file.count() == len(files)
    for index, dataset in enumerate(FILES):
        page.file.setCurrentIndex(index)
        assert page.dataset.currentData() == dataset, page.file.currentText()
        assert page.problem.text() == ""

    _next(qtbot, wizard, wizard.preview_page)
    summary = wizard.preview_page.summary
    assert summary.rowCount() == len(files)
    for row in range(summary.rowCount()):
        name = summary.item(row, 0).text()
        expected = json.loads((SAMPLE_DIR / f"{name}.expected.json").read_text("utf-8"))
        assert int(summary.item(row, _column(summary, "新增")).text()) == expected["accepted"]
        assert int(summary.item(row, _column(summary, "拒收")).text()) == 0
    assert wizard.preview_page.rejections.rowCount() == 0
