"""公民身份号码 (GB 11643-1999): normalise, validate, derive, upgrade 15 → 18 digits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from govshare_desktop.core.domain.codes import table
from govshare_desktop.core.domain.text import squeeze

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

_RE_18 = re.compile(r"^\d{17}[\dX]$")
_RE_15 = re.compile(r"^\d{15}$")


class IdNumberError(ValueError):
    """An ID number that cannot be accepted; ``reason`` is a stable code, ``str()`` is Chinese."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalize(raw: str) -> str:
    """Full-width digits and X, spaces anywhere and lowercase ``x`` → canonical form. No validation."""
    return squeeze(raw).upper()


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _birth(digits8: str) -> date | None:
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def upgrade15(id15: str) -> str:
    """Legacy 15-digit number (YYMMDD, no check char) → 18 digits: insert ``19`` and compute C."""
    if not _RE_15.match(id15):
        raise IdNumberError("id_number_format", f"“{id15}”不是15位旧身份证号码")
    body = id15[:6] + "19" + id15[6:]
    return body + check_char(body)


def validate(raw: str, *, today: date | None = None) -> str:
    """Return the canonical 18-character ID number or raise :class:`IdNumberError`.

    Accepts full-width characters, embedded spaces, lowercase ``x`` and 15-digit legacy numbers.
    """
    value = normalize(raw)
    if not value:
        raise IdNumberError("missing_required", "公民身份号码为空")
    if _RE_15.match(value):
        value = upgrade15(value)
    if len(value) != 18:
        raise IdNumberError(
            "id_number_length", f"公民身份号码“{value}”为{len(value)}位，应为18位（或15位旧号码）"
        )
    if not _RE_18.match(value):
        raise IdNumberError("id_number_format", f"公民身份号码“{value}”含有非法字符")
    born = _birth(value[6:14])
    if born is None or born < date(1850, 1, 1) or born > (today or date.today()):
        raise IdNumberError("id_number_birth_date", f"公民身份号码“{value}”中的出生日期无效")
    expected = check_char(value[:17])
    if value[17] != expected:
        raise IdNumberError(
            "id_number_checksum",
            f"公民身份号码“{value}”校验位错误（末位应为 {expected}），请核对是否抄错",
        )
    return value


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except IdNumberError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    region_code: str
    birth_date: date
    sex_code: str  # GB/T 2261.1: "1" male, "2" female

    @property
    def is_male(self) -> bool:
        return self.sex_code == "1"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    @property
    def birth_province(self) -> str:
        """Province of first registration from the first two digits (``""`` if unknown: the code
        may be obsolete, which is never a reason to reject the number)."""
        return table("province").label(self.region_code[:2], default="")


def parse(raw: str) -> IdInfo:
    number = validate(raw)
    born = _birth(number[6:14])
    assert born is not None  # validate() checked it
    return IdInfo(
        number=number,
        region_code=number[:6],
        birth_date=born,
        sex_code="1" if int(number[16]) % 2 == 1 else "2",
    )


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day`` (a person born 29 Feb ages on 1 Mar in common years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def make(region_code: str, birth: date, sequence: int, *, male: bool) -> str:
    """Build a valid 18-digit number (for the demo generator and tests)."""
    if not 0 <= sequence <= 499:
        raise ValueError("sequence must be 0..499 (the sex digit is chosen from it)")
    seq = sequence * 2 + (1 if male else 0)
    body = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)
