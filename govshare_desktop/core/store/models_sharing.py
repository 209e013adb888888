"""What the township knows of sharing beyond its back-flow: the county's working-day calendar for
the years the built-in table lacks, the catalog (目录) of what it may apply for, its share requests
(共享申请) and the datasets each catalog resource arrives as. Re-exported by
:mod:`govshare_desktop.core.store.models`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govshare_desktop.core.store.models_base import Base


class CalendarDay(Base):
    """One exception to the week from a county ``calendar`` package: a day off (holiday) or a
    weekend working day (workday). A package replaces every row of each year it covers."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    name: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer, index=True)  # the arrangement's year
    package_id: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class CatalogResource(Base):
    """One entry of the county's catalog (the 2017 编制指南's fields), replaced whole by each
    ``catalog`` package."""

    __tablename__ = "catalog_resource"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # 资源代码
    name: Mapped[str] = mapped_column(String(200))
    name_initials: Mapped[str] = mapped_column(String(200), index=True)
    provider: Mapped[str] = mapped_column(String(128))  # 提供方
    provider_code: Mapped[str] = mapped_column(String(12))
    summary: Mapped[str] = mapped_column(Text)  # 资源摘要
    items: Mapped[str] = mapped_column(Text)  # 信息项, separated by 、
    share_type: Mapped[str] = mapped_column(String(8), index=True)  # 无条件 | 有条件 | 不予
    condition: Mapped[str] = mapped_column(Text)  # 共享条件 (or the 不予共享 basis)
    method: Mapped[str] = mapped_column(String(16))  # 文件 | 数据库 | 接口
    cycle: Mapped[str] = mapped_column(String(16))  # 更新周期
    published_on: Mapped[date] = mapped_column(Date)
    package_id: Mapped[str] = mapped_column(String(64))


class CatalogLink(Base):
    """A catalog resource the township receives as one of its back-flow datasets: matched by name
    when the catalog arrives, or named by the package a granted request said to expect."""

    __tablename__ = "catalog_link"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(32), primary_key=True)
    how: Mapped[str] = mapped_column(String(16))  # name | request


class ShareRequest(Base):
    """A 共享申请: drafted from a catalog entry, approved by the 审核人, sent up, answered by a
    ``reply`` (granted / refused), and closed by the first back-flow that brings the data."""

    __tablename__ = "share_request"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # 申请编号 (UUID)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    resource_name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(128))
    provider_code: Mapped[str] = mapped_column(String(12))
    share_type: Mapped[str] = mapped_column(String(8))
    items: Mapped[str] = mapped_column(Text)  # the 信息项 asked for, separated by 、
    purpose: Mapped[str] = mapped_column(Text)  # 用途
    basis: Mapped[str] = mapped_column(Text)  # 依据
    scope: Mapped[str] = mapped_column(Text)  # 范围
    use_until: Mapped[date] = mapped_column(Date)  # 使用期限
    # draft | approved | sent | granted | refused | received
    state: Mapped[str] = mapped_column(String(12), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)  # 答复期限, in working days
    package_id: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)  # the provider's 说明
    answered_on: Mapped[date | None] = mapped_column(Date)
    expected_package: Mapped[str | None] = mapped_column(String(64))  # 生效批次
    received_batch: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
