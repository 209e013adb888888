"""Deterministic demo township: 青禾镇 (441900199000) with households, persons, 社保 enrollments and
monthly pension payments, for trying the program and for tests and benchmarks.

:func:`generate` writes everything in one transaction into an empty database. The same ``seed`` and
``households`` always produce identical rows: only ``random.Random(seed)`` is used (drawn through
:class:`~govshare_desktop.core.demo_draws.DemoRandom`: the same numbers), lists are walked in
order, and nothing depends on the clock (the batches' ``imported_at`` is ``as_of`` at 09:00).

What is generated (rates are approximate):

* six villages as in the sample back-flow files: 青禾社区居委会 (城乡分类 111) and five 村委会 (220);
* households (户号 ``199`` + village 3 digits + a 5-digit sequence, 6 digits from 100,000 households
  on: :func:`~govshare_desktop.core.demo_people.household_number`): about 97 % 家庭户 — elderly singles and
  couples, nuclear families (sometimes with the head's 父亲/母亲 51/52), three-generation families
  (长子/子 with 儿媳 38 and 孙子/孙女 41/42), young singles, single parents — and 3 % 集体户 whose members
  are unrelated (99 非亲属, 80 其他). About 3.3 persons a household;
* persons with valid, unique ID numbers (region mostly 441900, 10 % from other provinces) whose sex digit
  and birth date match ``sex_code`` and ``birth_date``; names from ``resources/demo/names.json``;
  ethnicity mostly 汉族; phones for most adults; ~1 % 死亡注销 (mostly elderly) and ~1 % 迁出注销 (mostly
  young adults) with a ``status_date`` in the two years before ``as_of``. Heads are never deceased or
  moved out;
* enrollments for living, registered persons aged 16 and over (pension) or of any age (medical):
  ~25 % of the 16–59-year-olds in 110 企业职工基本养老 (and 310 职工基本医疗), most others in
  170 城乡居民基本养老 with a national contribution tier; everyone 60 or over in 170 receives the pension
  (``receiving`` true, status 3 终止缴费); 390 城乡居民基本医疗 for most of the rest, children included.
  Deceased and moved-out persons have no current enrollment (except the two anomalies below);
* ~2 % extra enrollments for people who are *not* in the household registry (非本镇户籍), with valid ID
  numbers that no person row has;
* monthly pension payments (发放) for every 170 receiver — registered or not — for each month from the
  month after their 60th birthday (or the start of the 60-month window ending in ``as_of``'s month) to
  ``as_of``'s month, stopping after the month of death or moving out. ``basic_fen`` is 23800 in 2026
  and 500 fen lower for each earlier year; ``account_fen`` is constant per person; paid on the 10th.
  A receiver who turned 60 in ``as_of``'s month is ``receiving`` but has no payment yet.

* the data of 民政 (低保/特困, 高龄津贴 and 两项补贴), 医保, 殡葬 (火化), 卫健 (死亡医学证明) and
  残联 (残疾人证) for the same people, with anomalies planted in them for the cross-checks: see
  :mod:`~govshare_desktop.core.demo_departments` (``ANOMALIES``, ``planted_anomalies(store)``).

Deliberate anomaly for 校核纠错 (cross-checks) to find: **exactly two deceased pension receivers**
(chosen deterministically; see :func:`_choose_anomalies`) are still enrolled in 170 as receiving and are
paid every month through ``as_of``'s month, i.e. after their death month. Every other deceased or
moved-out person is paid at most up to the month of death or moving out. (If a tiny township has fewer
than two pensioners who are not heads of household, fewer anomalies exist.)

Size and speed: 1 to :data:`MAX_HOUSEHOLDS` (300,000) households. On a 2-core machine, encrypted,
30,000 households (~100,000 persons, ~1.1 million payments) take about 15 s and 200,000 (~660,000
persons, ~7.5 million payments) about 80–100 s, at a peak of ~700 MB. The township is drawn in
memory first (about 2 KB a household; the large department datasets are drawn again when written,
see :class:`~govshare_desktop.core.demo_departments.Rows`), then written in batches by
:mod:`~govshare_desktop.core.demo_write` (DB-API tuples, persons through a staging table, payments
expanded by SQLite, indexes built after the rows) with a larger page cache.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.demo_departments import (
    ANOMALIES,
    SOURCES,
    planted_anomalies,
)
from govshare_desktop.core.demo_departments import draw as draw_departments
from govshare_desktop.core.demo_draws import DemoRandom
from govshare_desktop.core.demo_people import (
    _P,
    ADDRESS_PREFIX,
    EMPLOYEE_PENSION_EARLIEST,
    ETHNICITIES,
    GRADE_TIERS,
    LOCAL_REGION,
    MAX_HOUSEHOLDS,
    OTHER_REGIONS,
    PHONE_PREFIXES,
    RESIDENT_MEDICAL_START,
    RESIDENT_PENSION_START,
    VILLAGES,
    T,
    _choose_anomalies,
    _Generator,
    _Household,
)
from govshare_desktop.core.demo_social import (
    BASIC_PENSION_FEN_2026,
    BASIC_PENSION_STEP_FEN,
    PAY_DAY,
    PAYMENT_COLUMNS,
    PAYMENT_WINDOW_MONTHS,
    _enrollment_count,
    _payment_plan,
)
from govshare_desktop.core.demo_write import CHUNK, PAYMENT_CHUNK, _Drawn, write
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import trust_sender
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.reports.sending import set_report_recipient
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.store.bulk import big_sqlite_cache
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import (
    Batch,
    Enrollment,
    Household,
    Payment,
    Person,
)
from govshare_desktop.core.store.summary import rebuild as rebuild_summary
from govshare_desktop.core.store.township import (
    KEY_TOWNSHIP_CODE,
    add_village,
    get_setting,
    init_township,
)

__all__ = [
    "ADDRESS_PREFIX",
    "ANOMALIES",
    "BASIC_PENSION_FEN_2026",
    "BASIC_PENSION_STEP_FEN",
    "CHUNK",
    "DEMO_COUNTY_CODE",
    "DEMO_COUNTY_KEY",
    "DEMO_COUNTY_NAME",
    "DEMO_COUNTY_SENDER",
    "DEMO_TOWNSHIP_CODE",
    "DEMO_TOWNSHIP_NAME",
    "EMPLOYEE_PENSION_EARLIEST",
    "ETHNICITIES",
    "FAST_SQLITE_INSERTS",
    "GENERATE_REPORT_EVERY",
    "GRADE_TIERS",
    "HRSS",
    "IMPORTED_BY",
    "LOCAL_REGION",
    "MAX_HOUSEHOLDS",
    "OTHER_REGIONS",
    "PAYMENT_CHUNK",
    "PAYMENT_COLUMNS",
    "PAYMENT_WINDOW_MONTHS",
    "PAY_DAY",
    "PHONE_PREFIXES",
    "POLICE",
    "RESIDENT_MEDICAL_START",
    "RESIDENT_PENSION_START",
    "SQLITE_CACHE_KIB",
    "VILLAGES",
    "DemoSummary",
    "T",
    "generate",
    "planted_anomalies",
]


DEMO_TOWNSHIP_CODE = "441900199000"
DEMO_TOWNSHIP_NAME = "青禾镇"
DEMO_COUNTY_NAME = "东莞市"
DEMO_COUNTY_CODE = "441900000000"
DEMO_COUNTY_SENDER = "东莞市政务服务和数据管理局"
DEMO_COUNTY_KEY = "county-demo-ed25519.pub.pem"

DEMO_DEPARTMENTS = ("民政", "人社", "卫健", "医保", "公安")  # of the shipped templates
POLICE = "东莞市公安局（演示数据）"
HRSS = "东莞市人力资源和社会保障局（演示数据）"
IMPORTED_BY = "demo"


@dataclass(frozen=True)
class DemoSummary:
    households: int
    persons: int
    enrollments: int
    payments: int
    seconds: float
    # Rows of the 民政, 医保, 殡葬, 卫健 and 残联 datasets (demo_departments.SOURCES order).
    departments: dict[str, int] = field(default_factory=dict)


SQLITE_CACHE_KIB = 64 * 1024  # page cache while generating (see store.bulk.big_sqlite_cache)
GENERATE_REPORT_EVERY = 1_000  # households
FAST_SQLITE_INSERTS = True  # rows through the DB-API, payments expanded by SQLite (demo_write)


# ---------------------------------------------------------------------------------------------------
# Writing


def _refuse_if_not_empty(session: Session) -> None:
    existing = get_setting(session, KEY_TOWNSHIP_CODE)
    if existing and existing != DEMO_TOWNSHIP_CODE:
        raise UserError(
            f"该数据库已用于乡镇（街道）{existing}，不能在其中生成演示数据"
            f"（演示乡镇为 {DEMO_TOWNSHIP_CODE} {DEMO_TOWNSHIP_NAME}）。"
            "请用 --db 指定一个新的数据库文件。"
        )
    households = session.scalar(select(func.count()).select_from(Household)) or 0
    persons = session.scalar(select(func.count()).select_from(Person)) or 0
    enrollments = session.scalar(select(func.count()).select_from(Enrollment)) or 0
    payments = session.scalar(select(func.count()).select_from(Payment)) or 0
    if households or persons or enrollments or payments:
        raise UserError(
            f"该数据库中已有数据（{households} 户、{persons} 人、{enrollments} 条参保记录、"
            f"{payments} 条发放记录），不能再生成演示数据。"
            "演示数据只能生成到空数据库中，请用 --db 指定一个新的数据库文件。"
        )


def generate(
    store: Store,
    *,
    households: int = 300,
    seed: int = 1,
    as_of: date = date(2026, 10, 31),
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> DemoSummary:
    """Generate the demo township 青禾镇 into an empty database, in one transaction.

    ``progress(done, total, label)`` is called every few thousand rows: first while generating
    (``total`` = households), then while writing (``total`` = rows to write). Once ``cancel`` is set,
    :class:`~govshare_desktop.core.progress.Cancelled` is raised and nothing is written. Refuses (:class:`UserError`) a
    database that already holds data or serves another township.
    """
    if not 1 <= households <= MAX_HOUSEHOLDS:
        raise UserError(f"演示数据的户数应在 1 到 {MAX_HOUSEHOLDS} 之间（收到 {households}）")
    started = _time.perf_counter()

    def report(done: int, total: int, label: str) -> None:
        if cancel is not None:
            cancel.check("已取消生成演示数据，数据库未作任何修改。")
        if progress is not None:
            progress(done, total, label)

    with store.transaction() as session, big_sqlite_cache(session, SQLITE_CACHE_KIB):
        _refuse_if_not_empty(session)
        report(0, households, "正在生成演示户籍和人员…")
        batches = _set_up_township(session, households=households, seed=seed, as_of=as_of)
        drawn = _draw(households, seed, as_of, report)
        write(session, batches, drawn, as_of, report, fast=FAST_SQLITE_INSERTS)
        rebuild_summary(session)  # the 预填 summary of what was written

    counts = drawn.counts
    return DemoSummary(
        households=counts["household"],
        persons=counts["person"],
        enrollments=counts["ss_enrollment"],
        payments=counts["ss_payment"],
        seconds=round(_time.perf_counter() - started, 3),
        departments={dataset: counts[dataset] for dataset in SOURCES},
    )


def _set_up_township(
    session: Session, *, households: int, seed: int, as_of: date
) -> dict[str, Batch]:
    """The township, its villages, the trusted demo county key, and one batch per dataset."""
    init_township(
        session, DEMO_TOWNSHIP_CODE, DEMO_TOWNSHIP_NAME, county_name=DEMO_COUNTY_NAME, demo=True
    )
    for village in VILLAGES:
        add_village(session, village.code, village.name, urban_rural_code=village.urban_rural_code)
    imported_at = datetime.combine(as_of, time(9, 0))
    # The demo township trusts the demo county's key (resources/demo), so that the sample
    # back-flow package can be imported into it. A real township trusts nothing by default.
    trust_sender(
        session,
        resource_path("demo", DEMO_COUNTY_KEY).read_bytes(),
        code=DEMO_COUNTY_CODE,
        name=f"{DEMO_COUNTY_SENDER}（演示密钥）",
        user=IMPORTED_BY,
        now=imported_at,
    )
    # The demo's forms without a task go up to the demo county's one 一表通 platform.
    for department in DEMO_DEPARTMENTS:
        set_report_recipient(session, department, DEMO_COUNTY_CODE)
    note = f"演示数据：govshare demo --households {households} --seed {seed}"
    batches = {
        dataset: Batch(
            dataset=dataset,
            source_department=source,
            file_name=None,
            as_of=as_of,
            imported_at=imported_at,
            imported_by=IMPORTED_BY,
            note=note,
        )
        for dataset, source in (
            ("household", POLICE),
            ("person", POLICE),
            ("ss_enrollment", HRSS),
            ("ss_payment", HRSS),
            *SOURCES.items(),
        )
    }
    session.add_all(batches.values())
    session.flush()
    return batches


def _draw(households: int, seed: int, as_of: date, report: Progress) -> _Drawn:
    """Households and their people, their social security, the anomalies, and people enrolled
    here who live elsewhere."""
    gen = _Generator(DemoRandom(seed), as_of, households=households)
    homes: list[_Household] = []
    for index in range(households):
        homes.append(gen.household(index))
        if (index + 1) % GENERATE_REPORT_EVERY == 0:
            report(index + 1, households, "正在生成演示户籍和人员…")
    persons = [p for home in homes for p in home.members]
    for p in persons:
        gen.plan(p)
    _choose_anomalies(gen, persons)

    enrollment_people = [p for p in persons if p.status == "normal" or p.anomaly]
    outsiders: list[_P] = []
    for _ in range(max(2, round(_enrollment_count(enrollment_people) * 0.02 / 1.9))):
        p = gen.person(gen.age(16, 85, 50), gen.chance(0.5), None, local_rate=0.5)
        p.village_code = gen.village().code
        gen.plan(p, must_enrol=True)
        outsiders.append(p)
    enrollment_people += outsiders
    gen.used_ids = set()  # everyone has their number: ~30 MB less at 200,000 households
    report(households, households, "正在生成演示户籍和人员…")

    payers = _payment_plan(gen, [*persons, *outsiders])
    departments = draw_departments(homes, enrollment_people, as_of=as_of, seed=seed)
    counts = {
        "household": len(homes),
        "person": len(persons),
        "ss_enrollment": _enrollment_count(enrollment_people),
        "ss_payment": sum(last - first + 1 for _, first, last, _ in payers),
        **{dataset: len(rows) for dataset, rows in departments.rows.items()},
    }
    return _Drawn(homes, enrollment_people, payers, counts, departments)
