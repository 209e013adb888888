"""The 工作台's charts, counted: 参保率/领取率, the population pyramid, payments by month and 一表通
completion — on a tiny township built record by record, where every figure is known (and each
boundary has a person on either side of it), and on the demo township against counts made here
over the ORM objects in Python, independently of the SQL. Then who may see them, and the charts'
text (short village names, money in yuan from fen)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import select

from govshare_desktop.core.domain.idnumber import make
from govshare_desktop.core.domain.period import Period, PeriodKind
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.services import forms, stats
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.stats import short_name, short_yuan, yuan
from govshare_desktop.core.stats_queries import years_before
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, Enrollment, FormValue, Payment, Person
from govshare_desktop.core.store.township import add_village, init_township, villages
from tests.core.use_cases import covers

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10, 0)
TOWNSHIP, EAST, WEST = "441900199000", "441900199201", "441900199202"
_serial = itertools.count(1)


def _ctx(store: Store) -> Context:
    return Context(store, clock=lambda: NOW)


class Tiny:
    """A township of two villages, people added one by one with what they are enrolled in."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as session:
            init_township(session, TOWNSHIP, "青禾镇")
            add_village(session, EAST, "东岭村委会")
            add_village(session, WEST, "西塘村委会")
            self.batch = Batch(
                dataset="person", source_department="测试", imported_at=NOW, imported_by="t"
            )
            session.add(self.batch)
            session.flush()
            self.batch_id = self.batch.id

    def person(
        self,
        born: date,
        *,
        village: str | None = EAST,
        male: bool = True,
        status: str = "normal",
        absent: bool = False,
        schemes: tuple[tuple[str, str, bool], ...] = (),
    ) -> str:
        """A person with enrollments (scheme, status, receiving)."""
        number = make("441900", born, next(_serial), male=male)
        with self.store.transaction() as session:
            session.add(
                Person(
                    id_number=number,
                    name="测试",
                    sex_code="1" if male else "2",
                    birth_date=born,
                    village_code=village,
                    status=status,
                    batch_id=self.batch_id,
                    absent_batch_id=self.batch_id if absent else None,
                )
            )
            for scheme, status_code, receiving in schemes:
                session.add(
                    Enrollment(
                        id_number=number,
                        name="测试",
                        scheme_code=scheme,
                        status_code=status_code,
                        receiving=receiving,
                        batch_id=self.batch_id,
                    )
                )
        return number

    def enrollment_absent(self, number: str) -> None:
        with self.store.transaction() as session:
            for row in session.scalars(select(Enrollment).where(Enrollment.id_number == number)):
                row.absent_batch_id = self.batch_id

    def paid(self, number: str, period: int, fen: int, *, absent: bool = False) -> None:
        with self.store.transaction() as session:
            session.add(
                Payment(
                    id_number=number,
                    period=period,
                    total_fen=fen,
                    batch_id=self.batch_id,
                    absent_batch_id=self.batch_id if absent else None,
                )
            )


PAYING, PAUSED, ENDED = "1", "2", "3"


@pytest.fixture
def tiny(store: Store) -> Tiny:
    t = Tiny(store)
    # 东岭村: 10 eligible, 6 enrolled; 3 aged 60 or more, 1 of them receiving
    t.person(date(1990, 1, 1), schemes=(("170", PAYING, False),))  # eligible, enrolled
    t.receiver = t.person(date(1950, 5, 5), male=False, schemes=(("170", ENDED, True),))
    t.person(date(1955, 3, 1))  # 60+, not enrolled
    t.person(date(1980, 1, 1), schemes=(("110", PAYING, False),))  # 职工养老: not eligible
    t.person(date(2010, 11, 27))  # 15: sixteen tomorrow, not eligible
    t.person(date(2010, 11, 26))  # sixteen today: eligible, not enrolled
    t.person(date(1966, 11, 26), schemes=(("170", PAYING, False),))  # sixty today, not receiving
    t.person(date(1966, 11, 27), schemes=(("170", PAYING, False),))  # 59: enrolled
    t.person(date(1940, 1, 1), status="deceased", schemes=(("170", ENDED, True),))  # not counted
    t.person(date(1970, 1, 1), absent=True, schemes=(("170", PAYING, False),))  # not counted
    t.person(date(1985, 1, 1), schemes=(("170", ENDED, False),))  # 终止缴费: not enrolled
    t.person(date(1975, 1, 1), schemes=(("170", PAUSED, False),))  # 暂停缴费: enrolled
    t.person(date(1978, 1, 1), schemes=(("110", ENDED, False), ("170", PAYING, False)))  # enrolled
    t.person(date(1950, 1, 1), schemes=(("120", ENDED, True),))  # 机关事业 pension: not eligible
    gone = t.person(date(1988, 1, 1), schemes=(("170", PAYING, False),))
    t.enrollment_absent(gone)  # its enrollment no longer in the back-flow: not enrolled
    # 西塘村: 2 eligible, 2 enrolled, 1 aged 60+, receiving
    t.west = t.person(
        date(2000, 2, 29), village=WEST, male=False, schemes=(("170", PAYING, False),)
    )
    t.west_receiver = t.person(
        date(1940, 6, 1), village=WEST, male=False, schemes=(("170", ENDED, True),)
    )
    # no village: 1 eligible and enrolled (未分村)
    t.person(date(1970, 6, 1), village=None, schemes=(("170", PAYING, False),))
    # payments: the window is 2025-11 … 2026-10 (the newest month paid, not after today)
    t.paid(t.receiver, 202609, 23_800)
    t.paid(t.receiver, 202610, 23_800)
    t.paid(t.west_receiver, 202610, 25_000)
    t.paid("110101195001011234", 202610, 10_000)  # someone not in the registry: township only
    t.paid(t.west_receiver, 202609, 99_999, absent=True)  # no longer in the back-flow
    t.paid(t.receiver, 202612, 23_800)  # after today: not in the window
    t.paid(t.west_receiver, 202510, 12_345)  # before the window
    return t


