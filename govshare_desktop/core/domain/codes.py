"""Code tables (GB/T 4761, GB 3304, GB/T 2261.1, 险种, statuses …) loaded from ``resources/codes``.

Each table maps a code to its Chinese label and also understands the labels and common aliases that
sending systems write instead of codes (``男``, ``汉``, ``城乡居民养老保险``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from govshare_desktop.core.domain.text import squeeze
from govshare_desktop.core.resources import load_json, resource_path


class UnknownCode(KeyError):
    def __init__(self, table: str, value: str) -> None:
        super().__init__(value)
        self.table = table
        self.value = value

    def __str__(self) -> str:
        return f"“{self.value}”不是有效的{self.table}代码或名称"


@dataclass(frozen=True)
class CodeTable:
    key: str
    name: str
    standard: str
    codes: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lookup: dict[str, str] = {}
        for code, label in self.codes.items():
            lookup.setdefault(squeeze(label), code)
        for alias, code in self.aliases.items():
            if code not in self.codes:
                raise ValueError(
                    f"code table {self.key}: alias {alias!r} points to unknown {code!r}"
                )
            lookup.setdefault(squeeze(alias), code)
        object.__setattr__(self, "_by_text", lookup)
        widths = {len(c) for c in self.codes if c.isdigit()}
        object.__setattr__(self, "_width", widths.pop() if len(widths) == 1 else None)

    def label(self, code: str | None, default: str | None = None) -> str:
        """Label of ``code``; an unknown code is shown as itself unless ``default`` is given."""
        if code is None:
            return default or ""
        return self.codes.get(code, code if default is None else default)

    def code(self, text: str | int) -> str:
        """Code for a code, label or alias; ``1`` → ``01`` where the table's codes are 2 digits."""
        value = squeeze(str(text))
        if value in self.codes:
            return value
        width = self._width  # type: ignore[attr-defined]
        if width and value.isdigit() and len(value) < width and value.zfill(width) in self.codes:
            return value.zfill(width)
        found = self._by_text.get(value)  # type: ignore[attr-defined]
        if found is None:
            raise UnknownCode(self.name, str(text))
        return found

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.codes.items())

    def __len__(self) -> int:
        return len(self.codes)


@cache
def table(key: str) -> CodeTable:
    """The code table ``resources/codes/<key>.json`` (cached; tables are immutable)."""
    data = load_json("codes", f"{key}.json")
    return CodeTable(
        key=key,
        name=data["name"],
        standard=data.get("standard", ""),
        codes=data["codes"],
        aliases=data.get("aliases", {}),
    )


def available() -> list[str]:
    return sorted(p.stem for p in resource_path("codes").glob("*.json"))


# Keys of the tables used by the data model, so callers do not repeat string literals.
SEX = "sex"
ETHNICITY = "ethnicity"
RELATIONSHIP = "relationship"
PERSON_STATUS = "person_status"
HOUSEHOLD_TYPE = "household_type"
SS_SCHEME = "ss_scheme"
SS_PAYMENT_STATUS = "ss_payment_status"
