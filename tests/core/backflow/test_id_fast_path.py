"""The ID number converter's fast path for numbers already canonical: the same answer as
``idnumber.validate`` (the value, or the refusal with its reason and message) for valid numbers,
wrong check digits, impossible and future birth dates, lowercase x, full-width digits, spaces,
15-digit numbers and the rest."""

from __future__ import annotations

import random
from datetime import date, timedelta

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.domain import idnumber


def _reference(raw: str) -> tuple[str, str]:
    """What the converter said before the fast path: validate()'s answer."""
    try:
        return ("ok", idnumber.validate(raw))
    except idnumber.IdNumberError as exc:
        reason = nz.ID_CHECKSUM if exc.reason == "id_number_checksum" else nz.ID_INVALID
        if exc.reason == "missing_required":
            reason = nz.MISSING_REQUIRED
        return (reason, str(exc))


def _ours(raw: str) -> tuple[str, str]:
    try:
        return ("ok", nz.id_number(raw))
    except nz.FieldError as exc:
        return (exc.reason, str(exc))


def _cases() -> list[str]:
    rng = random.Random(20)
    cases: list[str] = []
    for _ in range(3000):
        birth = date(1850, 1, 1) + timedelta(days=rng.randrange(64_000))
        number = idnumber.make("441900", birth, rng.randrange(500), male=rng.random() < 0.5)
        cases.append(number)
        cases.append(number[:17] + rng.choice("0123456789X"))  # often a wrong check digit
        cases.append(number.lower())
        cases.append(" " + number[:9] + " " + number[9:])
        cases.append(number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")))
        cases.append(number[:6] + number[8:17])  # 15 digits
    for body in ("44190018491231", "44190019990230", "44190019991301", "44190030001231",
                 "44190000000101", "441900" + (date.today() + timedelta(days=1)).strftime("%Y%m%d")):  # fmt: skip
        first17 = body + "123"
        cases += [first17 + idnumber.check_char(first17), first17 + "0", first17 + "X"]
    cases += ["", "X" * 18, "4419001990010100X1", "٤٤١٩٠٠١٩٩٠٠١٠١٠٠١٣"]
    return cases


def test_the_fast_path_answers_as_validate_does() -> None:
    nz._id_number.cache_clear()
    for raw in _cases():
        assert _ours(raw) == _reference(raw), raw
