"""Masking of personal data for screens and exports (domain reference §3).

Defaults: names keep the first (and, from three characters, the last) character; ID numbers keep the
first 6 and last 4 (the birth date is hidden); birth dates keep the year only, so that a masked ID
number is not given away by a date beside it; phone numbers keep 3 + 4; bank accounts 6 + 4;
addresses keep everything up to the village/group and hide the house number.
"""

from __future__ import annotations

import re
from datetime import date

MASK = "*"


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[-tail:]


def mask_id_number(number: str | None) -> str:
    return _keep_ends(number, 6, 4) if number else ""


def mask_birth_date(born: date | str | None) -> str:
    """``1956-**-**``: the year stays (ages and cohorts still read), the day is what the ID number's
    hidden digits hold."""
    if not born:
        return ""
    text = born.isoformat() if isinstance(born, date) else str(born).strip()
    year = text[:4]
    return f"{year}-**-**" if year.isdigit() else MASK * len(text)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if phone.isdigit():  # the usual case, without the regex
        return _keep_ends(phone, 3, 4)
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return _keep_ends(digits, 3, 4)


def mask_bank_account(account: str | None) -> str:
    return _keep_ends(account, 6, 4) if account else ""


# Everything up to and including the last village/group/street-level unit is kept.
_ADDRESS_KEEP = re.compile(r"^.*(?:村|社区|组|巷|街|路|屯|队|小区)")


def mask_address(address: str | None) -> str:
    if not address:
        return ""
    kept = _ADDRESS_KEEP.match(address)
    if not kept:
        return _keep_ends(address, min(6, len(address) // 2), 0)
    rest = address[kept.end() :]
    return kept.group(0) + (MASK * 3 if rest else "")
