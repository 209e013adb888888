"""The laptop for village visits (issue 18), on an office database in a SQLite file: a village
checked out into an encrypted database the clerk signs in to with their own password, values
typed there, and checked back in — applied where only the laptop changed them, conflicts chosen
side by side where both did, history kept either way, audited on both sides, refusals in Chinese.
Real setup (SQLCipher, key files, the signed audit trail), real sign-ins."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.catalog import load_catalog
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.laptop.checkin import ConflictsUnresolved
from govshare_desktop.core.laptop.scope import REASON
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import forms, laptop, setup
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.engine import sqlcipher_available
from govshare_desktop.core.store.models import (
    Area,
    FormStatus,
    FormValue,
    FormValueHistory,
    Household,
    LaptopCheckout,
    Person,
)
from govshare_desktop.core.store.township import add_village, villages
from tests.core.use_cases import covers

P = Period.parse("2026-11")
NOW = datetime(2026, 12, 1, 9, 0)
CLERK_PASSWORD = "Xiacun#2026lap"
ADMIN_PASSWORD = "Guanli#2026lap"
AUDITOR = Principal("auditor", Role.AUDITOR)


def make_office(db: Path | str, *, code: str = "441900199000") -> Path | str:
    """A township's database in a file (the demo township, or another township's) with its
    经办人 jingban, November prefilled."""
    prepared = (
        setup.prepare_demo(
            db,
            households=20,
            seed=5,
            clerk_password=CLERK_PASSWORD,
            admin_password=ADMIN_PASSWORD,
        )
        if code == "441900199000"
        else setup.prepare_township(db, code=code, name="白石镇", admin_password=ADMIN_PASSWORD)
    )
    prepared.finish()
    if code != "441900199000":
        admin = signin.sign_in(db, "admin", ADMIN_PASSWORD).store
        signin.add_account(admin, "jingban", Role.CLERK, CLERK_PASSWORD, must_change=False)
        with admin.transaction() as session:
            add_village(session, code[:9] + "001", "白石村")
        admin.dispose()
    return db


def open_ctx(db: Path | str, clock: list[datetime]) -> tuple[Context, FormValues]:
    store = signin.sign_in(db, "jingban", CLERK_PASSWORD, now=clock[0]).store
    catalog = load_catalog(store)
    return Context(store, clock=lambda: clock[0]), FormValues(
        store, catalog.dictionary, catalog.templates
    )


class Office:
    """The office's database signed in as jingban, its clock moved by hand."""

    def __init__(self, db: Path | str, village: str | None = None) -> None:
        self.db = db
        self.clock = [NOW]
        self.ctx, self.pool = open_ctx(db, self.clock)
        township_code, _ = self.pool.township()
        forms.prefill(self.ctx, self.pool, P)
        with self.ctx.store.sessions() as session:
            self.villages = [v.code for v in villages(session)]
            self.village = village or next(
                code
                for code in self.villages
                if session.scalar(select(func.count()).where(Person.village_code == code))
            )
            self.person = session.scalar(
                select(Person.id_number)
                .where(Person.village_code == self.village)
                .order_by(Person.id_number)
            )
        self.township = township_code

    def tick(self, minutes: int = 5) -> None:
        self.clock[0] += timedelta(minutes=minutes)

    def set(self, element: str, value: str, subject: str | None = None, **kw) -> FormValue:
        self.tick()
        return forms.set_value(
            self.ctx, self.pool, element, subject or self.village, P, value, **kw
        )

    def value(self, element: str, subject: str | None = None) -> FormValue | None:
        with self.ctx.store.sessions() as session:
            return session.scalar(
                select(FormValue).where(
                    FormValue.element == element,
                    FormValue.subject == (subject or self.village),
                    FormValue.period == str(P),
                )
            )

    def history(self, element: str, subject: str | None = None) -> list[FormValueHistory]:
        return self.pool.history(element, subject or self.village, P)

    def actions(self, action: str) -> list:
        return audit_trail(self.ctx.store).entries(AUDITOR, action=action)


@pytest.fixture
def office(tmp_path: Path) -> Office:
    found = Office(make_office(tmp_path / "office" / "gov.db"))
    yield found
    found.ctx.store.dispose()


def check_out(office: Office, out: Path, **kw) -> laptop.CheckedOut:
    office.tick()
    return laptop.checkout(
        office.ctx, office.pool, office.village, out, password=CLERK_PASSWORD, period=P, **kw
    )


