"""Computed elements: a declarative count/sum over back-flowed data, turned into one SQL statement
per element, grouped by village, with filters from a fixed vocabulary (never code from a file).

Filters (``where``) by dataset:

* person — ``status`` (``normal`` means "in the registry at period end": 正常 now, or deregistered
  only after the period), ``sex``, ``age_min`` / ``age_max`` (completed years at period end),
  ``status_in_period`` (the status changed within the period), ``relationship``, ``ethnicity``;
* household — ``household_type``;
* ss_enrollment — ``scheme``, ``status_code``, ``receiving``, ``registry`` (``in`` / ``out`` of this
  township's household registry);
* ss_payment — ``period_in`` (payments for months within the period).

Records marked "not in latest back-flow" are left out. A string or a list of strings matches any.

Records that belong to no village of the township (social-security rows of people outside the
household registry, who have no village) are counted under :func:`other_subject`, the 统计表's
「其他（未落户）」 row, so that the villages and that row add up to the township total.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text

from govshare_desktop.core.domain.idnumber import age_on
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.vocabulary import ATTRIBUTES, DATASETS, Computation
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.township import villages

OTHER_LABEL = "其他（未落户）"


def other_subject(township_code: str) -> str:
    """The value-pool subject of a township's 「其他（未落户）」 row: records with no village."""
    return f"{township_code}-other"


def is_other_subject(subject: str) -> bool:
    return subject.endswith("-other")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def condition(computation: Any, period: Period, params: dict[str, Any], prefix: str) -> list[str]:
    """The SQL conditions of one computation's filters. Values that depend only on the period are
    bound under shared names, so the same condition reads the same in every element (and can be
    moved into the WHERE clause that they all share); filter values are bound with ``prefix``."""
    parts: list[str] = []
    w = computation.where
    shared = {"end", "start", "p_from", "p_to"}

    def bind(name: str, value: Any) -> str:
        key = name if name in shared else f"{prefix}{name}"
        params[key] = value
        return f":{key}"

    def any_of(column: str, name: str, value: Any) -> str:
        values = value if isinstance(value, list) else [value]
        return f"{column} IN ({', '.join(bind(f'{name}{i}', v) for i, v in enumerate(values))})"

    end = bind("end", period.end)
    if computation.dataset == "person":
        parts.append(f"t.birth_date <= {end}")
        if "status" in w:
            statuses = w["status"] if isinstance(w["status"], list) else [w["status"]]
            options = []
            if "normal" in statuses:
                options.append(f"(t.status = 'normal' OR t.status_date > {end})")
            others = [x for x in statuses if x != "normal"]
            if others:
                options.append(
                    f"({any_of('t.status', 'st', others)}"
                    f" AND (t.status_date IS NULL OR t.status_date <= {end}))"
                )
            parts.append("(" + " OR ".join(options) + ")")
        if w.get("status_in_period"):
            parts.append(f"t.status_date BETWEEN {bind('start', period.start)} AND {end}")
        if "age_min" in w:
            parts.append(
                f"t.birth_date <= {bind('born_by', _years_before(period.end, int(w['age_min'])))}"
            )
        if "age_max" in w:
            after = _years_before(period.end, int(w["age_max"]) + 1)
            parts.append(f"t.birth_date > {bind('born_after', after)}")
        for key, column in (
            ("sex", "t.sex_code"),
            ("relationship", "t.relationship_code"),
            ("ethnicity", "t.ethnicity_code"),
        ):
            if key in w:
                parts.append(any_of(column, key, w[key]))
    elif computation.dataset == "household":
        if "household_type" in w:
            parts.append(any_of("t.household_type", "ht", w["household_type"]))
    elif computation.dataset == "ss_enrollment":
        if "scheme" in w:
            parts.append(any_of("t.scheme_code", "sc", w["scheme"]))
        if "status_code" in w:
            parts.append(any_of("t.status_code", "ss", w["status_code"]))
        if "receiving" in w:
            parts.append(f"t.receiving = {bind('rec', bool(w['receiving']))}")
        if w.get("registry") in ("in", "out"):
            exists = "EXISTS (SELECT 1 FROM person r WHERE r.id_number = t.id_number)"
            parts.append(exists if w["registry"] == "in" else f"NOT {exists}")
    elif computation.dataset == "ss_payment" and w.get("period_in"):
        low = bind("p_from", period.start.year * 100 + period.start.month)
        high = bind("p_to", period.end.year * 100 + period.end.month)
        parts.append(f"t.period BETWEEN {low} AND {high}")
    return parts


