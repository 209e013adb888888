"""From a raw row to a record: each mapped column normalised into its field (a compiled builder
per plan, values memoised), and the key a record is matched by.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any, NoReturn

from govshare_desktop.core.backflow import normalize as nz
from govshare_desktop.core.backflow.department_records import ALWAYS_PROVIDED, FINISHERS
from govshare_desktop.core.backflow.plan import ImportPlan
from govshare_desktop.core.backflow.readers import RawRow
from govshare_desktop.core.backflow.targets import TARGETS
from govshare_desktop.core.backflow.villages import VillageResolver

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
# Where a dataset stores a field under another column than the one above.
_DATASET_COLUMN = {"ss_enrollment": {"status": "status_code"}}


def stored_column(dataset: str, key: str) -> str:
    """The store's column of a dataset's field key (``sex`` → ``sex_code``)."""
    return _DATASET_COLUMN.get(dataset, {}).get(key) or _COLUMN.get(key, key)


class RecordBuilder:
    """Converts one data row into a store record, or raises :class:`RowRejected`.

    ``today``: the day of the import, which no death, cremation or issue date may follow."""

    def __init__(
        self, plan: ImportPlan, villages: VillageResolver, *, today: date | None = None
    ) -> None:
        self.plan = plan
        self.dataset = plan.mapping.dataset
        self.spec = plan.dataset
        self.villages = villages
        self.today = today or date.today()
        self.columns: list[tuple[int, str, str, Callable[[Any], Any], bool]] = []
        for column, key in sorted(plan.mapping.fields.items()):
            spec = self.spec.field(key)
            if spec.type == "ignore":
                continue
            header = plan.headers[column] if column < len(plan.headers) else spec.label
            convert = nz.converter(spec.type, header=header)
            self.columns.append((column, key, header or spec.label, convert, spec.required))
        provided = {key for _, key, _, _, _ in self.columns}
        self.provided = {stored_column(self.dataset, k) for k in provided} - {"village_name"}
        if provided & {"village_code", "village_name"}:
            self.provided.add("village_code")
        if self.dataset == "person":
            self.provided |= {"sex_code", "birth_date"}  # always known from the ID number
        self.provided |= ALWAYS_PROVIDED.get(self.dataset, frozenset())
        self.households: dict[str, dict[str, Any]] = {}
        self._villages: dict[tuple[Any, Any], str | None] = {}  # (code, name) → village code
        finish: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, f"_{self.dataset}", None
        )
        self._finish = finish or partial(FINISHERS[self.dataset], self)
        self._build = self._compile()
        self.build = self._build  # type: ignore[method-assign,assignment]  # no wrapper per row

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
        width = max((column + 1 for column, *_ in self.columns), default=0)
        lines = [
            "def build(raw):",
            "    cells = raw.values",
            f"    if len(cells) < {width}:",
            f"        cells = cells + (None,) * ({width} - len(cells))",
            "    v = {}",
        ]
        for i, (column, key, header, convert, required) in enumerate(self.columns):
            memo: dict[Any, Any] = {}
            env[f"memo{i}"] = memo
            env[f"slow{i}"] = _memo_filler(convert, memo)
            env[f"header{i}"] = header
            blank = (
                f"            raise RowRejected(header{i}, MISSING, '必填项“' + header{i} + '”为空')"
                if required
                else f"            v[{key!r}] = None"
            )
            # The memo is asked first: it holds only non-blank text (other values are remembered
            # under (class, value), which no cell equals), so a hit is a converted value or
            # refusal, and only a miss looks at blankness and converts.
            lines += [
                f"    x = cells[{column}]",
                f"    y = memo{i}.get(x, MISS)",
                "    if y is MISS:",
                "        if x is None or (x.__class__ is str and not x.strip()):",
                blank,
                "        else:",
                f"            y = slow{i}(x)",
                "            if y.__class__ is FieldError:",
                f"                raise RowRejected(header{i}, y.reason, str(y))",
                f"            v[{key!r}] = y",
                "    elif y.__class__ is FieldError:",
                f"        raise RowRejected(header{i}, y.reason, str(y))",
                "    else:",
                f"        v[{key!r}] = y",
            ]
        lines.append("    return finish(v)")
        exec(compile("\n".join(lines), f"<row converter {self.dataset}>", "exec"), env)
        built: Callable[[RawRow], dict[str, Any]] = env["build"]
        return built

    def reject(self, key: str, reason: str, message: str) -> NoReturn:
        """Refuse the row being built, naming the column of field ``key`` as the file heads it."""
        raise RowRejected(self.header_of(key), reason, message)

    def village(self, values: dict[str, Any]) -> str | None:
        """The village code a row names (by code or by name), or None."""
        return self._village(values)

    # -- per dataset

    def _village(self, values: dict[str, Any]) -> str | None:
        given = (values.get("village_code"), values.get("village_name"))
        found = self._villages.get(given)
        if found is not None:  # the same answer as the first time (a village is added once)
            return found
        try:
            found = self._villages[given] = self.villages.resolve(*given)
            return found
        except nz.FieldError as exc:
            header = self.header_of(
                "village_code" if values.get("village_code") else "village_name"
            )
            raise RowRejected(header, exc.reason, str(exc)) from None

    def _person(self, v: dict[str, Any]) -> dict[str, Any]:
        # The number is canonical and valid (its converter made it so): sex and birth date read
        # off it as idnumber.parse() would, without validating it a second time.
        number = v["id_number"]
        sex_code = "1" if int(number[16]) % 2 == 1 else "2"
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        sex, birth = v.get("sex"), v.get("birth_date")
        if sex is not None and sex != sex_code and sex not in "09":
            self._inconsistent("sex", "性别", sex, sex_code)
        if birth is not None and birth != birth_date:
            self._inconsistent("birth_date", "出生日期", birth, birth_date)
        record = {
            "id_number": v["id_number"],
            "name": v["name"],
            "sex_code": sex_code,
            "birth_date": birth_date,
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

    def _inconsistent(self, key: str, what: str, given: Any, derived: Any) -> NoReturn:
        raise RowRejected(
            self.header_of(key),
            nz.INCONSISTENT_WITH_ID,
            f"{what}“{given}”与公民身份号码不一致（号码中为“{derived}”）",
        )

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
    their class so that 1, 1.0 and True stay apart.

    Called by the row converter only after ``memo.get(value)`` missed: text is not looked up
    again (it is its own key), other values are, under their (class, value) key."""

    def slow(value: Any) -> Any:
        if value.__class__ is str:
            key: Any = value
        else:
            key = (value.__class__, value)
            try:
                found = memo.get(key, _MISS)
            except TypeError:  # an unhashable value: convert without remembering
                try:
                    return convert(value)
                except nz.FieldError as exc:
                    return exc
            if found is not _MISS:
                return found
        try:
            found = convert(value)
        except nz.FieldError as exc:
            found = exc
        if len(memo) < MEMO_LIMIT:
            memo[key] = found
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
