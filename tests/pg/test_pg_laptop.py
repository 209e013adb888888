"""The laptop for village visits with the office's database on the server (issue 18): a village
checked out of the server into an encrypted file, typed in there, and checked back in — applied,
a conflict chosen, audited on the server; two PCs cannot check the same village out at once."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from govshare_desktop.core.laptop.scope import REASON
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.services import laptop
from govshare_desktop.core.store.engine import sqlcipher_available
from govshare_desktop.core.store.models import FormValue, LaptopCheckout, Person
from tests.core.test_laptop import (
    AUDITOR,
    CLERK_PASSWORD,
    Laptop,
    Office,
    check_out,
    make_office,
)


@pytest.fixture
def office(pg_url) -> Office:  # type: ignore[no-untyped-def]
    found = Office(make_office(pg_url))
    yield found
    found.ctx.store.dispose()


def test_a_village_goes_out_of_the_server_and_comes_back(office: Office, tmp_path: Path) -> None:
    assert office.ctx.store.server
    office.set("S_LOW_INCOME", "3")
    office.set("S_ELDERLY_ALLOWANCE", "5")
    out = tmp_path / "村.db"
    done = check_out(office, out)
    if sqlcipher_available():
        assert not out.read_bytes().startswith(b"SQLite format 3")
    [entry] = office.actions("laptop_checkout")
    assert json.loads(entry.detail)["file"] == str(out.resolve())

    lap = Laptop(out, office.clock)
    assert lap.ctx.store.path == out.resolve() and lap.villages == [office.village]
    with lap.ctx.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == done.persons
        assert session.scalar(select(func.count()).select_from(FormValue)) == done.values
    assert office.ctx.store.where in laptop.this_laptop(lap.ctx)  # from which database
    lap.set("S_LOW_INCOME", "4")
    lap.set("S_ELDERLY_ALLOWANCE", "9")
    lap.ctx.store.dispose()

    office.set("S_ELDERLY_ALLOWANCE", "6")  # the server's clerks went on meanwhile
    plan = laptop.read_checkin(office.ctx, office.pool, out, CLERK_PASSWORD)
    assert len(plan.changes) == 1
    [conflict] = plan.conflicts
    assert (conflict.element, conflict.office_value, conflict.laptop_value) == (
        "S_ELDERLY_ALLOWANCE",
        "6",
        "9",
    )
    laptop.resolve(office.ctx, plan, conflict, "laptop")
    result = laptop.checkin(office.ctx, office.pool, plan)
    assert (result.applied, result.took_laptop) == (1, 1)
    assert office.value("S_LOW_INCOME").value == "4"
    assert office.value("S_ELDERLY_ALLOWANCE").value == "9"
    assert office.history("S_LOW_INCOME")[-1].reason == REASON
    assert laptop.status(office.ctx) == []
    assert [e.action for e in office.actions("laptop_checkin")] == ["laptop_checkin"]
    assert audit_trail(office.ctx.store).verify(AUDITOR).ok


def test_two_pcs_cannot_have_the_same_village_out(office: Office, tmp_path: Path) -> None:
    """The partial unique index holds on the server whatever a program checked before."""
    check_out(office, tmp_path / "a.db")
    with pytest.raises(IntegrityError), office.ctx.store.transaction() as session:
        session.add(
            LaptopCheckout(
                checkout_id="second",
                village_code=office.village,
                state="out",
                file_name="b.db",
                laptop="",
                forms="[]",
                value_count=0,
                checked_out_by="another",
                checked_out_at=datetime(2026, 12, 1),
            )
        )
    laptop.cancel(office.ctx, office.village, "换一台笔记本")
    check_out(office, tmp_path / "b.db")  # a cancelled check-out does not count
    assert [c.file_name for c in laptop.status(office.ctx)] == [str((tmp_path / "b.db").resolve())]