def _measure(computation: Any, cond: str) -> str:
    if computation.aggregate == "count":
        return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"
    if computation.aggregate == "count_distinct":
        return f"COUNT(DISTINCT CASE WHEN {cond} THEN t.{computation.column} END)"
    return f"SUM(CASE WHEN {cond} THEN t.{computation.column} ELSE 0 END)"


def compute_area_values(
    store: Store, elements: Sequence[Any], period: Period, *, township_code: str
) -> dict[str, dict[str, int]]:
    """``{element code: {village code: value, other: value, township code: total}}`` for
    computed area elements (``other`` is :func:`other_subject`).

    One statement per dataset: every element over that dataset is a conditional aggregate of a
    single scan grouped by village. Villages without a matching record get 0; records without a
    village (or with a code that is not one of the township's villages) count in ``other``, so
    the villages and ``other`` add up to the township total. Distinct counts get their total from
    a second statement (a person paid in two villages is one person for the township).
    """
    wanted = [e for e in elements if e.compute is not None and e.level == "area"]
    with store.sessions() as session:
        village_codes = [v.code for v in villages(session)]
        other = other_subject(township_code)
        out = {e.code: dict.fromkeys([*village_codes, other, township_code], 0) for e in wanted}
        for dataset, (table, village, _) in DATASETS.items():
            group = [e for e in wanted if e.compute.dataset == dataset]
            if not group:
                continue
            params: dict[str, Any] = {}
            conditions = [
                condition(e.compute, period, params, f"e{i}_") for i, e in enumerate(group)
            ]
            # Conditions every element has (e.g. the period's months for payments) go to WHERE,
            # where an index can serve them; the rest become per-element CASE expressions.
            common = [c for c in conditions[0] if all(c in other for other in conditions[1:])]
            where = " AND ".join(["t.absent_batch_id IS NULL", *common])
            measures = [
                _measure(e.compute, " AND ".join(c for c in cond if c not in common) or "1 = 1")
                for e, cond in zip(group, conditions, strict=True)
            ]
            sql = f"SELECT {village}, {', '.join(measures)} FROM {table} WHERE {where} GROUP BY {village}"
            for row in session.execute(text(sql), params):
                for element, value in zip(group, row[1:], strict=True):
                    values = out[element.code]
                    if row[0] in values and row[0] not in (township_code, other):
                        values[row[0]] = int(value or 0)
                    else:
                        values[other] += int(value or 0)
                    values[township_code] += int(value or 0)
            distinct = [
                (e, cond)
                for e, cond in zip(group, conditions, strict=True)
                if e.compute.aggregate == "count_distinct"
            ]
            if distinct:
                measures = [
                    _measure(e.compute, " AND ".join(c for c in cond if c not in common) or "1 = 1")
                    for e, cond in distinct
                ]
                sql = f"SELECT {', '.join(measures)} FROM {table} WHERE {where}"
                totals = session.execute(text(sql), params).one()
                for (element, _), value in zip(distinct, totals, strict=True):
                    out[element.code][township_code] = int(value or 0)
    return out


def roster_rows(
    store: Store,
    template: Any,
    dictionary: Any,
    period: Period,
    *,
    only: str | None = None,
    village: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The subjects a roster (or individual-form) template selects, in village/household order,
    each with the values of its computed (attribute) elements: ``[(ID number or 户号, {element:
    value})]``. ``only``: just that subject (empty if the template's filter does not allow it);
    ``village``: only the subjects of that village."""
    subject = template.subject
    params: dict[str, Any] = {}
    conditions = condition(
        Computation("count", subject, None, template.filter), period, params, "f_"
    )
    attributes = ATTRIBUTES[subject]
    columns = [
        (code, dictionary[code].compute.column)
        for code in template.elements
        if dictionary[code].compute is not None
    ]
    select_list = ", ".join(attributes[attribute] for _, attribute in columns) or "NULL"
    key = "t.id_number" if subject == "person" else "t.household_no"
    if only is not None:
        params["only"] = only
        conditions.append(f"{key} = :only")
    if village is not None:
        params["village"] = village
        conditions.append("t.village_code = :village")
    order = (
        "t.village_code, t.household_no, t.relationship_code, t.id"
        if subject == "person"
        else "t.village_code, t.household_no"
    )
    sql = (
        f"SELECT {key}, {select_list} FROM {subject} t"
        f" WHERE {' AND '.join(['t.absent_batch_id IS NULL', *conditions])} ORDER BY {order}"
    )
    rows = []
    with store.sessions() as session:
        for record in session.execute(text(sql), params):
            values: dict[str, Any] = {}
            for (code, attribute), value in zip(columns, record[1:], strict=True):
                if attribute == "age" and value is not None:
                    value = age_on(date.fromisoformat(str(value)[:10]), period.end)
                values[code] = value
            rows.append((record[0], values))
    return rows
