"""Rows of the 民政, 医保, 殡葬, 卫健 and 残联 datasets → store records, with their row checks.

Each function takes the row's converted values (field key → value, see ``datasets.json``) and
returns the record, or rejects the row through the builder with a stable reason code (normalize.py)
and a message naming the columns as the file heads them:

* ``end_before_start`` — a date before the date it must follow: 停止日期 before 开始日期,
  火化日期 or 签发日期 before 死亡日期, 有效期至 before 发证日期;
* ``date_in_future`` — a death, cremation, certificate or card date after the day of the import,
  a 发放年月 after its month, a 参保年度 beyond next year;
* ``inconsistent_with_id`` — a death or a card before the birth date in the ID number, a
  残疾人证号 whose first 18 characters are another ID number;
* ``card_number_mismatch`` — the 残疾类别 and 等级 digits of a second-generation 残疾人证号
  (ID + 类别 + 等级) that contradict the row's 残疾类别 or 残疾等级;
* ``negative_amount`` — a negative 月救助金额, 发放金额 or 个人缴费;
* ``bad_value`` — a 保障人数 outside 1–30.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, NoReturn, Protocol

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.domain import codes, idnumber

Values = dict[str, Any]
Record = dict[str, Any]

MAX_HOUSEHOLD_SIZE = 30
_ID_PREFIX = re.compile(r"\d{17}[\dX]")

# Store columns a record of the dataset always sets, whether or not the file has their column
# (worked out from others: a 保障状态 from the 停止日期).
ALWAYS_PROVIDED: dict[str, frozenset[str]] = {"assistance": frozenset({"status_code"})}


class Builder(Protocol):
    """What a record function needs of the record builder."""

    today: date

    def header_of(self, key: str) -> str: ...

    def village(self, values: Values) -> str | None: ...

    def reject(self, key: str, reason: str, message: str) -> NoReturn: ...


@lru_cache(maxsize=10_000)
def _birth(id_number: str) -> date:
    return idnumber.parse(id_number).birth_date


def _shown(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _in_order(b: Builder, v: Values, first: str, later: str) -> None:
    """``later`` may not come before ``first`` (either may be missing)."""
    early, late = v.get(first), v.get(later)
    if early is not None and late is not None and late < early:
        b.reject(
            later,
            nz.END_BEFORE_START,
            f"{b.header_of(later)}“{_shown(late)}”早于{b.header_of(first)}“{_shown(early)}”",
        )


def _not_future(b: Builder, v: Values, *keys: str) -> None:
    for key in keys:
        day = v.get(key)
        if day is not None and day > b.today:
            b.reject(
                key,
                nz.DATE_IN_FUTURE,
                f"{b.header_of(key)}“{_shown(day)}”晚于导入当天（{b.today.isoformat()}）",
            )


def _after_birth(b: Builder, v: Values, *keys: str) -> None:
    born = _birth(v["id_number"])
    for key in keys:
        day = v.get(key)
        if day is not None and day < born:
            b.reject(
                key,
                nz.INCONSISTENT_WITH_ID,
                f"{b.header_of(key)}“{_shown(day)}”早于公民身份号码中的出生日期（{born.isoformat()}）",
            )


def _not_negative(b: Builder, v: Values, *keys: str) -> None:
    for key in keys:
        fen = v.get(key)
        if fen is not None and fen < 0:
            b.reject(key, nz.NEGATIVE_AMOUNT, f"{b.header_of(key)}为负数（{fen / 100:.2f} 元）")


# ---------------------------------------------------------------- 民政


def assistance(b: Builder, v: Values) -> Record:
    """低保/特困: the 保障状态 is the file's, else 停保 once the 停止日期 has passed, else 在保."""
    _not_negative(b, v, "monthly_fen")
    size = v.get("household_size")
    if size is not None and not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        b.reject(
            "household_size",
            nz.BAD_VALUE,
            f"{b.header_of('household_size')}“{size}”应为 1 到 {MAX_HOUSEHOLD_SIZE} 之间的整数",
        )
    _in_order(b, v, "start_date", "end_date")
    end = v.get("end_date")
    status = v.get("status_code") or ("3" if end is not None and end <= b.today else "1")
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "category_code": v["category_code"],
        "household_size": size,
        "monthly_fen": v.get("monthly_fen"),
        "start_date": v.get("start_date"),
        "end_date": end,
        "status_code": status,
        "village_code": b.village(v),
    }


