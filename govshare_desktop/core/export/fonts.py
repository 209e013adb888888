"""The CJK TrueType font that PDF forms embed (as a subset), found in this order:

1. a path the clerk or IT set (``GOVSHARE_PDF_FONT``, or the ``pdf_font`` setting passed in);
2. ``resources/fonts/`` if a font is shipped there;
3. the system's 宋体 (SimSun) or another installed CJK TrueType/TTC font: Windows, UOS/Kylin and
   Debian locations, Song (Ming) styles first because official forms are set in 宋体.

OpenType/CFF fonts (``.otf``, e.g. Noto Sans CJK) cannot be embedded by reportlab and are skipped.
None found is a clear Chinese error naming what to install.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.resources import resource_path

ENV_FONT = "GOVSHARE_PDF_FONT"
FONT_NAME = "GovshareCJK"

# Well-known files, best first: (file name, preferred face inside a .ttc)
KNOWN = (
    ("simsun.ttc", b"SimSun"),
    ("simsun.ttf", None),
    ("SimSun.ttf", None),
    ("uming.ttc", b"UMingCN"),
    ("ukai.ttc", b"UKaiCN"),
    ("simhei.ttf", None),
    ("msyh.ttc", None),
    ("msyh.ttf", None),
    ("wqy-zenhei.ttc", None),
    ("wqy-microhei.ttc", None),
    ("DroidSansFallbackFull.ttf", None),
    ("DroidSansFallback.ttf", None),
)


def _system_dirs() -> list[Path]:
    windows = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    local = os.environ.get("LOCALAPPDATA")
    dirs = [windows]
    if local:
        dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    dirs += [
        Path.home() / ".local" / "share" / "fonts",
        Path.home() / ".fonts",
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        Path("/System/Library/Fonts"),
        Path("/Library/Fonts"),
    ]
    return [d for d in dirs if d.is_dir()]


@dataclass(frozen=True)
class FontChoice:
    path: Path
    subfont: int  # face index inside a .ttc
    name: str  # the face's PostScript name, for messages

    def __str__(self) -> str:
        return f"{self.name}（{self.path}）"


def _face(path: Path, preferred: bytes | None) -> FontChoice | None:
    """The face of a TrueType font (collection) that has Chinese glyphs, or None."""
    from reportlab.pdfbase.ttfonts import TTFontFile  # heavy: reportlab loads only for PDFs

    faces = range(8) if path.suffix.lower() == ".ttc" else range(1)
    found: list[FontChoice] = []
    for index in faces:
        try:
            font = TTFontFile(str(path), subfontIndex=index, validate=0)
        except Exception:  # past the last face, or not a font reportlab can embed
            break
        if 0x4E2D not in font.charToGlyph or 0x5355 not in font.charToGlyph:  # 中, 单
            continue
        choice = FontChoice(path, index, font.name.decode("latin-1", "replace"))
        if preferred is None or font.name == preferred:
            return choice
        found.append(choice)
    return found[0] if found else None


def find_cjk_font(configured: str | None = None) -> FontChoice:
    """The font to embed; a UserError saying what to install when there is none."""
    return _find(configured or os.environ.get(ENV_FONT) or "")


@lru_cache(maxsize=4)
def _find(configured: str) -> FontChoice:
    if configured:
        path = Path(configured).expanduser()
        choice = _face(path, None) if path.is_file() else None
        if choice is None:
            raise UserError(
                f"设置的 PDF 字体“{configured}”不存在，或不是含中文字形的 TrueType 字体（.ttf/.ttc）"
            )
        return choice
    shipped = resource_path("fonts")
    candidates: list[tuple[Path, bytes | None]] = []
    if shipped.is_dir():
        candidates += [(p, None) for p in sorted(shipped.glob("*.tt[fc]"))]
    dirs = _system_dirs()
    by_name: dict[str, list[Path]] = {}
    for directory in dirs:
        for path in directory.rglob("*"):
            if path.suffix.lower() in (".ttf", ".ttc"):
                by_name.setdefault(path.name.lower(), []).append(path)
    for file_name, preferred in KNOWN:
        candidates += [(p, preferred) for p in by_name.get(file_name.lower(), [])]
    for path, preferred in candidates:
        choice = _face(path, preferred)
        if choice is not None:
            return choice
    # Anything else installed that has Chinese glyphs (checked by its character map).
    known = {name.lower() for name, _ in KNOWN}
    for name, paths in sorted(by_name.items()):
        if name not in known:
            for path in paths:
                choice = _face(path, None)
                if choice is not None:
                    return choice
    raise UserError(
        "找不到可嵌入 PDF 的中文字体。请安装宋体（SimSun，Windows 自带）或文泉驿/文鼎字体"
        "（Debian/UOS/麒麟：sudo apt install fonts-arphic-uming fonts-wqy-microhei），"
        f"或在环境变量 {ENV_FONT} 中写明 .ttf/.ttc 字体文件的路径。"
    )


@lru_cache(maxsize=4)
def register(configured: str = "") -> FontChoice:
    """Register the chosen font with reportlab under :data:`FONT_NAME` (once per process)."""
    from reportlab.pdfbase import pdfmetrics  # heavy: reportlab loads only for PDFs
    from reportlab.pdfbase.ttfonts import TTFont  # heavy: reportlab loads only for PDFs

    choice = find_cjk_font(configured or None)
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(choice.path), subfontIndex=choice.subfont))
    return choice
