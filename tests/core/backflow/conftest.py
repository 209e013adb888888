"""Fixtures for the import pipeline: a township with its six villages, CSV writers (the sample
files: the ``samples`` fixture of tests/conftest.py)."""

from __future__ import annotations

import pytest

from govshare_desktop.core.store.township import add_village, init_township

VILLAGES = [
    ("441900199001", "青禾社区居委会"),
    ("441900199201", "东岭村委会"),
    ("441900199202", "西塘村委会"),
    ("441900199203", "南坑村委会"),
    ("441900199204", "北山村委会"),
    ("441900199205", "新围村委会"),
]


@pytest.fixture
def township(store):
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇", county_name="东莞市")
        for code, name in VILLAGES:
            add_village(session, code, name)
    return store
