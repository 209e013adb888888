import pytest

from govshare_desktop.core.domain import pinyin


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("张三丰", "zsf"),
        ("王芳", "wf"),
        ("曾国藩", "zgf"),  # 曾 as a surname is zēng, not céng
        ("单田芳", "stf"),  # shàn
        ("解缙", "xj"),  # xiè
        ("仇英", "qy"),  # qiú
        ("欧阳明", "oym"),
        ("尉迟恭", "ycg"),  # compound surname
        ("", ""),
    ],
)
def test_initials(name: str, initials: str) -> None:
    assert pinyin.initials(name) == initials


def test_spaced_for_fulltext() -> None:
    assert pinyin.spaced("王芳") == "王 芳"
    assert pinyin.spaced("张 三丰") == "张 三 丰"


def test_shipped_table_is_made_from_the_installed_pypinyin() -> None:
    """resources/pinyin_initials.txt is what initials_table_text() makes now (after a pypinyin
    upgrade: python -m govshare_desktop.core.domain.pinyin)."""
    shipped = pinyin.resource_path(pinyin.TABLE).read_text(encoding="ascii")
    assert shipped == pinyin.initials_table_text()


def test_table_equals_pypinyin_for_every_character_of_planes_0_to_3() -> None:
    """Every code point of the Basic Multilingual Plane and the supplementary ideographic planes
    (all CJK ideographs, the compatibility forms, private use, punctuation, full-width forms …):
    the initial the table gives is the one pypinyin gives, also "" where pypinyin has none."""
    codes = [c for c in range(0x80, 0x40000) if not 0xD800 <= c <= 0xDFFF]
    differing = [
        (hex(c), pinyin._table_initial(c), pinyin.pypinyin_initial(chr(c)))
        for c in codes
        if pinyin._table_initial(c) != pinyin.pypinyin_initial(chr(c))
    ]
    assert differing == []
    known = sum(1 for c in codes if pinyin._table_initial(c))
    assert known > 41_000  # the table is not empty: pypinyin 0.55 knows 41,923 characters


def test_reading_a_name_does_not_load_pypinyin() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from govshare_desktop.core.domain import pinyin; "
        "assert pinyin.initials('曾国藩𠀀王') == 'zgfhw'; print('pypinyin' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
