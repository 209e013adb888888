"""The window's search box and a search with nothing to search for (issue 13)."""

import pytest


@pytest.mark.parametrize("text", ["%", "'", " ", "_", "*"])
def test_punctuation_lists_no_one_and_says_what_to_type(qtbot, window, text) -> None:
    window.show_page("person")  # the window opens on the 工作台
    view = window.current_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    assert not view.search_hint.isVisible()
    window.search.setText(text)
    qtbot.waitUntil(lambda: view.model.query.filters.get("search") == text)
    qtbot.waitUntil(lambda: not view.model.waiting)  # the rows are read off the UI thread
    assert view.model.rowCount() == 0
    assert view.search_hint.isVisible()
    assert view.search_hint.text() == "请输入姓名、身份号码或拼音首字母"
    window.search.setText("")
    qtbot.waitUntil(lambda: view.model.rowCount() > 0)
    assert not view.search_hint.isVisible()
