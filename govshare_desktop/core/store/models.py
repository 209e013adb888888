"""Typed SQLAlchemy 2 models of the township data model.

Back-flowed records are keyed by their natural keys (公民身份号码, 户号, ID + 险种, ID + 发放年月) and
carry their provenance: the source department, the import batch and the as-of date (数据时点).
Social-security records join persons by ID number, never by a foreign key, because they may name people
who are not in this township's household registry.

The base, the batch and the provenance live in :mod:`.models_base`, the records of 民政, 医保, 殡葬, 卫健
and 残联 in :mod:`.models_departments`; both are re-exported here, where callers import them from.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from govshare_desktop.core.domain import pinyin
from govshare_desktop.core.store.models_base import NAMING as NAMING
from govshare_desktop.core.store.models_base import Base as Base
from govshare_desktop.core.store.models_base import Batch as Batch
from govshare_desktop.core.store.models_base import ImportRejection as ImportRejection
from govshare_desktop.core.store.models_base import Provenance as Provenance
from govshare_desktop.core.store.models_base import table_of as table_of
from govshare_desktop.core.store.models_departments import AllowancePayment as AllowancePayment
from govshare_desktop.core.store.models_departments import Assistance as Assistance
from govshare_desktop.core.store.models_departments import Cremation as Cremation
from govshare_desktop.core.store.models_departments import DeathCertificate as DeathCertificate
from govshare_desktop.core.store.models_departments import DisabilityCard as DisabilityCard
from govshare_desktop.core.store.models_departments import MedicalEnrollment as MedicalEnrollment
from govshare_desktop.core.store.models_laptop import LaptopCheckout as LaptopCheckout
from govshare_desktop.core.store.models_laptop import LaptopCheckoutValue as LaptopCheckoutValue
from govshare_desktop.core.store.models_laptop import LaptopOrigin as LaptopOrigin
from govshare_desktop.core.store.models_server import KeyVault as KeyVault
from govshare_desktop.core.store.models_sharing import CalendarDay as CalendarDay
from govshare_desktop.core.store.models_sharing import CatalogLink as CatalogLink
from govshare_desktop.core.store.models_sharing import CatalogResource as CatalogResource
from govshare_desktop.core.store.models_sharing import ShareRequest as ShareRequest
from govshare_desktop.core.store.models_summary import SummaryEnrollment as SummaryEnrollment
from govshare_desktop.core.store.models_summary import SummaryHousehold as SummaryHousehold
from govshare_desktop.core.store.models_summary import SummaryPayee as SummaryPayee
from govshare_desktop.core.store.models_summary import SummaryPayment as SummaryPayment
from govshare_desktop.core.store.models_summary import SummaryPerson as SummaryPerson
from govshare_desktop.core.store.models_summary import SummaryState as SummaryState


class Setting(Base):
    """Key/value facts about this database: which township it serves, whether it is demo data."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Area(Base):
    """County → township → village/community, keyed by the 12-digit 统计用区划代码."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # code table area_level
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
    urban_rural_code: Mapped[str | None] = mapped_column(String(3))
    # A village first seen in back-flowed data rather than configured: the clerk should confirm it.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Area | None] = relationship(remote_side=[code])


class Household(Provenance, Base):
    __tablename__ = "household"
    __table_args__ = (
        Index("ix_household_as_of", "as_of"),  # the list's 数据时点 sort
        # a village's households by 户号 or 住址 (which begin with the village's: migration 0014)
        Index("ix_household_village_household_no", "village_code", "household_no"),
        Index("ix_household_village_address", "village_code", "address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_no: Mapped[str] = mapped_column(String(32), unique=True)
    # code table household_type; every sortable column of a list is indexed (migration 0014)
    household_type: Mapped[str] = mapped_column(String(2), default="1", index=True)
    address: Mapped[str | None] = mapped_column(String(256), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
    head_id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    head_name: Mapped[str | None] = mapped_column(String(64), index=True)
    # 在册人数: its persons whose status is normal, kept by triggers (core/store/members.py)
    member_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)

    village: Mapped[Area | None] = relationship()
    members: Mapped[list[Person]] = relationship(
        back_populates="household", order_by="Person.relationship_code"
    )


def _initials_default(context: DefaultExecutionContext) -> str:
    return pinyin.initials(context.get_current_parameters().get("name"))


def _spaced_default(context: DefaultExecutionContext) -> str:
    return pinyin.spaced(context.get_current_parameters().get("name"))


class Person(Provenance, Base):
    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_village_name", "village_code", "name_initials", "name"),
        Index("ix_person_name_initials_name", "name_initials", "name"),
        # Members of a household by status: covers the household view's 在册人数 count.
        Index("ix_person_household_id_status", "household_id", "status"),
        # The default browse order: households together, 户主 first (covers the sort).
        Index("ix_person_household_no_relationship", "household_no", "relationship_code"),
        # …and a village's (户号 begins with the village's: migration 0014)
        Index(
            "ix_person_village_household_no", "village_code", "household_no", "relationship_code"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    # Search keys derived from the name (kept in step by @validates and by the insert defaults).
    name_initials: Mapped[str] = mapped_column(String(64), default=_initials_default)
    name_chars: Mapped[str] = mapped_column(String(160), default=_spaced_default)
    sex_code: Mapped[str] = mapped_column(String(1), index=True)
    ethnicity_code: Mapped[str | None] = mapped_column(String(2), index=True)
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    # 户号 as the registry sends it with each person (natural key of the household).
    household_no: Mapped[str | None] = mapped_column(String(32))
    relationship_code: Mapped[str | None] = mapped_column(String(2), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"))
    status: Mapped[str] = mapped_column(String(16), default="normal", index=True)
    status_date: Mapped[date | None] = mapped_column(Date, index=True)
    phone: Mapped[str | None] = mapped_column(String(20))

    household: Mapped[Household | None] = relationship(back_populates="members")
    village: Mapped[Area | None] = relationship()

    @validates("name")
    def _keep_search_keys(self, _key: str, value: str) -> str:
        self.name_initials = pinyin.initials(value)
        self.name_chars = pinyin.spaced(value)
        return value


def person_name_values(name: str) -> dict[str, str]:
    """Values for a Core ``update(Person).values(**person_name_values(new_name))``: a bulk update that
    changes the name must change its search keys too (the ORM does it through ``@validates``)."""
    return {"name": name, "name_initials": pinyin.initials(name), "name_chars": pinyin.spaced(name)}


class Enrollment(Provenance, Base):
    """A social-security enrollment (参保): one row per person and scheme (险种)."""

    __tablename__ = "ss_enrollment"
    __table_args__ = (UniqueConstraint("id_number", "scheme_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))  # indexed by the unique constraint
    name: Mapped[str] = mapped_column(String(64), index=True)
    scheme_code: Mapped[str] = mapped_column(String(3), index=True)  # code table ss_scheme
    status_code: Mapped[str] = mapped_column(String(1), index=True)  # ss_payment_status (AAC031)
    grade_fen: Mapped[int | None] = mapped_column(Integer, index=True)  # 缴费档次, yuan/year × 100
    start_date: Mapped[date | None] = mapped_column(Date, index=True)
    receiving: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # 待遇领取标志
    person_no: Mapped[str | None] = mapped_column(String(32))  # 个人编号 (AAC001) where sent
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


class Payment(Provenance, Base):
    """A monthly pension payment (待遇发放); amounts in integer fen."""

    __tablename__ = "ss_payment"
    __table_args__ = (
        UniqueConstraint("id_number", "period"),
        # a month's list sorted by an amount or the date (migration 0014)
        Index("ix_ss_payment_period_basic_fen", "period", "basic_fen"),
        Index("ix_ss_payment_period_account_fen", "period", "account_fen"),
        Index("ix_ss_payment_period_total_fen", "period", "total_fen"),
        Index("ix_ss_payment_period_paid_date", "period", "paid_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    period: Mapped[int] = mapped_column(Integer, index=True)  # YYYYMM
    basic_fen: Mapped[int] = mapped_column(Integer, default=0)
    account_fen: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(Integer)
    paid_date: Mapped[date | None] = mapped_column(Date)


class RecordHistory(Base):
    """The previous value of every field a back-flow changed: what the county changed, and when."""

    __tablename__ = "record_history"
    __table_args__ = (Index("ix_record_history_dataset_key", "dataset", "record_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(64))  # natural key, parts joined by "|"
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)


class ImportMapping(Base):
    """A column mapping the clerk confirmed for one source layout (the file's header row)."""

    __tablename__ = "import_mapping"

    layout_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the headers
    dataset: Mapped[str] = mapped_column(String(32))
    mapping: Mapped[str] = mapped_column(Text)  # JSON: {"column index": "field"}
    headers: Mapped[str] = mapped_column(Text)  # JSON list, for showing and debugging
    confirmed_by: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime)


