"""登记表 batches streamed (issue 20): the forms a FormBatch reads chunk by chunk are those
collect_each collects all at once (same people, order, values, units), the streamed PDF is the PDF
the collected batch made (same pages, same text, the same pixels), and the memory of writing one
stays flat in the number of forms."""

from __future__ import annotations

import hashlib
import subprocess
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.errors import UserError
from govshare_desktop.core.export import fonts
from govshare_desktop.core.export.batch import FormBatch, form_batch
from govshare_desktop.core.export.forms import export_sheets, form_stream
from govshare_desktop.core.export.paging import MM, page_label
from govshare_desktop.core.export.pdf import draw_page, pages_for, write_pdf
from govshare_desktop.core.forms.sheet import Sheet, build_sheet
from govshare_desktop.core.forms.values import FormData, FormValues
from govshare_desktop.core.progress import Cancel, Cancelled

P = Period.parse("2026-10")
V = "441900199001"
NOW = datetime(2026, 11, 3, 9, 30)
INDIVIDUAL = (
    "rs_resident_pension_registration",
    "mz_elderly_allowance_application",
    "rs_pension_deferral_application",
)


def _same_form(a: FormData, b: FormData) -> None:
    assert (a.template, a.area, a.period, a.subjects, a.status, a.unit) == (
        b.template,
        b.area,
        b.period,
        b.subjects,
        b.status,
        b.unit,
    )
    assert a.attributes == b.attributes
    assert {c: {s: r.id for s, r in by.items()} for c, by in a.stored.items()} == {
        c: {s: r.id for s, r in by.items()} for c, by in b.stored.items()
    }


def _same_sheet(a: Sheet, b: Sheet) -> None:
    assert (a.title, a.rows, a.columns, a.cells, a.table_rows, a.header_rows) == (
        b.title,
        b.rows,
        b.columns,
        b.cells,
        b.table_rows,
        b.header_rows,
    )
    assert (a.column_widths, a.row_heights, a.landscape, a.masked) == (
        b.column_widths,
        b.row_heights,
        b.landscape,
        b.masked,
    )


@pytest.mark.parametrize("template_id", INDIVIDUAL)
def test_a_streamed_batch_reads_the_forms_collect_each_collects(
    pool: FormValues, template_id: str
) -> None:
    # A value entered for someone, so that the stored values are compared too.
    first = pool.collect_each(template_id, P)[0].area
    entered = next(
        c for c in pool.templates[template_id].elements if not pool.dictionary[c].computed
    )
    pool.set(entered, first, P, "1", user="clerk", now=NOW)
    for area in (None, V):
        collected = pool.collect_each(template_id, P, area=area)
        batch = form_batch(pool, template_id, P, area=area)
        assert len(batch) == len(collected) > 0
        small = FormBatch(pool, batch.template, P, batch.keys, chunk=7)  # chunk edges crossed
        streamed = list(small.forms())
        assert [d.area for d in streamed] == [d.area for d in collected]
        for a, b in zip(streamed, collected, strict=True):
            _same_form(a, b)
        for masked in (False, True):
            again = form_batch(pool, template_id, P, area=area, masked=masked)
            assert again.masked == all(s.masked for s in again)
            for a, b in zip(again, collected, strict=True):
                _same_sheet(a, build_sheet(b, masked=masked))
    assert collected[0].stored or pool.collect_each(template_id, P)[0].stored


def test_a_batch_for_chosen_people_and_its_refusals(pool: FormValues) -> None:
    template_id = "mz_elderly_allowance_application"
    everyone = pool.collect_each(template_id, P)
    chosen = [everyone[3].area, everyone[0].area, everyone[3].area]
    batch = form_batch(pool, template_id, P, subjects=chosen)
    assert list(batch.keys) == [everyone[3].area, everyone[0].area]
    for a, b in zip(batch.forms(), pool.collect_each(template_id, P, subjects=chosen), strict=True):
        _same_form(a, b)
    young = "441900200001010000"
    with pytest.raises(UserError) as raised:
        form_batch(pool, template_id, P, subjects=[everyone[0].area, young])
    with pytest.raises(UserError) as expected:
        pool.collect_each(template_id, P, subjects=[everyone[0].area, young])
    assert str(raised.value) == str(expected.value)
    with pytest.raises(UserError, match="不是登记表"):
        form_batch(pool, "mz_elderly", P)


def _collected_pdf(sheets: list[Sheet], path: Path, watermark: str) -> None:
    """The PDF as the writer made it before it streamed: every page laid out first, then drawn
    on reportlab's own canvas, each label with its page."""
    pages = pages_for(sheets)
    canvas = Canvas(str(path), pagesize=(pages[0].width, pages[0].height), pageCompression=1)
    for number, page in enumerate(pages, start=1):
        canvas.setPageSize((page.width, page.height))
        draw_page(canvas, page, watermark)
        canvas.setFont(fonts.FONT_NAME, 9)
        canvas.drawCentredString(page.width / 2, 8 * MM, page_label(number, len(pages)))
        canvas.showPage()
    canvas.save()


