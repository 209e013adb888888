"""Planning an import: which dataset a table is, how its columns map to fields, the date the
data stands at, and the mapping remembered for the next file of that kind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow.fields import (
    ColumnMapping,
    DatasetSpec,
    best_guess,
    detect,
    is_known_header,
    layout_key,
)
from govshare_desktop.core.backflow.header import LocatedTable, locate, parse_preamble
from govshare_desktop.core.backflow.readers import TableSource, open_table
from govshare_desktop.core.backflow.report import ChangeReport
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.private_files import file_sha256
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import ImportMapping


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason_code: str
    message: str
    values: tuple[Any, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "reason_code": self.reason_code,
            "message": self.message,
        }


@dataclass
class ImportPlan:
    """What a file is, before anything is written; the wizard lets the clerk correct ``mapping``."""

    file_name: str
    sha256: str
    source: TableSource
    table: LocatedTable
    mapping: ColumnMapping
    layout_key: str
    source_department: str | None
    as_of: date | None
    full_snapshot: bool = True
    package_id: str | None = None
    problem: str | None = None  # why the mapping is incomplete, until the clerk completes it

    @property
    def dataset(self) -> DatasetSpec:
        return self.mapping.spec

    @property
    def headers(self) -> tuple[str, ...]:
        return self.mapping.headers

    def with_mapping(self, fields: Mapping[int, str]) -> ImportPlan:
        """The same plan with a mapping the clerk corrected (validated: required fields present)."""
        mapping = ColumnMapping(self.mapping.dataset, dict(fields), self.mapping.headers)
        missing = mapping.missing_required()
        if missing:
            raise UserError(f"列对应关系缺少必填项：{'、'.join(missing)}")
        return ImportPlan(**{**self.__dict__, "mapping": mapping, "problem": None})


@dataclass
class DatasetResult:
    file: str
    dataset: str
    title: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    absent: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    batch_id: int | None = None
    dry_run: bool = False
    headers: tuple[str, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    report: ChangeReport | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dataset": self.dataset,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "absent": self.absent,
            "rejections": [r.as_json() for r in self.rejections],
            "batch_id": self.batch_id,
            "summary": self.summary,
        }


# ---------------------------------------------------------------- planning


def as_of_from_name(name: str) -> date | None:
    """``…_2026-10.csv`` → 2026-10-31; ``…_202608-202610.csv`` → 2026-10-31; ``…_2026-10-15`` → that day."""
    stem = Path(name).stem
    found = re.findall(r"(?<!\d)(\d{4})[-_.]?(\d{2})(?:[-_.]?(\d{2}))?(?!\d)", stem)
    for year, month, day in reversed(found):
        try:
            if day:
                return date(int(year), int(month), int(day))
            return Period.month(int(year), int(month)).end
        except ValueError:
            continue
    return None


def plan_table(
    store: Store,
    source: TableSource,
    *,
    file_name: str,
    sha256: str,
    dataset: str | None = None,
    source_department: str | None = None,
    as_of: date | None = None,
    full_snapshot: bool = True,
    package_id: str | None = None,
) -> ImportPlan:
    table = locate(source.rows, is_known_header, file_name=file_name)
    headers = table.columns
    key = layout_key(headers)
    mapping: ColumnMapping | None = None
    with store.sessions() as session:
        remembered = session.get(ImportMapping, key)
        if remembered is not None and (dataset is None or remembered.dataset == dataset):
            fields = {int(k): v for k, v in json.loads(remembered.mapping).items()}
            mapping = ColumnMapping(remembered.dataset, fields, tuple(headers), remembered=True)
    problem = None
    if mapping is None:
        try:
            mapping = detect(headers, dataset=dataset)
        except UserError as exc:
            mapping, problem = best_guess(headers, dataset=dataset), exc.message
    found = parse_preamble(table.preamble)
    return ImportPlan(
        file_name=file_name,
        sha256=sha256,
        source=source,
        table=table,
        mapping=mapping,
        layout_key=key,
        source_department=source_department or found.get("source_department"),
        as_of=as_of or found.get("as_of") or as_of_from_name(file_name),
        full_snapshot=full_snapshot,
        package_id=package_id,
        problem=problem,
    )


def plan_file(store: Store, path: Path | str, **options: Any) -> ImportPlan:
    path = Path(path)
    source = open_table(path)
    return plan_table(store, source, file_name=path.name, sha256=file_sha256(path), **options)


def remember_mapping(store: Store, plan: ImportPlan, *, user: str, now: datetime) -> None:
    """Keep the clerk's confirmed mapping for this layout; the next file like it maps itself."""
    with store.transaction() as session:
        session.merge(
            ImportMapping(
                layout_key=plan.layout_key,
                dataset=plan.mapping.dataset,
                mapping=json.dumps({str(k): v for k, v in plan.mapping.fields.items()}),
                headers=json.dumps(list(plan.headers), ensure_ascii=False),
                confirmed_by=user,
                confirmed_at=now,
            )
        )
