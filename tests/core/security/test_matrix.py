"""The role × action matrix, checked against the real services (not against the permission
table): each role is allowed exactly what the 三权分立 separation gives it."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from govshare_desktop.core.backflow.pipeline import import_file
from govshare_desktop.core.browse import PERSONS, Query
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.exchange.trust import register_sender
from govshare_desktop.core.export.forms import export_sheets, form_sheets
from govshare_desktop.core.export.lists import export_list
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.resources import resource_path
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.security.safekeeping import backup_now
from govshare_desktop.core.store.engine import Store

P = Period.parse("2026-10")
from tests.samples import SAMPLES  # noqa: E402

NOW = datetime(2026, 11, 27, 10, 0)
C, R, S, A = Role.CLERK, Role.REVIEWER, Role.SYSADMIN, Role.AUDITOR

# action -> the roles that may do it (written out here, independently of permissions.py)
EXPECTED: dict[str, set[Role]] = {
    "import a file": {C, R},
    "fill a form": {C, R},
    "read a form": {C, R, A},
    "submit a form": {C, R},
    "return a form": {R},
    "export a form masked": {C, R},
    "export a list unmasked": {C, R},
    "trust a sender": {S},
    "add an account": {S},
    "back up": {C, R, S},
    "read the audit trail": {A},
    "verify the audit trail": {S, A},
    "unmask on screen": {C, R},
}


TO_SUBMIT, TO_RETURN = "441900199201", "441900199202"  # villages of the demo township


def _complete(pool: FormValues, area: str) -> None:
    """Fill what the village's 统计表 leaves to the clerk, so that it can be submitted."""
    data = pool.collect("mz_elderly", area, P)
    for column in data.template.columns:
        for subject, _ in data.subjects:
            if data.value(column.element, subject) is None:
                pool.set(column.element, subject, P, "0", user="clerk", now=NOW)
    assert pool.completeness("mz_elderly", area, P) == (len(data.template.columns),) * 2


@pytest.fixture
def forms_ready(pool: FormValues) -> FormValues:
    """One village form complete (to submit), another already submitted (to return)."""
    clerk = FormValues(pool.store.acting(Principal("c", C)), pool.dictionary, pool.templates)
    _complete(clerk, TO_SUBMIT)
    _complete(clerk, TO_RETURN)
    clerk.submit("mz_elderly", TO_RETURN, P, user="c", now=NOW)
    return pool


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A real encrypted database with its key file: accounts live in the key file."""
    done = signin.initialise(tmp_path_factory.mktemp("accounts") / "gov.db", now=NOW)
    yield done.store
    done.store.dispose()


def _actions(
    store: Store, pool: FormValues, tmp: Path, accounts: Store
) -> dict[str, Callable[[], object]]:
    """Each action as the role would do it; an allowed one must succeed, not merely pass the
    permission check (any other error fails the test)."""

    def submit() -> None:
        pool.submit("mz_elderly", TO_SUBMIT, P, user="x", now=NOW)
        assert pool.status("mz_elderly", TO_SUBMIT, P) == "submitted"

    def add_account(as_role: Store) -> None:
        name = f"new-{as_role.principal.role.value}"
        signin.add_account(as_role, name, Role.CLERK, "Qingshui#2026x", now=NOW)
        assert name in {a.username for a in signin.list_accounts(as_role)}

    def return_() -> None:
        pool.return_("mz_elderly", TO_RETURN, P, reason="核对", user="x", now=NOW)
        assert pool.status("mz_elderly", TO_RETURN, P) == "returned"

    pem = resource_path("demo", "county-demo-ed25519.pub.pem").read_bytes()
    clerk = FormValues(store.acting(Principal("c", C)), pool.dictionary, pool.templates)
    sheets = form_sheets(clerk, "mz_elderly", P, masked=True)  # whoever made them
    return {
        "fill a form": lambda: pool.set("S_LOW_INCOME", "441900199201", P, "1", user="x", now=NOW),
        "read a form": lambda: pool.collect("mz_elderly", "441900199000", P),
        "submit a form": submit,
        "return a form": return_,
        "export a form masked": lambda: export_sheets(store, sheets, tmp / "f.pdf", fmt="pdf"),
        "import a file": lambda: import_file(
            store, SAMPLES / "青禾镇_户籍人口回流_2026-10.xlsx", user="x"
        ),
        "export a list unmasked": lambda: export_list(
            store, Query(PERSONS, {}), tmp / "l.xlsx", masked=False, today=NOW.date()
        ),
        "trust a sender": lambda: register_sender(
            store, pem, code="441900000000", name="县", now=NOW
        ),
        "add an account": lambda: add_account(accounts.acting(store.principal)),
        "back up": lambda: backup_now(store, tmp / "backups", now=NOW),
        "read the audit trail": lambda: audit_trail(store).entries(store.principal),
        "verify the audit trail": lambda: audit_trail(store).verify(store.principal),
        "unmask on screen": lambda: signin.unmask(store, "核对", "测试"),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_do_exactly_its_part(
    forms_ready: FormValues, accounts: Store, role: Role, tmp_path: Path
) -> None:
    pool = forms_ready
    store = pool.store.acting(Principal("someone", role), os.urandom(32))
    acting = FormValues(store, pool.dictionary, pool.templates)
    allowed, denied = set(), set()
    for name, action in _actions(store, acting, tmp_path, accounts).items():
        try:
            action()
        except PermissionDenied:
            denied.add(name)
        else:
            allowed.add(name)
    assert allowed == {name for name, roles in EXPECTED.items() if role in roles}
    assert denied == {name for name, roles in EXPECTED.items() if role not in roles}