def allowance_payment(b: Builder, v: Values) -> Record:
    _not_negative(b, v, "amount_fen")
    period = v["period"]
    if period > b.today.year * 100 + b.today.month:
        b.reject(
            "period",
            nz.DATE_IN_FUTURE,
            f"{b.header_of('period')}“{period}”晚于导入当月（{b.today.year}年{b.today.month}月）",
        )
    _not_future(b, v, "paid_date")
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "category_code": v["category_code"],
        "period": period,
        "amount_fen": v["amount_fen"],
        "paid_date": v.get("paid_date"),
        "village_code": b.village(v),
    }


# ---------------------------------------------------------------- 医保


def medical_enrollment(b: Builder, v: Values) -> Record:
    _not_negative(b, v, "personal_fen")
    year = v.get("year")
    if year is not None and year > b.today.year + 1:  # next year's 集中征缴 is normal
        b.reject(
            "year",
            nz.DATE_IN_FUTURE,
            f"{b.header_of('year')}“{year}”晚于下一年度（{b.today.year + 1}）",
        )
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "person_no": v.get("person_no"),
        "scheme_code": v["scheme_code"],
        "status_code": v.get("status_code") or "1",
        "year": year,
        "identity_code": v.get("identity_code"),
        "subsidy_code": v.get("subsidy_code"),
        "personal_fen": v.get("personal_fen"),
        "start_date": v.get("start_date"),
        "village_code": b.village(v),
    }


# ---------------------------------------------------------------- 殡葬, 卫健


def cremation(b: Builder, v: Values) -> Record:
    _not_future(b, v, "death_date", "cremation_date")
    _after_birth(b, v, "death_date", "cremation_date")
    _in_order(b, v, "death_date", "cremation_date")
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "death_date": v.get("death_date"),
        "cremation_date": v["cremation_date"],
        "funeral_home": v.get("funeral_home"),
        "certificate_no": v.get("certificate_no"),
    }


def death_certificate(b: Builder, v: Values) -> Record:
    _not_future(b, v, "death_date", "issue_date")
    _after_birth(b, v, "death_date")
    _in_order(b, v, "death_date", "issue_date")
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "death_date": v["death_date"],
        "place_code": v.get("place_code"),
        "certificate_no": v.get("certificate_no"),
        "institution": v.get("institution"),
        "issue_date": v.get("issue_date"),
    }


# ---------------------------------------------------------------- 残联


def disability_card(b: Builder, v: Values) -> Record:
    _not_future(b, v, "issue_date")
    _after_birth(b, v, "issue_date")
    _in_order(b, v, "issue_date", "valid_until")
    card = v.get("card_no")
    if card:
        card = re.sub(r"\s", "", card).upper()
        _check_card_number(b, v, card)
    return {
        "id_number": v["id_number"],
        "name": v.get("name") or "",
        "card_no": card or None,
        "category_code": v["category_code"],
        "level_code": v.get("level_code"),
        "issue_date": v.get("issue_date"),
        "valid_until": v.get("valid_until"),
        "status_code": v.get("status_code") or "1",
        "village_code": b.village(v),
    }


def _check_card_number(b: Builder, v: Values, card: str) -> None:
    """A second-generation 残疾人证号 is the 公民身份号码, the 类别 digit and the 等级 digit (some
    systems add more after them); a first-generation number is not checked."""
    if len(card) < 18 or not _ID_PREFIX.fullmatch(card[:18]):
        return
    if card[:18] != v["id_number"]:
        b.reject(
            "card_no",
            nz.INCONSISTENT_WITH_ID,
            f"{b.header_of('card_no')}“{card}”的前 18 位与公民身份号码不一致",
        )
    category, level = v["category_code"], v.get("level_code")
    if len(card) >= 20 and (card[18] != category or (level is not None and card[19] != level)):
        categories = codes.table("disability_category")
        levels = codes.table("disability_level")
        written = f"{categories.label(category)}、{levels.label(level) if level else '等级未填'}"
        b.reject(
            "card_no",
            nz.CARD_NUMBER_MISMATCH,
            f"{b.header_of('card_no')}“{card}”第 19–20 位为“{card[18:20]}”，"
            f"与本行的残疾类别、残疾等级（{written}）不符",
        )


FINISHERS: dict[str, Callable[[Builder, Values], Record]] = {
    "assistance": assistance,
    "allowance_payment": allowance_payment,
    "medical_enrollment": medical_enrollment,
    "cremation": cremation,
    "death_certificate": death_certificate,
    "disability_card": disability_card,
}
