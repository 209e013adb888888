"""One back-flow file → the store: read, find the table, map the columns, check every row, apply.

    plan = plan_file(store, path)              # what the file is: dataset, columns, source, as-of
    result = run_plan(store, plan, user=..., dry_run=True)    # counts and diffs, nothing kept
    result = run_plan(store, plan, user=...)   # the same, committed in one transaction

A dry run executes exactly the real run and rolls it back, so its counts are the real run's counts.
Rejected rows never block good ones; each is reported with the row number the clerk sees (the sheet
row; for CSV the line number counting the header as line 1), the column, a stable reason code and a
Chinese message, and can be written to an error workbook for the sending department.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.backflow.apply import KEEP, ROWS_KEY, Applier, Spare, link_households
from govshare_desktop.core.backflow.plan import (
    DatasetResult,
    ImportPlan,
    Rejection,
    as_of_from_name,
    file_sha256,
    plan_file,
    plan_table,
    remember_mapping,
)
from govshare_desktop.core.backflow.readers import RawRow
from govshare_desktop.core.backflow.record_builder import (
    MEMO_LIMIT,
    RecordBuilder,
    RowRejected,
    _key_encoder,
    _record_key,
)
from govshare_desktop.core.backflow.report import ChangeReport, build_report
from govshare_desktop.core.backflow.targets import TARGETS
from govshare_desktop.core.backflow.villages import VillageResolver
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.bulk import big_sqlite_cache
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, ImportRejection
from govshare_desktop.core.store.summary import refresh_after_import as refresh_summary

__all__ = [
    "CANCELLED",
    "CHUNK",
    "MEMO_LIMIT",
    "DatasetResult",
    "ImportPlan",
    "RecordBuilder",
    "Rejection",
    "RowRejected",
    "as_of_from_name",
    "file_sha256",
    "import_file",
    "plan_file",
    "plan_table",
    "remember_mapping",
    "run_plan",
]


CHUNK = 5_000
# A staged person's household: the row of its 户号 (as link_households would set it).
HOUSEHOLD_OF_STAGED = "(SELECT h.id FROM household AS h WHERE h.household_no = s.household_no)"
CANCELLED = "已取消导入，数据库未作任何修改。"


# ---------------------------------------------------------------- running


def run_plan(
    store: Store,
    plan: ImportPlan,
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    session: Any = None,
) -> DatasetResult:
    """Import one planned table in one transaction (rolled back on a dry run, a cancel or any error).

    ``session``: run inside the caller's transaction instead (a package applies all its datasets
    together); the caller then commits or rolls back. The import and its audit entry commit
    together.
    """
    store.principal.require(Action.IMPORT)
    if session is not None:
        return _run(
            session, plan, user=user, dry_run=dry_run, now=now, progress=progress, cancel=cancel
        )
    own = store.sessions()
    try:
        with own.begin():
            result = _run(
                own, plan, user=user, dry_run=dry_run, now=now, progress=progress, cancel=cancel
            )
            if dry_run:
                own.rollback()
            else:
                audit_trail(store).record(
                    own,
                    store.principal,
                    "import",
                    plan.file_name,
                    detail=_audit_detail(plan, result),
                    now=now,
                )
        return result
    finally:
        own.close()


def _run(
    session: Any,
    plan: ImportPlan,
    *,
    user: str,
    dry_run: bool,
    now: datetime | None,
    progress: Progress | None,
    cancel: Cancel | None,
) -> DatasetResult:
    missing = plan.mapping.missing_required()
    if missing:
        raise UserError(
            plan.problem
            or f"“{plan.file_name}”缺少必填列：{'、'.join(missing)}，请在导入向导中指定列的对应关系"
        )
    dataset = plan.mapping.dataset
    result = DatasetResult(
        file=plan.file_name,
        dataset=dataset,
        title=plan.dataset.title,
        dry_run=dry_run,
        headers=plan.headers,
    )
    with big_sqlite_cache(session):
        batch = _new_batch(session, plan, user=user, now=now)
        villages = VillageResolver(session)
        builder = RecordBuilder(plan, villages, today=(now or datetime.now()).date())
        applier = Applier(
            session,
            TARGETS[dataset],
            sorted(builder.provided),
            batch_id=batch.id,
            as_of=plan.as_of,
            hold=dataset == "person",
        )
        seen: dict[Any, int] = {}
        facts = _Facts(dataset)
        spare = Spare()  # who the rejected rows stand for: left as they were
        _read_rows(plan, builder, applier, result, seen, facts, spare, progress, cancel)

        household_outcome = None
        if dataset == "person" and builder.households:
            household_outcome = _apply_households(
                session, builder.households, batch.id, plan, villages, spare
            )
        if dataset == "person":  # into an empty table: held until their households exist
            applier.move_held({"household_id": HOUSEHOLD_OF_STAGED} if builder.households else None)
        if plan.full_snapshot and not applier.outcome.table_was_empty:
            snapshot_scope = facts.scope if TARGETS[dataset].scope_width else None
            applier.mark_absent(seen.keys(), snapshot_scope, _key_encoder(dataset), spare)
        if dataset in ("person", "household"):
            numbers = builder.households if dataset == "person" else [key[0] for key in seen]
            link_households(session, numbers)

        report = _report(
            session, plan, result, applier, facts, household_outcome, batch, villages, spare
        )
        _close_batch(batch, result, report)
        _keep_rejections(session, batch.id, builder, result.rejections)
        refresh_summary(session, dataset, batch.id, scope=facts.scope, dry_run=dry_run)
        session.flush()
        result.batch_id = None if dry_run else batch.id
    return result


def _new_batch(session: Any, plan: ImportPlan, *, user: str, now: datetime | None) -> Batch:
    """The batch this import's rows are recorded under (flushed: its id is known)."""
    batch = Batch(
        dataset=plan.mapping.dataset,
        source_department=plan.source_department or plan.dataset.default_source,
        file_name=plan.file_name,
        sha256=plan.sha256,
        as_of=plan.as_of,
        imported_at=now or datetime.now(),
        imported_by=user,
        package_id=plan.package_id,
    )
    session.add(batch)
    session.flush()
    return batch