@covers("stats.coverage")
def test_coverage_counts_who_is_eligible_enrolled_and_receiving(tiny: Tiny) -> None:
    chart = stats.coverage(_ctx(tiny.store))
    assert chart.categories == ("东岭村", "西塘村", "未分村")
    enrolled, receiving = chart.series
    assert (enrolled.values, enrolled.bases) == ((6, 2, 1), (10, 2, 1))
    assert (receiving.values, receiving.bases) == ((1, 1, 0), (3, 1, 0))
    township = {r.label: (r.value, r.base) for r in chart.references}
    assert township == {"全镇参保率": (9, 13), "全镇领取率": (2, 4)}
    assert chart.number(0, 0) == 60.0
    assert chart.short(1, 2) == "—"  # nobody aged 60+: no rate
    assert chart.detail(0, 0) == "东岭村 参保率 60.0%（参保 6 人，应参保 10 人）"
    assert "年满16周岁" in chart.footnote and "在校学生" in chart.footnote
    assert "2026年11月26日" in chart.footnote

    village = stats.coverage(_ctx(tiny.store), WEST)
    assert village.categories == ("西塘村", "全镇")
    assert village.series[0].values == (2, 9) and village.series[0].bases == (2, 13)
    assert village.references == ()
    assert village.title.startswith("西塘村委会")


@covers("stats.population")
def test_the_pyramid_counts_the_registry_by_age_band_and_sex(tiny: Tiny) -> None:
    chart = stats.population(_ctx(tiny.store))
    assert chart.categories[0] == "0—9岁" and chart.categories[-1] == "90岁及以上"
    male, female = chart.series
    # by hand: the living, present persons' full years on TODAY
    assert male.values == (0, 2, 0, 2, 3, 3, 1, 2, 0, 0)
    assert female.values == (0, 0, 1, 0, 0, 0, 0, 1, 1, 0)
    assert "男 13 人，女 3 人，共 16 人" in chart.footnote

    west = stats.population(_ctx(tiny.store), WEST)
    assert (sum(west.series[0].values), sum(west.series[1].values)) == (0, 2)


@covers("stats.payments")
def test_payments_by_month_in_fen_over_the_last_twelve_months(tiny: Tiny) -> None:
    chart = stats.payments(_ctx(tiny.store))
    assert chart.names[0] == "2025年11月" and chart.names[-1] == "2026年10月"
    assert chart.categories[-1] == "10月" and len(chart.categories) == 12
    amount, count = chart.series
    assert amount.values[-2:] == (23_800, 23_800 + 25_000 + 10_000)
    assert sum(amount.values) == 23_800 * 2 + 25_000 + 10_000
    assert count.values[-1] == 3 and not count.drawn
    assert chart.detail(0, 11) == "2026年10月 发放金额 588.00 元"
    assert chart.number(0, 11) == 588.0
    assert "2025年11月—2026年10月" in chart.title

    east = stats.payments(_ctx(tiny.store), EAST)
    assert east.series[0].values[-2:] == (23_800, 23_800)
    west = stats.payments(_ctx(tiny.store), WEST)
    assert west.series[0].values[-2:] == (0, 25_000)
    assert "按领取人户籍所在村" in west.footnote


def test_payments_without_any_month_paid_say_so(store: Store) -> None:
    Tiny(store)
    chart = stats.payments(_ctx(store))
    assert chart.is_empty and chart.categories == ()
    assert chart.empty_text == "暂无待遇发放数据"