class TrustedSender(Base):
    """A sender's Ed25519 public key, registered at installation (never taken from a package)."""

    __tablename__ = "trusted_sender"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime)


class PackageReceipt(Base):
    """Every exchange package seen: applied, held (waiting for an earlier sequence) or refused."""

    __tablename__ = "package_receipt"
    __table_args__ = (Index("ix_package_receipt_sender_sequence", "sender_code", "sequence"),)

    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_code: Mapped[str] = mapped_column(String(12))
    recipient_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # applied | held
    file_name: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A held package's bytes (verified), applied once the missing sequence arrives.
    held_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)


class FormValue(Base):
    """一表通: one value of one element for one subject and period — never for a form. Every form
    that uses the element shows this value."""

    __tablename__ = "form_value"
    __table_args__ = (UniqueConstraint("element", "subject", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(32))  # area code, 户号 or ID number (by level)
    period: Mapped[str] = mapped_column(String(8), index=True)  # 2026-10, 2026Q3, 2026H2, 2026
    value: Mapped[str | None] = mapped_column(Text)  # canonical text: integers, fen, ISO dates
    origin: Mapped[str] = mapped_column(String(16))  # computed | entered | overridden
    computed_value: Mapped[str | None] = mapped_column(Text)  # what the back-flow data says
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batch.id")
    )  # newest data computed from
    reason: Mapped[str | None] = mapped_column(Text)  # why a computed value was overridden
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    # Changes so far: each ORM UPDATE checks and bumps it (office mode: no lost update).
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it


