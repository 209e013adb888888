"""Search on a server (issue 18): the two kinds SQLite answers with FTS5 — an ID fragment and a
name — are statements PostgreSQL answers from the indexes of migration 0011. The planner is told
not to scan (the test table is small enough that a scan would win), so a statement the index
cannot serve shows up as a sequential scan; the results themselves are tested on both backends
in tests/core/test_search.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from govshare_desktop.core.store.search import classify


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("19501", "ix_person_id_number_trgm"),
        ("王芳", "ix_person_name_chars"),
        ("芳", "ix_person_name_chars"),
    ],
)
def test_fragments_and_names_use_the_server_indexes(pg_store, typed: str, index: str) -> None:
    fragment, params = classify(typed).sql("postgresql")
    with pg_store.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.execute(text(f"EXPLAIN {fragment}"), params).scalars())
    assert index in plan and "Seq Scan" not in plan, plan


def test_a_fragment_is_never_a_pattern() -> None:
    for typed in ("19%01", "1_9", "%", "_"):
        query = classify(typed)
        _, params = query.sql("postgresql")
        assert not any("%" in str(v).strip("%") or "_" in str(v) for v in params.values())
