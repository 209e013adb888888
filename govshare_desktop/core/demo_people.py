"""The demo township's people: villages, names, ID numbers, households drawn from templates (old
couples, nuclear families, three generations, collective households), life events, the social
security each person is planned to have, and the anomalies a clerk should find. Deterministic
for a seed.

What the demo holds is described in :mod:`govshare_desktop.core.demo`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from typing import TypeVar

from govshare_desktop.core.demo_draws import id_number, pick
from govshare_desktop.core.resources import load_json

MAX_HOUSEHOLDS = 300_000  # 1.5 × China's largest townships (about 200,000 households)
WIDE_HOUSEHOLDS = 100_000  # from this many households on, 户号 sequences have 6 digits, not 5
ID_SEQUENCES = 500  # of the ID number's 3-digit sequence, per region, birth date and sex


@dataclass(frozen=True)
class _Village:
    code: str
    name: str
    urban_rural_code: str
    short: str  # as written in addresses
    weight: int


VILLAGES: tuple[_Village, ...] = (
    _Village("441900199001", "青禾社区居委会", "111", "青禾社区", 25),
    _Village("441900199201", "东岭村委会", "220", "东岭村", 16),
    _Village("441900199202", "西塘村委会", "220", "西塘村", 16),
    _Village("441900199203", "南坑村委会", "220", "南坑村", 14),
    _Village("441900199204", "北山村委会", "220", "北山村", 14),
    _Village("441900199205", "新围村委会", "220", "新围村", 15),
)
ADDRESS_PREFIX = "广东省东莞市青禾镇"

LOCAL_REGION = "441900"
OTHER_REGIONS = ("522422", "430521", "450881", "362426", "513922")
# (code, weight): 汉族, 壮族, 回族, 土家族, 苗族
ETHNICITIES = (("01", 955), ("08", 18), ("03", 7), ("15", 10), ("06", 10))
PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "186",
    "187", "188", "189", "191", "198", "199",
)  # fmt: skip
# 城乡居民养老 national tiers, yuan per year, with how often each is chosen.
GRADE_TIERS = (
    (100, 30), (200, 20), (300, 12), (400, 5), (500, 10), (600, 4),
    (700, 2), (800, 2), (900, 1), (1000, 8), (1500, 3), (2000, 3),
)  # fmt: skip

RESIDENT_PENSION_START = date(2009, 10, 1)  # 新农保 pilots (国发〔2009〕32号)
RESIDENT_MEDICAL_START = date(2012, 1, 1)
EMPLOYEE_PENSION_EARLIEST = date(1995, 1, 1)

T = TypeVar("T")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb in a common year
        return day.replace(year=day.year + years, day=28)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


# ---------------------------------------------------------------------------------------------------
# Vocabulary


@dataclass(frozen=True)
class _Era:
    from_year: int
    male_chars: tuple[str, ...]
    female_chars: tuple[str, ...]
    male_given: tuple[str, ...]
    male_given_cum: tuple[int, ...]
    female_given: tuple[str, ...]
    female_given_cum: tuple[int, ...]


@dataclass(frozen=True)
class _Vocabulary:
    surnames: tuple[str, ...]
    surname_cum: tuple[int, ...]
    single_char_rate: float
    whole_given_rate: float
    eras: tuple[_Era, ...]  # by from_year ascending


def _cum(weights: Sequence[int]) -> tuple[int, ...]:
    return tuple(accumulate(weights))


@cache
def _vocabulary() -> _Vocabulary:
    data = load_json("demo", "names.json")
    eras = []
    for era in sorted(data["eras"], key=lambda e: e["from_year"]):
        eras.append(
            _Era(
                from_year=int(era["from_year"]),
                male_chars=tuple(era["male_chars"]),
                female_chars=tuple(era["female_chars"]),
                male_given=tuple(n for n, _ in era["male_given"]),
                male_given_cum=_cum([w for _, w in era["male_given"]]),
                female_given=tuple(n for n, _ in era["female_given"]),
                female_given_cum=_cum([w for _, w in era["female_given"]]),
            )
        )
    return _Vocabulary(
        surnames=tuple(s for s, _ in data["surnames"]),
        surname_cum=_cum([w for _, w in data["surnames"]]),
        single_char_rate=float(data["single_char_given_rate"]),
        whole_given_rate=float(data["whole_given_rate"]),
        eras=tuple(eras),
    )


# ---------------------------------------------------------------------------------------------------
# In-memory people


class _P:
    """One generated person (registered or not) and their social-security plan."""

    __slots__ = (
        "account_fen", "age", "anomaly", "birth", "ethnicity", "grade_fen", "id_number", "male",
        "medical", "medical_start", "name", "pension", "pension_start", "pension_status", "phone",
        "receiving", "relationship", "status", "status_date", "surname", "village_code"
    )  # fmt: skip
    # Set by _Generator.person() right after construction:
    age: int
    male: bool
    birth: date
    id_number: str
    surname: str
    name: str
    ethnicity: str
    phone: str | None

    def __init__(self) -> None:
        self.status = "normal"
        self.status_date: date | None = None
        self.relationship: str | None = None
        self.village_code: str | None = None
        self.pension: str | None = None
        self.pension_start: date | None = None
        self.pension_status = "1"
        self.grade_fen: int | None = None
        self.receiving = False
        self.account_fen = 0
        self.medical: str | None = None
        self.medical_start: date | None = None
        self.anomaly = False


@dataclass(slots=True)
class _Household:
    id: int
    household_no: str
    household_type: str
    address: str
    village_code: str
    members: list[_P]


def household_number(village_code: str, number: int, households: int) -> str:
    """户号: ``199`` + the village's last 3 digits + the household's number, 5 digits wide below
    :data:`WIDE_HOUSEHOLDS` households, else 6 (every 户号 of a township has one length)."""
    width = 5 if households < WIDE_HOUSEHOLDS else 6
    if not 1 <= number <= 10**width - 1:
        raise ValueError(f"household number {number} does not fit {width} digits")
    return f"199{village_code[-3:]}{number:0{width}d}"


class _Generator:
    def __init__(self, rng: random.Random, as_of: date, *, households: int = 1) -> None:
        self.rng = rng
        self.as_of = as_of
        self.households = households  # of the township: the width of its 户号
        self.vocab = _vocabulary()
        self.used_ids: set[str] = set()
        self._days: dict[int, date] = {}
        self._village_cum = _cum([v.weight for v in VILLAGES])
        self._eth_codes = tuple(c for c, _ in ETHNICITIES)
        self._eth_cum = _cum([w for _, w in ETHNICITIES])
        self._grades = tuple(g * 100 for g, _ in GRADE_TIERS)  # in fen, one int object each
        self._grade_cum = _cum([w for _, w in GRADE_TIERS])
        self._births: dict[int, tuple[int, int]] = {}  # age → first and last birth day (ordinal)

    # --- primitive draws -------------------------------------------------------------------------

    def pick(self, items: Sequence[T], cum: Sequence[int]) -> T:
        return pick(self.rng, items, cum)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def age(self, low: int, high: int, mode: float | None = None) -> int:
        value = int(self.rng.triangular(low, high + 1, mode))
        return min(max(value, low), high)

    def village(self) -> _Village:
        return self.pick(VILLAGES, self._village_cum)

    def surname(self) -> str:
        return self.pick(self.vocab.surnames, self.vocab.surname_cum)

    def given(self, male: bool, year: int) -> str:
        era = self.vocab.eras[0]
        for candidate in self.vocab.eras:
            if candidate.from_year <= year:
                era = candidate
        rng = self.rng
        if rng.random() < self.vocab.whole_given_rate:
            if male:
                return self.pick(era.male_given, era.male_given_cum)
            return self.pick(era.female_given, era.female_given_cum)
        chars = era.male_chars if male else era.female_chars
        if rng.random() < self.vocab.single_char_rate:
            return rng.choice(chars)
        first = rng.choice(chars)
        second = rng.choice(chars)
        while second == first:
            second = rng.choice(chars)
        return first + second

    def ethnicity(self) -> str:
        return self.pick(self._eth_codes, self._eth_cum)

    def birth_for_age(self, age: int) -> date:
        """A birth date such that the person is exactly ``age`` on ``as_of``."""
        bounds = self._births.get(age)
        if bounds is None:
            latest = _add_years(self.as_of, -age)
            earliest = _add_years(self.as_of, -age - 1) + timedelta(days=1)
            bounds = self._births[age] = (earliest.toordinal(), latest.toordinal())
        return self.day(self.rng.randint(*bounds))

    def region(self, local_rate: float = 0.9) -> str:
        return LOCAL_REGION if self.chance(local_rate) else self.rng.choice(OTHER_REGIONS)

    def new_id(self, region: str, birth: date, male: bool) -> str:
        """A valid, unused ID number (at 200,000 households a birth date uses a few dozen of 500)."""
        for _ in range(100 * ID_SEQUENCES):
            number = id_number(region, birth, self.rng.randrange(ID_SEQUENCES), male=male)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        raise RuntimeError(f"no free ID number left for {region} {birth} (male={male})")

    def phone(self, age: int) -> str | None:
        if age < 18:
            return None
        rate = 0.93 if age < 70 else 0.6 if age < 80 else 0.3
        if not self.chance(rate):
            return None
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def date_between(self, low: date, high: date) -> date:
        if high < low:
            high = low
        return self.day(self.rng.randint(low.toordinal(), high.toordinal()))

    def day(self, ordinal: int) -> date:
        """The date of ``ordinal``: one object a day for the whole township (a million persons
        share some 40,000 birth and start dates)."""
        found = self._days.get(ordinal)
        if found is None:
            found = self._days[ordinal] = date.fromordinal(ordinal)
        return found

    # --- persons ---------------------------------------------------------------------------------

    def person(
        self,
        age: int,
        male: bool,
        relationship: str | None,
        *,
        surname: str | None = None,
        ethnicity: str | None = None,
        local_rate: float = 0.9,
    ) -> _P:
        p = _P()
        p.age = age
        p.male = male
        p.birth = self.birth_for_age(age)
        p.id_number = self.new_id(self.region(local_rate), p.birth, male)
        p.surname = surname or self.surname()
        p.name = p.surname + self.given(male, p.birth.year)
        p.ethnicity = ethnicity or self.ethnicity()
        p.phone = self.phone(age)
        p.relationship = relationship
        return p

    def spouse(self, head: _P) -> _P:
        age = min(max(head.age + self.rng.randint(-6, 6), 20), 98)
        return self.person(age, not head.male, "12" if head.male else "11")

    def children(
        self,
        head: _P,
        spouse: _P | None,
        count: int,
        *,
        min_age: int = 0,
        coded: bool = True,
        male: bool | None = None,
    ) -> list[_P]:
        """Up to ``count`` children 20–40 years younger than both parents, oldest first."""
        parents = [head] if spouse is None else [head, spouse]
        low = max(min_age, max(p.age for p in parents) - 40)
        high = min(p.age for p in parents) - 20
        if high < low:
            return []
        father = head if head.male or spouse is None else spouse
        mother = None if spouse is None else spouse if father is head else head
        kids: list[_P] = []
        for _ in range(count):
            is_male = self.chance(0.52) if male is None else male
            surname = father.surname
            if mother is not None and self.chance(0.05):
                surname = mother.surname
            kid = self.person(
                self.age(low, high),
                is_male,
                "20" if is_male else "30",
                surname=surname,
                ethnicity=father.ethnicity,
                local_rate=0.95,
            )
            kids.append(kid)
        kids.sort(key=lambda k: (k.birth, k.id_number))
        if coded:
            self.code_children(kids)
        return kids

    def code_children(self, kids: list[_P]) -> None:
        """子/女 (20/30), or in about 45 % of households 独生子/长子/次子 … (21–26, 31–36)."""
        if not kids or self.chance(0.55):
            for kid in kids:
                kid.relationship = "20" if kid.male else "30"
            return
        if len(kids) == 1:
            kids[0].relationship = "21" if kids[0].male else "31"
            return
        sons = daughters = 0
        for kid in kids:  # oldest first
            if kid.male:
                kid.relationship = ("22", "23", "24", "25", "26")[sons] if sons < 5 else "29"
                sons += 1
            else:
                kid.relationship = (
                    ("32", "33", "34", "35", "36")[daughters] if daughters < 5 else "39"
                )
                daughters += 1

    def parents_of(self, head: _P) -> list[_P]:
        which = self.rng.random()
        out: list[_P] = []
        if which < 0.6:  # father (alone or with mother)
            age = head.age + self.rng.randint(22, 38)
            if age <= 98:
                out.append(
                    self.person(age, True, "51", surname=head.surname, ethnicity=head.ethnicity)
                )
        if which < 0.4 or which >= 0.6:  # mother
            age = head.age + self.rng.randint(20, 35)
            if age <= 98:
                out.append(self.person(age, False, "52"))
        return out

    # --- household templates ---------------------------------------------------------------------

    def elderly(self, couple: bool) -> list[_P]:
        head = self.person(
            self.age(60, 92, 66), self.chance(0.85 if couple else 0.4), "02", local_rate=0.95
        )
        return [head, self.spouse(head)] if couple else [head]

    def young_single(self) -> list[_P]:
        return [self.person(self.age(20, 40, 26), self.chance(0.65), "02")]

    def single_parent(self) -> list[_P]:
        head = self.person(self.age(28, 55, 40), self.chance(0.35), "02")
        return [head, *self.children(head, None, self.rng.randint(1, 3))]

    def nuclear(self) -> list[_P]:
        head = self.person(self.age(25, 59, 42), self.chance(0.82), "02")
        spouse = self.spouse(head) if self.chance(0.93) else None
        count = self.pick((0, 1, 2, 3, 4), (10, 45, 85, 98, 100))
        members = [head]
        if spouse is not None:
            members.append(spouse)
        members += self.children(head, spouse, count)
        if self.chance(0.2):
            members += self.parents_of(head)
        return members

    def three_generations(self) -> list[_P] | None:
        head = self.person(self.age(55, 84, 64), self.chance(0.85), "02", local_rate=0.95)
        spouse = self.spouse(head) if self.chance(0.85) else None
        sons = self.children(head, spouse, 1, min_age=24, coded=False, male=True)
        if not sons:
            return None
        son = sons[0]
        others = self.children(head, spouse, 1, min_age=16, coded=False) if self.chance(0.3) else []
        kids = sorted([son, *others], key=lambda k: (k.birth, k.id_number))
        self.code_children(kids)
        wife = self.person(min(max(son.age + self.rng.randint(-5, 5), 20), 98), False, "38")
        low = max(0, max(son.age, wife.age) - 40)
        high = min(son.age, wife.age) - 20
        grandchildren: list[_P] = []
        if high >= low:
            for _ in range(self.pick((0, 1, 2, 3), (5, 50, 90, 100))):
                male = self.chance(0.52)
                grandchildren.append(
                    self.person(
                        self.age(low, high),
                        male,
                        "41" if male else "42",
                        surname=son.surname,
                        ethnicity=son.ethnicity,
                        local_rate=0.97,
                    )
                )
        grandchildren.sort(key=lambda k: (k.birth, k.id_number))
        members = [head] if spouse is None else [head, spouse]
        return [*members, *kids, wife, *grandchildren]

    def family(self) -> list[_P]:
        r = self.rng.random()
        if r < 0.10:
            return self.elderly(couple=False)
        if r < 0.26:
            return self.elderly(couple=True)
        if r < 0.38:
            members = self.three_generations()
            if members is not None:
                return members
        if r < 0.46:
            return self.young_single()
        if r < 0.49:
            return self.single_parent()
        return self.nuclear()

    def collective(self) -> list[_P]:
        head = self.person(self.age(25, 55, 35), self.chance(0.6), "02", local_rate=0.5)
        members = [head]
        for _ in range(self.rng.randint(2, 7)):
            members.append(
                self.person(
                    self.age(18, 55, 28),
                    self.chance(0.55),
                    "99" if self.chance(0.75) else "80",
                    local_rate=0.4,
                )
            )
        return members

    def household(self, index: int) -> _Household:
        village = self.village()
        collective = self.chance(0.03)
        members = self.collective() if collective else self.family()
        if collective:
            address = f"{ADDRESS_PREFIX}{village.short}工业大道{self.rng.randint(1, 120)}号"
        else:
            lane, number = self.rng.randint(1, 12), self.rng.randint(1, 60)
            address = f"{ADDRESS_PREFIX}{village.short}{lane}巷{number}号"
        for p in members:
            p.village_code = village.code
        for p in members[1:]:
            self.life_event(p)
        return _Household(
            id=index + 1,
            household_no=household_number(village.code, index + 1, self.households),
            household_type="2" if collective else "1",
            address=address,
            village_code=village.code,
            members=members,
        )

    def life_event(self, p: _P) -> None:
        """~1 % die (mostly the elderly), ~1 % move out (mostly young adults), within two years."""
        age = p.age
        die = 0.3 if age >= 85 else 0.15 if age >= 75 else 0.05 if age >= 65 else 0.001
        move = 0.05 if 18 <= age <= 35 else 0.004
        r = self.rng.random()
        if r < die:
            p.status = "deceased"
        elif r < die + move:
            p.status = "moved_out"
        else:
            return
        low = max(self.as_of - timedelta(days=730), p.birth)
        p.status_date = self.date_between(low, self.as_of - timedelta(days=1))

    # --- social security -------------------------------------------------------------------------

    def plan(self, p: _P, *, must_enrol: bool = False) -> None:
        """Decide scheme, tier, status and start dates (for everyone, whatever their status)."""
        age = p.age
        if age >= 60:
            if must_enrol or self.chance(0.93):
                p.pension = "170"
        elif age >= 16:
            student = age <= 22 and self.chance(0.6)
            if must_enrol or not student:
                r = self.rng.random()
                if r < 0.25:
                    p.pension = "110"
                elif must_enrol or r < 0.91:
                    p.pension = "170"
        sixteen = _add_years(p.birth, 16)
        if p.pension == "170":
            p.grade_fen = self.pick(self._grades, self._grade_cum)
            low = max(sixteen, RESIDENT_PENSION_START)
            early = self.chance(0.6)
            high = min(self.as_of, low + timedelta(days=3 * 365)) if early else self.as_of
            p.pension_start = self.date_between(low, high)
            p.receiving = age >= 60
            p.pension_status = "3" if p.receiving else "2" if self.chance(0.03) else "1"
            p.account_fen = self.rng.randint(3000, 15000)
        elif p.pension == "110":
            adult = _add_years(p.birth, 18)
            low = max(adult if adult <= self.as_of else sixteen, EMPLOYEE_PENSION_EARLIEST)
            p.pension_start = self.date_between(low, self.as_of - timedelta(days=30))
            p.pension_status = "1"
        if p.pension == "110":
            if self.chance(0.97):
                p.medical = "310"
                p.medical_start = p.pension_start
        elif self.chance(0.95):
            p.medical = "390"
            low = max(p.birth, RESIDENT_MEDICAL_START)
            p.medical_start = self.date_between(low, min(self.as_of, low + timedelta(days=3 * 365)))

    def first_payment_month(self, p: _P) -> int:
        return _month_index(_add_years(p.birth, 60)) + 1


def _choose_anomalies(gen: _Generator, persons: list[_P]) -> list[_P]:
    """Pick exactly two deceased 170 receivers who died while receiving and before ``as_of``'s
    month (making more elderly receivers deceased if the random deaths did not produce two)."""
    as_of_month = _month_index(gen.as_of)

    def candidates() -> list[_P]:
        return [
            p
            for p in persons
            if p.status == "deceased"
            and p.receiving
            and p.status_date is not None
            and gen.first_payment_month(p) <= _month_index(p.status_date) < as_of_month
        ]

    found = candidates()
    if len(found) < 2:
        pool = [
            p
            for p in persons
            if p.status == "normal"
            and p.receiving
            and p.relationship != "02"
            and gen.first_payment_month(p) < as_of_month
        ]
        month_start = gen.as_of.replace(day=1)
        for p in gen.rng.sample(pool, min(2 - len(found), len(pool))):
            first = gen.first_payment_month(p)
            first_day = date(first // 12, first % 12 + 1, 1)
            p.status = "deceased"
            low = max(gen.as_of - timedelta(days=730), first_day)
            p.status_date = gen.date_between(low, month_start - timedelta(days=1))
        found = candidates()
    chosen = gen.rng.sample(found, min(2, len(found)))
    for p in chosen:
        p.anomaly = True
    return chosen
