from datetime import date

import pytest

from govshare_desktop.core.domain.period import Period, PeriodKind


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026年10月"),
        ("202602", date(2026, 2, 1), date(2026, 2, 28), "2026年2月"),
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30), "2026年第3季度"),
        ("2026H2", date(2026, 7, 1), date(2026, 12, 31), "2026年下半年"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026年"),
        ("2024年2月", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    ],
)
def test_parse_bounds_label(text: str, start: date, end: date, label: str) -> None:
    period = Period.parse(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize("bad", ["2026-13", "2026Q5", "2026H3", "26-10", "abc", ""])
def test_rejects_bad_periods(bad: str) -> None:
    with pytest.raises(ValueError, match="统计期"):
        Period.parse(bad)


def test_arithmetic_and_membership() -> None:
    assert Period.parse("2026-12").next() == Period.parse("2027-01")
    assert Period.parse("2026Q1").previous() == Period.parse("2025Q4")
    assert [str(p) for p in Period.parse("2026Q3").months()] == ["2026-07", "2026-08", "2026-09"]
    assert date(2026, 8, 15) in Period.parse("2026Q3")
    assert date(2026, 10, 1) not in Period.parse("2026Q3")
    assert Period.from_yyyymm(202610).yyyymm == 202610
    assert Period.of_date(date(2026, 11, 26), PeriodKind.HALF) == Period.parse("2026H2")
    assert Period.parse("2026-01") < Period.parse("2026-02")
