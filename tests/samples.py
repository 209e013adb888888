"""The sample back-flow files the tests read, carried in the repository (tests/data/samples).

They are copies of the county-shaped samples in ../shared/samples, so a clone with nothing beside
it runs every test. GOVSHARE_SAMPLES points the tests at another copy (CI may run them against
../shared as well). A missing file fails the test that needs it; nothing is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES = Path(
    os.environ.get("GOVSHARE_SAMPLES") or Path(__file__).resolve().parent / "data" / "samples"
)

PERSON_WORKBOOK = SAMPLES / "青禾镇_户籍人口回流_2026-10.xlsx"
ENROLLMENT_CSV = SAMPLES / "青禾镇_城乡居民养老保险参保_2026-10.csv"
PAYMENT_CSV = SAMPLES / "青禾镇_城乡居民养老金发放明细_202608-202610.csv"
PACKAGE = SAMPLES / "回流数据包_青禾镇_0001.zip"
COUNTY_KEY = SAMPLES / "keys" / "county-demo-ed25519.pub.pem"


def samples_dir() -> Path:
    """The samples folder, checked: a test that needs the samples fails loudly without them."""
    missing = [
        p.name
        for p in (PERSON_WORKBOOK, ENROLLMENT_CSV, PAYMENT_CSV, PACKAGE, COUNTY_KEY)
        if not p.exists()
    ]
    if missing:
        raise FileNotFoundError(
            f"sample back-flow files missing from {SAMPLES}: {', '.join(missing)}"
        )
    return SAMPLES
