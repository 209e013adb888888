"""一表通 values: each filled once per (element, subject, period), whichever form it was entered
in, with its origin (computed from back-flow / entered / computed-then-overridden with a reason),
who and when, and its history. Forms lock when submitted and unlock when returned.

A township 统计表's 合计 row is not typed: for an additive element it is the sum of the rows shown
(the villages and, when it has something in it, the 「其他（未落户）」 row of records with no
village), for a rate a formula over other totals (``total`` in elements.toml or on a template
column). Those cells are *derived* when the form is read, never stored, and read-only.
"""

from __future__ import annotations

from govshare_desktop.core.forms.values_form import FormData, PrefillReport
from govshare_desktop.core.forms.values_pool import StaleValue
from govshare_desktop.core.forms.values_prefill import Prefilling
from govshare_desktop.core.forms.values_text import (
    COMPUTED,
    DERIVED,
    DRAFT,
    ENTERED,
    OVERRIDDEN,
    RETURNED,
    SUBMITTED,
    attribute_value,
    canonical,
    display,
    stored_text,
    typed,
)
from govshare_desktop.core.forms.values_workflow import Workflow

__all__ = [
    "COMPUTED",
    "DERIVED",
    "DRAFT",
    "ENTERED",
    "OVERRIDDEN",
    "RETURNED",
    "SUBMITTED",
    "FormData",
    "FormValues",
    "PrefillReport",
    "StaleValue",
    "attribute_value",
    "canonical",
    "display",
    "stored_text",
    "typed",
]


class FormValues(Prefilling, Workflow):
    """The value pool of one store, with the element dictionary and the templates: reading and
    setting values (:class:`~govshare_desktop.core.forms.values_pool.ValuePool`), 预填 and
    carry-forward (:class:`~govshare_desktop.core.forms.values_prefill.Prefilling`), submitting and
    returning forms (:class:`~govshare_desktop.core.forms.values_workflow.Workflow`)."""
