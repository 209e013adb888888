"""The register of data received (谁使用谁负责): each dataset the township holds, where it came from
and why — by back-flow (回流, the upper level's duty) or in answer to a share request, with that
request's 用途 and 使用期限. Data held past its 使用期限 is flagged, and exporting or searching it
warns (:func:`use_warning`): the township answers for using it beyond what it was granted for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.fields import datasets as dataset_specs
from govshare_desktop.core.store.models import Batch, CatalogLink, ShareRequest


@dataclass(frozen=True)
class Holding:
    dataset: str
    title: str
    source: str  # the newest batch's source department
    batches: int
    last_as_of: date | None
    last_imported: datetime
    request_id: str | None = None  # the share request it answers, if any
    resource_name: str | None = None
    purpose: str | None = None  # 用途
    use_until: date | None = None  # 使用期限

    @property
    def basis(self) -> str:
        return f"共享申请：{self.resource_name}" if self.request_id else "数据回流"

    def expired(self, today: date) -> bool:
        return self.use_until is not None and self.use_until < today


def _governing(session: Session) -> dict[str, ShareRequest]:
    """Per dataset, the received request with the latest 使用期限 whose resource it arrives as."""
    found: dict[str, ShareRequest] = {}
    rows = session.execute(
        select(CatalogLink.dataset, ShareRequest)
        .join(ShareRequest, ShareRequest.resource_code == CatalogLink.resource_code)
        .where(ShareRequest.state == "received")
    )
    for dataset, request in rows:
        if dataset not in found or request.use_until > found[dataset].use_until:
            found[dataset] = request
    return found


def holdings(session: Session) -> list[Holding]:
    """Every dataset held, oldest-named first, with the basis it is held on."""
    titles = {key: spec.title for key, spec in dataset_specs().items()}
    requests = _governing(session)
    newest = (
        select(Batch.dataset, func.max(Batch.id).label("last"), func.count().label("n"))
        .where(Batch.rows_total > 0)
        .group_by(Batch.dataset)
        .subquery()
    )
    out = []
    for batch, count in session.execute(
        select(Batch, newest.c.n).join(newest, newest.c.last == Batch.id).order_by(Batch.dataset)
    ):
        request = requests.get(batch.dataset)
        out.append(
            Holding(
                dataset=batch.dataset,
                title=titles.get(batch.dataset, batch.dataset),
                source=batch.source_department,
                batches=int(count),
                last_as_of=batch.as_of,
                last_imported=batch.imported_at,
                request_id=request.request_id if request else None,
                resource_name=request.resource_name if request else None,
                purpose=request.purpose if request else None,
                use_until=request.use_until if request else None,
            )
        )
    return out


def use_warning(session: Session, datasets: Iterable[str], today: date) -> str | None:
    """The sentence to show before exporting or searching data held past its 使用期限."""
    wanted = set(datasets)
    late = [h for h in holdings(session) if h.dataset in wanted and h.expired(today)]
    if not late:
        return None
    parts = "；".join(
        f"{h.title}（共享申请“{h.resource_name}”，用途：{h.purpose}）使用期限已于 {h.use_until} 届满"
        for h in late
    )
    return f"{parts}。继续使用须重新申请，超期使用的责任由本单位承担（谁使用谁负责）。"
