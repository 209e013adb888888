"""Which township this database serves (a database serves exactly one), and its villages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.engine import Store
from govshare_desktop.core.store.models import Area, Setting

KEY_TOWNSHIP_CODE = "township_code"
KEY_DEMO = "demo"

_AREA_CODE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    county_code: str
    is_demo: bool


def validate_township_code(code: str) -> str:
    """A township's 统计用区划代码: 12 digits, a non-zero township part and ``000`` as village part."""
    value = code.strip()
    if not _AREA_CODE.match(value):
        raise UserError(f"区划代码“{code}”应为12位数字（统计用区划代码，例：441900199000）")
    if value[6:9] == "000" or value[9:] != "000":
        raise UserError(
            f"区划代码“{code}”不是乡镇（街道）级代码：第7–9位为乡镇代码且不为000，第10–12位应为000"
        )
    return value


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def set_setting(session: Session, key: str, value: str) -> None:
    session.merge(Setting(key=key, value=value))


def init_township(
    session: Session, code: str, name: str, *, county_name: str = "", demo: bool = False
) -> Township:
    """Record the township this database serves. Re-initialising with another code is refused."""
    code = validate_township_code(code)
    name = name.strip()
    if not name:
        raise UserError("乡镇（街道）名称不能为空")
    existing = get_setting(session, KEY_TOWNSHIP_CODE)
    if existing and existing != code:
        raise UserError(
            f"该数据库已用于乡镇（街道）{existing}，不能再初始化为 {code}。"
            "一个数据库只服务一个乡镇（街道），请使用 --db 指定另一个数据库文件。"
        )
    county_code = code[:6] + "000000"
    if session.get(Area, county_code) is None:
        session.add(Area(code=county_code, name=county_name or county_code, level="county"))
    area = session.get(Area, code)
    if area is None:
        session.add(Area(code=code, name=name, level="township", parent_code=county_code))
    else:
        area.name = name
    set_setting(session, KEY_TOWNSHIP_CODE, code)
    set_setting(session, KEY_DEMO, "1" if demo else "0")
    session.flush()
    return Township(code=code, name=name, county_code=county_code, is_demo=demo)


def get_township(store_or_session: Store | Session) -> Township | None:
    if isinstance(store_or_session, Store):
        with store_or_session.sessions() as session:
            return get_township(session)
    session = store_or_session
    code = get_setting(session, KEY_TOWNSHIP_CODE)
    if code is None:
        return None
    area = session.get(Area, code)
    return Township(
        code=code,
        name=area.name if area else code,
        county_code=code[:6] + "000000",
        is_demo=get_setting(session, KEY_DEMO) == "1",
    )


def add_village(
    session: Session,
    code: str,
    name: str,
    *,
    urban_rural_code: str | None = None,
    needs_review: bool = False,
) -> Area:
    township = get_township(session)
    if township is None:
        raise UserError("尚未初始化乡镇（街道），请先运行 govshare init")
    if not _AREA_CODE.match(code) or code[:9] != township.code[:9] or code[9:] == "000":
        raise UserError(f"村（社区）代码“{code}”不属于本乡镇（街道）{township.code}")
    area = session.get(Area, code)
    if area is None:
        area = Area(code=code, name=name, level="village", parent_code=township.code)
        session.add(area)
    area.name = name
    area.urban_rural_code = urban_rural_code
    area.needs_review = needs_review
    return area


def villages(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.level == "village").order_by(Area.code)))
