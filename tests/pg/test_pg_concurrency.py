"""Several clerks on one server (issue 18): optimistic versions on 一表通 values.

A clerk's edit names the version of the value they saw; one made after another clerk's change is
refused with who changed it, when and to what — on a file and on a server alike. On the server,
processes that really run at once — clerks counting up one shared value by read-modify-write,
another clerk filling other values, one importing back-flowed data — lose no update, deadlock
nowhere, and leave one audit chain that verifies."""

from __future__ import annotations

import multiprocessing
import os
from datetime import datetime
from pathlib import Path

import pytest

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues, StaleValue
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.township import add_village, init_township

T = "441900199000"
V = "441900199201"
P = Period.parse("2026-10")
COUNTER = "S_LOW_INCOME"  # an entered (not computed) village value
OTHERS = ("S_ELDERLY_ALLOWANCE",)
NOW = datetime(2026, 11, 3, 9, 30)


def _pool(store) -> FormValues:  # type: ignore[no-untyped-def]
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    return FormValues(store, dictionary, templates)


def test_a_stale_edit_is_refused_naming_who_changed_it(any_store) -> None:
    with any_store.transaction() as session:
        init_township(session, T, "青禾镇")
        add_village(session, V, "东岭村委会")
    zhang = _pool(any_store.acting(Principal("zhang", Role.CLERK), os.urandom(32)))
    li = _pool(any_store.acting(Principal("li", Role.CLERK), os.urandom(32)))

    # Both open the form with nothing stored yet; 李 saves first, 张's first value is refused.
    li.set(COUNTER, V, P, "12", user="li", now=NOW, seen=0)
    with pytest.raises(StaleValue, match=r"已被 li 于 2026-11-03 09:30 改为“12”") as refused:
        zhang.set(COUNTER, V, P, "10", user="zhang", now=NOW, seen=0)
    assert refused.value.current.value == "12"

    # 张 now sees version 1 and changes it; 李, still looking at version 1, is refused.
    seen = zhang.values(P, [V])[COUNTER][V].version
    zhang.set(COUNTER, V, P, "13", user="zhang", now=NOW.replace(minute=45), seen=seen)
    with pytest.raises(StaleValue, match="已被 zhang 于 2026-11-03 09:45 改为“13”"):
        li.set(COUNTER, V, P, "14", user="li", now=NOW, seen=seen)
    row = li.values(P, [V])[COUNTER][V]
    assert (row.value, row.version, row.changed_by) == ("13", 2, "zhang")
    history = [(h.old_value, h.new_value, h.changed_by) for h in li.history(COUNTER, V, P)]
    assert history == [(None, "12", "li"), ("12", "13", "zhang")]  # the refused ones left none
    # Saving what is already there again is no change (and no conflict).
    assert li.set(COUNTER, V, P, "13", user="li", now=NOW, seen=2).version == 2


# ---------------------------------------------------------------- real processes on the server


def _signed(url: str, user: str, key: bytes):  # type: ignore[no-untyped-def]
    return open_store(url).acting(Principal(user, Role.CLERK), key)


