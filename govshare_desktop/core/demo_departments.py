"""The demo township's data from 民政, 医保, 殡葬, 卫健 and 残联, drawn for the people of
:mod:`~govshare_desktop.core.demo_people`, and the anomalies planted in it for the cross-checks.

Everything here comes from a random stream of its own (seeded from the demo's seed), so the
registry, the enrollments and the payments are what they are without it. What is drawn:

* 残疾人证 for about 1 % of children, 2 % of adults under 60, 5 % of 60–79 and 9 % of people of 80
  or over (肢体 most often; 一级 least often), issued within the ten years before ``as_of`` (and
  before a death), valid ten years; the card of a deceased person is 注销, of one moved out 迁出;
* 低保 families: about 3 % of family households (城市低保 in the 社区, 农村低保 in the villages),
  each member a row with the family's 保障人数 and the same monthly amount (500–1,400 元). About a
  fifth of them stopped before ``as_of`` (停保 with a 停止日期); a member who died or moved out is
  stopped at that date (or not listed, before the family's start). 特困: about 15 % of people of 60
  or over living alone, 1,820 元 a month;
* 高龄津贴 for each of the 12 months ending in ``as_of``'s month in which the person is 80 or over at
  the month's end, through the month of death or moving out: 100 元 (80–89), 200 元 (90–99), 500 元
  (100 and over). 困难残疾人生活补贴 (190 元) for cardholders whose card is 正常 and who are 在保 in
  低保 or 特困, from the month they were both. 重度残疾人护理补贴 for 一级 (260 元) and 二级 (190 元)
  cards, through the month of death or moving out. All paid on the 15th (demo standards);
* 医保: the 310 and 390 enrollments of ``ss_enrollment`` (same people, schemes and dates) as the
  医保 department sends them, for ``as_of``'s year: 在职职工 in 310; in 390 特困 (全额资助, 0 元),
  低保 (定额资助, 120 元), 重度残疾人 with an 一级/二级 card (全额资助), 学生儿童 and 普通居民 (400 元);
* 火化 and 死亡医学证明 for every person the registry lists as 死亡注销: died on the 变动日期,
  cremated one to five days later, certified on the day or the next.

The planted anomalies — :data:`ANOMALIES` says, for each kind, the condition that holds in the demo
for exactly the persons planted (a check test can assert those and no one else), and
:func:`planted_anomalies` which persons they are, as written into the database by the generator.
A township too small to have a candidate has none of that kind.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from govshare_desktop.core.demo_draws import DemoRandom
from govshare_desktop.core.demo_people import (
    _P,
    LOCAL_REGION,
    VILLAGES,
    _add_years,
    _Household,
    _month_index,
)
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import get_setting, set_setting

# The datasets and who sends them in the demo, in the order they are written.
SOURCES = {
    "disability_card": "东莞市残疾人联合会（演示数据）",
    "assistance": "东莞市民政局（演示数据）",
    "allowance_payment": "东莞市民政局（演示数据）",
    "medical_enrollment": "东莞市医疗保障局（演示数据）",
    "death_certificate": "东莞市卫生健康局（演示数据）",
    "cremation": "东莞市民政局殡葬管理所（演示数据）",
}

ANOMALIES: dict[str, str] = {
    "pension_after_death": (
        "户籍人员状态为死亡注销，却有死亡当月之后的城乡居民养老金（170）待遇发放"
    ),
    "assistance_after_cremation": (
        "救助记录为在保（保障状态 1）且没有停止日期，而此人已有火化记录"
    ),
    "elderly_allowance_under_80": (
        "高龄津贴（津贴类别 1）的发放年月最后一天，此人按身份证号中的出生日期未满 80 周岁"
    ),
    "death_certificate_registry_normal": "有死亡医学证明，户籍人员状态仍为正常",
    "assistance_without_medical_subsidy": (
        "救助记录为在保（保障状态 1），此人的城乡居民医保（390）资助类型为无资助（0）"
    ),
    "care_subsidy_without_severe_card": (
        "领取重度残疾人护理补贴（津贴类别 3），却没有一级或二级残疾人证"
    ),
}
SETTING_ANOMALIES = "demo_anomalies"

ALLOWANCE_MONTHS = 12
ALLOWANCE_PAY_DAY = 15
ELDERLY_FEN = ((100, 50_000), (90, 20_000), (80, 10_000))  # (from age, monthly fen)
LIVING_SUBSIDY_FEN = 19_000
CARE_SUBSIDY_FEN = {"1": 26_000, "2": 19_000}
TEKUN_FEN = 182_000
RESIDENT_MEDICAL_FEN = 40_000  # 城乡居民医保 个人缴费 (demo)
DIBAO_MEDICAL_FEN = 12_000  # after the 定额资助
CARD_RATES = ((18, 0.01), (60, 0.02), (80, 0.05), (200, 0.09))  # (under age, rate)
CARD_CATEGORIES = (("4", 45), ("1", 12), ("2", 12), ("6", 12), ("5", 9), ("7", 8), ("3", 2))
CARD_LEVELS = (("1", 12), ("2", 22), ("3", 30), ("4", 36))
DEATH_PLACES = (("1", 55), ("3", 35), ("4", 5), ("2", 3), ("5", 2))
HOSPITAL = "东莞市青禾医院"
HEALTH_CENTRE = "青禾镇卫生院"
FUNERAL_HOME = "东莞市殡仪馆"
EARLIEST_START = date(2015, 1, 1)
_URBAN = {v.code for v in VILLAGES if v.urban_rural_code.startswith("1")}


class Rows:
    """A dataset's rows as tuples in ``columns`` order (as stored, without batch and as-of): kept
    in a list, or — for the large datasets — drawn again from the people on each iteration, so
    that a 200,000-household township does not hold a million row dicts."""

    def __init__(
        self, columns: tuple[str, ...], make: Callable[[], Iterator[tuple[Any, ...]]]
    ) -> None:
        self.columns = columns
        self._make = make
        self._count = sum(1 for _ in make())

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> Rows:
        kept = [tuple(row.values()) for row in rows]
        return cls(tuple(rows[0]) if rows else (), lambda: iter(kept))

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._make()

    def __len__(self) -> int:
        return self._count


@dataclass
class DepartmentData:
    """The rows of each dataset and the planted anomalies (kind → ID numbers)."""

    rows: dict[str, Rows] = field(default_factory=dict)
    planted: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Card:
    category: str
    level: str
    issued: date
    status: str


@dataclass
class _Care:
    """One person's 救助 row as drawn."""

    person: _P
    category: str
    size: int
    monthly_fen: int
    start: date
    end: date | None

    @property
    def in_care(self) -> bool:
        return self.end is None