@covers("stats.completion")
def test_completion_is_filled_over_required_for_each_forms_current_period(tiny: Tiny) -> None:
    ctx = _ctx(tiny.store)
    before = stats.completion(ctx, EAST)
    titles = [c.split("（")[0] for c in before.categories]
    assert "城乡居民基本医疗保险参保情况统计表" in titles
    assert "高龄津贴申请表" not in titles  # one per person, no period: not counted
    row = titles.index("城乡居民基本医疗保险参保情况统计表")
    assert before.categories[row].endswith("（2026年11月）")
    assert before.series[0].values[row] == 0
    catalog = load_catalog(tiny.store)
    template = catalog.templates["yb_resident_medical"]
    assert before.series[0].bases[row] == len(template.elements)  # one village row

    pool = FormValues(tiny.store, catalog.dictionary, catalog.templates)
    forms.prefill(ctx, pool, Period.parse("2026-11"))
    after = stats.completion(ctx, EAST)
    with tiny.store.sessions() as session:
        rows = session.scalars(
            select(FormValue).where(
                FormValue.subject == EAST,
                FormValue.period == "2026-11",
                FormValue.element.in_(template.elements),
                FormValue.value.is_not(None),
            )
        )
        filled = len(list(rows))
    assert filled > 0
    assert after.series[0].values[row] == filled


# ---------------------------------------------------------------- the demo township


