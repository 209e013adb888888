import pytest

from govshare_desktop.core.domain import codes


def test_every_table_loads_and_is_consistent() -> None:
    for key in codes.available():
        table = codes.table(key)
        assert len(table) > 0, key
        for code, label in table:
            assert table.code(label) == code or table.label(table.code(label)) == label


@pytest.mark.parametrize(
    ("key", "text", "code"),
    [
        ("sex", "男", "1"),
        ("sex", "2", "2"),
        ("ethnicity", "1", "01"),  # leading zero lost in a spreadsheet
        ("ethnicity", "汉族", "01"),
        ("ethnicity", "毛难族", "36"),  # old name
        ("relationship", "户主", "02"),
        ("relationship", "妻", "12"),
        ("relationship", "02", "02"),
        ("ss_scheme", "城乡居民基本养老保险", "170"),
        ("ss_scheme", "城乡居民养老保险", "170"),
        ("ss_scheme", "企业职工基本养老保险", "110"),
        ("ss_payment_status", "终止缴费", "3"),
        ("person_status", "死亡注销", "deceased"),
        ("household_type", "集 体 户", "2"),
    ],
)
def test_code_from_code_label_or_alias(key: str, text: str, code: str) -> None:
    assert codes.table(key).code(text) == code


def test_labels() -> None:
    assert codes.table("relationship").label("12") == "妻"
    assert codes.table("ethnicity").label("08") == "壮族"
    assert codes.table("ss_scheme").label("390") == "城乡居民基本医疗保险"


def test_unknown_code_raises_with_chinese_message() -> None:
    with pytest.raises(codes.UnknownCode) as info:
        codes.table("ethnicity").code("火星族")
    assert "民族" in str(info.value)


def test_both_variants_of_non_relative_are_accepted() -> None:
    table = codes.table("relationship")
    assert "98" in table and "99" in table
