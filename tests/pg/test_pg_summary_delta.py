"""The summary refreshed for what each batch touched equals the one counted again from the
records on PostgreSQL too (the scenario of tests/core/test_summary_delta.py on the demo
township on the server: dates and booleans as psycopg gives them)."""

from __future__ import annotations

from tests.core.test_summary_delta import scenario


def test_each_kind_of_batch_is_summarised_as_a_full_count_would(
    pg_demo_store, monkeypatch, tmp_path
) -> None:
    scenario(pg_demo_store, monkeypatch, tmp_path)