def _count_up(url: str, user: str, key: bytes, times: int, start) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Read the shared value, add one, save with the version read; refused: read again."""
    store = _signed(url, user, key)
    pool = _pool(store)
    refused = 0
    start.wait()  # everyone signed in and loaded: go at once
    try:
        for _ in range(times):
            while True:
                row = pool.values(P, [V]).get(COUNTER, {}).get(V)
                new = int(row.value) + 1 if row is not None else 1
                try:
                    pool.set(COUNTER, V, P, str(new), user=user, now=datetime.now(),
                             seen=row.version if row is not None else 0)  # fmt: skip
                    break
                except StaleValue:
                    refused += 1
    finally:
        store.dispose()
    return times, refused


def _fill_others(url: str, user: str, key: bytes, times: int, start) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    store = _signed(url, user, key)
    pool = _pool(store)
    start.wait()
    try:
        for n in range(times):
            for element in OTHERS:
                pool.set(element, V, P, str(n), user=user, now=datetime.now())
    finally:
        store.dispose()
    return times, 0


def _import(url: str, user: str, key: bytes, path: str, start) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from govshare_desktop.core.backflow.pipeline import import_file

    store = _signed(url, user, key)
    start.wait()
    try:
        result = import_file(store, Path(path), user=user)
    finally:
        store.dispose()
    return result.inserted, 0


@pytest.mark.slow
def test_clerks_at_once_lose_no_update_and_keep_one_audit_chain(pg_url, samples) -> None:
    key = os.urandom(32)
    setup = _signed(pg_url, "admin", key)
    with setup.transaction() as session:
        init_township(session, T, "青禾镇")
        for code, name in ((V, "东岭村委会"), ("441900199202", "西塘村委会")):
            add_village(session, code, name)
    clerks, times = 3, 30
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(clerks + 2) as workers:
        start = manager.Barrier(clerks + 2)
        jobs = [(_count_up, (pg_url, f"clerk{n}", key, times, start)) for n in range(clerks)]
        jobs.append((_fill_others, (pg_url, "minzheng", key, times, start)))
        payments = samples / "青禾镇_城乡居民养老金发放明细_202608-202610.csv"
        jobs.append((_import, (pg_url, "shebao", key, str(payments), start)))
        running = [workers.apply_async(function, arguments) for function, arguments in jobs]
        results = [job.get(timeout=300) for job in running]  # a deadlock would time out
    print("stale edits refused and retried per clerk:", [r[1] for r in results[:clerks]])

    pool = _pool(setup)
    row = pool.values(P, [V])[COUNTER][V]
    assert int(row.value) == clerks * times  # every increment counted: no lost update
    assert row.version == clerks * times
    assert len(pool.history(COUNTER, V, P)) == clerks * times
    assert all(pool.values(P, [V])[e][V].value == str(times - 1) for e in OTHERS)
    assert results[-1][0] > 0  # the import went in beside them
    trail = audit_trail(setup).verify(Principal("zhao", Role.AUDITOR))
    assert trail.ok, trail
    setup.dispose()


def test_a_prefill_that_meets_a_clerks_save_starts_again(pg_demo_store) -> None:
    """A clerk overrides a computed value between the prefill's reading and its writing: the
    prefill's transaction fails on the value's version, starts again on what is stored then, and
    keeps the clerk's override."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    pool = _pool(pg_demo_store)
    pool.prefill(P, township_code=T, user="clerk", now=NOW)
    other = _pool(pg_demo_store.acting(Principal("li", Role.CLERK), os.urandom(32)))
    computed = other.values(P, [V])["P_80PLUS"][V]
    with pg_demo_store.transaction() as session:  # make the prefill's next run write P_80PLUS
        session.get(type(computed), computed.id).value = "0"
    seen = other.values(P, [V])["P_80PLUS"][V]
    met = []

    def clerk_saves_first(session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
        if not met:
            met.append(session)
            other.set("P_80PLUS", V, P, "999", user="li", now=NOW, reason="入户核实",
                      seen=seen.version)  # fmt: skip

    attempts = 0
    store_computed = pool._store_computed

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal attempts
        attempts += 1
        return store_computed(*args, **kwargs)

    pool._store_computed = counted  # type: ignore[method-assign]
    event.listen(Session, "before_flush", clerk_saves_first)
    try:
        report = pool.prefill(P, township_code=T, user="clerk", now=NOW)
    finally:
        event.remove(Session, "before_flush", clerk_saves_first)
    assert met  # the clerk did save in between
    row = pool.values(P, [V])["P_80PLUS"][V]
    assert (row.value, row.origin, row.changed_by) == ("999", "overridden", "li")
    assert attempts == 2 and report.changed == []  # once failed on the version, once done
