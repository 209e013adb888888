"""Render one 统计表, one 花名册 and one 登记表 of the demo township as the app exports them — the
PDF (drawn by the app) and the workbook as LibreOffice prints it — into docs/*.png, to compare
side by side with each other and with the department's paper form.

    python docs/make_form_renderings.py     # needs pdftoppm (poppler-utils) and libreoffice
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from govshare_desktop.core.demo import generate
from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.export.forms import export_sheets, form_sheets
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues
from govshare_desktop.core.store.engine import open_tool_store

OUT = Path(__file__).resolve().parent
FORMS = {
    "table": ("ga_household_change", {}),
    "roster": ("mz_elderly_allowance_roster", {"area": "441900199201"}),
    "individual": ("mz_elderly_allowance_application", {}),
}


def _png(pdf: Path, name: str) -> None:
    target = OUT / name
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(target),
        ],
        check=True,
    )
    print(f"wrote {target}.png")


def main() -> int:
    for tool in ("pdftoppm", "libreoffice"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (apt install poppler-utils libreoffice-calc-nogui)")
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = open_tool_store(work / "demo.db")
        generate(store, households=500, seed=1)
        dictionary = load_dictionary()
        pool = FormValues(store, dictionary, load_templates(dictionary)[0])
        period = Period.parse("2026-10")
        now = datetime(2026, 11, 5, 10, 0)
        pool.prefill(period, township_code="441900199000", user="演示", now=now)
        people = [s.data.area for s in form_sheets(pool, FORMS["individual"][0], period)]
        for number, person in enumerate(people):  # the clerk's part: each one's allowance
            amount = ("200", "200", "300", "200", "500")[number % 5]
            pool.set("S_ALLOWANCE_AMOUNT", person, period, amount, user="演示", now=now)
        for kind, (template_id, options) in FORMS.items():
            sheets = form_sheets(pool, template_id, period, **options)[:1]
            (pdf,) = export_sheets(
                pool.store, sheets, work / f"{kind}.pdf", fmt="pdf", reason="说明文档"
            )
            (xlsx,) = export_sheets(
                pool.store, sheets, work / f"{kind}.xlsx", fmt="xlsx", reason="说明文档"
            )
            subprocess.run(
                [
                    "libreoffice",
                    f"-env:UserInstallation=file://{work}/lo",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work / "lo"),
                    str(xlsx.path),
                ],
                check=True,
                capture_output=True,
                timeout=240,
            )
            _png(pdf.path, f"export_{kind}_pdf")
            _png(work / "lo" / f"{kind}.pdf", f"export_{kind}_xlsx")
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
