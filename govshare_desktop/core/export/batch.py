"""A batch of individual forms (登记表/申请表: one per person or household), streamed: the ordered
list of whom it covers is read at once (their ID numbers or 户号 only), the forms themselves
chunk by chunk — one query for the chunk's registry attributes and villages, one for its stored
values — and laid out as they are read. Writing a township's 250,000 forms takes the memory of a
chunk, not of the batch; the batch can be read again (a print preview paints twice).

The forms are those :meth:`~govshare_desktop.core.forms.values_pool.ValuePool.collect_each`
collects, in the same order with the same values (tested): the same selection
(:func:`~govshare_desktop.core.forms.compute.condition` over the template's filter), the same
attributes, the same stored values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import select, text

from govshare_desktop.core.domain.idnumber import age_on
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.forms.compute import condition
from govshare_desktop.core.forms.sheet import Sheet, build_sheet
from govshare_desktop.core.forms.templates import Template
from govshare_desktop.core.forms.values import DRAFT, FormData, FormValues, attribute_value
from govshare_desktop.core.forms.vocabulary import ATTRIBUTES, Computation
from govshare_desktop.core.security.permissions import Action
from govshare_desktop.core.store.models import FormValue
from govshare_desktop.core.store.township import villages

if TYPE_CHECKING:  # Unpack is in typing from Python 3.11
    from typing_extensions import Unpack

CHUNK = 500  # forms read by one query (and SQLite's bound-parameter limit stays far)


class FormBatch:
    """The individual forms of ``template`` for ``period``, one :class:`Sheet` each, built as
    they are read. ``len()`` and :attr:`title` are known before any form is read."""

    def __init__(
        self,
        pool: FormValues,
        template: Template,
        period: Period,
        keys: Sequence[str],
        *,
        masked: bool = False,
        chunk: int = CHUNK,
    ) -> None:
        self.pool = pool
        self.template = template
        self.period = period
        self.keys = keys
        self.chunk = chunk
        self.title = template.title
        # As build_sheet decides it for each sheet: a form without personal data is as safe as a
        # masked one.
        self.masked = masked or not any(pool.dictionary[code].mask for code in template.elements)
        self._mask = masked

    def __len__(self) -> int:
        return len(self.keys)

    def part(self, start: int, stop: int) -> FormBatch:
        """The forms ``start`` to ``stop`` (exclusive) of this batch, as a batch of their own: a
        print preview reads the few forms it shows, wherever they are in the batch."""
        return FormBatch(
            self.pool,
            self.template,
            self.period,
            self.keys[start:stop],
            masked=self._mask,
            chunk=self.chunk,
        )

    def __iter__(self) -> Iterator[Sheet]:
        for data in self.forms():
            yield build_sheet(data, masked=self._mask)

    def forms(self) -> Iterator[FormData]:
        """The forms' data, chunk by chunk, in the batch's order."""
        _, township_name = self.pool.township()
        with self.pool.store.sessions() as session:
            names = {v.code: v.name for v in villages(session)}
        for start in range(0, len(self.keys), self.chunk):
            keys = list(self.keys[start : start + self.chunk])
            found = _rows(self.pool, self.template, self.period, keys)
            stored = self._stored(keys)
            for key in keys:
                village, values = found[key]
                yield FormData(
                    self.template,
                    key,
                    self.period,
                    [(key, "1")],
                    {code: {key: row} for code, row in stored.get(key, {}).items()},
                    {
                        code: {key: attribute_value(self.pool.dictionary[code], raw)}
                        for code, raw in values.items()
                    },
                    DRAFT,
                    self.pool.dictionary,
                    township_name + names.get(village or "", ""),
                )

    def _stored(self, keys: list[str]) -> dict[str, dict[str, FormValue]]:
        """``{subject: {element: row}}`` of the chunk's stored values for the period."""
        out: dict[str, dict[str, FormValue]] = {}
        with self.pool.store.sessions() as session:
            for row in session.scalars(
                select(FormValue).where(
                    FormValue.period == str(self.period),
                    FormValue.element.in_(list(self.template.elements)),
                    FormValue.subject.in_(keys),
                )
            ):
                out.setdefault(row.subject, {})[row.element] = row
        return out


