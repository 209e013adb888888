"""Villages and communities named in back-flowed data: found by code or by name (东岭村 ↔ 东岭村委会),
added under the township and flagged for the clerk to confirm when not known yet — never a reason
to drop a person."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from govshare_desktop.core.backflow.normalize import AREA_OUTSIDE_TOWNSHIP, FieldError
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.store.township import add_village, get_township, villages

_SUFFIXES = (
    "村民委员会",
    "居民委员会",
    "社区居民委员会",
    "社区居委会",
    "居委会",
    "村委会",
    "社区",
    "村",
)
PROVISIONAL_FROM = (
    901  # provisional village codes: township + 901…999, until the clerk corrects them
)


def core_name(name: str) -> str:
    """``东岭村委会`` / ``东岭村`` / ``东岭村民委员会`` → ``东岭``; ``青禾社区居委会`` → ``青禾``."""
    value = re.sub(r"\s+", "", name)
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)]
    return value


class VillageResolver:
    def __init__(self, session: Session) -> None:
        township = get_township(session)
        if township is None:
            raise UserError("尚未设置本乡镇（街道），请先初始化数据库（govshare init）")
        self.session = session
        self.township = township
        self.names: dict[str, str] = {}
        self.by_core: dict[str, str] = {}
        for village in villages(session):
            self.names[village.code] = village.name
            self.by_core.setdefault(core_name(village.name), village.code)
        self.added: list[tuple[str, str]] = []  # (code, name) added by this import

    def resolve(self, code: str | None, name: str | None) -> str | None:
        if code:
            if code[:9] != self.township.code[:9] or code[9:] == "000":
                raise FieldError(
                    AREA_OUTSIDE_TOWNSHIP,
                    f"村（社区）代码 {code} 不属于本乡镇（街道）{self.township.name}（{self.township.code}）",
                )
            if code not in self.names:
                self._add(code, name or f"村（社区）{code[9:]}")
            return code
        if not name:
            return None
        found = self.by_core.get(core_name(name))
        if found:
            return found
        used = {int(c[9:]) for c in self.names}
        number = next(n for n in range(PROVISIONAL_FROM, 1000) if n not in used)
        new_code = f"{self.township.code[:9]}{number:03d}"
        self._add(new_code, name)
        return new_code

    def _add(self, code: str, name: str) -> None:
        add_village(self.session, code, name, needs_review=True)
        self.session.flush()
        self.names[code] = name
        self.by_core.setdefault(core_name(name), code)
        self.added.append((code, name))
