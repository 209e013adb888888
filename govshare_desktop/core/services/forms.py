"""一表通 as a clerk works it — 预填 a period, type a value, submit and return a form — and as the
系统管理员 adds to it: a department's template (or new data elements) installed from a file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.catalog import (
    ORIGIN_FILE,
    FormCatalog,
    check_template_text,
    install_elements,
    install_template,
    load_catalog,
    read_form_file,
)
from govshare_desktop.core.forms.dictionary import toml_text
from govshare_desktop.core.forms.values import FormValues, PrefillReport
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.services.context import Context
from govshare_desktop.core.store.models import FormValue


@dataclass(frozen=True)
class Prefilled:
    report: PrefillReport  # values computed from the back-flow data
    carried: int  # entered values carried over from last period (where allowed)

    def summary(self) -> str:
        return (
            f"新增 {self.report.inserted} 个值，随回流数据更新 {len(self.report.changed)} 个，"
            f"保留经办人修改 {len(self.report.kept_overrides)} 个（回流数据已不同，请核对），"
            f"沿用上期填报 {self.carried} 个"
        )


def prefill(ctx: Context, pool: FormValues, period: Period) -> Prefilled:
    """「按回流数据预填」: every computed element for every village and the township, then last
    period's entered values where an element allows it — the same in the window and from
    ``govshare forms prefill --save``."""
    township_code, _ = pool.township()
    now = ctx.now()
    report = pool.prefill(period, township_code=township_code, user=ctx.user, now=now)
    carried = pool.carry_forward(period, user=ctx.user, now=now)
    return Prefilled(report, carried)


def set_value(
    ctx: Context,
    pool: FormValues,
    element: str,
    subject: str,
    period: Period,
    value: str,
    *,
    reason: str | None = None,
    seen: int | None = None,
) -> FormValue:
    """A value typed by the clerk (a computed one overridden needs ``reason``). ``seen``: the
    version of the value the clerk was looking at (0: none); changed by someone else since, the
    edit is refused (:class:`~govshare_desktop.core.forms.values_pool.StaleValue`, whose
    ``current`` is the value to show)."""
    return pool.set(
        element, subject, period, value, user=ctx.user, now=ctx.now(), reason=reason, seen=seen
    )


def submit(ctx: Context, pool: FormValues, template: str, area: str, period: Period) -> None:
    pool.submit(template, area, period, user=ctx.user, now=ctx.now())


def return_form(
    ctx: Context, pool: FormValues, template: str, area: str, period: Period, reason: str
) -> None:
    pool.return_(template, area, period, reason=reason, user=ctx.user, now=ctx.now())


def catalog(ctx: Context) -> FormCatalog:
    """The forms this computer has: the shipped dictionary and templates with every addition and
    version installed in the database (what ``govshare forms list --db`` and the 系统管理员's
    「报表模板」 page show). Templates hold no personal data: anyone signed in may look."""
    return load_catalog(ctx.store)


def install_template_file(ctx: Context, path: Path, *, effective_from: str = "") -> str:
    """「安装报表模板」 (系统管理员): a department's template file kept in the database as a new
    version — or a dictionary file's new data elements — checked exactly as ``govshare forms
    check`` checks it and audited in the same transaction. ``effective_from``: the first period
    the version applies to ("" every period). What was installed, as a sentence."""
    ctx.store.principal.require(Action.INSTALL_FORMS)
    path = Path(path)
    text = read_form_file(path)
    is_dictionary = "element" in toml_text(text, path.name)
    now = ctx.now()
    with ctx.store.transaction() as session:
        dictionary = load_catalog(session).dictionary
        detail: dict[str, object] = {
            "file": path.name,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
        if is_dictionary:
            added = install_elements(
                session,
                text,
                path.name,
                dictionary=dictionary,
                package_id=None,
                user=ctx.user,
                now=now,
            )
            if not added:
                return f"{path.name} 中的数据项本机都已有，定义相同，未作改动"
            ctx.trail().record(
                session,
                ctx.principal,
                "install_forms",
                path.name,
                detail={**detail, "elements": added},
                now=now,
            )
            return f"已向数据项字典添加 {len(added)} 个数据项：{'、'.join(added)}"
        template = check_template_text(text, path.name, dictionary)
        row = install_template(
            session,
            text,
            path.name,
            dictionary=dictionary,
            origin=ORIGIN_FILE,
            package_id=None,
            effective_from=effective_from,
            user=ctx.user,
            now=now,
        )
        named = f"报表模板“{template.title}”（{template.department}，{path.name}，版本 {template.version or '无'}）"
        if row is None:
            return f"{named}本机已安装，内容相同，未作改动"
        detail.update(version=row.version, effective_from=row.effective_from)
        ctx.trail().record(
            session, ctx.principal, "install_forms", template.id, detail=detail, now=now
        )
    when = f"自 {row.effective_from} 期起适用" if row.effective_from else "适用于各统计期"
    return f"已安装{named}，{when}；已上报的报表仍按上报时的版本"
