"""The laptop for village visits (:mod:`govshare_desktop.core.laptop`) as a clerk works it: check a
village out, see what is out, check the laptop's file back in choosing where both sides changed a
value, and cancel a check-out whose laptop is lost — the same from ``govshare laptop …`` and the
window."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.laptop import checkin as checking_in
from govshare_desktop.core.laptop import checkout as checking_out
from govshare_desktop.core.laptop import status as listing
from govshare_desktop.core.laptop.checkin import CheckedIn, CheckIn, Conflict
from govshare_desktop.core.laptop.checkout import CheckedOut
from govshare_desktop.core.laptop.status import Checkout
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context


def checkout(
    ctx: Context,
    pool: FormValues,
    village: str,
    out: Path,
    *,
    password: str,
    period: Period | None = None,
    forms: Sequence[str] = (),
    laptop: str = "",
    task: str | None = None,
) -> CheckedOut:
    """「检出到笔记本」: ``village`` (its 12-digit code) — of ``period`` and ``forms`` if given, or
    of the report ``task``'s form and period, the task going along — into a new encrypted
    database at ``out`` that the signed-in clerk opens with ``password`` (their own, checked
    here). Recorded and audited in the office's database and the laptop's."""
    return checking_out.check_out(
        ctx.store,
        pool.templates,
        village.strip(),
        out,
        password=password,
        period=str(period) if period is not None else None,
        forms=tuple(forms),
        laptop=laptop,
        task=task,
        now=ctx.now(),
    )


def read_checkin(ctx: Context, pool: FormValues, path: Path, password: str) -> CheckIn:
    """「笔记本检入」, first step: the laptop's file read with its clerk's ``password`` and
    compared with the office — what will be applied, and the conflicts to choose."""
    return checking_in.read_checkin(ctx.store, pool, path, password, now=ctx.now())


def resolve(ctx: Context, plan: CheckIn, conflict: Conflict, take: str) -> None:
    """The clerk's choice for one conflict: ``"office"`` (保留办公室的值) or ``"laptop"``
    (采用笔记本的值; refused for a value on a submitted form)."""
    ctx.principal.require(Action.EDIT_FORMS)
    plan.resolve(conflict, take)


def checkin(ctx: Context, pool: FormValues, plan: CheckIn, *, take: str | None = None) -> CheckedIn:
    """「笔记本检入」: ``plan`` applied in one transaction; ``take`` decides every conflict not
    yet chosen; without it, a conflict left refuses the whole check-in."""
    return checking_in.apply_checkin(ctx.store, pool, plan, take=take, now=ctx.now())


def status(ctx: Context, *, ended: bool = False) -> list[Checkout]:
    """The villages out on laptops (``ended``: past check-outs too)."""
    return listing.checkouts(ctx.store, ended=ended)


def this_laptop(ctx: Context) -> str | None:
    """On a laptop: what this database is a check-out of, in a sentence; None at the office."""
    found = listing.origin(ctx.store)
    return listing.describe_origin(found) if found is not None else None


def cancel(ctx: Context, village: str, reason: str) -> Checkout:
    """「作废检出」: the laptop will not come back; the village may be checked out again."""
    return listing.cancel(ctx.store, village.strip(), reason, now=ctx.now())