class Laptop(Office):
    """The laptop's database, signed in to as at the office."""

    def __init__(self, db: Path, clock: list[datetime]) -> None:
        self.db = db
        self.clock = clock
        self.ctx, self.pool = open_ctx(db, clock)
        with self.ctx.store.sessions() as session:
            self.villages = [v.code for v in villages(session)]
        self.village = self.villages[0]


@covers("laptop.checkout", "laptop.read_checkin", "laptop.checkin", "laptop.status")
def test_a_village_goes_out_and_its_values_come_back(office: Office, tmp_path: Path) -> None:
    office.set("S_LOW_INCOME", "3")
    office.set("S_ELDERLY_ALLOWANCE", "5")
    out = tmp_path / "laptop" / "村.db"
    out.parent.mkdir()
    done = check_out(office, out, laptop="笔记本-1")
    assert done.path == out.resolve() and done.keys.is_file()
    assert done.persons > 0 and done.values > 0
    assert "检出到" in done.summary() and ".keys" in done.summary()
    if sqlcipher_available():  # encrypted like every database (its header is not plain SQLite)
        assert not out.read_bytes().startswith(b"SQLite format 3")
        assert done.encrypted
    [listed] = laptop.status(office.ctx)
    assert (listed.village, listed.state, listed.checked_out_by) == (
        office.village,
        "out",
        "jingban",
    )
    assert listed.laptop == "笔记本-1" and "已检出" in listed.describe()
    [entry] = office.actions("laptop_checkout")
    assert entry.object == office.village and json.loads(entry.detail)["persons"] == done.persons

    # Out there: the clerk signs in as usual; the database holds this village only.
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    assert lap.villages == [office.village]
    with lap.ctx.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == done.persons
        assert session.scalar(select(func.count()).select_from(Household)) == done.households
        assert {a.level for a in session.scalars(select(Area))} == {"county", "township", "village"}
        assert session.scalar(select(func.count()).select_from(FormValue)) == done.values
    assert "笔记本检出" in laptop.this_laptop(lap.ctx)
    [entry] = lap.actions("laptop_checkout")
    assert entry.username == "jingban"
    seen = lap.value("S_LOW_INCOME").version
    lap.set("S_LOW_INCOME", "4", seen=seen)
    lap.set("S_ALLOWANCE_AMOUNT", "150", subject=office.person)  # a value new on the laptop
    lap.set("P_60PLUS", "99", reason="入户核实")  # a computed value overridden
    december = Period.parse("2026-12")
    forms.prefill(lap.ctx, lap.pool, december)  # the laptop's own 预填: not carried back
    forms.set_value(lap.ctx, lap.pool, "S_LOW_INCOME", office.village, december, "5")  # not out
    lap.ctx.store.dispose()

    # Back at the office, where another value changed meanwhile (no conflict).
    office.ctx, office.pool = open_ctx(office.db, office.clock)
    office.set("S_ELDERLY_ALLOWANCE", "6")
    office.tick()
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    assert plan.conflicts == [] and len(plan.changes) == 3
    assert plan.computed > 0 and f"2026-12 {office.village} S_LOW_INCOME" in plan.ignored
    assert all(left.startswith("2026-12 ") for left in plan.ignored)  # (and one carried forward)
    result = laptop.checkin(office.ctx, office.pool, plan)
    assert result.applied == 3 and "人员、户籍等记录不写回" in result.summary()
    assert f"不在检出范围内的值 {len(plan.ignored)} 个未检入" in result.summary()
    with office.ctx.store.sessions() as session:
        assert session.scalar(select(FormValue).where(FormValue.period == "2026-12")) is None
    assert office.value("S_LOW_INCOME").value == "4"
    assert office.value("S_LOW_INCOME").changed_by == "jingban"
    assert office.value("S_ELDERLY_ALLOWANCE").value == "6"  # the office's own change stays
    assert office.value("S_ALLOWANCE_AMOUNT", office.person).value == "15000"
    p60 = office.value("P_60PLUS")
    assert (p60.value, p60.origin, p60.reason) == ("99", "overridden", "入户核实")
    last = office.history("S_LOW_INCOME")[-1]
    assert (last.old_value, last.new_value, last.reason) == ("3", "4", REASON)
    assert office.history("P_60PLUS")[-1].reason == f"{REASON}：入户核实"
    assert laptop.status(office.ctx) == []  # no longer out
    [ended] = laptop.status(office.ctx, ended=True)
    assert ended.state == "in" and "检入" in ended.describe()
    [entry] = office.actions("laptop_checkin")
    assert json.loads(entry.detail)["applied"] == 3
    assert audit_trail(office.ctx.store).verify(AUDITOR, backups=tmp_path / "none").ok

    with pytest.raises(UserError, match=r"已于 .* 由 jingban 检入，不能再次检入"):
        laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)  # the laptop's file knows it is checked in, and says so
    assert "已于" in laptop.this_laptop(lap.ctx) and "检入" in laptop.this_laptop(lap.ctx)
    assert [e.action for e in lap.actions("laptop_checkin")] == ["laptop_checkin"]
    lap.ctx.store.dispose()