class Choice(TypedDict, total=False):
    """Which forms of a template and period: in ``area`` (a village; default the whole township),
    or for exactly ``subjects`` (ID numbers or 户号); ``masked`` as the window shows them."""

    area: str | None
    subjects: Sequence[str] | None
    masked: bool


def form_batch(
    pool: FormValues, template_id: str, period: Period, **choice: Unpack[Choice]
) -> FormBatch:
    """The batch of individual forms ``template_id`` selects (see :class:`Choice`) — refused,
    naming them, if the template does not allow some of the ``subjects``; refused too when it
    covers no one."""
    pool.store.principal.require(Action.VIEW)
    template = pool.template_for(template_id, period) if template_id in pool.templates else None
    if template is None or template.kind != "individual":
        raise UserError(f"“{template_id}”不是登记表/申请表模板")
    area, subjects = choice.get("area"), choice.get("subjects")
    township_code, _ = pool.township()
    if subjects is not None:
        wanted = list(dict.fromkeys(subjects))
        allowed: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            allowed.update(_rows(pool, template, period, wanted[start : start + CHUNK]))
        missing = [s for s in wanted if s not in allowed]
        if missing:
            raise UserError(
                f"以下对象不符合“{template.title}”的填报条件，或不在本乡镇户籍中："
                + "、".join(missing[:5])
                + (f" 等 {len(missing)} 个" if len(missing) > 5 else "")
            )
        keys = wanted
    else:
        village = area if area and area != township_code else None
        keys = _keys(pool, template, period, village)
    if not keys:
        raise UserError(f"“{template.title}”在所选范围内没有符合条件的对象")
    return FormBatch(pool, template, period, keys, masked=choice.get("masked", False))


def selection(
    template: Template, period: Period, params: dict[str, Any]
) -> tuple[str, str, list[str]]:
    """(table, key column, conditions) of the subjects the template selects, as
    :func:`~govshare_desktop.core.forms.compute.roster_rows` selects them."""
    subject = template.subject
    conditions = condition(
        Computation("count", subject, None, template.filter), period, params, "f_"
    )
    key = "t.id_number" if subject == "person" else "t.household_no"
    return subject, key, ["t.absent_batch_id IS NULL", *conditions]


def _keys(pool: FormValues, template: Template, period: Period, village: str | None) -> list[str]:
    """Whom the batch covers, in village/household order (roster_rows' order)."""
    params: dict[str, Any] = {}
    table, key, conditions = selection(template, period, params)
    if village is not None:
        params["village"] = village
        conditions.append("t.village_code = :village")
    order = (
        "t.village_code, t.household_no, t.relationship_code, t.id"
        if table == "person"
        else "t.village_code, t.household_no"
    )
    sql = f"SELECT {key} FROM {table} t WHERE {' AND '.join(conditions)} ORDER BY {order}"
    with pool.store.engine.connect() as connection:
        return [row[0] for row in connection.execute(text(sql), params)]


def _rows(
    pool: FormValues, template: Template, period: Period, keys: list[str]
) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """``{key: (village code, {element: attribute value})}`` of those of ``keys`` the template
    selects: one query."""
    params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(keys)}
    table, key, conditions = selection(template, period, params)
    columns = [
        (code, str(computation.column))
        for code in template.elements
        if (computation := pool.dictionary[code].compute) is not None
    ]
    attributes = ATTRIBUTES[template.subject]
    select_list = ", ".join([key, "t.village_code", *(attributes[a] for _, a in columns)])
    placeholders = ", ".join(f":k{i}" for i in range(len(keys)))
    conditions.append(f"{key} IN ({placeholders})")
    sql = f"SELECT {select_list} FROM {table} t WHERE {' AND '.join(conditions)}"
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    with pool.store.engine.connect() as connection:
        for record in connection.execute(text(sql), params):
            values: dict[str, Any] = {}
            for (code, attribute), value in zip(columns, record[2:], strict=True):
                if attribute == "age" and value is not None:
                    value = age_on(date.fromisoformat(str(value)[:10]), period.end)
                values[code] = value
            out[record[0]] = (record[1], values)
    return out
