"""The window calls the same use cases as the command line: every action listed in
``ui/usecases.py`` names use cases of ``core/services`` that exist, that the window's code calls,
and that ``tests/core/test_services.py`` runs headless."""

from __future__ import annotations

import re
from pathlib import Path

from govshare_desktop.ui.usecases import WINDOW_ACTIONS
from tests.core.test_services import _use_cases
from tests.core.use_cases import every_tested

UI = Path(__file__).resolve().parents[2] / "govshare_desktop" / "ui"


def test_every_window_action_calls_existing_use_cases() -> None:
    known = _use_cases()
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in UI.glob("*.py") if p.name != "usecases.py"
    )
    for action, names in WINDOW_ACTIONS.items():
        assert names, action
        for name in names:
            assert name in known, f"{action}: no use case {name}"
            function = name.split(".")[1]
            assert re.search(rf"\b{function}\(", source), f"{action}: the window never calls {name}"
            assert name in every_tested(), f"{name} has no headless test"


def test_the_window_writes_nothing_outside_the_use_cases() -> None:
    """The workflows the issue found assembled in ui/ stay out of it: no audit entries, values,
    prefill, submit, imports or exports written from the window's own code."""
    forbidden = re.compile(
        r"audit_trail\(|pool\.prefill\(|carry_forward\(|pool\.set\(|pool\.submit\(|pool\.return_\("
        r"|(?<!def )(?<![\w.])(import_files|export_sheets|backup_now|restore_from)\("
        r"|signin\.add_account\("
        r"|signin\.change_account\(|signin\.change_password\("
    )
    found = [
        f"{p.name}: {line.strip()}"
        for p in sorted(UI.glob("*.py"))
        if p.name not in ("smoke.py",)  # the self-check makes its own throwaway database
        for line in p.read_text(encoding="utf-8").splitlines()
        if forbidden.search(line) and not line.strip().startswith("#")
    ]
    assert found == []
