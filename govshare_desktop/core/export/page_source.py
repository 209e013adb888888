"""The pages of some forms on demand, for a print preview and a printout that never hold a whole
batch: page k of a township's 登记表 is laid out when it is asked for, from the few forms around
it, and a printout streams the pages in order, laying each form out as its turn comes.

A form usually takes one page, but a long one may take more, and 「第 X 页 共 Y 页」 needs the
number of pages before the first is printed. :meth:`PageSource.count` lays every form out once,
keeps the number of pages of each (two bytes a form) and forgets the pages; the preview runs it
off the UI thread while the clerk looks at the first pages, a printout waits for it. Until it has
finished, page numbers past the counted forms are an estimate (one page a form), said as such.

Qt-free: the window paints the :class:`~govshare_desktop.core.export.paging.Page` objects.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.paging import Page, layout
from govshare_desktop.core.export.pdf import Sheets, batch_title, measure_with
from govshare_desktop.core.forms.sheet import Sheet
from govshare_desktop.core.progress import Cancel, Progress, check

CHUNK = 16  # forms laid out together when the preview asks for one of them
HELD_CHUNKS = 3  # the chunks kept (the one shown, the one before, the one after)
PRINT_CANCELLED = "已取消打印。"


@dataclass(frozen=True)
class Total:
    """The number of pages: exact once every form is counted, else the pages of the counted
    forms plus one for each form not yet counted."""

    pages: int
    exact: bool
    counted: int  # forms counted so far
    forms: int


class PageSource:
    """The pages of ``sheets`` (a list, or a streamed
    :class:`~govshare_desktop.core.export.batch.FormBatch`), laid out on demand. At most
    :data:`HELD_CHUNKS` × :data:`CHUNK` forms' pages are held at any time."""

    def __init__(self, sheets: Sheets, *, font: str = "", title: str | None = None) -> None:
        fonts.register(font)
        self.font = font
        self.sheets = sheets
        self.forms = len(sheets)
        self.title = title if title is not None else batch_title(sheets)
        self._measure = measure_with(fonts.FONT_NAME)
        self._held: OrderedDict[int, list[list[Page]]] = OrderedDict()  # chunk → its forms' pages
        self._held_lock = threading.Lock()
        self._counts = array("H")  # pages of each counted form, in order
        self._starts = array("l")  # the first page (0-based) of each counted form
        self._pages = 0  # pages of the counted forms
        self._count_lock = threading.Lock()
        self.laid_out = 0  # forms laid out for display (tests: on demand, not the whole batch)

    # ---------------------------------------------------------------- reading forms

    def _between(self, start: int, stop: int) -> Iterable[Sheet]:
        """The sheets ``start`` to ``stop`` (exclusive), read for just them where possible."""
        part = getattr(self.sheets, "part", None)
        if part is not None:
            return part(start, stop)  # type: ignore[no-any-return,unused-ignore]
        if not isinstance(self.sheets, Sequence):
            self.sheets = list(self.sheets)
        return self.sheets[start:stop]  # type: ignore[index,unused-ignore]

    def _chunk(self, index: int) -> list[list[Page]]:
        with self._held_lock:
            held = self._held.get(index)
            if held is not None:
                self._held.move_to_end(index)
                return held
        start = index * CHUNK
        # A fresh measure: this runs on the UI thread while a count may run on another.
        measure = measure_with(fonts.FONT_NAME)
        laid = [layout([sheet], measure) for sheet in self._between(start, start + CHUNK)]
        self.laid_out += len(laid)
        with self._held_lock:
            self._held[index] = laid
            while len(self._held) > HELD_CHUNKS:
                self._held.popitem(last=False)
        return laid

    def form_pages(self, form: int) -> list[Page]:
        """The pages of form ``form`` (0-based)."""
        if not 0 <= form < self.forms:
            raise IndexError(form)
        return self._chunk(form // CHUNK)[form % CHUNK]

    @property
    def held_pages(self) -> int:
        """Pages held for display right now (bounded whatever the batch's size)."""
        with self._held_lock:
            return sum(len(pages) for chunk in self._held.values() for pages in chunk)

    # ---------------------------------------------------------------- page numbers

    def total(self) -> Total:
        counted = len(self._counts)
        return Total(self._pages + self.forms - counted, counted == self.forms, counted, self.forms)

    def locate(self, page: int) -> tuple[int, int]:
        """(form, page within the form) of page ``page`` (0-based): exact within the counted
        forms, one page a form after them."""
        counted = len(self._counts)
        if page < self._pages:
            form = bisect_right(self._starts, page) - 1
            return form, page - self._starts[form]
        return min(counted + page - self._pages, self.forms - 1), 0

    def first_page(self, form: int) -> int:
        """The first page (0-based) of form ``form``, as far as the count knows."""
        counted = len(self._counts)
        if form < counted:
            return int(self._starts[form])
        return self._pages + form - counted

    def page(self, number: int) -> Page:
        """Page ``number`` (0-based) of the current :meth:`total`."""
        form, within = self.locate(number)
        pages = self.form_pages(form)
        return pages[min(within, len(pages) - 1)]

    def count(self, progress: Progress | None = None, cancel: Cancel | None = None) -> int:
        """Count the pages of every form not yet counted (laying each out and forgetting it);
        the number of pages. One count at a time: a second caller waits for the first, and a
        cancelled count is taken up where it stopped."""
        while not self._count_lock.acquire(timeout=0.1):
            check(cancel, PRINT_CANCELLED)
        try:
            start = len(self._counts)
            if start == self.forms:
                return self._pages
            measure = measure_with(fonts.FONT_NAME)
            for form, sheet in enumerate(self._between(start, self.forms), start=start):
                check(cancel, PRINT_CANCELLED)
                pages = len(layout([sheet], measure))
                self._starts.append(self._pages)
                self._counts.append(pages)
                self._pages += pages
                if progress is not None and (form % 200 == 0 or form + 1 == self.forms):
                    progress(form + 1, self.forms, f"正在统计页数：第 {form + 1} 份")
            return self._pages
        finally:
            self._count_lock.release()

    # ---------------------------------------------------------------- printing

    def stream(
        self,
        first: int = 1,
        last: int | None = None,
        *,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Iterator[tuple[int, int, Page]]:
        """(number, total, page) of pages ``first`` to ``last`` (1-based, inclusive; all by
        default) in order, after counting them: each form is read and laid out as its turn
        comes and nothing is kept."""
        total = self.count(progress, cancel)
        last = total if last is None else min(last, total)
        if first > last:
            return
        form, within = self.locate(first - 1)
        number = first - within
        measure = measure_with(fonts.FONT_NAME)
        for sheet in self._between(form, self.forms):
            check(cancel, PRINT_CANCELLED)
            for page in layout([sheet], measure):
                if number >= first:
                    yield number, total, page
                number += 1
                if number > last:
                    return
