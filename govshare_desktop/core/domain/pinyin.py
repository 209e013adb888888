"""Search keys for Chinese names: pinyin initials (``张三丰`` → ``zsf``) and a character-spaced form
for the full-text index (``张三丰`` → ``张 三 丰``).

pypinyin is slow per call (~36 µs a name) and imported lazily; initials are cached per character so a
100,000-person township costs well under a second. Polyphonic surnames read differently as surnames
(曾 zēng, 单 shàn, 解 xiè, 仇 qiú …): the first character uses ``resources/pinyin_surnames.json``.
"""

from __future__ import annotations

from functools import cache

from govshare_desktop.core.resources import load_json


@cache
def _surname_overrides() -> dict[str, str]:
    data: dict[str, str] = load_json("pinyin_surnames.json")["surnames"]
    return data


@cache
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    from pypinyin import Style, lazy_pinyin  # lazy: ~0.3 s import, not needed at start-up

    letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore", strict=False)
    return letters[0][:1].lower() if letters and letters[0] else ""


def initials(name: str | None) -> str:
    """Lowercase pinyin initials; a two-character compound surname in the table is read as one."""
    if not name:
        return ""
    overrides = _surname_overrides()
    head = ""
    rest = name
    for size in (2, 1):
        if name[:size] in overrides:
            head, rest = overrides[name[:size]], name[size:]
            break
    return head + "".join(_char_initial(ch) for ch in rest)


def spaced(name: str | None) -> str:
    """``张三丰`` → ``张 三 丰``: every character a token for the FTS5 unicode61 name index."""
    if not name:
        return ""
    return " ".join(ch for ch in name if not ch.isspace())
