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
