"""Records back-flowed from the departments beside 公安 and 人社: 民政 (社会救助, 高龄津贴 and the
残疾人两项补贴), 医保 (参保), 殡葬 (火化), 卫健 (死亡医学证明) and 残联 (残疾人证).

Like the social-security records they are keyed by their natural keys, carry their provenance, and
join persons by 公民身份号码, never by a foreign key: a department may name people outside this
township's household registry. Re-exported by :mod:`govshare_desktop.core.store.models`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare_desktop.core.store.models_base import Base, Provenance


class Assistance(Provenance, Base):
    """民政 社会救助: a 低保 or 特困 保障对象, one row per person and 救助类别 (code table
    assistance_category: 1x 低保, 2x 特困). A 低保 family's members each have a row, with the
    family's 保障人数 and their share of its monthly amount."""

    __tablename__ = "assistance"
    __table_args__ = (UniqueConstraint("id_number", "category_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    category_code: Mapped[str] = mapped_column(String(2), index=True)
    household_size: Mapped[int | None] = mapped_column(Integer)  # 保障人数
    monthly_fen: Mapped[int | None] = mapped_column(Integer)  # 月救助金额
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # 停止日期
    status_code: Mapped[str] = mapped_column(String(1))  # code table assistance_status
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


class AllowancePayment(Provenance, Base):
    """民政 津贴 paid for one month: 高龄津贴, 困难残疾人生活补贴 or 重度残疾人护理补贴 (code table
    allowance_category); amounts in integer fen."""

    __tablename__ = "allowance_payment"
    __table_args__ = (UniqueConstraint("id_number", "category_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    category_code: Mapped[str] = mapped_column(String(1), index=True)
    period: Mapped[int] = mapped_column(Integer, index=True)  # YYYYMM
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_date: Mapped[date | None] = mapped_column(Date)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


class MedicalEnrollment(Provenance, Base):
    """医保 参保 as the 医疗保障 department sends it (since 2018 a department of its own): one row
    per person and 险种 (310 职工, 390 城乡居民), with 参保身份 and 资助类型."""

    __tablename__ = "medical_enrollment"
    __table_args__ = (UniqueConstraint("id_number", "scheme_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    person_no: Mapped[str | None] = mapped_column(String(32))  # 医保个人编号 where sent
    scheme_code: Mapped[str] = mapped_column(String(3), index=True)  # code table medical_scheme
    status_code: Mapped[str] = mapped_column(String(1))  # code table medical_status
    year: Mapped[int | None] = mapped_column(Integer)  # 参保年度
    identity_code: Mapped[str | None] = mapped_column(String(2))  # medical_identity
    subsidy_code: Mapped[str | None] = mapped_column(String(1))  # medical_subsidy
    personal_fen: Mapped[int | None] = mapped_column(Integer)  # 个人缴费
    start_date: Mapped[date | None] = mapped_column(Date)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


class Cremation(Provenance, Base):
    """殡葬 火化: one per deceased person."""

    __tablename__ = "cremation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    death_date: Mapped[date | None] = mapped_column(Date)
    cremation_date: Mapped[date] = mapped_column(Date, index=True)
    funeral_home: Mapped[str | None] = mapped_column(String(128))  # 殡仪馆
    certificate_no: Mapped[str | None] = mapped_column(String(64))  # 火化证明编号


class DeathCertificate(Provenance, Base):
    """卫健 死亡医学证明（推断）书: one per deceased person (a corrected or reissued certificate
    replaces the first, its number kept in the history). The cause of death is not kept."""

    __tablename__ = "death_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    death_date: Mapped[date] = mapped_column(Date, index=True)
    place_code: Mapped[str | None] = mapped_column(String(1))  # code table death_place
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    institution: Mapped[str | None] = mapped_column(String(128))  # 签发机构
    issue_date: Mapped[date | None] = mapped_column(Date)


class DisabilityCard(Provenance, Base):
    """残联 残疾人证 (second generation: 证号 = 公民身份号码 + 残疾类别 + 残疾等级): one per person;
    残疾类别 GB/T 26341 (1 视力 … 7 多重), 等级 1 (most severe) to 4."""

    __tablename__ = "disability_card"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    card_no: Mapped[str | None] = mapped_column(String(32))
    category_code: Mapped[str] = mapped_column(String(1), index=True)
    level_code: Mapped[str | None] = mapped_column(String(1))
    issue_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status_code: Mapped[str] = mapped_column(String(1))  # code table disability_card_status
    village_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
