"""The demo township generator: determinism, realistic and consistent data, the two deliberate
anomalies, refusal to overwrite, cancellation."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from govshare_desktop.core import demo, demo_departments, demo_people
from govshare_desktop.core.domain import idnumber, pinyin
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Cancelled
from govshare_desktop.core.store.engine import Store, open_store
from govshare_desktop.core.store.township import get_township, init_township

HOUSEHOLDS = 300
AS_OF = date(2026, 10, 31)
TABLES = (
    "setting",
    "area",
    "batch",
    "household",
    "person",
    "ss_enrollment",
    "ss_payment",
    *demo_departments.SOURCES,
)


def _rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def _dicts(store: Store, sql: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {table: _rows(store, table) for table in TABLES}


def _indexes(store: Store) -> list[tuple[Any, ...]]:
    """Every index and trigger as SQLite keeps it (the generator drops and remakes some)."""
    sql = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(sql)))


def _month(day: date | str) -> int:
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return value.year * 100 + value.month


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, demo.DemoSummary]:
    store = open_store(tmp_path_factory.mktemp("demo") / "t.db")
    summary = demo.generate(store, households=HOUSEHOLDS, seed=1)
    yield store, summary
    store.dispose()


@pytest.fixture(scope="module")
def persons(generated: tuple[Store, demo.DemoSummary]) -> list[dict[str, Any]]:
    return _dicts(generated[0], "SELECT * FROM person ORDER BY id")


def _fresh(tmp_path: Path, name: str = "t.db") -> Store:
    return open_store(tmp_path / name)


# --- summary, provenance ---------------------------------------------------------------------------


def test_summary_matches_tables(generated: tuple[Store, demo.DemoSummary]) -> None:
    store, summary = generated
    counts = {
        t: len(_rows(store, t)) for t in ("household", "person", "ss_enrollment", "ss_payment")
    }
    assert counts == {
        "household": summary.households,
        "person": summary.persons,
        "ss_enrollment": summary.enrollments,
        "ss_payment": summary.payments,
    }
    assert summary.households == HOUSEHOLDS
    assert 3.0 <= summary.persons / HOUSEHOLDS <= 3.7
    assert summary.payments > 20 * HOUSEHOLDS
    assert summary.seconds >= 0


def test_township_villages_and_batches(generated: tuple[Store, demo.DemoSummary]) -> None:
    store, summary = generated
    township = get_township(store)
    assert township is not None
    assert (township.code, township.name, township.is_demo) == ("441900199000", "青禾镇", True)
    villages = _dicts(
        store, "SELECT code, name, urban_rural_code FROM area WHERE level = 'village' ORDER BY code"
    )
    assert [(v["code"], v["name"], v["urban_rural_code"]) for v in villages] == [
        ("441900199001", "青禾社区居委会", "111"),
        ("441900199201", "东岭村委会", "220"),
        ("441900199202", "西塘村委会", "220"),
        ("441900199203", "南坑村委会", "220"),
        ("441900199204", "北山村委会", "220"),
        ("441900199205", "新围村委会", "220"),
    ]
    batches = {b["dataset"]: b for b in _dicts(store, "SELECT * FROM batch")}
    assert set(batches) == {
        "household",
        "person",
        "ss_enrollment",
        "ss_payment",
        *demo_departments.SOURCES,
    }
    expected_rows = {
        "household": summary.households,
        "person": summary.persons,
        "ss_enrollment": summary.enrollments,
        "ss_payment": summary.payments,
        **summary.departments,
    }
    sources = {"household": demo.POLICE, "person": demo.POLICE} | demo_departments.SOURCES
    for dataset, batch in batches.items():
        assert batch["source_department"] == sources.get(dataset, demo.HRSS)
        assert batch["imported_by"] == "demo"
        assert batch["file_name"] is None
        assert batch["imported_at"].startswith("2026-10-31 09:00:00")
        assert batch["note"] == "演示数据：govshare demo --households 300 --seed 1"
        assert batch["rows_total"] == batch["rows_inserted"] == expected_rows[dataset]
        table = "household" if dataset == "household" else dataset
        bad = _dicts(
            store,
            f"SELECT count(*) AS n FROM {table} WHERE batch_id IS NOT {batch['id']}"
            " OR as_of IS NOT '2026-10-31'",
        )
        assert bad[0]["n"] == 0, dataset


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_is_identical_and_another_seed_differs(
    generated: tuple[Store, demo.DemoSummary], tmp_path: Path
) -> None:
    store, _ = generated
    again = _fresh(tmp_path, "again.db")
    other = _fresh(tmp_path, "other.db")
    try:
        demo.generate(again, households=HOUSEHOLDS, seed=1)
        demo.generate(other, households=HOUSEHOLDS, seed=2)
        for table in TABLES:
            assert _rows(again, table) == _rows(store, table), table
        assert _rows(other, "person") != _rows(store, "person")
        assert _rows(other, "ss_payment") != _rows(store, "ss_payment")
    finally:
        again.dispose()
        other.dispose()


def test_indexes_are_made_again_after_the_rows(
    generated: tuple[Store, demo.DemoSummary], tmp_path: Path
) -> None:
    """demo_write drops the person, enrollment and department tables' indexes while it writes
    them and makes them again: the same indexes as a new database's, and in use."""
    store, _ = generated
    fresh = _fresh(tmp_path)
    try:
        assert _indexes(store) == _indexes(fresh)
        assert any(name == "ix_person_village_name" for _, name, _, _ in _indexes(store))
    finally:
        fresh.dispose()
    with store.engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM person WHERE village_code = :v AND name_initials = 'z'"
            ),
            {"v": "441900199201"},
        ).all()
        assert "ix_person_village_name" in str(plan)
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