def _age(born: date, day: date) -> int:
    """Full years, the schoolbook way (independent of the SQL's cut-off dates)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _demo_objects(store: Store) -> tuple[list[Person], dict[str, list[Enrollment]]]:
    with store.sessions() as session:
        persons = list(session.scalars(select(Person)))
        by_person: dict[str, list[Enrollment]] = {}
        for row in session.scalars(select(Enrollment)):
            by_person.setdefault(row.id_number, []).append(row)
    return persons, by_person


def test_the_demo_townships_rates_match_a_count_over_the_records(demo_store: Store) -> None:
    persons, enrollments = _demo_objects(demo_store)

    def held(p: Person, schemes: tuple[str, ...], paying: bool = False) -> bool:
        return any(
            e.scheme_code in schemes
            and e.absent_batch_id is None
            and (e.receiving if paying else (e.status_code != "3" or e.receiving))
            for e in enrollments.get(p.id_number, [])
        )

    expected: dict[str | None, Counter[str]] = {}
    for p in persons:
        if p.status != "normal" or p.absent_batch_id is not None or _age(p.birth_date, TODAY) < 16:
            continue
        if held(p, ("110", "120")):
            continue
        count = expected.setdefault(p.village_code, Counter())
        count["eligible"] += 1
        count["enrolled"] += held(p, ("170",))
        if _age(p.birth_date, TODAY) >= 60:
            count["elderly"] += 1
            count["receiving"] += held(p, ("170",), paying=True)
    chart = stats.coverage(_ctx(demo_store))
    with demo_store.sessions() as session:
        codes = [v.code for v in villages(session)]
    assert len(chart.categories) == len(codes) == 6
    enrolled, receiving = chart.series
    for i, code in enumerate(codes):
        count = expected.get(code, Counter())
        assert (enrolled.values[i], enrolled.bases[i]) == (count["enrolled"], count["eligible"])
        assert (receiving.values[i], receiving.bases[i]) == (count["receiving"], count["elderly"])
    total = sum(expected.values(), Counter())
    assert total["eligible"] > 500 and 0 < total["receiving"] < total["elderly"]
    references = {r.label: (r.value, r.base) for r in chart.references}
    assert references["全镇参保率"] == (total["enrolled"], total["eligible"])
    assert references["全镇领取率"] == (total["receiving"], total["elderly"])


def test_the_demo_townships_pyramid_and_payments_match_the_records(demo_store: Store) -> None:
    persons, _ = _demo_objects(demo_store)
    living = [p for p in persons if p.status == "normal" and p.absent_batch_id is None]
    for area in (None, EAST):
        chart = stats.population(_ctx(demo_store), area)
        counted = Counter(
            (min(_age(p.birth_date, TODAY) // 10, 9), p.sex_code)
            for p in living
            if area is None or p.village_code == area
        )
        assert chart.series[0].values == tuple(counted[(b, "1")] for b in range(10))
        assert chart.series[1].values == tuple(counted[(b, "2")] for b in range(10))

    village_of = {p.id_number: p.village_code for p in persons}
    with demo_store.sessions() as session:
        payments = [p for p in session.scalars(select(Payment)) if p.absent_batch_id is None]
    newest = max(p.period for p in payments if p.period <= 202611)
    assert newest == 202610  # the demo's data are as of 2026-10-31
    for area in (None, EAST):
        chart = stats.payments(_ctx(demo_store), area)
        months = [int(n[:4]) * 100 + int(n[5:-1]) for n in chart.names]
        assert months[-1] == newest and len(months) == 12
        total: Counter[int] = Counter()
        for p in payments:
            if area is None or village_of.get(p.id_number) == area:
                total[p.period] += p.total_fen
        assert chart.series[0].values == tuple(total[m] for m in months)
        assert all(v > 0 for v in chart.series[0].values)


def test_the_demo_townships_completion_matches_the_form_itself(demo_store: Store) -> None:
    ctx = _ctx(demo_store)
    catalog = load_catalog(demo_store)
    pool = FormValues(demo_store, catalog.dictionary, catalog.templates)
    forms.prefill(ctx, pool, Period.parse("2026-11"))
    chart = stats.completion(ctx)
    titles = {t.title: t for t in catalog.templates.values()}
    assert len(chart.categories) >= 5
    filled_any = False
    for i, category in enumerate(chart.categories):
        title, _, period_label = category.partition("（")
        template = titles[title]
        period = Period.of_date(TODAY, PeriodKind(template.period_type))
        assert period_label == f"{period.label}）"
        data = pool.collect(template.id, TOWNSHIP, period)
        assert (chart.series[0].values[i], chart.series[0].bases[i]) == data.completeness()
        filled_any |= chart.series[0].values[i] > 0
    assert filled_any  # the November prefill shows


# ---------------------------------------------------------------- the service around them


@covers("stats.areas", "stats.charts")
def test_the_charts_of_the_township_or_one_village(tiny: Tiny) -> None:
    ctx = _ctx(tiny.store)
    assert stats.areas(ctx) == [
        (TOWNSHIP, "青禾镇（全镇）"),
        (EAST, "东岭村委会"),
        (WEST, "西塘村委会"),
    ]
    whole = stats.charts(ctx)
    assert [c.key for c in whole.charts] == ["coverage", "population", "payments", "completion"]
    assert (whole.area, whole.area_name, whole.today) == (TOWNSHIP, "青禾镇", TODAY)
    assert whole.subtitle == "青禾镇　统计日期：2026年11月26日"
    assert stats.charts(ctx, TOWNSHIP).chart("coverage") == whole.chart("coverage")
    west = stats.charts(ctx, WEST)
    assert west.area_name == "青禾镇西塘村委会"
    assert west.chart("population") != whole.chart("population")
    with pytest.raises(UserError, match="不是本乡镇"):
        stats.charts(ctx, "441900299201")


def test_only_those_who_may_see_the_data_see_the_charts(tiny: Tiny) -> None:
    admin = Context(tiny.store.acting(Principal("admin", Role.SYSADMIN)), clock=lambda: NOW)
    for use_case in (
        stats.areas,
        stats.coverage,
        stats.population,
        stats.payments,
        stats.completion,
        stats.charts,
    ):
        with pytest.raises(PermissionDenied):
            use_case(admin)


def test_the_charts_text() -> None:
    assert years_before(date(2026, 11, 26), 16) == date(2010, 11, 26)
    assert years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)
    assert [short_name(n) for n in ("东岭村委会", "青禾社区居委会", "新围村民委员会", "园区")] == [
        "东岭村",
        "青禾社区",
        "新围村",
        "园区",
    ]
    assert yuan(5_432_101) == "54,321.01" and yuan(-5) == "-0.05"
    assert short_yuan(6_082_356) == "6.08万" and short_yuan(123_456) == "1,235"


def test_a_rosters_completion_is_counted_as_the_collected_roster_counts_it(pool) -> None:  # type: ignore[no-untyped-def]
    """The 工作台's completion chart counts a 花名册's filled and required values with two SQL
    counts (a roster at the largest townships lists 500,000 people): the same figures as the
    collected form's own count, for the township and a village, some values filled (one of them
    blank, which does not count) and one for someone the roster does not list."""
    from govshare_desktop.core.stats_forms import roster_completeness

    period = Period.parse("2026-10")
    township = "441900199000"
    template_id = "mz_elderly_allowance_roster"
    listed = [s for s, _ in pool.collect(template_id, township, period).subjects]
    assert len(listed) > 3
    when = datetime(2026, 11, 3, 9, 0)
    for subject, value in ((listed[0], "100"), (listed[1], "250.5"), (listed[2], "")):
        pool.set("S_ALLOWANCE_AMOUNT", subject, period, value, user="clerk", now=when)
    pool.set("S_ALLOWANCE_AMOUNT", "441900201501010011", period, "1", user="clerk", now=when)
    for name in pool.templates:
        template = pool.template_for(name, period, township)
        if template.kind != "roster":
            continue
        for area in (township, "441900199201"):
            expected = pool.collect(name, area, period).completeness()
            assert roster_completeness(pool, template, area, period) == expected, (name, area)
    filled, required = roster_completeness(pool, pool.templates[template_id], township, period)
    assert filled == 2 and required == len(listed)