def _read_rows(
    plan: ImportPlan,
    builder: RecordBuilder,
    applier: Applier,
    result: DatasetResult,
    seen: dict[Any, int],
    facts: _Facts,
    spare: Spare,
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    """Every data row: built into a record (or rejected), checked against the rows before it and
    applied in chunks. ``seen`` gets each accepted record's key and row number."""
    try:
        _read_chunks(plan, builder, applier, result, seen, facts, spare, progress, cancel)
    except BaseException:
        applier.finish(quiet=True)  # a chunk still being written: done before the rollback
        raise
    applier.finish()


def _read_chunks(
    plan: ImportPlan,
    builder: RecordBuilder,
    applier: Applier,
    result: DatasetResult,
    seen: dict[Any, int],
    facts: _Facts,
    spare: Spare,
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    spec = plan.dataset
    record_key = _record_key(plan.mapping.dataset)
    csv_offset = plan.table.header_rows[-1] - 1 if plan.source.kind == "csv" else 0
    chunk: list[dict[str, Any]] = []
    # The hot loop (a million times for a large file): names bound locally.
    build, add_fact, seen_get, rejections = (
        builder.build,
        facts.add,
        seen.get,
        result.rejections,
    )
    rows_read = 0
    control, join = nz.CONTROL_CHARACTERS.search, "\t".join
    for raw in plan.table.data_rows():
        rows_read += 1
        try:
            # No text field of any reader may hold a control character: one search over the
            # row's text cells joined (a sheet's numbers and dates left out).
            if control(join([v for v in raw.values if v.__class__ is str])):
                raise _control_character(builder, raw)
            record = build(raw)
        except RowRejected as exc:
            number = raw.number - csv_offset
            rejections.append(Rejection(number, exc.column, exc.reason, exc.message, raw.values))
            spare.add(number, **builder.identify(raw))
            continue
        key = record_key(record)
        first = seen_get(key)
        if first is not None:
            rejections.append(
                Rejection(
                    raw.number - csv_offset,
                    builder.header_of(spec.key_fields[0]),
                    nz.DUPLICATE_IN_FILE,
                    f"与第 {first} 行重复（{'、'.join(spec.field(k).label for k in spec.key_fields)}相同）",
                    raw.values,
                )
            )
            continue
        seen[key] = raw.number - csv_offset
        add_fact(record)
        chunk.append(record)
        if len(chunk) >= CHUNK:
            applier.apply(chunk)
            chunk = []
            _tick(progress, cancel, rows_read)
    applier.apply(chunk)
    result.rows_read = rows_read
    _tick(progress, cancel, rows_read)


def _report(
    session: Any,
    plan: ImportPlan,
    result: DatasetResult,
    applier: Applier,
    facts: _Facts,
    household_outcome: Any,
    batch: Batch,
    villages: VillageResolver,
    spare: Spare,
) -> ChangeReport:
    """The counts, the summary and the change report of the import, into ``result``."""
    dataset = plan.mapping.dataset
    counts = applier.outcome.counts
    result.inserted, result.updated = counts.inserted, counts.updated
    result.unchanged, result.absent = counts.unchanged, counts.absent
    result.rejected = len(result.rejections)
    result.summary = facts.summary()
    if household_outcome is not None:
        result.summary["households_inserted"] = household_outcome.counts.inserted
        result.summary["households_updated"] = household_outcome.counts.updated
    kept = [(dataset, *entry) for entry in applier.outcome.kept]
    if household_outcome is not None:
        kept += [("household", *entry) for entry in household_outcome.kept]
    result.report = report = build_report(
        session,
        dataset,
        applier.outcome,
        batch_id=batch.id,
        as_of=plan.as_of,
        periods=sorted(facts.scope) if dataset == "ss_payment" else None,
        new_villages=villages.added,
        rejected_rows=sorted(r.row for r in result.rejections),
        kept=kept,
        spared_everything=sorted(spare.everything) if plan.full_snapshot else [],
    )
    result.summary.update(report.summary_counts())
    if dataset == "ss_payment":
        result.summary["deceased_still_paid"] = report.deceased_still_paid
        result.summary["amount_changed_payments"] = report.amount_changes
    if report.kept:
        result.summary["kept"] = report.kept
    return report


def _close_batch(batch: Batch, result: DatasetResult, report: ChangeReport) -> None:
    """The batch's row counts and its change report (the first 200 changes)."""
    batch.rows_total = result.rows_read
    batch.rows_inserted, batch.rows_updated = result.inserted, result.updated
    batch.rows_unchanged, batch.rows_rejected = result.unchanged, result.rejected
    batch.rows_absent = result.absent
    batch.note = json.dumps(report.to_json(limit=200), ensure_ascii=False, default=str)


def _keep_rejections(
    session: Any, batch_id: int, builder: RecordBuilder, rejections: list[Rejection]
) -> None:
    """The rejected rows, kept with the batch: a clerk may send a 校核纠错 about any of them."""
    if not rejections:
        return
    headers = builder.plan.headers
    fields = {header: key for _, key, header, _, _ in builder.columns}
    positions = {header: column for column, _, header, _, _ in builder.columns}
    rows = []
    for rejection in rejections:
        cells = {
            header or f"第 {column + 1} 列": _cell_text(value)
            for column, (header, value) in enumerate(zip(headers, rejection.values, strict=False))
            if value is not None
        }
        who = builder.identify(RawRow(rejection.row, rejection.values))
        position = positions.get(rejection.column)
        value = rejection.values[position] if position is not None else None
        rows.append(
            {
                "batch_id": batch_id,
                "row": rejection.row,
                "column": rejection.column,
                "field": fields.get(rejection.column),
                "reason_code": rejection.reason_code,
                "message": rejection.message,
                "id_number": _text_or_none(who["id_number"]),
                "household_no": _text_or_none(who["household_no"]),
                "name": _text_or_none(who["name"]),
                "value": None if value is None else _cell_text(value),
                "cells": json.dumps(cells, ensure_ascii=False),
            }
        )
    session.execute(insert(ImportRejection), rows)


def _cell_text(value: Any) -> str:
    """A cell as the clerk would read it (an Excel number ID keeps its digits, no '.0')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    return str(value)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _control_character(builder: RecordBuilder, raw: RawRow) -> RowRejected:
    """The rejection of a row with a control character, naming the first column that has one."""
    column, code = 0, 0
    for column, value in enumerate(raw.values):  # noqa: B007 (the column is used below)
        found = nz.CONTROL_CHARACTERS.search(value) if isinstance(value, str) else None
        if found:
            code = ord(found.group())
            break
    headers = builder.plan.headers
    header = headers[column] if column < len(headers) and headers[column] else f"第 {column + 1} 列"
    return RowRejected(
        header,
        nz.CONTROL_CHARACTER,
        f"“{header}”含有控制字符 U+{code:04X}（文件可能已损坏或被篡改），整行未导入",
    )


def _audit_detail(plan: ImportPlan, result: DatasetResult) -> dict[str, Any]:
    return {
        "sha256": plan.sha256,
        "dataset": plan.dataset.key,
        "batch": result.batch_id,
        "rows": result.rows_read,
        "inserted": result.inserted,
        "updated": result.updated,
        "rejected": result.rejected,
        "package": plan.package_id,
    }


def _tick(progress: Progress | None, cancel: Cancel | None, rows: int) -> None:
    if cancel is not None:
        cancel.check(CANCELLED)
    if progress is not None:
        progress(rows, 0, f"已处理 {rows:,} 行")


def _apply_households(
    session: Any,
    households: Mapping[str, dict[str, Any]],
    batch_id: int,
    plan: ImportPlan,
    villages: VillageResolver,
    spare: Spare,
) -> Any:
    """Households described by a person file (户号, 村, 住址, 户主 on each person row).

    A household with a rejected row keeps what only that row could have said: a field none of
    its accepted rows gives (the 户主 when the head's row was rejected) is left as stored, and
    the household is never marked absent for it."""
    target = TARGETS["household"]
    provided = {"village_code"}
    for household in households.values():
        provided |= set(household) - {"household_no"}
    records = []
    for number, household in households.items():
        rows = spare.households.get(number)
        if rows:
            household = {c: KEEP for c in provided} | household
            household[ROWS_KEY] = tuple(sorted(rows))
        records.append(household)
    applier = Applier(session, target, sorted(provided), batch_id=batch_id, as_of=plan.as_of)
    for start in range(0, len(records), CHUNK):
        applier.apply(records[start : start + CHUNK])
    applier.finish()
    if plan.full_snapshot and not applier.outcome.table_was_empty:
        applier.mark_absent({(n,) for n in households}, None, lambda key: key, spare)
    return applier.outcome


class _Facts:
    """Figures about the file's accepted rows, for the result (e.g. deceased in the file)."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.households: set[str] = set()
        self.status: dict[str, int] = {}
        self.total_fen = 0
        # What the file covers, which bounds what a full snapshot can mark as no longer present:
        # the months (payments), schemes (enrollments) … (Target.scope_of).
        self.scope: set[Any] = set()
        self._scope_of = TARGETS[dataset].scope_of
        self.add: Callable[[dict[str, Any]], None] = {
            "person": self._person,
            "ss_payment": self._payment,
            "allowance_payment": self._allowance,
        }.get(dataset, self._scoped if TARGETS[dataset].scope_width else lambda _record: None)

    def _person(self, record: dict[str, Any]) -> None:
        if record["household_no"]:
            self.households.add(record["household_no"])
        status = record["status"]
        self.status[status] = self.status.get(status, 0) + 1

    def _payment(self, record: dict[str, Any]) -> None:
        self.total_fen += record["total_fen"]
        self.scope.add(record["period"])

    def _allowance(self, record: dict[str, Any]) -> None:
        self.total_fen += record["amount_fen"]
        self.scope.add(self._scope_of(record))

    def _scoped(self, record: dict[str, Any]) -> None:
        self.scope.add(self._scope_of(record))

    def summary(self) -> dict[str, Any]:
        if self.dataset == "person":
            return {
                "households": len(self.households),
                "deceased": self.status.get("deceased", 0),
                "moved_out": self.status.get("moved_out", 0),
            }
        if self.dataset == "ss_payment":
            return {"total_fen": self.total_fen, "periods": sorted(self.scope)}
        if self.dataset == "allowance_payment":
            return {"total_fen": self.total_fen, "periods": sorted({p for _, p in self.scope})}
        return {}


def import_file(
    store: Store, path: Path | str, *, user: str, dry_run: bool = False, **options: Any
) -> DatasetResult:
    """Plan and run in one call (the CLI's path)."""
    run_options = {k: options.pop(k) for k in ("now", "progress", "cancel") if k in options}
    plan = plan_file(store, path, **options)
    return run_plan(store, plan, user=user, dry_run=dry_run, **run_options)