# The 50-household township of seed 7 as the generator wrote it before it was made fast (issue 20):
# table → (columns compared, rows, SHA-256 of the rows in rowid order, first 16 hex digits).
TOWNSHIP_50_SEED_7 = {
    "area": ("code name level parent_code urban_rural_code needs_review", 8, "ff9340069223a325"),
    "batch": (
        "id dataset source_department file_name sha256 as_of imported_at imported_by rows_total rows_inserted rows_updated rows_unchanged rows_rejected note rows_absent package_id",
        10,
        "bfe0e8d5e5ba43a9",
    ),
    "household": (
        "id household_no household_type address village_code head_id_number head_name batch_id as_of absent_batch_id",
        50,
        "0677e935b9b4ade7",
    ),
    "person": (
        "id id_number name name_initials name_chars sex_code ethnicity_code birth_date household_id household_no relationship_code village_code status status_date phone batch_id as_of absent_batch_id",
        154,
        "1a386794b1bc80b6",
    ),
    "ss_enrollment": (
        "id id_number name scheme_code status_code grade_fen start_date receiving person_no village_code batch_id as_of absent_batch_id",
        254,
        "53f7ab6a2c74fc3b",
    ),
    "ss_payment": (
        "id id_number period basic_fen account_fen total_fen paid_date batch_id as_of absent_batch_id",
        1843,
        "b78dcbed1fa8f2a7",
    ),
    "disability_card": (
        "id id_number name batch_id as_of absent_batch_id card_no category_code level_code issue_date valid_until status_code village_code",
        6,
        "1570a520a0e731e2",
    ),
    "assistance": (
        "id id_number name batch_id as_of absent_batch_id category_code household_size monthly_fen start_date end_date status_code village_code",
        1,
        "3e7b1949c4f282e2",
    ),
    "allowance_payment": (
        "id id_number name batch_id as_of absent_batch_id category_code period amount_fen paid_date village_code",
        60,
        "34a5e69d11837217",
    ),
    "medical_enrollment": (
        "id id_number name batch_id as_of absent_batch_id person_no scheme_code status_code year identity_code subsidy_code personal_fen start_date village_code",
        144,
        "eb0ee898deddd4c2",
    ),
    "death_certificate": (
        "id id_number name batch_id as_of absent_batch_id death_date place_code certificate_no institution issue_date",
        3,
        "f2c6d90a361946c4",
    ),
    "cremation": (
        "id id_number name batch_id as_of absent_batch_id death_date cremation_date funeral_home certificate_no",
        2,
        "6580b640449aa4f4",
    ),
}


def test_the_township_of_a_seed_has_not_changed(tmp_path: Path) -> None:
    """Tests and benches assert facts about the demo township of a seed: making the generator
    fast or larger must not change it (ids, dates and order included)."""
    store = _fresh(tmp_path)
    try:
        demo.generate(store, households=50, seed=7)
        with store.engine.connect() as conn:
            for table, (columns, count, digest) in TOWNSHIP_50_SEED_7.items():
                names = ", ".join(columns.split())
                rows = conn.execute(text(f"SELECT {names} FROM {table} ORDER BY rowid")).all()
                found = sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]
                assert (len(rows), found) == (count, digest), table
    finally:
        store.dispose()