def _out_and_typed(office: Office, tmp_path: Path, name: str, laptop_value: str) -> Path:
    out = tmp_path / name
    check_out(office, out)
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    lap.set("S_LOW_INCOME", laptop_value)
    lap.ctx.store.dispose()
    office.ctx, office.pool = open_ctx(office.db, office.clock)
    return out


@covers("laptop.resolve")
def test_both_sides_changed_a_value_and_the_clerk_chooses(office: Office, tmp_path: Path) -> None:
    office.set("S_LOW_INCOME", "3")
    out = _out_and_typed(office, tmp_path, "a.db", "4")
    office.set("S_LOW_INCOME", "7")
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    [conflict] = plan.conflicts
    assert (conflict.office_value, conflict.laptop_value) == ("7", "4")
    assert conflict.office_by == conflict.laptop_by == "jingban"
    assert conflict.element_name == "低保对象人数" and conflict.subject == office.village
    with pytest.raises(ConflictsUnresolved, match=r"都改过.*--take") as refused:
        laptop.checkin(office.ctx, office.pool, plan)
    assert "低保对象人数" in str(refused.value) and "“7”" in str(refused.value)
    assert office.value("S_LOW_INCOME").value == "7" and len(laptop.status(office.ctx)) == 1
    with pytest.raises(UserError, match="不是可选的处理方式"):
        laptop.resolve(office.ctx, plan, conflict, "both")
    laptop.resolve(office.ctx, plan, conflict, "office")
    result = laptop.checkin(office.ctx, office.pool, plan)
    assert (result.kept_office, result.took_laptop) == (1, 0)
    row = office.value("S_LOW_INCOME")
    assert row.value == "7"
    kept = office.history("S_LOW_INCOME")[-1]
    assert (kept.old_value, kept.new_value) == ("7", "7")
    assert "保留办公室的值" in kept.reason and "“4”" in kept.reason

    # Out again; this time the laptop's value is taken (for every conflict, as --take does).
    out = _out_and_typed(office, tmp_path, "b.db", "9")
    office.set("S_LOW_INCOME", "8")
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    result = laptop.checkin(office.ctx, office.pool, plan, take="laptop")
    assert (result.kept_office, result.took_laptop) == (0, 1)
    assert office.value("S_LOW_INCOME").value == "9"
    took = office.history("S_LOW_INCOME")[-1]
    assert (took.old_value, took.new_value) == ("8", "9") and "选用笔记本的值" in took.reason

    # Both typed the same: nothing to choose.
    out = _out_and_typed(office, tmp_path, "c.db", "11")
    office.set("S_LOW_INCOME", "11")
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    assert (plan.conflicts, plan.changes, plan.same) == ([], [], 1)
    laptop.checkin(office.ctx, office.pool, plan)


def test_a_value_on_a_form_submitted_meanwhile_stays_as_submitted(
    office: Office, tmp_path: Path
) -> None:
    out = _out_and_typed(office, tmp_path, "a.db", "4")
    with office.ctx.store.transaction() as session:
        session.add(
            FormStatus(
                template="yb_resident_medical",
                area=office.village,
                period=str(P),
                status="submitted",
                changed_by="jingban",
                changed_at=office.clock[0],
            )
        )
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    [conflict] = plan.conflicts
    assert conflict.locked
    with pytest.raises(UserError, match="已锁定，只能保留办公室的值"):
        laptop.checkin(office.ctx, office.pool, plan, take="laptop")
    result = laptop.checkin(office.ctx, office.pool, plan, take="office")
    assert result.kept_office == 1


