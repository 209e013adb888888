"""The test suite's cheap Argon2id profile (tests/kdf.py) stays out of the product: the product's
costs are full strength, the product checks (and upgrades) what the cheap profile made, and no
product code can reach the switch. These tests are about the hashing itself: ``real_kdf``."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest

from govshare_desktop.core.security import crypto
from govshare_desktop.core.security.vault import Vault
from tests.kdf import CHEAP, kdf_profile

REPO = Path(__file__).resolve().parents[3]
PRODUCT_CODE = REPO / "govshare_desktop"
SWITCH = "_set_profile_for_tests"
OWASP = crypto.KdfProfile(2, 19 * 1024, 1, 2, 19 * 1024)  # Argon2id's minimum (OWASP, 2023)

pytestmark = pytest.mark.real_kdf


def _phc_params(phc: str) -> dict[str, int]:
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", phc)
    assert match, phc
    m, t, p = map(int, match.groups())
    return {"m": m, "t": t, "p": p}


def test_the_products_costs_are_full_strength() -> None:
    product = crypto.PRODUCT
    assert crypto._profile == product  # this test is real_kdf: the product's profile
    assert (product.time_cost, product.memory_kib, product.parallelism) == (3, 64 * 1024, 4)
    assert (product.name_time_cost, product.name_memory_kib) == (2, 19 * 1024)
    assert product.memory_kib >= OWASP.memory_kib and product.time_cost >= OWASP.time_cost
    assert _phc_params(crypto.hash_password("Guanli#2026kdf")) == {"m": 65536, "t": 3, "p": 4}
    wrapped = crypto.wrap(crypto.random_key(), "Guanli#2026kdf").to_json()
    assert (wrapped["t"], wrapped["m"], wrapped["p"]) == (3, 65536, 4)
    # An unknown name is checked against a hash of the same costs: the same time as a real one.
    assert _phc_params(crypto._DUMMIES[product]) == {"m": 65536, "t": 3, "p": 4}
    assert crypto.verify_password(crypto._DUMMIES[product], "govshare-dummy-password")


def test_the_cheap_profile_is_cheap_and_only_the_test_suites() -> None:
    assert CHEAP.memory_kib < OWASP.memory_kib and CHEAP != crypto.PRODUCT
    with kdf_profile(CHEAP):
        assert _phc_params(crypto.hash_password("x")) == {"m": 8, "t": 1, "p": 1}
    assert crypto._profile == crypto.PRODUCT  # put back


def test_what_the_cheap_profile_made_the_product_checks_and_upgrades(tmp_path: Path) -> None:
    db = tmp_path / "govshare.db"
    with kdf_profile(CHEAP):
        phc = crypto.hash_password("Guanli#2026kdf")
        wrapped = crypto.wrap(b"k" * 32, "Guanli#2026kdf")
        vault, dek = Vault.create(db, "none", "ABCD-EFGH")
        vault.add_user("admin", "Guanli#2026kdf", dek, must_change=False)
        vault.save()
    # The product's profile from here on: the parameters travel with the hash and the key.
    assert crypto.verify_password(phc, "Guanli#2026kdf")
    assert not crypto.verify_password(phc, "Guanli#2026kdg")
    assert crypto.needs_rehash(phc)
    assert crypto.unwrap(wrapped, "Guanli#2026kdf") == b"k" * 32
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap(wrapped, "wrong")
    loaded = Vault.load(db)
    assert _phc_params(loaded.users["admin"].phc)["m"] == 8
    assert loaded.unlock("admin", "Guanli#2026kdf", datetime.now()) == dek
    assert loaded.recover("ABCD-EFGH") == dek
    # Signing in upgraded the hash to the product's costs.
    assert _phc_params(Vault.load(db).users["admin"].phc) == {"m": 65536, "t": 3, "p": 4}


def test_the_switch_refuses_any_module_but_the_test_suites() -> None:
    with pytest.raises(RuntimeError, match="may not change it"):
        crypto._set_profile_for_tests(CHEAP)
    assert crypto._profile == crypto.PRODUCT


def _names(path: Path) -> set[str]:
    """Every identifier, attribute and string constant in a Python file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.FunctionDef):
            found.add(node.name)
    return found


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_product_code_reaches_the_switch() -> None:
    """Only crypto.py itself (where it is defined) names the switch under govshare_desktop; no
    product module imports anything from tests/; and in tests/ only tests/kdf.py calls it."""
    crypto_py = PRODUCT_CODE / "core" / "security" / "crypto.py"
    product = sorted(PRODUCT_CODE.rglob("*.py"))
    assert crypto_py in product and len(product) > 50
    for path in product:
        names = _names(path)
        if path != crypto_py:
            assert not {SWITCH, "_profile", "_TEST_SWITCH", "KdfProfile"} & names, path
        assert not any(m == "tests" or m.startswith("tests.") for m in _imports(path)), path
    # In crypto.py the switch is defined and never called; ``_profile`` is set only by it.
    tree = ast.parse(crypto_py.read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == SWITCH
    ]
    assert calls == []
    setters = {
        func.name
        for func in ast.walk(tree)
        if isinstance(func, ast.FunctionDef)
        for node in ast.walk(func)
        if isinstance(node, ast.Global) and "_profile" in node.names
    }
    assert setters == {SWITCH}
    # In the test suite, only tests/kdf.py calls the switch, and its cheap profile is used
    # (use_cheap_kdf) only by the in-process conftest and the subprocess launcher.
    suite = [p for p in (REPO / "tests").rglob("*.py") if p != Path(__file__).resolve()]
    callers = {p.relative_to(REPO).as_posix() for p in suite if SWITCH in _names(p)}
    assert callers == {"tests/kdf.py"}
    users = {p.relative_to(REPO).as_posix() for p in suite if "use_cheap_kdf" in _names(p)}
    assert users == {"tests/kdf.py", "tests/conftest.py", "tests/e2e/launch.py"}