def test_fast_sqlite_path_writes_what_core_writes(
    generated: tuple[Store, demo.DemoSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DB-API rows, the persons staged and the payments expanded by SQLite (demo_write) are
    the rows a Core executemany of dicts writes (the path taken on PostgreSQL)."""
    monkeypatch.setattr(demo, "FAST_SQLITE_INSERTS", False)
    core = _fresh(tmp_path)
    try:
        demo.generate(core, households=HOUSEHOLDS, seed=1)
        for table in TABLES:
            assert _rows(core, table) == _rows(generated[0], table), table
    finally:
        core.dispose()


# --- persons ---------------------------------------------------------------------------------------


def test_ids_valid_unique_and_consistent(persons: list[dict[str, Any]]) -> None:
    numbers = [p["id_number"] for p in persons]
    assert len(set(numbers)) == len(numbers)
    regions = defaultdict(int)
    for p in persons:
        assert idnumber.is_valid(p["id_number"]), p
        info = idnumber.parse(p["id_number"])
        assert info.sex_code == p["sex_code"], p
        assert info.birth_date.isoformat() == p["birth_date"], p
        assert info.birth_date <= AS_OF
        regions[info.region_code] += 1
    assert regions["441900"] / len(persons) > 0.8
    assert set(regions) - {"441900"}  # some from elsewhere


def test_names_phones_ethnicity(persons: list[dict[str, Any]]) -> None:
    for p in persons:
        assert 2 <= len(p["name"]) <= 4
        assert p["name_initials"] == pinyin.initials(p["name"]), p
        assert p["name_chars"] == pinyin.spaced(p["name"]), p
        age = idnumber.age_on(date.fromisoformat(p["birth_date"]), AS_OF)
        if age < 18:
            assert p["phone"] is None
        elif p["phone"] is not None:
            assert len(p["phone"]) == 11 and p["phone"][0] == "1" and p["phone"][1] in "3456789"
            assert p["phone"].isdigit()
        assert p["village_code"] and p["household_id"] and p["relationship_code"]
    zeng = [p for p in persons if p["name"].startswith("曾")]
    assert all(p["name_initials"].startswith("z") for p in zeng)
    adults = [p for p in persons if p["birth_date"] <= "2008-10-31"]
    assert sum(p["phone"] is not None for p in adults) / len(adults) > 0.7
    ethnicities = {p["ethnicity_code"] for p in persons}
    assert "01" in ethnicities and len(ethnicities) >= 3
    han = sum(p["ethnicity_code"] == "01" for p in persons)
    assert han / len(persons) > 0.9


def test_polyphonic_and_compound_surnames_read_as_surnames() -> None:
    gen = demo_people._Generator(__import__("random").Random(3), AS_OF)
    surnames = {gen.surname() for _ in range(20_000)}
    assert {"曾", "单", "解", "仇", "欧阳"} <= surnames
    assert pinyin.initials("单秀英") == "sxy"
    assert pinyin.initials("欧阳子轩") == "oyzx"


def test_statuses(persons: list[dict[str, Any]]) -> None:
    by_status: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in persons:
        by_status[p["status"]].append(p)
    assert set(by_status) == {"normal", "deceased", "moved_out"}
    assert len(by_status["normal"]) / len(persons) > 0.95
    for status in ("deceased", "moved_out"):
        for p in by_status[status]:
            assert p["status_date"] is not None
            assert "2024-10-31" <= p["status_date"] < "2026-10-31"
            assert p["status_date"] >= p["birth_date"]
            assert p["relationship_code"] != "02"
    for p in by_status["normal"]:
        assert p["status_date"] is None
    deceased_ages = [
        idnumber.age_on(date.fromisoformat(p["birth_date"]), AS_OF) for p in by_status["deceased"]
    ]
    assert sum(a >= 60 for a in deceased_ages) / len(deceased_ages) > 0.6


# --- households ------------------------------------------------------------------------------------


def test_households_and_relationships(
    generated: tuple[Store, demo.DemoSummary], persons: list[dict[str, Any]]
) -> None:
    households = {h["id"]: h for h in _dicts(generated[0], "SELECT * FROM household")}
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for person in persons:
        p = dict(person, age=idnumber.age_on(date.fromisoformat(person["birth_date"]), AS_OF))
        members[p["household_id"]].append(p)
    assert set(members) == set(households)
    types = defaultdict(int)
    for hid, home in households.items():
        people = members[hid]
        heads = [p for p in people if p["relationship_code"] == "02"]
        assert len(heads) == 1, home
        head = heads[0]
        assert (home["head_id_number"], home["head_name"]) == (head["id_number"], head["name"])
        assert home["household_no"][:3] == "199"
        assert home["household_no"][3:6] == home["village_code"][-3:]
        assert len(home["household_no"]) == 11
        assert home["address"].startswith("广东省东莞市青禾镇")
        assert all(p["village_code"] == home["village_code"] for p in people)
        types[home["household_type"]] += 1
        if home["household_type"] == "2":
            assert {p["relationship_code"] for p in people} - {"02"} <= {"99", "80"}
            continue
        for p in people:
            code = p["relationship_code"]
            if code == "02":
                continue
            if code in ("11", "12"):
                assert p["sex_code"] != head["sex_code"]
                assert code == ("12" if head["sex_code"] == "1" else "11")
                assert abs(p["age"] - head["age"]) <= 6
            elif code in {"20", "21", "22", "23", "24", "25", "26", "29"}:
                assert p["sex_code"] == "1" and head["age"] - p["age"] >= 15, (head, p)
            elif code in {"30", "31", "32", "33", "34", "35", "36", "39"}:
                assert p["sex_code"] == "2" and head["age"] - p["age"] >= 15, (head, p)
            elif code == "38":
                assert p["sex_code"] == "2"
            elif code in ("41", "42"):
                assert p["sex_code"] == ("1" if code == "41" else "2")
                wives = [q for q in people if q["relationship_code"] == "38"]
                sons = [q for q in people if q["relationship_code"] in {"20", "21", "22", "23"}]
                assert wives and all(w["age"] - p["age"] >= 18 for w in wives)
                assert any(s["age"] - p["age"] >= 18 for s in sons)
            elif code in ("51", "52"):
                assert p["sex_code"] == ("1" if code == "51" else "2")
                assert p["age"] - head["age"] >= 18
            else:
                pytest.fail(f"unexpected relationship {code} in a 家庭户")
    assert types["1"] > 0.9 * len(households)
    assert types["2"] >= 1
    codes = {p["relationship_code"] for p in persons}
    assert {"02", "12", "38", "41", "42", "51", "52", "99"} <= codes
    assert codes & {"20", "21", "22"} and codes & {"30", "31", "32"}


# --- social security -------------------------------------------------------------------------------


def test_enrollments_consistent_with_age(
    generated: tuple[Store, demo.DemoSummary], persons: list[dict[str, Any]]
) -> None:
    store, _ = generated
    by_id = {p["id_number"]: p for p in persons}
    enrollments = _dicts(store, "SELECT * FROM ss_enrollment ORDER BY id")
    seen = set()
    for e in enrollments:
        assert (e["id_number"], e["scheme_code"]) not in seen
        seen.add((e["id_number"], e["scheme_code"]))
        assert idnumber.is_valid(e["id_number"])
        info = idnumber.parse(e["id_number"])
        age = info.age_on(AS_OF)
        assert e["village_code"] and e["name"] and e["person_no"]
        assert e["start_date"] and e["start_date"] <= "2026-10-31"
        assert e["start_date"] >= info.birth_date.isoformat()
        if e["scheme_code"] in ("110", "170"):
            assert age >= 16, e
            assert e["start_date"] >= demo_people._add_years(info.birth_date, 16).isoformat()
        if e["scheme_code"] == "170":
            assert e["start_date"] >= "2009-01-01"
            assert e["grade_fen"] in {g * 100 for g, _ in demo.GRADE_TIERS}
            if age >= 60:
                assert e["receiving"] == 1 and e["status_code"] == "3"
            else:
                assert e["receiving"] == 0 and e["status_code"] in ("1", "2")
        else:
            assert e["receiving"] == 0 and e["grade_fen"] is None and e["status_code"] == "1"
        person = by_id.get(e["id_number"])
        if person is not None:
            assert person["name"] == e["name"]
            assert person["village_code"] == e["village_code"]
            if person["status"] != "normal":  # only the two deliberate anomalies
                assert person["status"] == "deceased" and e["scheme_code"] == "170"
    schemes = defaultdict(int)
    for e in enrollments:
        schemes[e["scheme_code"]] += 1
    assert set(schemes) == {"110", "170", "310", "390"}
    assert schemes["390"] > schemes["170"] > schemes["110"]
    ids = {e["id_number"] for e in enrollments}
    assert sum(p["id_number"] in ids and p["status"] != "normal" for p in persons) == 2
    children = [p for p in persons if p["birth_date"] > "2015-01-01" and p["status"] == "normal"]
    assert sum(p["id_number"] in ids for p in children) / len(children) > 0.8


def test_enrollments_for_people_outside_the_registry(
    generated: tuple[Store, demo.DemoSummary],
) -> None:
    store, summary = generated
    outside = _dicts(
        store,
        "SELECT * FROM ss_enrollment WHERE id_number NOT IN (SELECT id_number FROM person)",
    )
    assert outside
    assert 0.01 <= len(outside) / summary.enrollments <= 0.04
    assert all(idnumber.is_valid(e["id_number"]) and e["village_code"] for e in outside)


def test_payments(generated: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = generated
    payments = _dicts(store, "SELECT * FROM ss_payment ORDER BY id")
    receivers = {
        e["id_number"]
        for e in _dicts(store, "SELECT id_number FROM ss_enrollment WHERE receiving = 1")
    }
    paid = {p["id_number"] for p in payments}
    assert paid  # deceased receivers keep their past payments but lose their enrollment
    for p in payments:
        year, month = divmod(p["period"], 100)
        assert 202111 <= p["period"] <= 202610
        assert p["basic_fen"] == 23800 - 500 * (2026 - year)
        assert 3000 <= p["account_fen"] <= 15000
        assert p["total_fen"] == p["basic_fen"] + p["account_fen"]
        assert p["paid_date"] == date(year, month, 10).isoformat()
        info = idnumber.parse(p["id_number"])
        sixtieth = demo_people._add_years(info.birth_date, 60)
        assert p["period"] > _month(sixtieth)
    living_receivers_paid = receivers & paid
    assert len(living_receivers_paid) >= 0.9 * len(receivers)


def test_exactly_two_deceased_are_paid_after_death(
    generated: tuple[Store, demo.DemoSummary], persons: list[dict[str, Any]]
) -> None:
    store, _ = generated
    last_paid: dict[str, int] = {}
    for row in _dicts(store, "SELECT id_number, max(period) AS last FROM ss_payment GROUP BY 1"):
        last_paid[row["id_number"]] = row["last"]
    paid_after = [
        p
        for p in persons
        if p["status"] == "deceased"
        and p["id_number"] in last_paid
        and last_paid[p["id_number"]] > _month(p["status_date"])
    ]
    assert len(paid_after) == 2
    assert all(last_paid[p["id_number"]] == 202610 for p in paid_after)
    moved_paid_after = [
        p
        for p in persons
        if p["status"] == "moved_out"
        and p["id_number"] in last_paid
        and last_paid[p["id_number"]] > _month(p["status_date"])
    ]
    assert moved_paid_after == []
    anomalies = {p["id_number"] for p in paid_after}
    enrolled = _dicts(
        store,
        "SELECT id_number, scheme_code, receiving FROM ss_enrollment WHERE id_number IN "
        f"({', '.join(repr(a) for a in sorted(anomalies))})",
    )
    assert {(e["scheme_code"], e["receiving"]) for e in enrolled} == {("170", 1)}


# --- refusal, cancellation, progress ---------------------------------------------------------------


def test_refuses_a_database_with_data_and_leaves_it_unchanged(
    generated: tuple[Store, demo.DemoSummary],
) -> None:
    store, _ = generated
    before = _snapshot(store)
    with pytest.raises(UserError, match="已有数据"):
        demo.generate(store, households=10, seed=5)
    assert _snapshot(store) == before


def test_refuses_another_township(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    try:
        with store.transaction() as session:
            init_township(session, "469030202000", "南平乡")
        before = _snapshot(store)
        with pytest.raises(UserError, match="469030202000"):
            demo.generate(store, households=10)
        assert _snapshot(store) == before
    finally:
        store.dispose()


def test_accepts_an_empty_database_already_set_to_the_demo_township(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    try:
        with store.transaction() as session:
            init_township(session, demo.DEMO_TOWNSHIP_CODE, demo.DEMO_TOWNSHIP_NAME)
        summary = demo.generate(store, households=5)
        assert summary.households == 5
    finally:
        store.dispose()


def test_rejects_bad_household_counts(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    try:
        for bad in (0, -1, demo.MAX_HOUSEHOLDS + 1):
            with pytest.raises(UserError, match="户数"):
                demo.generate(store, households=bad)
    finally:
        store.dispose()


def test_accepts_the_largest_townships(tmp_path: Path) -> None:
    """200,000 households pass the check (cancelled at the first progress report, before
    anything is drawn or written: generating them is for the benches)."""
    assert demo.MAX_HOUSEHOLDS >= 200_000
    store = _fresh(tmp_path)
    try:
        for households in (100_000, 200_000, demo.MAX_HOUSEHOLDS):
            cancel = Cancel()
            cancel.cancel()
            with pytest.raises(Cancelled):
                demo.generate(store, households=households, cancel=cancel)
        assert get_township(store) is None
    finally:
        store.dispose()


def test_household_numbers_at_the_5_digit_boundary() -> None:
    number = demo_people.household_number
    # Below 100,000 households the 户号 is what it always was: 11 digits.
    assert number("441900199201", 1, 99_999) == "19920100001"
    assert number("441900199201", 99_999, 99_999) == "19920199999"
    # From 100,000 on, every 户号 of the township has 12 digits: unique, one length.
    assert number("441900199201", 1, 100_000) == "199201000001"
    assert number("441900199205", 100_000, 100_000) == "199205100000"
    assert number("441900199001", 200_000, 200_000) == "199001200000"
    for households in (99_999, 100_000, 200_000, demo.MAX_HOUSEHOLDS):
        edge = [*range(1, 50), *range(households - 50, households + 1)]
        numbers = {
            number(v.code, n, households) for v in demo.VILLAGES for n in edge if n <= households
        }
        assert len(numbers) == len(demo.VILLAGES) * len(edge)
        assert {len(n) for n in numbers} == {11 if households < 100_000 else 12}
    with pytest.raises(ValueError):
        number("441900199201", 100_000, 99_999)


def test_household_numbers_follow_the_generator_index() -> None:
    gen = demo_people._Generator(__import__("random").Random(5), AS_OF, households=200_000)
    homes = [gen.household(index) for index in (0, 99_998, 99_999, 199_999)]
    assert [h.household_no[6:] for h in homes] == ["000001", "099999", "100000", "200000"]
    assert all(h.household_no[3:6] == h.village_code[-3:] for h in homes)


def test_id_numbers_fill_a_birth_date_and_then_refuse() -> None:
    """500 people of one sex born on one day in one region get 500 valid, distinct numbers (at
    200,000 households the busiest day holds a few dozen); the 501st is refused, not looped on."""
    gen = demo_people._Generator(__import__("random").Random(9), AS_OF)
    born = date(1966, 5, 4)
    numbers = {gen.new_id("441900", born, True) for _ in range(demo_people.ID_SEQUENCES)}
    assert len(numbers) == demo_people.ID_SEQUENCES
    for n in numbers:
        info = idnumber.parse(n)
        assert (info.birth_date, info.sex_code, info.region_code) == (born, "1", "441900")
    assert idnumber.is_valid(gen.new_id("441900", born, False))  # the other sex: free
    with pytest.raises(RuntimeError, match="no free ID number"):
        gen.new_id("441900", born, True)


def test_cancel_writes_nothing(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    calls: list[tuple[int, int, str]] = []
    try:
        empty = _snapshot(store)
        indexes = _indexes(store)

        cancel = Cancel()

        def progress(*args: Any) -> None:
            calls.append(args)
            if len(calls) >= 5:  # after households and some persons have been written
                cancel.cancel()

        with pytest.raises(Cancelled, match="已取消"):
            demo.generate(store, households=HOUSEHOLDS, progress=progress, cancel=cancel)
        assert len(calls) == 5
        assert _snapshot(store) == empty
        assert _indexes(store) == indexes  # cancelled with the person indexes dropped: back
        assert get_township(store) is None
    finally:
        store.dispose()


def test_progress_reports(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    calls: list[tuple[int, int, str]] = []
    try:
        summary = demo.generate(
            store, households=HOUSEHOLDS, progress=lambda *args: calls.append(args)
        )
    finally:
        store.dispose()
    assert 5 <= len(calls) <= 50
    done, total, _label = calls[-1]
    assert (
        done
        == total
        == summary.households
        + summary.persons
        + summary.enrollments
        + summary.payments
        + sum(summary.departments.values())
    )
    assert all(isinstance(label, str) and label for _, _, label in calls)
    assert all(0 <= d <= t for d, t, _ in calls)
