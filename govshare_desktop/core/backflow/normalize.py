"""Turning what a sending system wrote into exact values, or a reason the row cannot be taken.

Converters are pure and cached: a payment file repeats the same ID numbers, months and amounts on
every row, so a million rows cost a few tens of thousands of real conversions.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from govshare_desktop.core.domain import codes, idnumber
from govshare_desktop.core.domain.codes import UnknownCode
from govshare_desktop.core.domain.text import squeeze

# Stable reason codes (part of the CLI's JSON contract).
MISSING_REQUIRED = "missing_required"
ID_NOT_TEXT = "id_number_not_text"
ID_CHECKSUM = "id_number_checksum"
ID_INVALID = "id_number_invalid"
BAD_DATE = "bad_date"
BAD_MONEY = "bad_money"
BAD_PERIOD = "bad_period"
BAD_VALUE = "bad_value"
UNKNOWN_CODE = "unknown_code"
DUPLICATE_IN_FILE = "duplicate_in_file"
INCONSISTENT_WITH_ID = "inconsistent_with_id"
AREA_OUTSIDE_TOWNSHIP = "area_outside_township"
CONTROL_CHARACTER = "control_character"
# The checks of the 民政, 医保, 殡葬, 卫健 and 残联 datasets (core/backflow/department_records.py).
END_BEFORE_START = "end_before_start"  # 停止日期 before 开始日期, 火化日期 before 死亡日期 …
DATE_IN_FUTURE = "date_in_future"  # a death, cremation, issue or payment date after the import day
NEGATIVE_AMOUNT = "negative_amount"
CARD_NUMBER_MISMATCH = "card_number_mismatch"  # 残疾人证号's 类别/等级 digits contradict the row

#: Characters no text field may hold: C0 controls except tab, CR and LF (a quoted CSV field or an
#: Excel cell may wrap lines), DEL and the C1 controls. A NUL in a name is corruption or an attack
#: on whatever reads the value later (C strings, XML writers), never data.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

EXCEL_EPOCH = date(1899, 12, 30)


class FieldError(ValueError):
    """A value that cannot be taken: ``reason`` is a stable code, ``str()`` a Chinese message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def text(value: Any) -> str:
    """Cell text: numbers that are whole come out without ``.0``; whitespace trimmed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    return str(value).strip()


# ---------------------------------------------------------------- ID numbers


def id_number(value: Any) -> str:
    if isinstance(value, (bool, int, float)):
        digits = f"{value:.0f}" if isinstance(value, float) else str(value)
        raise FieldError(
            ID_NOT_TEXT,
            f"身份证号被 Excel 存成了数字（{digits}），末几位已经丢失，无法恢复；"
            "请让数据提供单位把该列设为“文本”格式后重新导出",
        )
    return _id_number(str(value))


_CANONICAL_ID = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = idnumber.WEIGHTS
_EARLIEST_BIRTH = date(1850, 1, 1)


def _canonical_id(raw: str) -> bool:
    """Whether ``raw`` is already a valid ID number in its canonical form — what
    :func:`idnumber.validate` would return unchanged — checked without its normalising pass
    (a person file has a hundred thousand distinct numbers: half the cost of a row). Only a
    yes is taken from here: anything else goes through ``validate`` for its answer."""
    if not _CANONICAL_ID.fullmatch(raw):
        return False
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return False
    if born < _EARLIEST_BIRTH or born > date.today():
        return False
    total = sum(map(operator.mul, map(int, raw[:17]), _ID_WEIGHTS))
    return raw[17] == idnumber.CHECK_CHARS[total % 11]


@lru_cache(maxsize=200_000)
def _id_number(raw: str) -> str:
    if _canonical_id(raw):
        return raw
    if "E+" in raw.upper() and re.fullmatch(r"[\d.]+E\+\d+", raw.strip().upper()):
        raise FieldError(ID_NOT_TEXT, f"身份证号“{raw}”是科学计数法形式，末几位已经丢失")
    try:
        return idnumber.validate(raw)
    except idnumber.IdNumberError as exc:
        reason = ID_CHECKSUM if exc.reason == "id_number_checksum" else ID_INVALID
        if exc.reason == "missing_required":
            reason = MISSING_REQUIRED
        raise FieldError(reason, str(exc)) from None


# ---------------------------------------------------------------- dates and periods

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: .*)?$"), "ymd"),
    (re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), "ymd"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
)


def excel_serial(number: float) -> date:
    """Excel's 1900 date system (serial 1 = 1900-01-01, with its fictitious 1900-02-29)."""
    return EXCEL_EPOCH + timedelta(days=int(number))


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise FieldError(BAD_DATE, f"“{value}”不是日期")
    if isinstance(value, (int, float)):
        if value >= 1_000_000:  # 19650302 stored as a number
            return _date_text(f"{value:.0f}")
        if 1 <= value < 80_000:
            return excel_serial(float(value))
        raise FieldError(BAD_DATE, f"“{value}”不是有效日期")
    return _date_text(str(value))


@lru_cache(maxsize=100_000)
def _date_text(raw: str) -> date:
    value = squeeze(raw)
    for pattern, _ in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    if re.fullmatch(r"\d{5}(\.\d+)?", value):  # an Excel serial that arrived as text
        return excel_serial(float(value))
    raise FieldError(
        BAD_DATE, f"“{raw}”不是有效日期（可写作 1965-03-02、1965/3/2、19650302 或 1965年3月2日）"
    )


