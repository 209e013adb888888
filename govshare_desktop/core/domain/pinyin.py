"""Search keys for Chinese names: pinyin initials (``张三丰`` → ``zsf``) and a character-spaced form
for the full-text index (``张三丰`` → ``张 三 丰``).

A character's initial comes from ``resources/pinyin_initials.txt``: what pypinyin gives for every
character it knows, made once by :func:`initials_table_text` (``python -m
govshare_desktop.core.domain.pinyin`` writes it again after a pypinyin upgrade). pypinyin stays the
source — tests/core/test_pinyin.py proves the shipped table equal to it for every code point of
planes 0–3 — but is not imported when a name is read: its dictionaries take 0.2–0.5 s to load,
which was a third of importing a 10,000-person workbook. Initials are cached per character.
Polyphonic surnames read differently as surnames (曾 zēng, 单 shàn, 解 xiè, 仇 qiú …): the first
character uses ``resources/pinyin_surnames.json``.
"""

from __future__ import annotations

import bisect
from functools import cache

from govshare_desktop.core.resources import load_json, resource_path

TABLE = "pinyin_initials.txt"
#: In the table: a character pypinyin gives no initial for (or does not know).
NONE = "-"
#: A run of the table goes on over a gap of up to this many unknown code points.
_GAP = 64


@cache
def _surname_overrides() -> dict[str, str]:
    data: dict[str, str] = load_json("pinyin_surnames.json")["surnames"]
    return data


@cache
def _table() -> tuple[list[int], list[str]]:
    """The runs of the shipped table: their first code points (sorted) and their letters."""
    starts: list[int] = []
    runs: list[str] = []
    with resource_path(TABLE).open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            start, letters = line.split()
            starts.append(int(start, 16))
            runs.append(letters)
    return starts, runs


@cache
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    return _table_initial(ord(ch))


def _table_initial(code: int) -> str:
    starts, runs = _table()
    at = bisect.bisect_right(starts, code) - 1
    if at < 0:
        return ""
    offset = code - starts[at]
    run = runs[at]
    letter = run[offset] if offset < len(run) else NONE
    return "" if letter == NONE else letter


def pypinyin_initial(ch: str) -> str:
    """What pypinyin says a non-ASCII character's initial is ("" for none): the table's source."""
    from pypinyin import Style, lazy_pinyin  # heavy: ~0.3 s import; only to make or prove the table

    letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore", strict=False)
    return letters[0][:1].lower() if letters and letters[0] else ""


def initials_table_text() -> str:
    """The table as shipped, made from pypinyin: every character of its dictionary, in runs of
    consecutive code points (``NONE`` for a gap inside a run), one run a line: ``start letters``."""
    from pypinyin import __version__  # heavy: only to make the table
    from pypinyin.pinyin_dict import pinyin_dict  # heavy: only to make the table

    known = {code: pypinyin_initial(chr(code)) for code in sorted(pinyin_dict)}
    lines = [
        f"# pinyin initials of every character pypinyin {__version__} knows ({len(known)}),",
        f"# made by govshare_desktop.core.domain.pinyin; '{NONE}': no initial",
    ]
    run_start, run = -1, ""
    for code, letter in known.items():
        if run and code - (run_start + len(run)) <= _GAP:
            run += NONE * (code - run_start - len(run)) + (letter or NONE)
            continue
        if run:
            lines.append(f"{run_start:X} {run}")
        run_start, run = code, letter or NONE
    if run:
        lines.append(f"{run_start:X} {run}")
    return "\n".join(lines) + "\n"


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


if __name__ == "__main__":  # python -m govshare_desktop.core.domain.pinyin: the table made again
    resource_path(TABLE).write_text(initials_table_text(), encoding="ascii")
