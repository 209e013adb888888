"""Which dataset a file holds and which column is which field, from its header texts.

The synonym table is ``resources/backflow/datasets.json``. Matching is exact after normalisation,
then by prefix (``基础养老金（分）`` starts with ``基础养老金``) for columns still unmatched. The dataset
is the one whose required fields are all present and which explains the most columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from govshare_desktop.core.backflow.header import normalise_header
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.resources import load_json


def _normalise(text: str) -> str:
    return normalise_header(text)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str
    required: bool
    synonyms: tuple[str, ...]  # normalised


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    title: str
    default_source: str
    key_fields: tuple[str, ...]
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.required)


@cache
def datasets() -> dict[str, DatasetSpec]:
    data = load_json("backflow", "datasets.json")["datasets"]
    specs = {}
    for key, raw in data.items():
        specs[key] = DatasetSpec(
            key=key,
            title=raw["title"],
            default_source=raw["default_source"],
            key_fields=tuple(raw["key"]),
            fields=tuple(
                FieldSpec(
                    key=f["key"],
                    label=f["label"],
                    type=f["type"],
                    required=bool(f.get("required", False)),
                    synonyms=tuple(dict.fromkeys(_normalise(s) for s in f["synonyms"])),
                )
                for f in raw["fields"]
            ),
        )
    return specs


@cache
def _all_synonyms() -> frozenset[str]:
    return frozenset(s for d in datasets().values() for f in d.fields for s in f.synonyms)


def is_known_header(text: str) -> bool:
    """True if the (normalised) text names a field of some dataset: used to find the header row."""
    if not text:
        return False
    synonyms = _all_synonyms()
    return text in synonyms or any(text.startswith(s) for s in synonyms if len(s) >= 2)


@dataclass(frozen=True)
class ColumnMapping:
    """Column index → field key for one dataset. Columns not in ``fields`` are kept only in the
    error workbook."""

    dataset: str
    fields: Mapping[int, str]
    headers: tuple[str, ...]
    remembered: bool = False  # taken from a mapping the clerk confirmed earlier
    unmatched: tuple[int, ...] = field(default=())

    @property
    def spec(self) -> DatasetSpec:
        return datasets()[self.dataset]

    def column_of(self, field_key: str) -> int | None:
        for column, key in self.fields.items():
            if key == field_key:
                return column
        return None

    def missing_required(self) -> list[str]:
        present = set(self.fields.values())
        return [self.spec.field(k).label for k in self.spec.required if k not in present]

    def describe(self) -> list[tuple[str, str]]:
        """(header, field label) pairs for showing the mapping to the clerk."""
        spec = self.spec
        return [(self.headers[c], spec.field(k).label) for c, k in sorted(self.fields.items())]


def match_columns(spec: DatasetSpec, headers: Sequence[str]) -> dict[int, str]:
    normalised = [_normalise(h or "") for h in headers]
    taken: dict[int, str] = {}
    used: set[str] = set()
    for exact in (True, False):
        for column, text in enumerate(normalised):
            if column in taken or not text:
                continue
            for spec_field in spec.fields:
                if spec_field.key in used:
                    continue
                hit = (
                    text in spec_field.synonyms
                    if exact
                    else any(text.startswith(s) for s in spec_field.synonyms if len(s) >= 2)
                )
                if hit:
                    taken[column] = spec_field.key
                    used.add(spec_field.key)
                    break
    return taken


def detect(headers: Sequence[str], *, dataset: str | None = None) -> ColumnMapping:
    """The best dataset for these headers (or the one asked for) and its column mapping."""
    candidates = [datasets()[dataset]] if dataset else list(datasets().values())
    best: ColumnMapping | None = None
    best_score = -1
    for spec in candidates:
        matched = match_columns(spec, headers)
        mapping = ColumnMapping(
            dataset=spec.key,
            fields=matched,
            headers=tuple(headers),
            unmatched=tuple(i for i, h in enumerate(headers) if h and i not in matched),
        )
        if mapping.missing_required():
            continue
        score = sum(1 for k in matched.values() if spec.field(k).type != "ignore")
        if score > best_score:
            best, best_score = mapping, score
    if best is None:
        shown = "、".join(h for h in headers if h) or "（空）"
        if dataset:
            spec = datasets()[dataset]
            missing = ColumnMapping(
                dataset, match_columns(spec, headers), tuple(headers)
            ).missing_required()
            raise UserError(
                f"表头中缺少{spec.title}的必填列：{'、'.join(missing)}。文件的表头为：{shown}"
            )
        raise UserError(
            "无法识别文件中的数据类型（户籍、人员、参保、待遇发放、救助、津贴、医保、火化、"
            "死亡医学证明或残疾人证）：表头缺少必需的列，如公民身份号码、姓名、户号、险种、"
            f"发放年月、救助类别、火化日期、死亡日期或残疾类别。文件的表头为：{shown}"
        )
    return best


def best_guess(headers: Sequence[str], *, dataset: str | None = None) -> ColumnMapping:
    """The dataset explaining most columns, even with required fields missing: a starting point
    for the clerk to complete when :func:`detect` cannot decide."""
    candidates = [datasets()[dataset]] if dataset else list(datasets().values())
    mappings = [
        ColumnMapping(spec.key, match_columns(spec, headers), tuple(headers)) for spec in candidates
    ]
    return max(mappings, key=lambda m: sum(1 for k in m.fields.values() if k != "seq"))


def layout_key(headers: Sequence[str]) -> str:
    """Identifies a source layout (the same system's export) by its normalised header texts."""
    joined = "\x1f".join(_normalise(h or "") for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()
