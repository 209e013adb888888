"""The element dictionary (good and broken files) and computed elements against a hand-checked store."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.compute import compute_area_values
from govshare_desktop.core.forms.dictionary import FormsError, load_dictionary
from govshare_desktop.core.store.models import Batch, Enrollment, Household, Payment, Person
from govshare_desktop.core.store.township import add_village, init_township

T = "441900199000"
V1, V2 = "441900199201", "441900199202"


def test_shipped_dictionary_loads() -> None:
    elements = load_dictionary()
    assert "P_60PLUS" in elements and elements["P_60PLUS"].computed
    assert not elements["S_LOW_INCOME"].computed  # entered by the clerk
    assert {e.level for e in elements.values()} <= {"area", "household", "person"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[element]]\nname = "x"\ntype = "integer"\nlevel = "area"\n', "缺少字段“code”"),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "float"\nlevel = "area"\n',
            "type“float”无效",
        ),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "integer"\nlevel = "town"\n',
            "level“town”无效",
        ),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "integer"\nlevel = "area"\n'
            '[[element]]\ncode = "A"\nname = "y"\ntype = "integer"\nlevel = "area"\n',
            "重复定义",
        ),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "integer"\nlevel = "area"\n'
            'compute = { count = "person", where = { hair = "red" } }\n',
            "筛选条件“hair”",
        ),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "integer"\nlevel = "area"\n'
            'compute = { count = "secrets" }\n',
            "数据集“secrets”无效",
        ),
        (
            '[[element]]\ncode = "A"\nname = "x"\ntype = "integer"\nlevel = "area"\n'
            'compute = { sum = "ss_payment.id_number; DROP TABLE person" }\n',
            "不能用于统计",
        ),
        ('[[element]]\ncode = "A"\nname = "x"\ntype = "code"\nlevel = "person"\n', "code_list"),
        ("this is = not toml [", "格式错误"),
    ],
)
def test_broken_dictionaries_name_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "elements.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(FormsError, match=message) as info:
        load_dictionary(path)
    assert "elements.toml" in str(info.value)


@pytest.fixture
def small(store):
    """Two villages; ages, statuses, enrollments and payments chosen so every figure is checkable."""
    period_end = date(2026, 10, 31)
    with store.transaction() as session:
        init_township(session, T, "青禾镇")
        add_village(session, V1, "东岭村委会")
        add_village(session, V2, "西塘村委会")
        batch = Batch(
            dataset="x", source_department="t", imported_at=datetime(2026, 11, 1), imported_by="t"
        )
        session.add(batch)
        session.flush()
        people = [
            # (village, birth, sex male?, status, status_date)
            (V1, date(1946, 10, 31), True, "normal", None),  # 80 exactly at period end
            (V1, date(1946, 11, 1), False, "normal", None),  # 79 at period end
            (V1, date(1966, 10, 31), True, "normal", None),  # 60 exactly
            (V1, date(2010, 1, 1), False, "normal", None),  # 16
            (V2, date(1940, 5, 5), True, "deceased", date(2026, 10, 15)),  # died in the period
            (V2, date(1950, 5, 5), False, "deceased", date(2026, 11, 15)),  # died after: counts
            (V2, date(1990, 5, 5), True, "moved_out", date(2025, 1, 1)),  # gone before
            (V2, date(2026, 11, 2), False, "normal", None),  # born after the period
        ]
        rows = []
        for i, (village, birth, male, status, when) in enumerate(people):
            rows.append(
                {
                    "id_number": idnumber.make("441900", birth, 100 + i, male=male),
                    "name": f"人{i}",
                    "sex_code": "1" if male else "2",
                    "birth_date": birth,
                    "village_code": village,
                    "status": status,
                    "status_date": when,
                    "batch_id": batch.id,
                }
            )
        session.execute(insert(Person), rows)
        session.execute(
            insert(Household),
            [
                {
                    "household_no": "1",
                    "village_code": V1,
                    "household_type": "1",
                    "batch_id": batch.id,
                },
                {
                    "household_no": "2",
                    "village_code": V2,
                    "household_type": "2",
                    "batch_id": batch.id,
                },
                {
                    "household_no": "3",
                    "village_code": V2,
                    "household_type": "1",
                    "batch_id": batch.id,
                },
            ],
        )
        ids = [r["id_number"] for r in rows]
        outsider = idnumber.make("522422", date(1955, 1, 1), 7, male=True)
        session.execute(
            insert(Enrollment),
            [
                {
                    "id_number": ids[0],
                    "name": "a",
                    "scheme_code": "170",
                    "status_code": "3",
                    "receiving": True,
                    "village_code": V1,
                    "batch_id": batch.id,
                },
                {
                    "id_number": ids[2],
                    "name": "b",
                    "scheme_code": "170",
                    "status_code": "1",
                    "receiving": False,
                    "village_code": V1,
                    "batch_id": batch.id,
                },
                {
                    "id_number": ids[3],
                    "name": "c",
                    "scheme_code": "390",
                    "status_code": "1",
                    "receiving": False,
                    "village_code": V1,
                    "batch_id": batch.id,
                },
                {
                    "id_number": outsider,
                    "name": "d",
                    "scheme_code": "170",
                    "status_code": "3",
                    "receiving": True,
                    "village_code": V2,
                    "batch_id": batch.id,
                },
            ],
        )
        session.execute(
            insert(Payment),
            [
                {"id_number": ids[0], "period": 202610, "total_fen": 30000, "batch_id": batch.id},
                {
                    "id_number": ids[0],
                    "period": 202609,
                    "total_fen": 30000,
                    "batch_id": batch.id,
                },  # other month
                {"id_number": ids[4], "period": 202610, "total_fen": 25000, "batch_id": batch.id},
                {
                    "id_number": outsider,
                    "period": 202610,
                    "total_fen": 20000,
                    "batch_id": batch.id,
                },  # no village
            ],
        )
    assert period_end == Period.parse("2026-10").end
    return store


def test_each_element_kind_against_a_hand_checked_store(small) -> None:
    values = compute_area_values(
        small, list(load_dictionary().values()), Period.parse("2026-10"), township_code=T
    )

    def at(code: str) -> tuple[int, int, int]:
        return values[code][V1], values[code][V2], values[code][T]

    assert at("P_TOTAL") == (4, 1, 5)  # V2: only the one who died after the period
    assert at("P_MALE") == (2, 0, 2)
    assert at("P_80PLUS") == (1, 0, 1)  # the 80th birthday on the last day counts
    assert at("P_60PLUS") == (3, 1, 4)
    assert at("P_16PLUS") == (4, 1, 5)
    assert at("P_UNDER18") == (1, 0, 1)
    assert at("P_DIED") == (0, 1, 1)
    assert at("P_MOVED_OUT") == (0, 0, 0)
    assert at("H_TOTAL") == (1, 2, 3)
    assert at("H_COLLECTIVE") == (0, 1, 1)
    assert at("I_RESIDENT_PENSION") == (2, 1, 3)
    assert at("I_RECEIVING") == (1, 1, 2)
    assert at("I_PAYING") == (1, 0, 1)
    assert at("I_MEDICAL") == (1, 0, 1)
    assert at("I_PAID_TOTAL") == (30000, 25000, 75000)  # the outsider counts in the total only
    assert at("I_PAID_PEOPLE") == (1, 1, 3)
    assert "S_LOW_INCOME" not in values  # entered, not computed


def test_a_quarter_sums_its_months(small) -> None:
    values = compute_area_values(
        small, [load_dictionary()["I_PAID_TOTAL"]], Period.parse("2026Q3"), township_code=T
    )
    assert values["I_PAID_TOTAL"][T] == 30000  # only September is in Q3


def test_roster_lists_the_people_its_filter_selects(small, tmp_path: Path) -> None:
    from govshare_desktop.core.forms.compute import roster_rows
    from govshare_desktop.core.forms.templates import load_templates

    (tmp_path / "r.toml").write_text(
        'id = "r"\ntitle = "高龄名册"\ndepartment = "民政"\nkind = "roster"\nsubject = "person"\n'
        'period_type = "month"\nfilter = { status = "normal", age_min = 80 }\n'
        '[[columns]]\nelement = "P_NAME"\n[[columns]]\nelement = "P_AGE"\n[[columns]]\nelement = "P_VILLAGE"\n'
        '[[columns]]\nelement = "S_ALLOWANCE_AMOUNT"\n',
        encoding="utf-8",
    )
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary, tmp_path)
    assert problems == []
    rows = roster_rows(small, templates["r"], dictionary, Period.parse("2026-10"))
    # Only the person who turned 80 on the last day of the period (the 79-year-old is not listed,
    # nor the 86-year-old who died in the period).
    assert [(values["P_NAME"], values["P_AGE"], values["P_VILLAGE"]) for _, values in rows] == [
        ("人0", 80, "东岭村委会")
    ]
    assert "S_ALLOWANCE_AMOUNT" not in rows[0][1]  # entered by the clerk, not computed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('filter = { shoe_size = 42 }\n[[columns]]\nelement = "P_NAME"\n', "shoe_size"),
        ('[[columns]]\nelement = "P_TOTAL"\n', "不是人员级数据项"),
        ('subject = "village"\n[[columns]]\nelement = "P_NAME"\n', "subject"),
    ],
)
def test_broken_rosters_name_the_problem(tmp_path: Path, extra: str, message: str) -> None:
    from govshare_desktop.core.forms.templates import load_templates

    (tmp_path / "bad.toml").write_text(
        'id = "b"\ntitle = "x"\ndepartment = "x"\nkind = "roster"\nperiod_type = "month"\n' + extra,
        encoding="utf-8",
    )
    templates, problems = load_templates(load_dictionary(), tmp_path)
    assert templates == {} and "bad.toml" in str(problems[0]) and message in str(problems[0])


def test_individual_forms_for_one_subject_or_every_selected_one(small) -> None:
    from govshare_desktop.core.forms.compute import roster_rows
    from govshare_desktop.core.forms.templates import load_templates

    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    form = templates["mz_elderly_allowance_application"]
    assert form.kind == "individual" and form.signatures[0].startswith("申请人")
    assert [c.span for c in form.layout[1]] == [2, 1]
    period = Period.parse("2026-10")
    everyone = roster_rows(small, form, dictionary, period)  # a batch: one form per selected person
    assert len(everyone) == 1
    key, values = everyone[0]
    assert values["P_AGE"] == 80 and values["P_SEX"] == "1" and values["P_ID_NUMBER"] == key
    assert roster_rows(small, form, dictionary, period, only=key) == everyone
    registered = roster_rows(
        small, templates["rs_resident_pension_registration"], dictionary, period
    )
    # 16 and over and in the registry at period end (人5 died only after the period).
    assert {v["P_NAME"] for _, v in registered} == {"人0", "人1", "人2", "人3", "人5"}
    seventy_nine = next(k for k, v in registered if v["P_NAME"] == "人1")
    assert roster_rows(small, form, dictionary, period, only=seventy_nine) == []  # not eligible