def to_period(value: Any) -> int:
    """发放年月 → ``YYYYMM``: 202608, "2026-08", "2026年8月", "2026/8", or a date in that month."""
    if isinstance(value, (datetime, date)):
        return value.year * 100 + value.month
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _period_text(str(value))


@lru_cache(maxsize=10_000)
def _period_text(raw: str) -> int:
    value = squeeze(raw)
    m = re.fullmatch(r"(\d{4})(?:[-/.年]?)(\d{1,2})月?", value)
    if m and len(value) != 5:  # 20268 is ambiguous
        year, month = int(m.group(1)), int(m.group(2))
        if 1900 <= year <= 2200 and 1 <= month <= 12:
            return year * 100 + month
    raise FieldError(BAD_PERIOD, f"“{raw}”不是有效的年月（可写作 202608、2026-08 或 2026年8月）")


# ---------------------------------------------------------------- money


def to_fen(value: Any, *, unit_fen: bool = False) -> int:
    """Amounts → integer fen. ``238.00``, ``1,000元``, ``￥12.5``, a number; ``unit_fen`` when the
    column says （分）. More than two decimals of a yuan is refused rather than rounded."""
    if isinstance(value, bool):
        raise FieldError(BAD_MONEY, f"“{value}”不是金额")
    if isinstance(value, int):
        return value if unit_fen else value * 100
    if isinstance(value, float):
        value = repr(value)
    return _fen_text(str(value), unit_fen)


@lru_cache(maxsize=50_000)
def _fen_text(raw: str, unit_fen: bool) -> int:
    value = squeeze(raw).replace(",", "").replace("，", "")
    value = value.removeprefix("￥").removeprefix("¥").removesuffix("元").removesuffix("分")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise FieldError(BAD_MONEY, f"“{raw}”不是有效金额") from None
    if not amount.is_finite():
        raise FieldError(BAD_MONEY, f"“{raw}”不是有效金额")
    fen = amount if unit_fen else amount * 100
    if fen != fen.to_integral_value():
        unit = "分" if unit_fen else "元"
        raise FieldError(BAD_MONEY, f"金额“{raw}”（单位：{unit}）超出了分的精度")
    return int(fen)


# ---------------------------------------------------------------- codes and flags

_TRUE = {"是", "1", "Y", "YES", "TRUE", "T", "领取", "已领取", "√"}
_FALSE = {"否", "0", "N", "NO", "FALSE", "F", "未领取", "不领取", "×"}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = squeeze(text(value)).upper()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise FieldError(BAD_VALUE, f"“{value}”应为 是/否 或 1/0")


def code_converter(table_key: str) -> Callable[[Any], str]:
    table = codes.table(table_key)

    @lru_cache(maxsize=4096)
    def convert_text(raw: str) -> str:
        try:
            return table.code(raw)
        except UnknownCode as exc:
            raise FieldError(UNKNOWN_CODE, str(exc)) from None

    def convert(value: Any) -> str:
        return convert_text(text(value))

    return convert


_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE_DIGITS = re.compile(r"\d{5,20}")


def to_phone(value: Any) -> str:
    digits = _PHONE_SEPARATORS.sub("", text(value))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not _PHONE_DIGITS.fullmatch(digits):
        raise FieldError(BAD_VALUE, f"联系电话“{value}”含有非数字字符")
    return digits


def to_area_code(value: Any) -> str:
    code = text(value)
    if not re.fullmatch(r"\d{12}", code):
        raise FieldError(BAD_VALUE, f"区划代码“{value}”应为12位数字")
    return code


def to_int(value: Any) -> int:
    try:
        return int(text(value))
    except ValueError:
        raise FieldError(BAD_VALUE, f"“{value}”不是整数") from None


def to_year(value: Any) -> int:
    """参保年度 → an int: 2026, "2026", "2026年" or "2026年度"."""
    raw = squeeze(text(value)).removesuffix("年度").removesuffix("年")
    if re.fullmatch(r"\d{4}", raw) and 1900 <= int(raw) <= 2200:
        return int(raw)
    raise FieldError(BAD_VALUE, f"“{value}”不是有效年度（可写作 2026 或 2026年）")


def converter(type_name: str, *, header: str = "") -> Callable[[Any], Any]:
    """The converter for a field type from resources/backflow/datasets.json."""
    if type_name == "id_number":
        return id_number
    if type_name == "date":
        return to_date
    if type_name == "period":
        return to_period
    if type_name in ("money", "fen"):
        unit_fen = type_name == "fen" or "(分)" in header or "（分）" in header
        return lambda value: to_fen(value, unit_fen=unit_fen)
    if type_name == "bool":
        return to_bool
    if type_name == "phone":
        return to_phone
    if type_name == "area_code":
        return to_area_code
    if type_name == "int":
        return to_int
    if type_name == "year":
        return to_year
    if type_name.startswith("code:"):
        return code_converter(type_name.removeprefix("code:"))
    if type_name in ("text", "ignore"):
        return text
    raise ValueError(f"unknown field type {type_name!r}")