def _text(path: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("\f")


def _pixels(path: Path, page: int, tmp_path: Path) -> str:
    stem = tmp_path / f"{path.stem}-{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(path),
            str(stem),
        ],
        check=True,
    )
    return hashlib.sha256(stem.with_suffix(".png").read_bytes()).hexdigest()


def test_the_streamed_pdf_is_the_collected_pdf(pool: FormValues, tmp_path: Path) -> None:
    template_id = "rs_resident_pension_registration"
    collected = [build_sheet(d) for d in pool.collect_each(template_id, P)]
    assert len(collected) > 100
    _collected_pdf(collected, tmp_path / "collected.pdf", "clerk 2026-11-03 09:30")
    batch = form_stream(pool, template_id, P)
    assert isinstance(batch, FormBatch)
    pages = write_pdf(batch, tmp_path / "streamed.pdf", watermark="clerk 2026-11-03 09:30")
    assert pages == len(collected)
    old, new = _text(tmp_path / "collected.pdf"), _text(tmp_path / "streamed.pdf")
    assert len(new) == len(old) and new == old
    assert f"{pages} 页 共 {pages} 页" in new[pages - 1]  # 第 may mingle with the watermark
    for page in (1, pages // 2, pages):
        assert _pixels(tmp_path / "streamed.pdf", page, tmp_path) == _pixels(
            tmp_path / "collected.pdf", page, tmp_path
        )


def test_a_long_form_keeps_its_pages_and_their_numbers(pool: FormValues, tmp_path: Path) -> None:
    """Forms of more than one page (a roster with its headers repeated) between single pages:
    the labels count every page."""
    roster = form_stream(pool, "wj_elderly_health_roster", P)
    single = form_stream(pool, "mz_elderly", P)
    sheets = [*roster, *single, *roster]
    _collected_pdf(sheets, tmp_path / "collected.pdf", "")
    pages = write_pdf(sheets, tmp_path / "streamed.pdf")
    assert pages == len(pages_for(sheets)) > 3
    assert _text(tmp_path / "streamed.pdf") == _text(tmp_path / "collected.pdf")


def test_an_exported_batch_is_audited_and_cancel_leaves_no_file(
    pool: FormValues, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    batch = form_stream(pool, "rs_resident_pension_registration", P, area=V, masked=True)
    (written,) = export_sheets(pool.store, batch, out / "batch.pdf", fmt="pdf")
    assert written.forms == len(batch)
    cancel = Cancel()

    def stop(done: int, _total: int, _label: str) -> None:
        if done >= 20:
            cancel.cancel()

    with pytest.raises(Cancelled):
        export_sheets(
            pool.store, batch, out / "cancelled.pdf", fmt="pdf", progress=stop, cancel=cancel
        )
    assert sorted(p.name for p in out.iterdir()) == ["batch.pdf"]


def _peak(pool: FormValues, keys: list[str], path: Path) -> int:
    template = pool.template_for("rs_resident_pension_registration", P)
    batch = FormBatch(pool, template, P, keys)
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        write_pdf(batch, path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_writing_a_batch_takes_the_memory_of_a_chunk(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """20,000 forms and 2,000 forms into one PDF: the peak of the Python heap while writing grows
    by no more than the text caches fill (they are capped), where the collected batch took
    ~30 KB a page (18,000 more pages: ~540 MB)."""
    from govshare_desktop.core.demo import generate
    from govshare_desktop.core.forms.dictionary import load_dictionary
    from govshare_desktop.core.forms.templates import load_templates

    generate(store, households=9000, seed=3)
    dictionary = load_dictionary()
    pool = FormValues(store, dictionary, load_templates(dictionary)[0])
    keys = list(form_batch(pool, "rs_resident_pension_registration", P).keys)
    assert len(keys) >= 20_000
    fonts.register()
    _peak(pool, keys[:200], tmp_path / "warm.pdf")  # fonts, caches
    small = _peak(pool, keys[:2_000], tmp_path / "small.pdf")
    large = _peak(pool, keys[:20_000], tmp_path / "large.pdf")
    print(f"peak: 2,000 forms {small / 1e6:.1f} MB, 20,000 forms {large / 1e6:.1f} MB")
    # What may grow: the keys, two integers a page, and the widths and encoded strings of names,
    # addresses and numbers remembered (at most 10,000 strings and 20,000 numbers).
    assert large - small < 5_000_000
