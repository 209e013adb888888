import pytest

from govshare_desktop.core.domain import masking


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳明", "欧*明"),
        ("欧阳小明", "欧**明"),
        ("王", "王"),
        ("", ""),
    ],
)
def test_names(name: str, masked: str) -> None:
    assert masking.mask_name(name) == masked


def test_id_number_hides_birth_date() -> None:
    assert masking.mask_id_number("11010519491231002X") == "110105********002X"
    assert "19491231" not in masking.mask_id_number("11010519491231002X")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("0086 13812341234", "138****1234"),
    ],
)
def test_phone(phone: str, masked: str) -> None:
    assert masking.mask_phone(phone) == masked


def test_bank_account() -> None:
    assert masking.mask_bank_account("6228480012345678901") == "622848*********8901"


def test_address_keeps_village_hides_house_number() -> None:
    masked = masking.mask_address("广东省东莞市青禾镇东岭村7巷6号")
    assert masked.startswith("广东省东莞市青禾镇东岭村")
    assert "6号" not in masked
    assert masking.mask_address("广东省东莞市青禾镇东岭村") == "广东省东莞市青禾镇东岭村"


def test_empty_values() -> None:
    assert masking.mask_id_number(None) == ""
    assert masking.mask_phone("") == ""
    assert masking.mask_address(None) == ""
