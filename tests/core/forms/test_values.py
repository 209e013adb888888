"""Values filled once: sharing across forms, overrides with history, prefill that never silently
replaces an override, and the submit/return workflow."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.values import (
    COMPUTED,
    ENTERED,
    OVERRIDDEN,
    SUBMITTED,
    FormValues,
    canonical,
)
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import PermissionDenied, Principal, Role
from govshare_desktop.core.store.models import Person

T = "441900199000"
V = "441900199201"
P = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 30)


def test_prefill_stores_computed_values_for_every_area(pool: FormValues) -> None:
    rows = pool.values(P, [V, T])
    assert rows["P_60PLUS"][V].origin == COMPUTED
    assert int(rows["P_TOTAL"][T].value) > int(rows["P_TOTAL"][V].value) > 0
    assert rows["P_60PLUS"][V].batch_id is not None  # which back-flow it came from


def test_a_value_entered_once_shows_in_every_form_that_uses_it(pool: FormValues) -> None:
    pool.set("S_LOW_INCOME", V, P, "12", user="clerk", now=NOW)
    users = [t for t in pool.templates.values() if "S_LOW_INCOME" in t.elements]
    assert users  # 医保's form uses it
    shown = pool.typed_values(P, [V])
    for template in users:
        assert {c.element: shown.get(c.element, {}).get(V) for c in template.columns}[
            "S_LOW_INCOME"
        ] == 12
    assert pool.values(P, [V])["S_LOW_INCOME"][V].origin == ENTERED


def test_overriding_a_computed_value_needs_a_reason_and_keeps_history(pool: FormValues) -> None:
    computed = pool.values(P, [V])["P_80PLUS"][V].value
    with pytest.raises(UserError, match="理由"):
        pool.set("P_80PLUS", V, P, "999", user="clerk", now=NOW)
    pool.set("P_80PLUS", V, P, "999", user="clerk", now=NOW, reason="村委会核实：含未迁户口的老人")
    row = pool.values(P, [V])["P_80PLUS"][V]
    assert (row.value, row.origin, row.computed_value) == ("999", OVERRIDDEN, computed)
    history = pool.history("P_80PLUS", V, P)
    assert [(h.old_value, h.new_value, h.new_origin) for h in history] == [
        (computed, "999", OVERRIDDEN)
    ]
    assert history[0].reason.startswith("村委会核实")
    # Typing the computed value back makes it computed again.
    pool.set("P_80PLUS", V, P, computed, user="clerk", now=NOW)
    assert pool.values(P, [V])["P_80PLUS"][V].origin == COMPUTED


def test_prefill_after_new_back_flow_reports_changes_and_never_replaces_an_override(
    pool, demo_store
) -> None:
    pool.set("P_TOTAL", V, P, "1", user="clerk", now=NOW, reason="测试覆盖")
    before = pool.values(P, [V, T])
    with (
        demo_store.transaction() as session
    ):  # the county now reports two fewer people in the village
        ids = session.scalars(
            Person.__table__.select()
            .with_only_columns(Person.id)
            .where(Person.village_code == V, Person.status == "normal")
            .limit(2)
        ).all()
        session.execute(
            update(Person).where(Person.id.in_(ids)).values(status="moved_out", status_date=P.start)
        )
    report = pool.prefill(P, township_code=T, user="clerk", now=NOW)
    changed = {(e, a) for e, a, _old, _new in report.changed}
    assert ("P_TOTAL", T) in changed  # the township total follows the data
    assert ("P_TOTAL", V) not in changed  # the override stays…
    kept = {(e, a): (k, n) for e, a, k, n in report.kept_overrides}
    assert kept[("P_TOTAL", V)] == (
        "1",
        str(int(before["P_TOTAL"][V].computed_value) - 2),
    )  # …and is reported
    assert pool.values(P, [V])["P_TOTAL"][V].value == "1"


def test_submit_locks_and_return_unlocks(pool: FormValues) -> None:
    template = "mz_elderly"
    assert pool.completeness(template, V, P) == (3, 4)  # S_ELDERLY_ALLOWANCE is entered by hand
    with pytest.raises(UserError, match="未填写"):
        pool.submit(template, V, P, user="clerk", now=NOW)
    allowance = pool.values(P, [V])["P_80PLUS"][V].value
    pool.set("S_ELDERLY_ALLOWANCE", V, P, allowance, user="clerk", now=NOW)
    pool.submit(template, V, P, user="clerk", now=NOW)
    assert pool.status(template, V, P) == SUBMITTED
    with pytest.raises(UserError, match="已锁定"):
        pool.set("S_ELDERLY_ALLOWANCE", V, P, "1", user="clerk", now=NOW)
    with pytest.raises(PermissionDenied, match="无权退回报表"):  # a 经办人 cannot return
        pool.return_(template, V, P, reason="x", user="clerk", now=NOW)
    reviewer = FormValues(
        pool.store.acting(Principal("wang", Role.REVIEWER)), pool.dictionary, pool.templates
    )
    with pytest.raises(UserError, match="理由"):
        reviewer.return_(template, V, P, reason=" ", user="wang", now=NOW)
    reviewer.return_(template, V, P, reason="数字有误，请核对", user="wang", now=NOW)
    pool.set("S_ELDERLY_ALLOWANCE", V, P, "1", user="clerk", now=NOW)
    # Both steps are in the audit trail, with who did them.
    auditor = Principal("zhao", Role.AUDITOR)
    trail = audit_trail(pool.store).entries(auditor)
    assert [(e.action, e.username) for e in trail[:2]] == [("return", "wang"), ("submit", "clerk")]
    assert "数字有误" in trail[0].detail


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.CLERK, True), (Role.REVIEWER, True), (Role.SYSADMIN, False), (Role.AUDITOR, False)],
)
def test_who_may_fill_forms(pool: FormValues, role: Role, allowed: bool) -> None:
    acting = FormValues(pool.store.acting(Principal("x", role)), pool.dictionary, pool.templates)
    if allowed:
        acting.set("S_ELDERLY_ALLOWANCE", V, P, "3", user="x", now=NOW)
        return
    with pytest.raises(PermissionDenied, match="无权填报报表"):
        acting.set("S_ELDERLY_ALLOWANCE", V, P, "3", user="x", now=NOW)
    with pytest.raises(PermissionDenied):
        acting.prefill(P, township_code=T, user="x", now=NOW)


def test_an_error_rule_blocks_submission(pool: FormValues) -> None:
    template = "mz_elderly"
    pool.set("S_ELDERLY_ALLOWANCE", V, P, "0", user="clerk", now=NOW)
    sixty = pool.values(P, [V])["P_60PLUS"][V].value
    pool.set("P_80PLUS", V, P, str(int(sixty) + 1), user="clerk", now=NOW, reason="测试")
    with pytest.raises(UserError, match="80周岁及以上人数不能多于60周岁及以上人数"):
        pool.submit(template, V, P, user="clerk", now=NOW)


@pytest.mark.parametrize(
    ("code", "raw", "stored"),
    [
        ("P_TOTAL", " 1,234 ", "1234"),
        ("I_PAID_TOTAL", "12.5", "1250"),
        ("S_CONTACT_PHONE", " 0769-1 ", "0769-1"),
        ("S_CONTACT_PHONE", "0769-1，转 2,3", "0769-1，转 2,3"),  # text keeps its commas
    ],
)
def test_values_are_checked_and_kept_exactly(code: str, raw: str, stored: str) -> None:
    assert canonical(load_dictionary()[code], raw) == stored


@pytest.mark.parametrize(
    ("code", "raw"), [("P_TOTAL", "12.5"), ("P_TOTAL", "十二"), ("I_PAID_TOTAL", "1.001")]
)
def test_bad_values_are_refused_in_chinese(code: str, raw: str) -> None:
    with pytest.raises(UserError):
        canonical(load_dictionary()[code], raw)


def test_carry_forward_fills_only_missing_values_of_elements_that_allow_it(
    pool: FormValues,
) -> None:
    person = "441900195001010011"
    september, october = Period.parse("2026-09"), Period.parse("2026-10")
    pool.set(
        "S_ALLOWANCE_AMOUNT", person, september, "200", user="clerk", now=NOW
    )  # carry_forward = true
    pool.set("S_LOW_INCOME", V, september, "9", user="clerk", now=NOW)  # not carried
    other = "441900194501010013"
    pool.set("S_ALLOWANCE_AMOUNT", other, september, "200", user="clerk", now=NOW)
    pool.set("S_ALLOWANCE_AMOUNT", other, october, "300", user="clerk", now=NOW)  # already filled
    assert pool.carry_forward(october, user="clerk", now=NOW) == 1
    assert pool.carry_forward(october, user="clerk", now=NOW) == 0  # idempotent
    values = pool.values(october, [person, other, V])
    assert values["S_ALLOWANCE_AMOUNT"][person].value == "20000"
    assert "沿用2026年9月" in values["S_ALLOWANCE_AMOUNT"][person].reason
    assert values["S_ALLOWANCE_AMOUNT"][other].value == "30000"
    assert V not in values.get("S_LOW_INCOME", {})