def _pick(rng: random.Random, weighted: Iterable[tuple[str, int]]) -> str:
    items = list(weighted)
    return rng.choices([c for c, _ in items], weights=[w for _, w in items], k=1)[0]


def _between(rng: random.Random, low: date, high: date) -> date:
    high = max(low, high)
    return date.fromordinal(rng.randint(low.toordinal(), high.toordinal()))


def _month_end(index: int) -> date:
    year, month = divmod(index + 1, 12)
    return date(year, month + 1, 1) - timedelta(days=1)


def _period(index: int) -> int:
    return (index // 12) * 100 + index % 12 + 1


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _left_month(p: _P, default: int) -> int:
    """The last month a person is paid for: that of death or moving out, else ``default``."""
    if p.status != "normal" and p.status_date is not None:
        return min(default, _month_index(p.status_date))
    return default


# ---------------------------------------------------------------------------------- drawing


def draw(
    homes: list[_Household], enrollment_people: list[_P], *, as_of: date, seed: int
) -> DepartmentData:
    """Every department's rows for the demo township, and the anomalies planted in them."""
    rng = DemoRandom(f"govshare-demo-departments-{seed}")
    persons = [p for home in homes for p in home.members]
    data = DepartmentData()
    data.planted["pension_after_death"] = [p.id_number for p in persons if p.anomaly]
    cards = _cards(rng, persons, as_of)
    care = _assistance(rng, homes, as_of, data)
    data.rows["disability_card"] = Rows.of(
        [_card_row(p, cards[p.id_number]) for p in persons if p.id_number in cards]
    )
    data.rows["assistance"] = Rows.of([_care_row(c) for c in care])
    data.rows["medical_enrollment"] = _medical(rng, enrollment_people, cards, care, as_of, data)
    data.rows["allowance_payment"] = _allowances(
        rng, persons, cards, care, as_of, data, _planted_ids(data)
    )
    deaths, recent = _deaths(rng, persons, cards, care, as_of, data, _planted_ids(data))
    data.rows["death_certificate"] = Rows.of(
        [
            _certificate_row(rng, p, died, n, as_of)
            for n, (p, died) in enumerate([*deaths, *recent], 1)
        ]
    )
    data.rows["cremation"] = Rows.of(
        [_cremation_row(rng, p, died, n, as_of) for n, (p, died) in enumerate(deaths, 1)]
    )
    return data


def _planted_ids(data: DepartmentData) -> set[str]:
    return {i for ids in data.planted.values() for i in ids}


def _cards(rng: random.Random, persons: list[_P], as_of: date) -> dict[str, _Card]:
    """残疾人证 by ID number."""
    cards: dict[str, _Card] = {}
    for p in persons:
        rate = next(r for under, r in CARD_RATES if p.age < under)
        if rng.random() >= rate:
            continue
        high = as_of - timedelta(days=30)
        if p.status == "deceased" and p.status_date is not None:
            high = min(high, p.status_date)
        low = max(p.birth + timedelta(days=180), _add_years(as_of, -10) + timedelta(days=1))
        if high < low:
            continue
        status = {"normal": "1", "deceased": "2"}.get(p.status, "3")
        category, level = _pick(rng, CARD_CATEGORIES), _pick(rng, CARD_LEVELS)
        cards[p.id_number] = _Card(category, level, _between(rng, low, high), status)
    return cards


def _assistance(
    rng: random.Random, homes: list[_Household], as_of: date, data: DepartmentData
) -> list[_Care]:
    """特困 for some elderly people living alone, 低保 for some families — one of them with a
    member who died and is still listed 在保 (planted)."""
    care: list[_Care] = []
    families: list[_Household] = []
    for home in homes:
        if home.household_type != "1":
            continue
        head = home.members[0]
        if len(home.members) == 1 and head.age >= 60:
            if rng.random() < 0.15:
                start = _between(rng, EARLIEST_START, as_of - timedelta(days=60))
                category = "21" if home.village_code in _URBAN else "22"
                care.append(_Care(head, category, 1, TEKUN_FEN, start, None))
            continue
        if rng.random() < 0.03:
            families.append(home)
    dead = [
        (home, p)
        for home in homes
        if home.household_type == "1"
        for p in home.members
        if p.status == "deceased" and not p.anomaly and p.status_date is not None
    ]
    planted: _P | None = None
    if dead:
        home, planted = rng.choice(dead)
        if all(home is not h for h in families):
            families.append(home)
    for home in families:
        care += _family(rng, home, as_of, planted)
    data.planted["assistance_after_cremation"] = [] if planted is None else [planted.id_number]
    return care


def _family(rng: random.Random, home: _Household, as_of: date, planted: _P | None) -> list[_Care]:
    """A 低保 family's rows: members gone before its start are not listed, members who died or
    moved out since are stopped at that date — except ``planted``, left 在保."""
    kept = planted if planted is not None and any(p is planted for p in home.members) else None
    latest = as_of - timedelta(days=60)
    if kept is not None and kept.status_date is not None:
        latest = min(latest, kept.status_date - timedelta(days=30))
    start = _between(rng, EARLIEST_START, latest)
    family_end = None
    if kept is None and rng.random() < 0.2:
        last_day = as_of - timedelta(days=30)
        family_end = _between(rng, min(start + timedelta(days=365), last_day), last_day)
    category = "11" if home.village_code in _URBAN else "12"
    amount = rng.randrange(50, 141) * 1_000
    listed: list[tuple[_P, date | None]] = []
    for p in home.members:
        left = p.status_date if p.status != "normal" else None
        if left is not None and left <= start:
            continue
        end = family_end
        if left is not None and p is not kept:
            end = left if end is None else min(end, left)
        listed.append((p, end))
    size = sum(1 for _, end in listed if end is None) or len(listed)
    return [_Care(p, category, size, amount, start, end) for p, end in listed]


def _medical_identity(
    p: _P, scheme: str, card: _Card | None, care: str | None
) -> tuple[str, str | None, int | None]:
    """(参保身份, 资助类型, 个人缴费 in fen) of one enrollment."""
    if scheme == "310":
        return "11", None, None
    if care is not None and care.startswith("2"):
        return "31", "1", 0
    if care is not None:
        return "32", "2", DIBAO_MEDICAL_FEN
    if card is not None and card.status == "1" and card.level in ("1", "2"):
        return "34", "1", 0
    if p.age < 18 or (p.age <= 22 and p.pension is None):
        return "22", "0", RESIDENT_MEDICAL_FEN
    return "21", "0", RESIDENT_MEDICAL_FEN


MEDICAL_COLUMNS = (
    "id_number",
    "name",
    "person_no",
    "scheme_code",
    "status_code",
    "year",
    "identity_code",
    "subsidy_code",
    "personal_fen",
    "start_date",
    "village_code",
)


def _medical(
    rng: random.Random,
    people: list[_P],
    cards: dict[str, _Card],
    care: list[_Care],
    as_of: date,
    data: DepartmentData,
) -> Rows:
    """医保's rows for the 310/390 enrollments of ss_enrollment; one 低保 member in care is
    planted as 普通居民 without 资助."""
    in_care = {c.person.id_number: c.category for c in care if c.in_care}

    def identities() -> Iterator[tuple[_P, str, tuple[str, str | None, int | None]]]:
        for p in people:
            if p.medical is None or p.anomaly:  # as demo_social writes them into ss_enrollment
                continue
            card, cared = cards.get(p.id_number), in_care.get(p.id_number)
            yield p, p.medical, _medical_identity(p, p.medical, card, cared)

    pool = [
        (n, p.id_number)
        for n, (p, scheme, (identity, _, _)) in enumerate(identities())
        if identity == "32" and scheme == "390"
    ]
    planted = rng.choice(pool) if pool else None
    data.planted["assistance_without_medical_subsidy"] = [] if planted is None else [planted[1]]
    unsubsidised = ("21", "0", RESIDENT_MEDICAL_FEN)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n, (p, scheme, identity) in enumerate(identities()):
            if planted is not None and n == planted[0]:
                identity = unsubsidised
            code, subsidy, personal = identity
            person_no = f"M{LOCAL_REGION}{n + 1:07d}"
            start, village = p.medical_start, p.village_code
            yield (p.id_number, p.name, person_no, scheme, "1", as_of.year, code, subsidy, personal, start, village)  # fmt: skip

    return Rows(MEDICAL_COLUMNS, rows)


ALLOWANCE_COLUMNS = (
    "id_number",
    "name",
    "category_code",
    "period",
    "amount_fen",
    "paid_date",
    "village_code",
)


def _allowance(p: _P, category: str, month: int, fen: int) -> tuple[Any, ...]:
    """One row in :data:`ALLOWANCE_COLUMNS` order."""
    year, month0 = divmod(month, 12)
    paid = date(year, month0 + 1, ALLOWANCE_PAY_DAY)
    return (p.id_number, p.name, category, _period(month), fen, paid, p.village_code)


def _elderly_fen(age: int) -> int | None:
    return next((fen for low, fen in ELDERLY_FEN if age >= low), None)


def _allowances(
    rng: random.Random,
    persons: list[_P],
    cards: dict[str, _Card],
    care: list[_Care],
    as_of: date,
    data: DepartmentData,
    taken: set[str],
) -> Rows:
    """高龄津贴 and the 两项补贴 for the 12 months ending in ``as_of``'s; one person under 80 is
    paid 高龄津贴 and one without an 一级/二级 card 护理补贴 (planted)."""
    last = _month_index(as_of)
    first = last - ALLOWANCE_MONTHS + 1
    cared_from = {c.person.id_number: _month_index(c.start) for c in care if c.in_care}
    living = [p for p in persons if p.status == "normal" and p.id_number not in taken]
    young = [p for p in living if 77 <= p.age <= 79 and p.id_number not in cards]
    planted_young = rng.choice(young) if young else None
    mild = [
        p
        for p in living
        if p is not planted_young
        and (card := cards.get(p.id_number)) is not None
        and card.status == "1"
        and card.level in ("3", "4")
    ]
    planted_mild = rng.choice(mild) if mild else None
    data.planted["elderly_allowance_under_80"] = _ids(planted_young)
    data.planted["care_subsidy_without_severe_card"] = _ids(planted_mild)

    def rows() -> Iterator[tuple[Any, ...]]:
        yield from _paid_allowances(persons, cards, cared_from, first, last)
        if planted_young is not None:
            fen = ELDERLY_FEN[-1][1]
            yield from (_allowance(planted_young, "1", m, fen) for m in range(first, last + 1))
        if planted_mild is not None:
            start = max(first, _month_index(cards[planted_mild.id_number].issued))
            fen = CARE_SUBSIDY_FEN["2"]
            yield from (_allowance(planted_mild, "3", m, fen) for m in range(start, last + 1))

    return Rows(ALLOWANCE_COLUMNS, rows)


def _paid_allowances(
    persons: list[_P], cards: dict[str, _Card], cared_from: dict[str, int], first: int, last: int
) -> Iterator[tuple[Any, ...]]:
    """The allowances paid as the rules say, person by person, month by month."""
    ends = {month: _month_end(month) for month in range(first, last + 1)}
    for p in persons:
        if p.age >= ELDERLY_FEN[-1][0] - 1:  # younger ones are under 80 at every month's end
            for month in range(first, _left_month(p, last) + 1):
                fen = _elderly_fen(_age_on(p.birth, ends[month]))
                if fen is not None:
                    yield _allowance(p, "1", month, fen)
        card = cards.get(p.id_number)
        if card is None:
            continue
        issued = _month_index(card.issued)
        if card.status == "1" and p.id_number in cared_from:
            start = max(first, issued, cared_from[p.id_number])
            for m in range(start, last + 1):
                yield _allowance(p, "2", m, LIVING_SUBSIDY_FEN)
        if card.level in CARE_SUBSIDY_FEN:
            fen = CARE_SUBSIDY_FEN[card.level]
            for m in range(max(first, issued), _left_month(p, last) + 1):
                yield _allowance(p, "3", m, fen)


def _ids(p: _P | None) -> list[str]:
    return [] if p is None else [p.id_number]


def _deaths(
    rng: random.Random,
    persons: list[_P],
    cards: dict[str, _Card],
    care: list[_Care],
    as_of: date,
    data: DepartmentData,
    taken: set[str],
) -> tuple[list[tuple[_P, date]], list[tuple[_P, date]]]:
    """(who died as the registry says, and when; who died in the last days although the
    registry still lists them 正常 — planted: certified, not yet cremated)."""
    deaths = [(p, p.status_date) for p in persons if p.status == "deceased" and p.status_date]
    cared = {c.person.id_number for c in care}
    pool = [
        p
        for p in persons
        if p.status == "normal"
        and 45 <= p.age <= 79
        and not p.receiving
        and p.id_number not in cards
        and p.id_number not in cared
        and p.id_number not in taken
    ]
    planted = rng.choice(pool) if pool else None
    data.planted["death_certificate_registry_normal"] = _ids(planted)
    recent = [] if planted is None else [(planted, as_of - timedelta(days=rng.randint(1, 3)))]
    return deaths, recent


# ---------------------------------------------------------------------------------- rows


def _card_row(p: _P, card: _Card) -> dict[str, Any]:
    return {
        "id_number": p.id_number,
        "name": p.name,
        "card_no": f"{p.id_number}{card.category}{card.level}",
        "category_code": card.category,
        "level_code": card.level,
        "issue_date": card.issued,
        "valid_until": _add_years(card.issued, 10) - timedelta(days=1),
        "status_code": card.status,
        "village_code": p.village_code,
    }


def _care_row(c: _Care) -> dict[str, Any]:
    return {
        "id_number": c.person.id_number,
        "name": c.person.name,
        "category_code": c.category,
        "household_size": c.size,
        "monthly_fen": c.monthly_fen,
        "start_date": c.start,
        "end_date": c.end,
        "status_code": "1" if c.in_care else "3",
        "village_code": c.person.village_code,
    }


def _certificate_row(
    rng: random.Random, p: _P, died: date, number: int, as_of: date
) -> dict[str, Any]:
    place = _pick(rng, DEATH_PLACES)
    return {
        "id_number": p.id_number,
        "name": p.name,
        "death_date": died,
        "place_code": place,
        "certificate_no": f"4419{died.year}{number:05d}",
        "institution": HOSPITAL if place in ("1", "2") else HEALTH_CENTRE,
        "issue_date": min(died + timedelta(days=rng.randint(0, 1)), as_of),
    }


def _cremation_row(
    rng: random.Random, p: _P, died: date, number: int, as_of: date
) -> dict[str, Any]:
    cremated = min(died + timedelta(days=rng.randint(1, 5)), as_of)
    return {
        "id_number": p.id_number,
        "name": p.name,
        "death_date": died,
        "cremation_date": cremated,
        "funeral_home": FUNERAL_HOME,
        "certificate_no": f"HH{cremated.year}{number:06d}",
    }


# ---------------------------------------------------------------------------------- planted


def record_planted(session: Session, data: DepartmentData) -> None:
    """Keep which persons were planted for which anomaly in the demo database."""
    planted = {kind: sorted(data.planted.get(kind, [])) for kind in ANOMALIES}
    set_setting(session, SETTING_ANOMALIES, json.dumps(planted, ensure_ascii=False))


def planted_anomalies(store_or_session: Store | Session) -> dict[str, tuple[str, ...]]:
    """Kind (:data:`ANOMALIES`) → the ID numbers planted for it in this demo database, sorted;
    empty for a database that is not a demo (or predates the planting)."""
    if isinstance(store_or_session, Store):
        with store_or_session.sessions() as session:
            return planted_anomalies(session)
    raw = get_setting(store_or_session, SETTING_ANOMALIES)
    found = json.loads(raw) if raw else {}
    return {kind: tuple(found.get(kind, ())) for kind in ANOMALIES}
