"""一表通 values on both backends (issue 18): prefill computes the same numbers from the same
township on a SQLite file and on PostgreSQL; entered values, overrides with their history, submit
and return behave alike."""

from __future__ import annotations

from datetime import datetime

import pytest

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import COMPUTED, ENTERED, OVERRIDDEN, FormValues

T = "441900199000"
V = "441900199201"
P = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 30)


def _pool(store) -> FormValues:  # type: ignore[no-untyped-def]
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    values = FormValues(store, dictionary, templates)
    values.prefill(P, township_code=T, user="clerk", now=NOW)
    return values


@pytest.fixture(scope="module")
def sqlite_values(tmp_path_factory, _demo_template) -> dict:  # type: ignore[no-untyped-def]
    """Every prefilled value of the demo township on SQLite: what PostgreSQL must compute."""
    import shutil

    from govshare_desktop.core.store.engine import open_store
    from tests.conftest import as_clerk

    path = tmp_path_factory.mktemp("forms") / "demo.db"
    shutil.copyfile(_demo_template, path)
    store = as_clerk(open_store(path))
    values = _pool(store).values(P, [V, T])
    store.dispose()
    return {
        element: {area: row.value for area, row in rows.items()} for element, rows in values.items()
    }


def test_prefill_computes_the_same_values_on_postgresql(pg_demo_store, sqlite_values) -> None:
    values = _pool(pg_demo_store).values(P, [V, T])
    computed = {
        element: {area: row.value for area, row in rows.items()} for element, rows in values.items()
    }
    assert computed == sqlite_values
    assert len(computed) >= 15 and int(computed["P_TOTAL"][T]) > 0


def test_entered_values_overrides_and_history(any_demo_store) -> None:
    pool = _pool(any_demo_store)
    pool.set("S_LOW_INCOME", V, P, "12", user="clerk", now=NOW)
    assert pool.values(P, [V])["S_LOW_INCOME"][V].origin == ENTERED
    computed = pool.values(P, [V])["P_80PLUS"][V].value
    with pytest.raises(UserError, match="理由"):
        pool.set("P_80PLUS", V, P, "999", user="clerk", now=NOW)
    pool.set("P_80PLUS", V, P, "999", user="clerk", now=NOW, reason="村委会核实")
    row = pool.values(P, [V])["P_80PLUS"][V]
    assert (row.value, row.origin, row.computed_value) == ("999", OVERRIDDEN, computed)
    history = pool.history("P_80PLUS", V, P)
    assert [(h.old_value, h.new_value, h.new_origin) for h in history] == [
        (computed, "999", OVERRIDDEN)
    ]
    pool.set("P_80PLUS", V, P, computed, user="clerk", now=NOW)
    assert pool.values(P, [V])["P_80PLUS"][V].origin == COMPUTED
