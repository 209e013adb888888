"""Locate the data files under ``resources/`` both in a source checkout and in an installed wheel."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def resources_dir() -> Path:
    """The directory holding code tables, form templates, icons and demo vocabularies.

    Order: ``GOVSHARE_RESOURCES`` (for frozen builds and tests), the copy inside the installed
    package, then the source checkout's top-level ``resources/``.
    """
    override = os.environ.get("GOVSHARE_RESOURCES")
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"]
    for candidate in candidates:
        if (candidate / "codes").is_dir():
            return candidate
    raise FileNotFoundError(
        "找不到程序资源目录 resources/（代码表等），请重新安装本程序。已查找："
        + "、".join(map(str, candidates))
    )


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def load_json(*parts: str) -> Any:
    with resource_path(*parts).open(encoding="utf-8") as fh:
        return json.load(fh)
