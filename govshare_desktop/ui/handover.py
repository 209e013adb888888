"""账户交接单: the accounts, passwords and recovery secret shown once at setup, on one A4 page to
print, sign and lock away (the recovery secret in the safe).

The page is laid out as boxes (:class:`~govshare_desktop.core.export.paging.Page`) and printed
through the same preview and painter as the forms (:mod:`~govshare_desktop.ui.form_output`), in the
same embedded Chinese font. It is never written to a file by the program: a secret on paper in a
safe is the point, one in a PDF on the desktop is not (the printer dialog can still print to a file
if the office insists).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from govshare_desktop.core.export.fonts import FONT_NAME, register
from govshare_desktop.core.export.paging import A4, MM, Box, Page, wrap

TITLE = "账户交接单"
NOTES = (
    "1. 初始密码只用于第一次登录，登录后须立即修改为本人设置的密码。",
    "2. 恢复密钥用于所有管理员密码都遗失时恢复数据库，请与本单一起封存于保险柜，不要存放在电脑上。",
    "3. 本单含密码，请勿拍照、扫描或复印；交接完成后由接收人签字，妥善保管。",
)
LABEL_W = 52 * MM
MARGIN = 20 * MM
ROW_H = 11 * MM


def _measure(text: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth  # heavy: reportlab, when printing

    try:
        return float(stringWidth(text, FONT_NAME, size))
    except KeyError:  # the font is registered when first needed
        register()
        return float(stringWidth(text, FONT_NAME, size))


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Lines no wider than ``width``, no line starting with closing punctuation (it stays on
    the line before, a character past the width at most)."""
    lines: list[str] = []
    for line in wrap(text, width, size, _measure):
        if lines and line[:1] in "。，、；：）》”":
            lines[-1] += line[:1]
            line = line[1:]
        if line:
            lines.append(line)
    return lines


def handover_page(
    accounts: Sequence[tuple[str, str]],
    notes: Sequence[tuple[str, str]] = (),
    *,
    unit: str = "",
    where: str = "",
    now: datetime | None = None,
) -> Page:
    """The one page: title, unit, database, when; the accounts and secrets in a ruled table;
    ``notes`` (such as 磁盘加密) and the rules; signatures."""
    width, height = A4
    inner = width - 2 * MARGIN
    boxes: list[Box] = [
        Box(
            MARGIN, 18 * MM, inner, 12 * MM, ("govshare-desktop " + TITLE,), 18, "center", bold=True
        )
    ]
    y = 36 * MM
    heading = [f"单位：{unit}" if unit else "", f"数据库：{where}" if where else ""]
    heading.append(f"设置时间：{(now or datetime.now()):%Y-%m-%d %H:%M}")
    for line in filter(None, heading):
        for part in _wrap(line, inner, 10.5):
            boxes.append(Box(MARGIN, y, inner, 6 * MM, (part,), 10.5))
            y += 6 * MM
    y += 4 * MM
    value_w = inner - LABEL_W
    for label, value in accounts:
        lines = tuple(_wrap(value, value_w - 5 * MM, 12))
        h = max(ROW_H, len(lines) * 12 * 1.3 + 6)
        boxes.append(Box(MARGIN, y, LABEL_W, h, (label,), 11, border=True, bold=True))
        boxes.append(Box(MARGIN + LABEL_W, y, value_w, h, lines, 12, border=True))
        y += h
    y += 6 * MM
    for label, value in notes:
        for part in _wrap(f"{label}：{value}", inner, 10.5):
            boxes.append(Box(MARGIN, y, inner, 6 * MM, (part,), 10.5, bold=True))
            y += 6 * MM
        y += 2 * MM
    y += 2 * MM
    for note in NOTES:
        for part in _wrap(note, inner, 10.5):
            boxes.append(Box(MARGIN, y, inner, 6 * MM, (part,), 10.5))
            y += 6 * MM
    y = max(y + 14 * MM, height - 60 * MM)
    third = inner / 3
    for column, label in enumerate(("交接人（签字）：", "接收人（签字）：", "日期：")):
        boxes.append(Box(MARGIN + column * third, y, third, 10 * MM, (label,), 11, valign="bottom"))
    return Page(width, height, boxes, TITLE)
