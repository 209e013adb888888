"""The 公钥登记单: one A4 page the township prints, signs, stamps and hands to the county with its
public key file, so that the county registers the right key. It carries the township's name and
code, the key's fingerprint in groups of four (to compare by reading aloud), the PEM text itself, the
date and the signature and seal lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from govshare_desktop.core.export import fonts

TITLE = "乡镇（街道）数据交换公钥登记单"


def write_key_sheet(
    path: Path,
    *,
    township: str,
    code: str,
    pem: bytes,
    fingerprint: str,
    made_on: date,
    author: str = "",
    anchor: str = "",
) -> None:
    from reportlab.lib.pagesizes import A4  # heavy: reportlab loads only for PDFs
    from reportlab.lib.units import mm  # heavy: reportlab loads only for PDFs
    from reportlab.pdfgen.canvas import Canvas  # heavy: reportlab loads only for PDFs

    fonts.register()
    width, height = A4
    canvas = Canvas(str(path), pagesize=A4, initialFontName=fonts.FONT_NAME)
    canvas.setTitle(TITLE)
    canvas.setAuthor(author)
    canvas.setCreator("govshare-desktop")
    if anchor:
        canvas.setKeywords(f"govshare-audit:{anchor}")
    left, y = 25 * mm, height - 30 * mm
    canvas.setFont(fonts.FONT_NAME, 18)
    canvas.drawCentredString(width / 2, y, TITLE)
    y -= 16 * mm
    groups = [fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4)]
    rows = [
        ("单位名称", township),
        ("统计用区划代码", code),
        ("密钥算法", "Ed25519（govshare-exchange/1 数据包签名）"),
        ("公钥指纹（SHA-256）", " ".join(groups[:8])),
        ("", " ".join(groups[8:])),
        ("生成登记单日期", f"{made_on.year} 年 {made_on.month} 月 {made_on.day} 日"),
    ]
    hexadecimal = {" ".join(groups[:8]), " ".join(groups[8:])}
    for label, value in rows:
        canvas.setFont(fonts.FONT_NAME, 11)
        canvas.drawString(left, y, label)
        canvas.setFont("Courier-Bold" if value in hexadecimal else fonts.FONT_NAME, 12)
        canvas.drawString(left + 42 * mm, y, value)
        y -= 9 * mm
    y -= 3 * mm
    canvas.drawString(left, y, "公钥（PEM）：")
    y -= 7 * mm
    canvas.setFont("Courier", 10)
    for line in pem.decode("ascii").strip().splitlines():
        canvas.drawString(left + 5 * mm, y, line)
        y -= 5.5 * mm
    canvas.setFont(fonts.FONT_NAME, 10.5)
    y -= 6 * mm
    note = (
        "请县级平台登记上述公钥，并与本单位电话核对指纹；此后本单位报送的数据包均以此密钥签名。"
        "更换密钥时须重新登记。"
    )
    for part in (note[:40], note[40:]):
        canvas.drawString(left, y, part)
        y -= 6.5 * mm
    y -= 18 * mm
    canvas.setFont(fonts.FONT_NAME, 11)
    for label in ("经办人（签字）：", "单位负责人（签字）：", "单位（盖章）："):
        canvas.drawString(left, y, label)
        canvas.line(left + 42 * mm, y - 1.5 * mm, left + 110 * mm, y - 1.5 * mm)
        y -= 16 * mm
    canvas.drawString(left + 95 * mm, y, "年      月      日")
    canvas.showPage()
    canvas.save()
