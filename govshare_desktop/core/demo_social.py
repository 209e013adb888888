"""The demo township's social security rows: the schemes a person is enrolled in, and the
enrollment and monthly payment rows written for them.

What the demo holds is described in :mod:`govshare_desktop.core.demo`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from govshare_desktop.core.demo_people import _P, LOCAL_REGION, _Generator, _month_index

PAYMENT_WINDOW_MONTHS = 60
BASIC_PENSION_FEN_2026 = 23_800
BASIC_PENSION_STEP_FEN = 500  # per year before 2026
PAY_DAY = 10


def _period(index: int) -> int:
    return (index // 12) * 100 + index % 12 + 1


def _basic_fen(year: int) -> int:
    return BASIC_PENSION_FEN_2026 - BASIC_PENSION_STEP_FEN * (2026 - year)


def _schemes(p: _P) -> list[tuple[str, str, int | None, date | None, bool]]:
    """(scheme, status, grade_fen, start_date, receiving) of a person's current enrollments; the
    two deliberate anomalies keep only their 170 pension."""
    schemes: list[tuple[str, str, int | None, date | None, bool]] = []
    if p.pension is not None:
        schemes.append((p.pension, p.pension_status, p.grade_fen, p.pension_start, p.receiving))
    if p.medical is not None and not p.anomaly:
        schemes.append((p.medical, "1", None, p.medical_start, False))
    return schemes


def _enrollment_count(people: list[_P]) -> int:
    return sum(len(_schemes(p)) for p in people)


ENROLLMENT_COLUMNS = (
    "id_number",
    "name",
    "scheme_code",
    "status_code",
    "grade_fen",
    "start_date",
    "receiving",
    "person_no",
    "village_code",
    "batch_id",
    "as_of",
)


def _enrollment_rows(people: list[_P], batch_id: int, as_of: date) -> Iterator[tuple[Any, ...]]:
    """Enrollment rows as tuples in :data:`ENROLLMENT_COLUMNS` order."""
    number = 0
    width = max(6, len(str(len(people))))  # 社保个人编号: 6 digits, 7 beyond 999,999 people
    for p in people:
        schemes = _schemes(p)
        if not schemes:
            continue
        number += 1
        person_no = f"{LOCAL_REGION}{number:0{width}d}"
        for scheme, status, grade, start, receiving in schemes:
            yield (
                p.id_number,
                p.name,
                scheme,
                status,
                grade,
                start,
                receiving,
                person_no,
                p.village_code,
                batch_id,
                as_of,
            )


def _payment_plan(gen: _Generator, people: list[_P]) -> list[tuple[str, int, int, int]]:
    """(id_number, first month index, last month index, account_fen) for every receiver."""
    last_month = _month_index(gen.as_of)
    window_start = last_month - PAYMENT_WINDOW_MONTHS + 1
    plan = []
    for p in people:
        if p.pension != "170" or not p.receiving:
            continue
        first = max(gen.first_payment_month(p), window_start)
        last = last_month
        if p.status != "normal" and not p.anomaly and p.status_date is not None:
            last = min(last, _month_index(p.status_date))
        if first <= last:
            plan.append((p.id_number, first, last, p.account_fen))
    return plan


PAYMENT_COLUMNS = (
    "id_number",
    "period",
    "basic_fen",
    "account_fen",
    "total_fen",
    "paid_date",
    "batch_id",
    "as_of",
)


def _payment_months(first: int, last: int) -> Iterator[tuple[int, tuple[int, int, date]]]:
    """(month index, (period, basic_fen, paid_date)) of each month from ``first`` to ``last``."""
    for month in range(first, last + 1):
        year = month // 12
        yield month, (_period(month), _basic_fen(year), date(year, month % 12 + 1, PAY_DAY))


def _payment_rows(
    plan: list[tuple[str, int, int, int]], batch_id: int, as_of: date
) -> Iterator[tuple[Any, ...]]:
    """Payment rows as tuples in :data:`PAYMENT_COLUMNS` order."""
    if not plan:
        return
    months = dict(
        _payment_months(min(first for _, first, _, _ in plan), max(last for _, _, last, _ in plan))
    )
    for id_number, first, last, account in plan:
        for month in range(first, last + 1):
            period, basic, paid = months[month]
            yield (id_number, period, basic, account, basic + account, paid, batch_id, as_of)
