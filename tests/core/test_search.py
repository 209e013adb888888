from datetime import date, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from govshare_desktop.core.browse import PERSONS, Browser, Query
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.store.models import Batch, Person, person_name_values
from govshare_desktop.core.store.search import SearchKind, classify
from govshare_desktop.core.store.township import init_township

PEOPLE = [
    ("王芳", date(1980, 1, 2)),
    ("王芳芳", date(1981, 2, 3)),
    ("张三丰", date(1950, 3, 4)),
    ("张三", date(1990, 4, 5)),
    ("曾国藩", date(1961, 5, 6)),
    ("李四", date(2001, 6, 7)),
]


def _id(i: int, birth: date) -> str:
    return idnumber.make("441900", birth, 100 + i, male=i % 2 == 0)


@pytest.fixture
def people(any_store):
    store = any_store  # each search test runs on a SQLite file and on PostgreSQL
    with store.transaction() as session:
        init_township(session, "441900199000", "青禾镇")
        batch = Batch(
            dataset="person",
            source_department="测试公安局",
            imported_at=datetime(2026, 10, 31, 9),
            imported_by="test",
        )
        session.add(batch)
        session.flush()
        # half through the ORM (validates), half through a Core bulk insert (column defaults)
        for i, (name, birth) in enumerate(PEOPLE[:3]):
            session.add(
                Person(
                    id_number=_id(i, birth),
                    name=name,
                    sex_code="1",
                    birth_date=birth,
                    batch_id=batch.id,
                )
            )
        session.execute(
            insert(Person),
            [
                {
                    "id_number": _id(i, birth),
                    "name": name,
                    "sex_code": "1",
                    "birth_date": birth,
                    "batch_id": batch.id,
                }
                for i, (name, birth) in enumerate(PEOPLE[3:], start=3)
            ],
        )
    return store


def names(store, text: str) -> list[str]:
    browser = Browser(store)
    query = Query(PERSONS, {"search": text}, sort="name")
    ids = browser.ids(query)
    rows = browser.rows(PERSONS, ids)
    return [rows[i][PERSONS.column_index("name")] for i in ids]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", SearchKind.EMPTY),
        ("王芳", SearchKind.NAME),
        ("11010519491231002x", SearchKind.ID_EXACT),
        ("１１０１０５", SearchKind.ID_FRAGMENT),
        ("0105", SearchKind.ID_FRAGMENT),
        ("44", SearchKind.ID_PREFIX),
        ("ZSF", SearchKind.INITIALS),
        ("110105491231002", SearchKind.ID_EXACT),  # 15-digit legacy number
        ("110105194912310021", SearchKind.ID_FRAGMENT),  # bad check digit: still a fragment
        ("%", SearchKind.NOTHING),
        ("'", SearchKind.NOTHING),
        (" ", SearchKind.NOTHING),
        ("_", SearchKind.NOTHING),
        ("*", SearchKind.NOTHING),
        ("％＿　", SearchKind.NOTHING),  # full-width
    ],
)
def test_classify(text: str, kind: SearchKind) -> None:
    assert classify(text).kind is kind


def test_two_character_name(people) -> None:
    # A trigram index finds nothing for 2 characters; the name index must.
    assert names(people, "王芳") == ["王芳", "王芳芳"]


def test_one_character_and_given_name(people) -> None:
    assert set(names(people, "张")) == {"张三", "张三丰"}
    assert names(people, "三丰") == ["张三丰"]
    assert names(people, "芳芳") == ["王芳芳"]


def test_pinyin_initials(people) -> None:
    assert names(people, "zsf") == ["张三丰"]
    assert set(names(people, "zs")) == {"张三", "张三丰"}
    assert names(people, "zgf") == ["曾国藩"]  # polyphonic surname read as a surname
    assert names(people, "ZSF") == ["张三丰"]


def test_full_and_partial_id(people) -> None:
    number = _id(2, date(1950, 3, 4))
    assert names(people, number) == ["张三丰"]
    assert names(people, number.lower()) == ["张三丰"]
    assert names(people, number[6:14]) == ["张三丰"]  # birth date part
    assert names(people, number[-4:]) == ["张三丰"]  # last four, as on a masked card
    assert len(names(people, "44")) == len(PEOPLE)


def test_no_match(people) -> None:
    assert names(people, "赵") == []
    assert names(people, "qqq") == []
    assert names(people, "999999") == []


def test_index_follows_renames_and_deletes(people) -> None:
    with people.transaction() as session:
        person = session.scalar(select(Person).where(Person.name == "李四"))
        person.name = "李思远"
    assert names(people, "思远") == ["李思远"]
    assert names(people, "lsy") == ["李思远"]
    assert names(people, "李四") == []
    with people.transaction() as session:  # a Core bulk update keeps the keys through the helper
        session.execute(
            update(Person).where(Person.name == "李思远").values(**person_name_values("单田芳"))
        )
    assert names(people, "田芳") == ["单田芳"]
    assert names(people, "stf") == ["单田芳"]
    assert names(people, "思远") == []
    with people.transaction() as session:
        session.execute(delete(Person).where(Person.name == "单田芳"))
    assert names(people, "田芳") == []


def test_search_combines_with_filters_and_sort(people) -> None:
    browser = Browser(people)
    query = Query(PERSONS, {"search": "张", "status": "normal"}, sort="age")
    rows = browser.rows(PERSONS, ids := browser.ids(query))
    assert [rows[i][PERSONS.column_index("name")] for i in ids] == ["张三", "张三丰"]
    descending = browser.ids(query.sorted_by("age", descending=True))
    assert descending == list(reversed(ids))


@pytest.mark.parametrize("text", ["%", "'", " ", "_", "*", "%_*' ", '"', "·", "％", "\\"])
def test_punctuation_finds_no_one(people, text: str) -> None:
    """Issue 13: a search of punctuation or spaces only listed every person."""
    assert names(people, text) == []
    assert len(names(people, "")) == len(PEOPLE)  # no text at all is no search: everybody


@pytest.mark.parametrize("text", ["王%", "王_", "%王", "王'", "王*"])
def test_wildcards_are_never_wildcards(people, text: str) -> None:
    assert set(names(people, text)) == {"王芳", "王芳芳"}  # the punctuation is ignored, not matched


def test_social_security_search_of_punctuation_finds_no_one(demo_store) -> None:
    from govshare_desktop.core.browse import ENROLLMENTS

    browser = Browser(demo_store)
    assert browser.ids(Query(ENROLLMENTS, {"search": "%"})) == []
    assert browser.ids(Query(ENROLLMENTS, {"search": ""}))
