"""Keyset paging: the rows that follow a given row in an ``ORDER BY``, as WHERE conditions an index
can seek to, instead of ``OFFSET`` (which reads every row it skips) or a list of every id.

A sort is a list of terms ``(expression, descending)`` ending in the table's id (unique, never NULL),
and a row's *key* is its values of those terms. The rows after a key are, in order: those equal to
it on every term but the last and after it on the last, then those equal on every term but the
last two and after it on the last but one, … and last those after it on the first term. Each of
these groups is a condition; :func:`after` returns them in that order, so a page is the first
rows of the first condition, then of the next, until the page is full.

NULLs: SQLite sorts NULL before every value, PostgreSQL after (in an ascending sort; the other way
round in a descending one). "After a NULL" and "after a value, where NULLs come last" are
conditions of their own (``IS NOT NULL``, ``IS NULL``).

Where the terms allow it, groups are merged into one row-value comparison ``(a, b, id) > (:a, :b,
:id)``, which SQLite and PostgreSQL answer as one range of a matching index: the terms share one
direction and no NULL can come after the key on them (the key's values are not NULL, and NULLs sort
first in that direction or the column cannot hold one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Term = tuple[str, bool]  # (SQL expression, descending)
Condition = tuple[str, dict[str, Any]]


def nulls_first(descending: bool, dialect: str) -> bool:
    """Do NULLs come first in this direction on this database? (Each database's own order.)"""
    return descending if dialect == "postgresql" else not descending


def after(
    terms: Sequence[Term],
    key: Sequence[Any],
    dialect: str,
    not_null: frozenset[str] = frozenset(),
) -> list[Condition]:
    """The conditions whose rows, each in the sort's order, follow the row ``key`` one group after
    another (see the module's docstring). ``not_null``: the expressions that cannot be NULL."""
    if len(terms) != len(key) or not terms:
        raise ValueError("a key has one value per sort term")
    out: list[Condition] = []
    last = len(terms) - 1
    start: int | None = last  # the row-value being merged covers terms[start:]; None: closed
    for i in range(last - 1, -1, -1):
        expr, desc = terms[i]
        value = key[i]
        null_after = value is not None and not nulls_first(desc, dialect) and expr not in not_null
        if start is not None and value is not None and desc == terms[last][1]:
            start = i
            if null_after:  # NULLs on this term follow its values: the row-value ends here
                out.append(_row_value(terms, key, start))
                out.append(_is_null(terms, key, i))
                start = None
            continue
        if start is not None:
            out.append(_row_value(terms, key, start))
            start = None
        out.extend(_single(terms, key, i, dialect, null_after))
    if start is not None:
        out.append(_row_value(terms, key, start))
    return out


def _prefix(
    terms: Sequence[Term], key: Sequence[Any], upto: int
) -> tuple[list[str], dict[str, Any]]:
    """Equal to ``key`` on ``terms[:upto]`` (NULL equal to NULL)."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for j in range(upto):
        expr = terms[j][0]
        if key[j] is None:
            clauses.append(f"{expr} IS NULL")
        else:
            clauses.append(f"{expr} = :k{j}")
            params[f"k{j}"] = key[j]
    return clauses, params


def _row_value(terms: Sequence[Term], key: Sequence[Any], start: int) -> Condition:
    clauses, params = _prefix(terms, key, start)
    exprs = [terms[j][0] for j in range(start, len(terms))]
    names = [f":k{j}" for j in range(start, len(terms))]
    params.update({f"k{j}": key[j] for j in range(start, len(terms))})
    op = "<" if terms[-1][1] else ">"
    if len(exprs) == 1:
        clauses.append(f"{exprs[0]} {op} {names[0]}")
    else:
        clauses.append(f"({', '.join(exprs)}) {op} ({', '.join(names)})")
    return " AND ".join(clauses), params


def _is_null(terms: Sequence[Term], key: Sequence[Any], i: int) -> Condition:
    clauses, params = _prefix(terms, key, i)
    clauses.append(f"{terms[i][0]} IS NULL")
    return " AND ".join(clauses), params


def _single(
    terms: Sequence[Term], key: Sequence[Any], i: int, dialect: str, null_after: bool
) -> list[Condition]:
    """The rows equal to ``key`` before term ``i`` and after it on term ``i``."""
    expr, desc = terms[i]
    clauses, params = _prefix(terms, key, i)
    if key[i] is None:
        if not nulls_first(desc, dialect):
            return []  # NULLs come last: nothing follows a NULL on this term
        return [(" AND ".join([*clauses, f"{expr} IS NOT NULL"]), params)]
    op = "<" if desc else ">"
    out = [(" AND ".join([*clauses, f"{expr} {op} :k{i}"]), {**params, f"k{i}": key[i]})]
    if null_after:
        out.append(_is_null(terms, key, i))
    return out
