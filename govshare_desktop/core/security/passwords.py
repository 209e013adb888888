"""The password policy (等保 身份鉴别: complexity; R14): long enough, three kinds of character,
and not guessable — not a common password, a keyboard walk or a sequence, not built from the
user name, the program's or the demo township's name, and not a Chinese-typical pattern.

* common passwords in English and keyboard walks, sequences, repeats, dates and l33t spellings
  come from `zxcvbn <https://pypi.org/project/zxcvbn/>`_ (offline; its lists hold ~30,000 leaked
  passwords and the qwerty/keypad layouts): a password it estimates at fewer than
  :data:`MIN_GUESSES` guesses is refused — e.g. ``Password1``, ``Qwer1234``, ``1qaz@WSX``,
  ``Aa123456``, ``Welcome1``, ``Zaq1@wsx``;
* ``resources/security/common_passwords_zh.txt``: passwords and stems common in China
  (``woaini1314``, ``qq123456``, ``a123456``, ``5201314``, ``zhangwei``…), refused as the whole
  password once symbols are dropped and l33t undone, or as its letters with a digits part;
* pinyin (two to four syllables, e.g. a name) followed or preceded by digits that are a year, a
  date or at most four digits, with at most a symbol between (``Zhangwei@1988``).

Reusing one of the last five passwords is refused where the hashes are kept
(:mod:`govshare_desktop.core.security.vault`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.resources import resource_path

MIN_GUESSES_LOG10 = 8.0  # below 10^8 guesses (zxcvbn's estimate) a password is too guessable
PROGRAM_WORDS = ("govshare", "qinghe")  # the program's and the demo township's names
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s",
                       "5": "s", "7": "t", "+": "t"})  # fmt: skip


def check_password_policy(password: str, username: str = "") -> None:
    """Raise a Chinese :class:`UserError` saying everything that is wrong with ``password``."""
    problems = []
    if len(password) < 8:
        problems.append("至少 8 位")
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 3:
        problems.append("包含小写字母、大写字母、数字、符号中的至少三种")
    lowered, folded = password.lower(), password.lower().translate(_LEET)
    name = username.strip().lower()
    if name and (name in lowered or name in folded):
        problems.append("不能包含用户名")
    if any(word in lowered or word in folded for word in PROGRAM_WORDS):
        problems.append("不能包含 govshare、qinghe 等本程序或演示乡镇的名称")
    if not problems:
        weakness = _weakness(password, name)
        if weakness:
            problems.append(weakness)
    if problems:
        raise UserError("密码不符合要求：" + "，".join(problems))


def _weakness(password: str, username: str) -> str | None:
    if _chinese_common(password):
        return "不能是常见密码或其简单变形（如 woaini1314、qq123456、姓名拼音加生日）"
    from zxcvbn import zxcvbn  # heavy: zxcvbn's dictionaries load only when a password is checked

    result = zxcvbn(password, user_inputs=[w for w in (username, *PROGRAM_WORDS) if w])
    if float(result["guesses_log10"]) >= MIN_GUESSES_LOG10:
        return None
    patterns = {match["pattern"] for match in result["sequence"]}
    if patterns & {"spatial", "sequence", "repeat"}:
        return "不能是键盘上相邻的键、顺序或重复的字符（如 Qwer1234、1qaz@WSX、Aa123456）"
    return "太常见、太容易被猜到（如 Password1、Welcome1、单词加年份）"


def _chinese_common(password: str) -> bool:
    lowered = password.lower()
    plain = re.sub(r"[^a-z0-9]", "", lowered)
    folded = re.sub(r"[^a-z0-9]", "", lowered.translate(_LEET))
    common = _common_zh()
    if plain in common or folded in common:
        return True
    # letters and digits, one run each (a symbol between or around is allowed)
    match = re.fullmatch(
        r"[^a-z0-9]*([a-z]+)[^a-z0-9]*([0-9]+)[^a-z0-9]*", lowered
    ) or re.fullmatch(r"[^a-z0-9]*([0-9]+)[^a-z0-9]*([a-z]+)[^a-z0-9]*", lowered)
    if match is None:
        return False
    letters, digits = sorted(match.groups(), key=lambda part: part.isdigit())
    if letters in common and (digits in common or len(digits) <= 6 or _date_like(digits)):
        return True
    return 2 <= _syllables(letters) <= 4 and (
        len(digits) <= 4 or _date_like(digits) or digits in common
    )


def _date_like(digits: str) -> bool:
    """A year, or a birthday written 8 (19880512) or 6 (880512) digits."""
    return bool(
        re.fullmatch(r"(19|20)\d\d", digits)
        or re.fullmatch(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", digits)
        or re.fullmatch(r"\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", digits)
    )


@lru_cache(maxsize=1)
def _common_zh() -> frozenset[str]:
    text = resource_path("security", "common_passwords_zh.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w", "")  # fmt: skip
_FINALS = ("iang", "iong", "uang", "ang", "eng", "ing", "ong", "ian", "iao", "uai", "uan", "ai",
           "ei", "ui", "ao", "ou", "iu", "ie", "ve", "ue", "er", "an", "en", "in", "un", "vn",
           "ia", "ua", "uo", "a", "o", "e", "i", "u", "v")  # fmt: skip
_SYLLABLES = frozenset(i + f for i in _INITIALS for f in _FINALS)


def _syllables(letters: str) -> int:
    """How many pinyin syllables ``letters`` splits into (fewest), or 0 if it does not."""
    best = [0] + [10**6] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 6), end):
            if best[start] < 10**6 and letters[start:end] in _SYLLABLES:
                best[end] = min(best[end], best[start] + 1)
    return best[-1] if best[-1] < 10**6 else 0
