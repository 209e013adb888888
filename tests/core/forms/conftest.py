from __future__ import annotations

from datetime import datetime

import pytest

from govshare_desktop.core.domain.period import Period
from govshare_desktop.core.forms.dictionary import load_dictionary
from govshare_desktop.core.forms.templates import load_templates
from govshare_desktop.core.forms.values import FormValues


@pytest.fixture
def pool(demo_store) -> FormValues:
    """The demo township's value pool with October 2026 prefilled."""
    dictionary = load_dictionary()
    templates, problems = load_templates(dictionary)
    assert problems == []
    values = FormValues(demo_store, dictionary, templates)
    values.prefill(
        Period.parse("2026-10"),
        township_code="441900199000",
        user="clerk",
        now=datetime(2026, 11, 3, 9, 30),
    )
    return values
