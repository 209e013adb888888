"""The register of headless use-case tests: ``@covers("module.function")`` marks a test as the one
that drives that use case of ``core.services`` without a window (tests/core/test_services.py checks
that every use case has one). Test modules beside test_services.py that cover use cases are listed
in :data:`MODULES`, so the register is whole whichever tests run."""

from __future__ import annotations

import importlib

TESTED: set[str] = set()
MODULES = (
    "tests.core.test_services",
    "tests.core.test_sharing",
    "tests.core.test_home",
    "tests.pg.test_pg_office",
    "tests.pg.test_pg_backup",
    "tests.pg.test_pg_roles",
    "tests.core.test_stats",
    "tests.core.test_chart_export",
    "tests.core.test_laptop",
    "tests.core.backflow.test_held_import",
)


def covers(*names: str):  # type: ignore[no-untyped-def]
    """Mark a test as the headless test of these use cases."""
    TESTED.update(names)
    return lambda test: test


def every_tested() -> set[str]:
    for module in MODULES:
        importlib.import_module(module)
    return TESTED
