"""How each back-flowed dataset is stored: its table, natural key, the columns a file may set, the
defaults of NOT NULL columns a file may omit, and what a full snapshot of it covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from govshare_desktop.core.store.models import (
    AllowancePayment,
    Assistance,
    Cremation,
    DeathCertificate,
    DisabilityCard,
    Enrollment,
    Household,
    MedicalEnrollment,
    Payment,
    Person,
    table_of,
)

Record = dict[str, Any]  # DB column -> value, only for the columns the file provides


@dataclass(frozen=True)
class Target:
    """How one dataset is stored: its table, natural key columns and the columns a file may set.

    ``scope_width``: how many of the key's last columns bound a full snapshot. 0: the file stands
    for the whole table (persons, households, cremations …); 1: only for the values of the last
    key column it contains (the schemes of an enrollment file, the months of a payment file); 2:
    for the pairs of the last two (the 津贴类别 and months of an allowance file).
    """

    dataset: str
    table: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)  # for NOT NULL columns a file may omit
    scope_width: int = 0

    def key_of(self, record: Record) -> tuple[Any, ...]:
        if len(self.key) == 1:
            return (record[self.key[0]],)
        return tuple(map(record.__getitem__, self.key))

    def key_text(self, key: tuple[Any, ...]) -> str:
        return "|".join(str(k) for k in key)

    def scope_of(self, record: Record) -> Any:
        """What of a record bounds the snapshot (see ``scope_width``); None for the whole table."""
        if self.scope_width == 0:
            return None
        if self.scope_width == 1:
            return record[self.key[-1]]
        return tuple(record[k] for k in self.key[-self.scope_width :])


TARGETS: dict[str, Target] = {
    "household": Target(
        "household",
        table_of(Household),
        ("household_no",),
        ("household_type", "address", "village_code", "head_id_number", "head_name"),
        {"household_type": "1"},
    ),
    "person": Target(
        "person",
        table_of(Person),
        ("id_number",),
        (
            "name",
            "sex_code",
            "ethnicity_code",
            "birth_date",
            "household_no",
            "relationship_code",
            "village_code",
            "status",
            "status_date",
            "phone",
        ),
        {"status": "normal"},
    ),
    "ss_enrollment": Target(
        "ss_enrollment",
        table_of(Enrollment),
        ("id_number", "scheme_code"),
        (
            "name",
            "status_code",
            "grade_fen",
            "start_date",
            "receiving",
            "person_no",
            "village_code",
        ),
        {"status_code": "1", "receiving": False, "name": ""},
        scope_width=1,
    ),
    "ss_payment": Target(
        "ss_payment",
        table_of(Payment),
        ("id_number", "period"),
        ("basic_fen", "account_fen", "total_fen", "paid_date"),
        {"basic_fen": 0, "account_fen": 0},
        scope_width=1,
    ),
    "assistance": Target(
        "assistance",
        table_of(Assistance),
        ("id_number", "category_code"),
        (
            "name",
            "household_size",
            "monthly_fen",
            "start_date",
            "end_date",
            "status_code",
            "village_code",
        ),
        {"name": "", "status_code": "1"},
        scope_width=1,
    ),
    "allowance_payment": Target(
        "allowance_payment",
        table_of(AllowancePayment),
        ("id_number", "category_code", "period"),
        ("name", "amount_fen", "paid_date", "village_code"),
        {"name": ""},
        scope_width=2,
    ),
    "medical_enrollment": Target(
        "medical_enrollment",
        table_of(MedicalEnrollment),
        ("id_number", "scheme_code"),
        (
            "name",
            "person_no",
            "status_code",
            "year",
            "identity_code",
            "subsidy_code",
            "personal_fen",
            "start_date",
            "village_code",
        ),
        {"name": "", "status_code": "1"},
        scope_width=1,
    ),
    "cremation": Target(
        "cremation",
        table_of(Cremation),
        ("id_number",),
        ("name", "death_date", "cremation_date", "funeral_home", "certificate_no"),
        {"name": ""},
    ),
    "death_certificate": Target(
        "death_certificate",
        table_of(DeathCertificate),
        ("id_number",),
        ("name", "death_date", "place_code", "certificate_no", "institution", "issue_date"),
        {"name": ""},
    ),
    "disability_card": Target(
        "disability_card",
        table_of(DisabilityCard),
        ("id_number",),
        (
            "name",
            "card_no",
            "category_code",
            "level_code",
            "issue_date",
            "valid_until",
            "status_code",
            "village_code",
        ),
        {"name": "", "status_code": "1"},
    ),
}