class FormValueHistory(Base):
    __tablename__ = "form_value_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("form_value.id"), index=True)
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    old_origin: Mapped[str | None] = mapped_column(String(16))
    new_origin: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class FormStatus(Base):
    """Workflow of one form for one area and period: draft → submitted (locked) → returned."""

    __tablename__ = "form_status"
    __table_args__ = (UniqueConstraint("template", "area", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(12))
    period: Mapped[str] = mapped_column(String(8))
    # draft | review (待审核) | submitted (已上报) | returned (已退回) | accepted (已接收)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    # The template version the form was filled with, pinned when it is first submitted: a newer
    # version installed later applies to later periods only.
    template_version: Mapped[str | None] = mapped_column(String(32))
    submitted_by: Mapped[str | None] = mapped_column(String(64))  # the 经办人 who submitted it
    reviewed_by: Mapped[str | None] = mapped_column(String(64))  # the 审核人 who approved it
    report_package: Mapped[str | None] = mapped_column(String(64))  # the last report package sent


class Account(Base):
    """A person who signs in. Credentials (the password hash and the wrapped database key) live
    in the key file beside the database; the role lives here, inside the (encrypted) database,
    where editing it needs the key."""

    __tablename__ = "account"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # clerk | reviewer | sysadmin | auditor
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """One line of the append-only, hash-chained audit trail (triggers refuse UPDATE and DELETE;
    ``mac`` covers this entry and the previous entry's ``mac``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))  # ok | failed | refused
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    mac: Mapped[str] = mapped_column(String(64))
    # Format 2 (JSON): the signature by this entry's one-time key, the next entry's public key,
    # and, where a new run of keys starts, its first key and why. NULL: format 1 (HMAC), before
    # the upgrade to revision 0005.
    seal: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditState(Base):
    """The audit trail's writer: the one-time private key for the next entry (``seq``), and its
    public half, which the last entry names. Replaced with every entry; removed from backups."""

    __tablename__ = "audit_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # why private_key is gone


class StoredTemplate(Base):
    """A department form added after installation — from a county report task or by the 系统管理员
    from a file — kept as its TOML text, versioned. It applies to periods from ``effective_from``
    on (empty: every period); a form already submitted keeps the version it was filled with."""

    __tablename__ = "form_template"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[str] = mapped_column(String(8), default="")
    file_name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)  # the template file's TOML text
    origin: Mapped[str] = mapped_column(String(16))  # package | file
    package_id: Mapped[str | None] = mapped_column(String(64))
    installed_by: Mapped[str] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(DateTime)


class StoredElements(Base):
    """Data elements a report task added to the dictionary (an ``elements.toml`` of new codes;
    a code is defined once: a package may not redefine a code differently)."""

    __tablename__ = "form_elements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    package_id: Mapped[str | None] = mapped_column(String(64))
    installed_by: Mapped[str] = mapped_column(String(64))
    installed_at: Mapped[datetime] = mapped_column(DateTime)


class TownshipKey(Base):
    """The township's Ed25519 signing key for the packages it sends up. The private half is kept
    only wrapped (AES-256-GCM under a key derived from the database key), inside the encrypted
    database; a retired key loses its private half and keeps its public half, so that packages it
    signed stay verifiable."""

    __tablename__ = "township_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_wrapped: Mapped[str | None] = mapped_column(Text)  # JSON; NULL once retired
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    retired_by: Mapped[str | None] = mapped_column(String(64))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboxPackage(Base):
    """Every package the township made: what, to whom, which sequence, when, signed by which key,
    the bytes themselves (to write again) and what the recipient's receipt said."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("recipient_code", "sequence"),)

    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient_code: Mapped[str] = mapped_column(String(12))
    recipient_name: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)  # what it carries, in a line
    refers_to: Mapped[str | None] = mapped_column(String(64))  # a task, a package acknowledged …
    replaces: Mapped[str | None] = mapped_column(String(64))  # the report this one resubmits
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    written_to: Mapped[str | None] = mapped_column(Text)  # the folder it was last written to
    written_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The recipient's receipt: applied | already_received | refused (NULL: none yet)
    receipt_status: Mapped[str | None] = mapped_column(String(16))
    receipt_reason: Mapped[str | None] = mapped_column(String(64))
    receipt_at: Mapped[datetime | None] = mapped_column(DateTime)


