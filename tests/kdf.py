"""TEST ONLY: the test suite's cheap Argon2id profile.

Tests that are not about password hashing should not spend ~1 s of Argon2id at 64 MiB on every
hash, wrapped key and sign-in. :func:`use_cheap_kdf` makes this process create hashes and wrapped
keys with :data:`CHEAP` instead; what it makes carries its parameters (PHC strings, the wrapped
key's JSON) and is checked — and upgraded at the next sign-in — by the product as it is.

Who calls it: ``tests/conftest.py`` for every in-process test (tests marked ``real_kdf`` get the
product's profile back), and ``tests/e2e/launch.py`` — the launcher the end-to-end tests start
``govshare`` and the window through. Nothing else may: the switch in
:mod:`govshare_desktop.core.security.crypto` refuses any other module, and
``tests/core/security/test_kdf_profile.py`` checks that no product code names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from govshare_desktop.core.security import crypto

# Argon2's minimum memory (8 KiB a lane), one pass, one lane: microseconds instead of ~0.3 s.
CHEAP = crypto.KdfProfile(
    time_cost=1, memory_kib=8, parallelism=1, name_time_cost=1, name_memory_kib=8
)


def use_cheap_kdf() -> None:
    crypto._set_profile_for_tests(CHEAP)


def current() -> crypto.KdfProfile:
    return crypto._profile


@contextmanager
def kdf_profile(profile: crypto.KdfProfile) -> Iterator[None]:
    """``profile`` inside the block, the one before after it."""
    before = crypto._profile
    crypto._set_profile_for_tests(profile)
    try:
        yield
    finally:
        crypto._set_profile_for_tests(before)
