"""A reportlab document that goes to its file page by page, so that a PDF of 250,000 forms takes
the memory of one page, not of all of them.

reportlab's own document keeps every page (its drawing operators as Python strings) until
``save()``: 15–35 KB a page, gigabytes for a township's batch of 登记表. Here each page is
formatted and written — its content stream compressed — the moment the canvas finishes it,
and forgotten; only its object number and file offset are kept (two machine integers). What
every page shares is written at the end: the fonts (their subsets are known only then), the page
tree, the document information, and the cross-reference table.

The page label (第 X 页 共 Y 页) needs the number of pages, which a stream of forms knows only
at its end, so each page gets a second, tiny content stream with its label, written then
(``/Contents [page label]``: a viewer reads the two as one stream, the label drawn last, as the
single-stream writer drew it). Only reportlab's document objects are replaced; the canvas, the
fonts and their subsetting are reportlab's.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any, BinaryIO

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas


class _PageTree(pdfdoc.PDFPages):
    """The page tree, its kids given by object number (the pages themselves are long gone)."""

    def __init__(self, numbers: array[int]) -> None:
        super().__init__()
        self.numbers = numbers

    def check_format(self, document: Any) -> None:
        kids = bytearray(b"[")  # built in place: a list of 500,000 pieces would be 25 MB
        for number in self.numbers:
            kids += b"%d 0 R " % number
        kids[-1:] = b"]"
        self.Kids = bytes(kids)
        self.Count = len(self.numbers)


class StreamedDocument(pdfdoc.PDFDocument):
    """reportlab's document, written to ``out`` as pages are added (see the module)."""

    def __init__(self, out: BinaryIO, **options: Any) -> None:
        super().__init__(**options)
        self.out = out
        self.offset = 0
        self.offsets = array("q")  # file offset by object number; -1: not written yet
        self.page_numbers: array[int] = array("l")
        self.label_numbers: array[int] = array("l")  # each page's label stream (reserved)
        self.Pages = self._catalog.Pages = _PageTree(self.page_numbers)
        self._write(pdfdoc.PDFFile(self._pdfVersion).format(self))

    def _write(self, data: bytes) -> int:
        at = self.offset
        self.out.write(data)
        self.offset += len(data)
        return at

    def _placed(self, number: int, offset: int) -> None:
        while len(self.offsets) <= number:
            self.offsets.append(-1)
        self.offsets[number] = offset

    def _emit(self, name: str, *, forget: bool = True) -> None:
        """Write the registered object ``name`` now; ``forget`` it (a page and its stream: no
        other object refers to them by name)."""
        number = self.idToObjectNumberAndVersion[name][0]
        data = pdfdoc.PDFIndirectObject(name, self.idToObject[name]).format(self)
        self._placed(number, self._write(data))
        if forget:
            del self.idToObject[name], self.idToObjectNumberAndVersion[name]
        del self.numberToId[number]

    def _reserve(self) -> int:
        self.objectcounter += 1
        return int(self.objectcounter)

    def addPage(self, page: Any) -> None:
        """The page, as the canvas finished it: its stream compressed and written with it."""
        name = self.thisPageName()
        self.Reference(page, name)
        self.pageCounter += 1
        self.inObject = None
        stream = pdfdoc.PDFStream(content=page.stream, filters=[pdfdoc.PDFZCompress])
        page.stream = None
        content = self.Reference(stream).name
        label = self._reserve()
        number = self.idToObjectNumberAndVersion[name][0]
        page.Contents = b"[%d 0 R %d 0 R]" % (self.idToObjectNumberAndVersion[content][0], label)
        self.page_numbers.append(number)
        self.label_numbers.append(label)
        self._emit(name)
        self._emit(content)

    def add_labels(self, label: Callable[[int, int], str]) -> None:
        """Each page's label stream: ``label(page, pages)`` returns its drawing operators."""
        total = len(self.label_numbers)
        for index, number in enumerate(self.label_numbers):
            stream = pdfdoc.PDFStream(
                content=label(index + 1, total), filters=[pdfdoc.PDFZCompress]
            )
            data = b"%d 0 obj\n" % number + stream.format(self) + b"\nendobj\n"
            self._placed(number, self._write(data))

    def SaveToFile(self, filename: Any, canvas: Any) -> None:
        """What the pages share, then the cross-reference table and the trailer."""
        for font in self.delayedFonts:
            font.addObjects(self)
        self.info.invariant = self.invariant
        self.info.digest(self.signature)
        self.Reference(self.Catalog)
        self.Reference(self.info)
        self.Outlines.prepare(self, canvas)
        if self.Outlines.ready < 0:
            self.Catalog.Outlines = None
        self.encrypt.prepare(self)
        number = 0
        while number < self.objectcounter:  # formatting may register more objects
            number += 1
            if number in self.numberToId:
                self._emit(self.numberToId[number], forget=False)
        count = self.objectcounter
        start = self._write(b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1))
        for first in range(1, count + 1, 10_000):  # in pieces: 3 objects a page, 500,000 pages
            last = min(first + 10_000, count + 1)
            self._write(b"".join(b"%010d 00000 n \n" % self.offsets[n] for n in range(first, last)))
        trailer = pdfdoc.PDFTrailer(
            startxref=start,
            Size=count + 1,
            Root=self.Reference(self.Catalog),
            Info=self.Reference(self.info),
            ID=self.ID(),
        )
        self._write(trailer.format(self))


def streamed_canvas(out: BinaryIO, pagesize: tuple[float, float], font_name: str) -> Canvas:
    """A canvas whose pages go to ``out`` as they are shown (save() writes the rest)."""
    canvas = Canvas(out, pagesize=pagesize, pageCompression=1, initialFontName=font_name)
    canvas._doc = StreamedDocument(out, compression=1, pdfVersion=canvas._doc._pdfVersion)
    canvas._make_preamble()  # the initial font, registered with this document
    return canvas
