"""Draw the program icon: resources/icons/govshare.png (256 px) and govshare.ico (Windows sizes).

Run once after changing the design (the results are committed):
``QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icon.py``
"""

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 256


def draw() -> QImage:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(8, 8, SIZE - 16, SIZE - 16), 44, 44)
    painter.fillPath(tile, QColor("#b91c1c"))  # 政务 red
    # a sheet of paper with ruled lines: the form
    paper = QRectF(58, 40, 140, 176)
    painter.fillRect(paper, QColor("#fffaf0"))
    painter.setPen(QPen(QColor("#d6c8b0"), 5))
    for y in (150, 172, 194):
        painter.drawLine(78, y, 178, y)
    painter.setPen(QColor("#b91c1c"))
    font = QFont()
    font.setFamilies(["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "SimHei"])
    font.setPixelSize(96)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(58, 36, 140, 112), Qt.AlignmentFlag.AlignCenter, "政")
    painter.end()
    return image


def main() -> None:
    app = QApplication.instance() or QApplication([])
    ICONS.mkdir(parents=True, exist_ok=True)
    png = ICONS / "govshare.png"
    draw().save(str(png))
    Image.open(png).save(
        ICONS / "govshare.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (256, 256)]
    )
    del app


if __name__ == "__main__":
    main()
