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

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.backflow.apply import (
    KEEP,
    ROWS_KEY,
    TARGETS,
    Applier,
    Spare,
    link_households,
)
from govshare_desktop.core.backflow.fields import (
    ColumnMapping,
    DatasetSpec,
    best_guess,
    detect,
    is_known_header,
    layout_key,
)
from govshare_desktop.core.backflow.header import LocatedTable, locate, parse_preamble
from govshare_desktop.core.backflow.readers import RawRow, TableSource, open_table
from govshare_desktop.core.backflow.report import ChangeReport, build_report
from govshare_desktop.core.backflow.villages import VillageResolver
from govshare_desktop.core.domain import idnumber
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.progress import Cancel, Progress
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.bulk import big_sqlite_cache
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Batch, ImportMapping

CHUNK = 5_000
CANCELLED = "已取消导入，数据库未作任何修改。"


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# ---------------------------------------------------------------- rows → records


# Field key in datasets.json → column in the store (identity where not listed).
_COLUMN = {
    "sex": "sex_code",
    "ethnicity": "ethnicity_code",
    "relationship": "relationship_code",
    "scheme": "scheme_code",
    "grade": "grade_fen",
    "basic": "basic_fen",
    "account": "account_fen",
    "total": "total_fen",
}


class RecordBuilder:
    """Converts one data row into a store record, or raises :class:`RowRejected`."""

    def __init__(self, plan: ImportPlan, villages: VillageResolver) -> None:
        self.plan = plan
        self.dataset = plan.mapping.dataset
        self.spec = plan.dataset
        self.villages = villages
        self.columns: list[tuple[int, str, str, Callable[[Any], Any], bool]] = []
        for column, key in sorted(plan.mapping.fields.items()):
            spec = self.spec.field(key)
            if spec.type == "ignore":
                continue
            header = plan.headers[column] if column < len(plan.headers) else spec.label
            convert = nz.converter(spec.type, header=header)
            self.columns.append((column, key, header or spec.label, convert, spec.required))
        provided = {key for _, key, _, _, _ in self.columns}
        self.provided = {_COLUMN.get(k, k) for k in provided} - {"village_name"}
        if provided & {"village_code", "village_name"}:
            self.provided.add("village_code")
        if self.dataset == "person":
            self.provided |= {"sex_code", "birth_date"}  # always known from the ID number
        self.households: dict[str, dict[str, Any]] = {}
        self._finish: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, f"_{self.dataset}")
        self._build = self._compile()

    def header_of(self, key: str) -> str:
        for _, k, header, _, _ in self.columns:
            if k == key:
                return header
        return self.spec.field(key).label

    def build(self, raw: RawRow) -> dict[str, Any]:
        return self._build(raw)

    def identify(self, raw: RawRow) -> dict[str, Any]:
        """What can still be read of who a rejected row is: its 公民身份号码, 户号 and 姓名 where
        those cells convert (an ID stored by Excel as a number does not; its 户号 and 姓名 may)."""
        wanted = {"id_number": "id_number", "household_no": "household_no", "name": "name"}
        if self.dataset == "household":
            wanted = {"head_id_number": "id_number", "household_no": "household_no"}
            wanted["head_name"] = "name"
        found: dict[str, Any] = {"id_number": None, "household_no": None, "name": None}
        cells = raw.values
        for column, key, _header, convert, _required in self.columns:
            if key not in wanted or column >= len(cells):
                continue
            value = cells[column]
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                found[wanted[key]] = convert(value)
            except nz.FieldError:
                continue
        return found

    def _compile(self) -> Callable[[RawRow], dict[str, Any]]:
        """The row converter for this file's columns, as straight-line code.

        This runs a million times for a large file. Unrolled per column, with the memo lookup
        inline (files repeat the same IDs, months and amounts), it costs about half of a loop
        over the columns calling a memoised converter. The generated source is plain: for
        each column, take the cell, treat blank as missing, convert (memoised), or reject.
        """
        env: dict[str, Any] = {
            "RowRejected": RowRejected,
            "FieldError": nz.FieldError,
            "MISSING": nz.MISSING_REQUIRED,
            "MISS": _MISS,
            "finish": self._finish,
        }
        lines = ["def build(raw):", "    cells = raw.values", "    n = len(cells)", "    v = {}"]
        for i, (column, key, header, convert, required) in enumerate(self.columns):
            memo: dict[Any, Any] = {}
            env[f"memo{i}"] = memo
            env[f"slow{i}"] = _memo_filler(convert, memo)
            env[f"header{i}"] = header
            blank = (
                f"        raise RowRejected(header{i}, MISSING, '必填项“' + header{i} + '”为空')"
                if required
                else f"        v[{key!r}] = None"
            )
            lines += [
                f"    x = cells[{column}] if {column} < n else None",
                "    if x is None or (x.__class__ is str and not x.strip()):",
                blank,
                "    else:",
                f"        y = memo{i}.get(x, MISS) if x.__class__ is str else MISS",
                "        if y is MISS:",
                f"            y = slow{i}(x)",
                "        if y.__class__ is FieldError:",
                f"            raise RowRejected(header{i}, y.reason, str(y))",
                f"        v[{key!r}] = y",
            ]
        lines.append("    return finish(v)")
        exec(compile("\n".join(lines), f"<row converter {self.dataset}>", "exec"), env)
        built: Callable[[RawRow], dict[str, Any]] = env["build"]
        return built

    # -- per dataset

    def _village(self, values: dict[str, Any]) -> str | None:
        try:
            return self.villages.resolve(values.get("village_code"), values.get("village_name"))
        except nz.FieldError as exc:
            header = self.header_of(
                "village_code" if values.get("village_code") else "village_name"
            )
            raise RowRejected(header, exc.reason, str(exc)) from None

    def _person(self, v: dict[str, Any]) -> dict[str, Any]:
        info = idnumber.parse(v["id_number"])
        for key, derived, what in (
            ("sex", info.sex_code, "性别"),
            ("birth_date", info.birth_date, "出生日期"),
        ):
            if (
                v.get(key) is not None
                and v[key] != derived
                and not (key == "sex" and v[key] in "09")
            ):
                raise RowRejected(
                    self.header_of(key),
                    nz.INCONSISTENT_WITH_ID,
                    f"{what}“{v[key]}”与公民身份号码不一致（号码中为“{derived}”）",
                )
        record = {
            "id_number": v["id_number"],
            "name": v["name"],
            "sex_code": info.sex_code,
            "birth_date": info.birth_date,
            "ethnicity_code": v.get("ethnicity"),
            "household_no": v.get("household_no"),
            "relationship_code": v.get("relationship"),
            "village_code": self._village(v),
            "status": v.get("status") or "normal",
            "status_date": v.get("status_date"),
            "phone": v.get("phone"),
        }
        number = record["household_no"]
        if number:
            household = self.households.setdefault(
                number, {"household_no": number, "village_code": record["village_code"]}
            )
            if v.get("address") and not household.get("address"):
                household["address"] = v["address"]
            if v.get("household_type"):
                household["household_type"] = v["household_type"]
            if record["relationship_code"] in ("01", "02"):
                household["head_id_number"] = record["id_number"]
                household["head_name"] = record["name"]
        return record

    def _household(self, v: dict[str, Any]) -> dict[str, Any]:
        return {
            "household_no": v["household_no"],
            "household_type": v.get("household_type") or "1",
            "address": v.get("address"),
            "village_code": self._village(v),
            "head_id_number": v.get("head_id_number"),
            "head_name": v.get("head_name"),
        }

    def _ss_enrollment(self, v: dict[str, Any]) -> dict[str, Any]:
        return {
            "id_number": v["id_number"],
            "scheme_code": v["scheme"],
            "name": v.get("name") or "",
            "status_code": v.get("status") or "1",
            "grade_fen": v.get("grade"),
            "start_date": v.get("start_date"),
            "receiving": bool(v.get("receiving")),
            "person_no": v.get("person_no"),
            "village_code": self._village(v),
        }

    def _ss_payment(self, v: dict[str, Any]) -> dict[str, Any]:
        basic, account, total = v.get("basic"), v.get("account"), v["total"]
        if basic is not None and account is not None and basic + account != total:
            raise RowRejected(
                self.header_of("total"),
                "amount_mismatch",
                f"实发金额 {total / 100:.2f} 元不等于基础养老金 {basic / 100:.2f} 元"
                f"与个人账户养老金 {account / 100:.2f} 元之和",
            )
        return {
            "id_number": v["id_number"],
            "period": v["period"],
            "basic_fen": basic or 0,
            "account_fen": account or 0,
            "total_fen": total,
            "paid_date": v.get("paid_date"),
        }


