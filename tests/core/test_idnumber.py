from datetime import date

import pytest

from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.domain.idnumber import IdNumberError


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_reference_numbers_validate(number: str) -> None:
    assert idnumber.validate(number) == number


def test_check_char_table() -> None:
    assert idnumber.check_char("11010519491231002") == "X"
    assert idnumber.check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),  # lowercase x
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
        (" 110105 19491231 002X ", "11010519491231002X"),  # spaces, also inside
        ("110105\u300019491231002X", "11010519491231002X"),  # ideographic space
    ],
)
def test_normalises_what_people_type(raw: str, expected: str) -> None:
    assert idnumber.validate(raw) == expected


def test_wrong_check_digit_is_rejected_with_reason() -> None:
    with pytest.raises(IdNumberError) as info:
        idnumber.validate("110105194912310021")
    assert info.value.reason == "id_number_checksum"
    assert "校验位" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing_required"),
        ("1101051949123100", "id_number_length"),
        ("11010519491231002Y", "id_number_format"),
        ("110105194913310025", "id_number_birth_date"),  # month 13
    ],
)
def test_malformed_numbers(raw: str, reason: str) -> None:
    with pytest.raises(IdNumberError) as info:
        idnumber.validate(raw)
    assert info.value.reason == reason


def test_future_birth_date_is_rejected() -> None:
    future = idnumber.make("441900", date(2030, 1, 1), 1, male=True)
    with pytest.raises(IdNumberError) as info:
        idnumber.validate(future, today=date(2026, 11, 26))
    assert info.value.reason == "id_number_birth_date"


def test_upgrade_15_to_18() -> None:
    # 15-digit 110105491231002 → insert 19 → 11010519491231002 + check X
    assert idnumber.upgrade15("110105491231002") == "11010519491231002X"
    assert idnumber.validate("110105491231002") == "11010519491231002X"


def test_parse_derives_birth_sex_region() -> None:
    info = idnumber.parse("11010519491231002X")
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex_code == "2"  # 17th digit 2: even → female
    assert info.region_code == "110105"
    assert idnumber.parse("440524188001010014").sex_code == "1"
    assert info.birth_province == "北京市"
    assert idnumber.parse("522422196403163711").birth_province == "贵州省"
    unknown = idnumber.make("990000", date(1980, 1, 1), 1, male=True)  # obsolete/unknown region
    assert idnumber.parse(unknown).birth_province == ""


def test_make_builds_valid_numbers_with_sex_digit() -> None:
    male = idnumber.make("441900", date(1964, 3, 16), 185, male=True)
    female = idnumber.make("441900", date(1964, 3, 16), 185, male=False)
    assert idnumber.is_valid(male) and idnumber.is_valid(female)
    assert idnumber.parse(male).sex_code == "1"
    assert idnumber.parse(female).sex_code == "2"


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1964, 3, 16), date(2026, 3, 15), 61),
        (date(1964, 3, 16), date(2026, 3, 16), 62),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert idnumber.age_on(birth, day) == age