class ReportTask(Base):
    """A report task the county sent down (``report_task`` package): which form, for which period
    and area, from whom, by when."""

    __tablename__ = "report_task"

    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(8))
    area: Mapped[str] = mapped_column(String(12))
    issuer_code: Mapped[str] = mapped_column(String(12))
    issuer_name: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    package_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Reply(Base):
    """An answer from above (``reply`` package) to a report, a correction or a share request."""

    __tablename__ = "reply"

    reply_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # 答复编号
    target_kind: Mapped[str] = mapped_column(String(16))  # report | correction | share_request
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    result: Mapped[str] = mapped_column(String(16))  # accepted | returned | rejected | granted …
    note: Mapped[str] = mapped_column(Text, default="")
    replied_on: Mapped[date] = mapped_column(Date)
    batch: Mapped[str | None] = mapped_column(String(64))  # 生效批次
    package_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class CheckCase(Base):
    """One hit of a cross-department check (比对核查) on one person: what the data said (the
    evidence), and what the township made of it (待核实 → 村已核实 / 镇已审核 → 确认有误 or 误报)."""

    __tablename__ = "check_case"
    __table_args__ = (UniqueConstraint("check_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(32))  # ID number (or 户号)
    name: Mapped[str] = mapped_column(String(64))
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    # open | village_verified | township_reviewed | confirmed | false_alarm | gone
    state: Mapped[str] = mapped_column(String(20), index=True)
    evidence: Mapped[str] = mapped_column(Text)  # canonical JSON: the facts the check read
    evidence_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of ``evidence``
    batches: Mapped[str] = mapped_column(Text, default="[]")  # JSON: batches behind the evidence
    first_found_at: Mapped[datetime] = mapped_column(DateTime)
    last_found_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)  # the last reason or finding written
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class CheckCaseEvent(Base):
    """What happened to a case, in order: found, verified, confirmed, reopened by new evidence …"""

    __tablename__ = "check_case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("check_case.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)


class Correction(Base):
    """A 校核纠错 request to the department a record came from: this field of this record is
    wrong, it should be that, because of this. Sent up in a ``correction`` package; answered by a
    ``reply``; closed by itself when a later back-flow brings the proposed value."""

    __tablename__ = "correction"

    correction_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # 纠错编号 (UUID)
    dataset: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(32), index=True)  # ID number or 户号
    name: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))  # the contract's column name, e.g. 出生日期
    current_value: Mapped[str] = mapped_column(Text)
    proposed_value: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)  # 依据
    found_by: Mapped[str] = mapped_column(String(20))  # import_rejection | cross_check | clerk
    case_id: Mapped[int | None] = mapped_column(ForeignKey("check_case.id"))
    department: Mapped[str] = mapped_column(String(128))  # the source department
    recipient_code: Mapped[str | None] = mapped_column(String(12))
    raised_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)  # set when sent: working days
    # draft | sent | accepted | rejected | corrected
    state: Mapped[str] = mapped_column(String(16), index=True)
    package_id: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)  # the department's reply
    corrected_batch: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    changed_at: Mapped[datetime] = mapped_column(DateTime)