_MISS = object()
MEMO_LIMIT = 200_000  # distinct values remembered per column


def _memo_filler(convert: Callable[[Any], Any], memo: dict[Any, Any]) -> Callable[[Any], Any]:
    """Convert a value the memo does not hold yet and remember the result — or the refusal, as a
    :class:`FieldError` instance (the caller raises it). Text is its own key; other types keep
    their class so that 1, 1.0 and True stay apart."""

    def slow(value: Any) -> Any:
        key = value if value.__class__ is str else (value.__class__, value)
        try:
            found = memo[key]
        except KeyError:
            try:
                found = convert(value)
            except nz.FieldError as exc:
                found = exc
            if len(memo) < MEMO_LIMIT:
                memo[key] = found
        except TypeError:  # an unhashable value: convert without remembering
            try:
                found = convert(value)
            except nz.FieldError as exc:
                found = exc
        return found

    return slow


class RowRejected(Exception):
    def __init__(self, column: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.reason = reason
        self.message = message


def _packed_payment_key(number: str, period: int) -> int:
    check = 10 if number[17] == "X" else int(number[17])
    return (int(number[:17]) * 11 + check) * 1_000_000 + int(period)


def _key_encoder(dataset: str) -> Callable[[tuple[Any, ...]], Any]:
    """Compact keys for the seen-set: a million payment keys as ints, not tuples of strings."""
    if dataset == "ss_payment":
        return lambda key: _packed_payment_key(key[0], key[1])
    return lambda key: key


def _record_key(dataset: str) -> Callable[[dict[str, Any]], Any]:
    """The same compact key, straight from a record (once per row, so without a tuple first)."""
    if dataset == "ss_payment":
        bases: dict[str, int] = {}  # each person's ID number recurs for every month paid

        def payment_key(record: dict[str, Any]) -> int:
            number = record["id_number"]
            base = bases.get(number)
            if base is None:
                base = bases[number] = _packed_payment_key(number, 0)
            return base + record["period"]

        return payment_key
    key_of = TARGETS[dataset].key_of
    return key_of


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
    spec = plan.dataset
    target = TARGETS[dataset]
    result = DatasetResult(
        file=plan.file_name,
        dataset=dataset,
        title=spec.title,
        dry_run=dry_run,
        headers=plan.headers,
    )
    with big_sqlite_cache(session):
        batch = Batch(
            dataset=dataset,
            source_department=plan.source_department or spec.default_source,
            file_name=plan.file_name,
            sha256=plan.sha256,
            as_of=plan.as_of,
            imported_at=now or datetime.now(),
            imported_by=user,
            package_id=plan.package_id,
        )
        session.add(batch)
        session.flush()
        villages = VillageResolver(session)
        builder = RecordBuilder(plan, villages)
        applier = Applier(
            session, target, sorted(builder.provided), batch_id=batch.id, as_of=plan.as_of
        )
        encode = _key_encoder(dataset)
        record_key = _record_key(dataset)
        seen: dict[Any, int] = {}
        csv_offset = plan.table.header_rows[-1] - 1 if plan.source.kind == "csv" else 0
        facts = _Facts(dataset)
        chunk: list[dict[str, Any]] = []
        # The hot loop (a million times for a large file): names bound locally.
        build, add_fact, seen_get, rejections = (
            builder.build,
            facts.add,
            seen.get,
            result.rejections,
        )
        spare = Spare()  # who the rejected rows stand for: left as they were
        rows_read = 0
        control, join = nz.CONTROL_CHARACTERS.search, "\t".join
        for raw in plan.table.data_rows():
            rows_read += 1
            try:
                # No text field of any reader may hold a control character. All-text rows (CSV)
                # are checked in one search; rows with numbers or dates cell by cell.
                try:
                    bad: object = control(join(filter(None, raw.values)))
                except TypeError:
                    bad = any(v.__class__ is str and control(v) for v in raw.values)
                if bad:
                    raise _control_character(builder, raw)
                record = build(raw)
            except RowRejected as exc:
                number = raw.number - csv_offset
                rejections.append(
                    Rejection(number, exc.column, exc.reason, exc.message, raw.values)
                )
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

        household_outcome = None
        if dataset == "person" and builder.households:
            household_outcome = _apply_households(
                session, builder.households, batch.id, plan, villages, spare
            )
        if plan.full_snapshot and not applier.outcome.table_was_empty:
            snapshot_scope = None if dataset in ("person", "household") else facts.scope
            applier.mark_absent(seen.keys(), snapshot_scope, encode, spare)
        if dataset in ("person", "household"):
            numbers = builder.households if dataset == "person" else [key[0] for key in seen]
            link_households(session, numbers)

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
        result.report = build_report(
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
        result.summary.update(result.report.summary_counts())
        if dataset == "ss_payment":
            result.summary["deceased_still_paid"] = result.report.deceased_still_paid
            result.summary["amount_changed_payments"] = result.report.amount_changes
        if result.report.kept:
            result.summary["kept"] = result.report.kept
        batch.rows_total = result.rows_read
        batch.rows_inserted, batch.rows_updated = result.inserted, result.updated
        batch.rows_unchanged, batch.rows_rejected = result.unchanged, result.rejected
        batch.rows_absent = result.absent
        batch.note = json.dumps(result.report.to_json(limit=200), ensure_ascii=False, default=str)
        session.flush()
        result.batch_id = None if dry_run else batch.id
    return result


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
        # Values of the key's last column: the months (payments) or schemes (enrollments) the
        # file covers, which bound what a full snapshot can mark as no longer present.
        self.scope: set[Any] = set()
        self.add: Callable[[dict[str, Any]], None] = {
            "person": self._person,
            "ss_payment": self._payment,
            "ss_enrollment": self._enrollment,
        }.get(dataset, lambda _record: None)

    def _person(self, record: dict[str, Any]) -> None:
        if record["household_no"]:
            self.households.add(record["household_no"])
        status = record["status"]
        self.status[status] = self.status.get(status, 0) + 1

    def _payment(self, record: dict[str, Any]) -> None:
        self.total_fen += record["total_fen"]
        self.scope.add(record["period"])

    def _enrollment(self, record: dict[str, Any]) -> None:
        self.scope.add(record["scheme_code"])

    def summary(self) -> dict[str, Any]:
        if self.dataset == "person":
            return {
                "households": len(self.households),
                "deceased": self.status.get("deceased", 0),
                "moved_out": self.status.get("moved_out", 0),
            }
        if self.dataset == "ss_payment":
            return {"total_fen": self.total_fen, "periods": sorted(self.scope)}
        return {}


def import_file(
    store: Store, path: Path | str, *, user: str, dry_run: bool = False, **options: Any
) -> DatasetResult:
    """Plan and run in one call (the CLI's path)."""
    run_options = {k: options.pop(k) for k in ("now", "progress", "cancel") if k in options}
    plan = plan_file(store, path, **options)
    return run_plan(store, plan, user=user, dry_run=dry_run, **run_options)
