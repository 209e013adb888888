"""The catalog (目录): what the township may apply for, who provides it, on what terms, how often
it is refreshed — and which of it already arrives here by back-flow, and when it last did.

A ``catalog`` package (exchange-format.md: ``data/catalog.csv``, the 2017 编制指南's fields) is a
full snapshot: it replaces the township's copy whole, or — one bad row — is refused whole, naming
the row and the field. A resource is linked to the back-flow datasets it arrives as: by its name
when the catalog comes (「户籍人口基本信息」 → 户籍人员), or by the package a granted share request
said to expect (:mod:`govshare_desktop.core.sharing.requests`). Its freshness is the last batch of
those datasets against its 更新周期: older than one cycle and a grace of a quarter of it (at least
three days) is 逾期未更新.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.domain import pinyin
from govshare_desktop.core.exchange.package import VerifiedPackage
from govshare_desktop.core.reports import content
from govshare_desktop.core.store.models import Batch, CatalogLink, CatalogResource

CATALOG_FILE = "data/catalog.csv"
HEADER = (
    "资源代码", "资源名称", "提供方", "提供方代码", "资源摘要", "信息项", "共享类型", "共享条件",
    "共享方式", "更新周期", "发布日期",
)  # fmt: skip
SHARE_TYPES = ("无条件", "有条件", "不予")
METHODS = ("文件", "数据库", "接口")
# 更新周期 → its length in days (None: 不定期, never overdue). The contract does not list them;
# these are the 编制指南's. An unknown one is refused: freshness could not be judged.
CYCLES: dict[str, int | None] = {
    "实时": 1, "每日": 1, "每周": 7, "每旬": 10, "每月": 31, "每季度": 92, "每半年": 183,
    "每年": 366, "不定期": None,
}  # fmt: skip
# Words in a resource's name that say which back-flow dataset it arrives as.
DATASET_WORDS: dict[str, tuple[str, ...]] = {
    "person": ("户籍人口", "户籍人员", "人口基本信息"),
    "household": ("户籍户", "户籍家庭", "家庭户信息"),
    "ss_enrollment": ("养老保险参保",),
    "ss_payment": ("养老金发放", "养老待遇发放", "养老保险待遇"),
    "assistance": ("最低生活保障", "低保", "特困", "社会救助"),
    "allowance_payment": ("高龄津贴", "两项补贴", "生活补贴", "护理补贴"),
    "medical_enrollment": ("医疗保险参保", "医保参保"),
    "cremation": ("火化",),
    "death_certificate": ("死亡医学证明",),
    "disability_card": ("残疾人证",),
}


@dataclass(frozen=True)
class Resource:
    """One catalog entry as the catalog page and ``govshare catalog list`` show it."""

    code: str
    name: str
    provider: str
    provider_code: str
    summary: str
    items: tuple[str, ...]
    share_type: str
    condition: str
    method: str
    cycle: str
    published_on: date
    datasets: tuple[str, ...] = ()  # the back-flow datasets it arrives as
    last_as_of: date | None = None  # of the newest batch of those
    last_imported: datetime | None = None
    stale_days: int | None = None  # days past its cycle and grace, when overdue

    @property
    def received(self) -> bool:
        return self.last_imported is not None

    @property
    def requestable(self) -> bool:
        return self.share_type != "不予"

    def freshness(self) -> str:
        if not self.datasets:
            return "未回流"
        if self.last_imported is None:
            return "尚未收到"
        when = f"{self.last_as_of or self.last_imported.date():%Y-%m-%d}"
        if self.stale_days:
            return f"{when}（逾期 {self.stale_days} 天未更新）"
        return when


def _refuse_row(line: int, field: str, problem: str) -> NoReturn:
    content.refuse(f"catalog.csv 第 {line} 行“{field}”{problem}")


def read_catalog(data: bytes) -> list[CatalogResource]:
    """The rows of ``data/catalog.csv``, each checked; the first problem refuses them all."""
    rows = content.read_rows(data, "catalog.csv", HEADER)
    if not rows:
        content.refuse("catalog.csv 只有表头，没有任何资源（目录数据包是全量，不能为空）。")
    seen: dict[str, int] = {}
    out = []
    for line, row in rows:
        for field in ("资源代码", "资源名称", "提供方", "提供方代码", "共享类型", "共享方式"):
            if not row[field]:
                _refuse_row(line, field, "为空。")
        code = row["资源代码"]
        if code in seen:
            _refuse_row(line, "资源代码", f"“{code}”与第 {seen[code]} 行重复。")
        seen[code] = line
        provider_code = row["提供方代码"]
        if len(provider_code) != 12 or not provider_code.isdigit():
            _refuse_row(line, "提供方代码", f"“{provider_code}”应为 12 位统一编码（区划代码）。")
        if row["共享类型"] not in SHARE_TYPES:
            _refuse_row(
                line, "共享类型", f"“{row['共享类型']}”不是 {'、'.join(SHARE_TYPES)} 之一。"
            )
        if row["共享方式"] not in METHODS:
            _refuse_row(line, "共享方式", f"“{row['共享方式']}”不是 {'、'.join(METHODS)} 之一。")
        if row["更新周期"] not in CYCLES:
            _refuse_row(line, "更新周期", f"“{row['更新周期']}”不是 {'、'.join(CYCLES)} 之一。")
        items = split_items(row["信息项"])
        if not items and row["共享类型"] != "不予":
            _refuse_row(line, "信息项", "为空：可申请的资源须列出信息项（以“、”分隔）。")
        if row["共享类型"] != "无条件" and not row["共享条件"]:
            basis = "不予共享的依据" if row["共享类型"] == "不予" else "共享条件"
            _refuse_row(line, "共享条件", f"为空：{row['共享类型']}共享须写明{basis}。")
        out.append(
            CatalogResource(
                code=code,
                name=row["资源名称"],
                name_initials=pinyin.initials(row["资源名称"]),
                provider=row["提供方"],
                provider_code=provider_code,
                summary=row["资源摘要"],
                items="、".join(items),
                share_type=row["共享类型"],
                condition=row["共享条件"],
                method=row["共享方式"],
                cycle=row["更新周期"],
                published_on=content.day(row["发布日期"], f"catalog.csv 第 {line} 行“发布日期”"),
            )
        )
    return out


def split_items(text: str) -> list[str]:
    return [item.strip() for item in text.replace("，", "、").split("、") if item.strip()]


def apply_catalog(session: Session, package: VerifiedPackage, *, now: datetime) -> list[str]:
    """A ``catalog`` package: the township's copy replaced whole (the caller's transaction)."""
    if CATALOG_FILE not in {entry.path for entry in package.manifest.files}:
        content.refuse("目录数据包中没有 data/catalog.csv。")
    resources = read_catalog(package.read(CATALOG_FILE))
    before = set(session.scalars(select(CatalogResource.code)))
    requested = {
        (code, dataset)
        for code, dataset in session.execute(
            select(CatalogLink.resource_code, CatalogLink.dataset).where(
                CatalogLink.how == "request"
            )
        )
    }
    session.execute(delete(CatalogLink))
    session.execute(delete(CatalogResource))
    for resource in resources:
        resource.package_id = package.manifest.package_id
        session.add(resource)
    codes = {r.code for r in resources}
    named = {(r.code, dataset) for r in resources for dataset in datasets_named(r.name)}
    for code, dataset in sorted(named):
        session.add(CatalogLink(resource_code=code, dataset=dataset, how="name"))
    # A link a granted request made outlives a new catalog, while the resource is in it.
    for code, dataset in sorted(requested - named):
        if code in codes:
            session.add(CatalogLink(resource_code=code, dataset=dataset, how="request"))
    session.flush()
    linked = len({code for code, _ in named})
    counts = {kind: sum(1 for r in resources if r.share_type == kind) for kind in SHARE_TYPES}
    added, withdrawn = len(codes - before), len(before - codes)
    said = (
        f"目录已更新（{package.manifest.sender.name}，{package.manifest.as_of or now.date()}）："
        f"共 {len(resources)} 项资源（无条件 {counts['无条件']}、有条件 {counts['有条件']}、"
        f"不予 {counts['不予']}）"
    )
    if before:
        said += f"，新增 {added} 项、撤下 {withdrawn} 项"
    return [said + f"；其中 {linked} 项对应本镇已有的回流数据。"]


def datasets_named(name: str) -> list[str]:
    """The back-flow datasets a resource of this name arrives as (by the words in its name)."""
    return [dataset for dataset, words in DATASET_WORDS.items() if any(w in name for w in words)]


def _stale_days(cycle: str, as_of: date | None, today: date) -> int | None:
    days = CYCLES.get(cycle)
    if days is None or as_of is None:
        return None
    allowed = days + max(3, days // 4)
    late = (today - as_of).days - allowed
    return late if late > 0 else None


def resources(
    session: Session,
    today: date,
    *,
    text: str = "",
    share_type: str | None = None,
) -> list[Resource]:
    """The catalog, searched by name, 信息项 or 提供方 (also by the name's pinyin initials),
    filtered by 共享类型; each with the back-flow it arrives as and how fresh that is."""
    links: dict[str, list[str]] = {}
    for link in session.scalars(select(CatalogLink).order_by(CatalogLink.dataset)):
        links.setdefault(link.resource_code, []).append(link.dataset)
    last = {
        dataset: (as_of, imported)
        for dataset, as_of, imported in session.execute(
            select(Batch.dataset, func.max(Batch.as_of), func.max(Batch.imported_at))
            .where(Batch.rows_total > 0)
            .group_by(Batch.dataset)
        )
    }
    query = select(CatalogResource).order_by(CatalogResource.provider, CatalogResource.code)
    if share_type:
        query = query.where(CatalogResource.share_type == share_type)
    wanted = text.strip()
    found = []
    for row in session.scalars(query):
        if wanted and not _matches(row, wanted):
            continue
        datasets = tuple(links.get(row.code, ()))
        seen = [last[d] for d in datasets if d in last]
        as_of = max((s[0] for s in seen if s[0] is not None), default=None)
        imported = max((s[1] for s in seen), default=None)
        found.append(
            Resource(
                code=row.code,
                name=row.name,
                provider=row.provider,
                provider_code=row.provider_code,
                summary=row.summary,
                items=tuple(split_items(row.items)),
                share_type=row.share_type,
                condition=row.condition,
                method=row.method,
                cycle=row.cycle,
                published_on=row.published_on,
                datasets=datasets,
                last_as_of=as_of,
                last_imported=imported,
                stale_days=_stale_days(row.cycle, as_of or (imported and imported.date()), today),
            )
        )
    return found


def _matches(row: CatalogResource, text: str) -> bool:
    if text in row.name or text in row.items or text in row.provider or text == row.code:
        return True
    letters = text.lower()
    return letters.isascii() and letters.isalpha() and letters in row.name_initials.lower()


def resource(session: Session, code: str) -> CatalogResource | None:
    return session.get(CatalogResource, code)