def test_a_check_in_is_one_transaction(office: Office, tmp_path: Path) -> None:
    out = tmp_path / "a.db"
    check_out(office, out)
    office.ctx.store.dispose()
    lap = Laptop(out, office.clock)
    lap.set("S_LOW_INCOME", "4")
    lap.set("S_ELDERLY_ALLOWANCE", "2")
    lap.ctx.store.dispose()
    office.ctx, office.pool = open_ctx(office.db, office.clock)
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    assert len(plan.changes) == 2
    office.set("S_ELDERLY_ALLOWANCE", "1")  # after the file was read, before it is checked in
    with pytest.raises(UserError, match="又有人修改了其中的数据，检入没有执行"):
        laptop.checkin(office.ctx, office.pool, plan)
    assert office.value("S_LOW_INCOME") is None  # nothing of it was written
    assert len(laptop.status(office.ctx)) == 1 and office.actions("laptop_checkin") == []
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)  # read again
    assert len(plan.changes) == 1 and len(plan.conflicts) == 1
    laptop.checkin(office.ctx, office.pool, plan, take="laptop")
    assert office.value("S_ELDERLY_ALLOWANCE").value == "2"


@covers("laptop.cancel", "laptop.this_laptop")
def test_refusals_in_chinese(office: Office, tmp_path: Path) -> None:
    assert laptop.this_laptop(office.ctx) is None  # the office's database is no check-out
    with pytest.raises(UserError, match=r"不是本乡镇（街道）.*的村（社区）代码"):
        laptop.checkout(office.ctx, office.pool, "441900199999", tmp_path / "x.db", password="x")
    with pytest.raises(UserError, match="密码不正确"):
        laptop.checkout(office.ctx, office.pool, office.village, tmp_path / "x.db", password="x")
    with pytest.raises(UserError, match=r"应以 \.db 结尾"):
        check_out(office, tmp_path / "x.sqlite")
    (tmp_path / "there.db").write_bytes(b"")
    with pytest.raises(UserError, match="已存在"):
        check_out(office, tmp_path / "there.db")
    assert not (tmp_path / "x.db").exists() and laptop.status(office.ctx) == []

    out = tmp_path / "a.db"
    check_out(office, out)
    with pytest.raises(UserError, match=r"已于 .* 由 jingban 检出到笔记本.*尚未检入"):
        check_out(office, tmp_path / "b.db")
    with pytest.raises(UserError, match="密码不正确：检出文件要用检出人 jingban 的密码打开"):
        laptop.read_checkin(office.ctx, office.pool, out, "Wrong#2026pass")
    with pytest.raises(UserError, match="不存在"):
        laptop.read_checkin(office.ctx, office.pool, tmp_path / "nothing.db", CLERK_PASSWORD)
    with pytest.raises(UserError, match="不是笔记本检出文件"):  # a database, but no check-out
        laptop.read_checkin(office.ctx, office.pool, office.ctx.store.path, CLERK_PASSWORD)

    # The same township's other database (another PC's file): that village is not out here.
    other = Office(make_office(tmp_path / "other" / "gov.db"))
    elsewhere = tmp_path / "elsewhere.db"
    check_out(other, elsewhere)
    with pytest.raises(UserError, match=r"本数据库没有这次检出的记录.*不是从本数据库检出的"):
        laptop.read_checkin(office.ctx, office.pool, elsewhere, CLERK_PASSWORD)
    other.ctx.store.dispose()

    # Another township's check-out.
    baishi = make_office(tmp_path / "baishi" / "gov.db", code="441900200000")
    foreign = Office(baishi, village="441900200001")
    foreign_file = tmp_path / "baishi.db"
    check_out(foreign, foreign_file)
    with pytest.raises(UserError, match="来自白石镇（441900200000）的数据库，不是本乡镇"):
        laptop.read_checkin(office.ctx, office.pool, foreign_file, CLERK_PASSWORD)
    foreign.ctx.store.dispose()

    # The laptop was lost: the check-out is cancelled, and its file, found later, refused.
    with pytest.raises(UserError, match="须说明原因"):
        laptop.cancel(office.ctx, office.village, " ")
    cancelled = laptop.cancel(office.ctx, office.village, "笔记本丢失")
    assert cancelled.state == "cancelled" and laptop.status(office.ctx) == []
    [entry] = office.actions("laptop_cancel")
    assert json.loads(entry.detail)["reason"] == "笔记本丢失"
    with pytest.raises(UserError, match=r"已于 .* 由 jingban 作废（笔记本丢失），不能检入"):
        laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    with pytest.raises(UserError, match="没有检出到笔记本"):
        laptop.cancel(office.ctx, office.village, "再作废")
    check_out(office, tmp_path / "again.db")  # the village may go out again
    with office.ctx.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LaptopCheckout)) == 2
