"""A report task checked out to a laptop (issue 18: 「A clerk checks a village (or a task) out」):
the county's task sets the period and the form, and goes along — the laptop's 报表任务 page shows
it with its deadline; what does not fit the task is refused in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govshare_desktop.core.backflow.packages import import_package
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import laptop, reports
from tests.core.test_laptop import NOW, Laptop, Office, check_out, make_office
from tests.county import County


def _county(office: Office) -> County:
    """The county's 民政局, trusted by the township's 系统管理员."""
    county = County()
    admin = office.ctx.store.acting(Principal("admin", Role.SYSADMIN))
    register_sender(admin, county.public_pem, code=county.code, name=county.name, now=NOW)
    return county


def _task(office: Office, county: County, tmp_path: Path, *, area: str, task_id: str) -> str:
    path = tmp_path / f"{task_id}.zip"
    path.write_bytes(
        county.task("mz_elderly", "2026-11", version="builtin", deadline="2026-12-10",
                    area=area, task_id=task_id)
    )  # fmt: skip
    result = import_package(office.ctx.store, path, user="jingban", now=NOW)
    assert result.status == "applied", result.message
    return task_id


def test_a_task_goes_out_with_its_village(tmp_path: Path) -> None:
    office = Office(make_office(tmp_path / "office" / "gov.db"))
    try:
        task = _task(office, _county(office), tmp_path, area=office.township, task_id="MZ-LAPTOP-1")
        out = tmp_path / "村.db"
        done = check_out(office, out, task=task)
        assert "2026-11 期" in done.scope and "mz_elderly" in done.scope and task in done.scope
        [listed] = laptop.status(office.ctx)
        assert listed.period == "2026-11" and list(listed.forms) == ["mz_elderly"]
        [entry] = office.actions("laptop_checkout")
        assert json.loads(entry.detail)["task"] == task
    finally:
        office.ctx.store.dispose()

    lap = Laptop(out, office.clock)
    try:
        views, _warning = reports.tasks(lap.ctx, NOW.date())
        [view] = views
        assert (view.task_id, view.template_id, view.period) == (task, "mz_elderly", "2026-11")
        assert str(view.deadline) == "2026-12-10" and view.open
    finally:
        lap.ctx.store.dispose()


def test_what_does_not_fit_the_task_is_refused(tmp_path: Path) -> None:
    office = Office(make_office(tmp_path / "office" / "gov.db"))
    try:
        other_village = next(v for v in office.villages if v != office.village)
        county = _county(office)
        mine = _task(office, county, tmp_path, area=office.township, task_id="MZ-LAPTOP-2")
        theirs = _task(office, county, tmp_path, area=other_village, task_id="MZ-LAPTOP-3")
        out = tmp_path / "村.db"
        with pytest.raises(UserError, match="没有报表任务“MZ-NOPE”"):
            check_out(office, out, task="MZ-NOPE")
        with pytest.raises(UserError, match="已定了统计期（2026-11）和报表（mz_elderly）"):
            laptop.checkout(
                office.ctx, office.pool, office.village, out, password="x", task=mine,
                forms=["mz_disability"],
            )  # fmt: skip
        with pytest.raises(UserError, match=f"报表任务“{theirs}”是.*的，不是 {office.village} 的"):
            check_out(office, out, task=theirs)
        assert not out.exists() and laptop.status(office.ctx) == []
    finally:
        office.ctx.store.dispose()
