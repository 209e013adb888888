"""Faster equivalents of the draws the demo generator makes millions of times (a 200,000-household
township draws about 700,000 persons): each returns exactly what the general version returns and
consumes the random stream exactly as it does, so a seed gives the same township as before.

* :class:`DemoRandom` — :class:`random.Random` whose ``randint``, ``choice`` and one-argument
  ``randrange`` skip the general argument handling and go straight to ``_randbelow``, as the
  standard methods themselves do for these arguments (checked against them in the tests);
* :func:`pick` — ``rng.choices(items, cum_weights=cum, k=1)[0]`` without building a list;
* :func:`id_number` — :func:`govshare_desktop.core.domain.idnumber.make` with the check digit's
  weighted sum taken from cached parts (region, birth date, sequence).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

from govshare_desktop.core.domain.idnumber import CHECK_CHARS, WEIGHTS

T = TypeVar("T")


class DemoRandom(random.Random):
    """The same numbers as :class:`random.Random` for the same seed, drawn with less overhead."""

    def randint(self, a: int, b: int) -> int:
        if b < a:
            raise ValueError(f"empty range in randint({a}, {b})")
        return a + self._randbelow(b - a + 1)  # type: ignore[attr-defined]

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        if not len(seq):
            raise IndexError("Cannot choose from an empty sequence")
        return seq[self._randbelow(len(seq))]  # type: ignore[attr-defined]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None and step == 1 and type(start) is int and start > 0:
            return self._randbelow(start)  # type: ignore[attr-defined]
        return super().randrange(start, stop, step)


def pick(rng: random.Random, items: Sequence[T], cum: Sequence[int]) -> T:
    """``rng.choices(items, cum_weights=cum, k=1)[0]``: one ``random()``, the same bisection."""
    return items[bisect(cum, rng.random() * (cum[-1] + 0.0), 0, len(items) - 1)]


@cache
def _region_part(region: str) -> int:
    return sum(int(d) * w for d, w in zip(region, WEIGHTS[:6], strict=True))


@cache
def _birth_part(birth: date) -> tuple[str, int]:
    digits = f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
    return digits, sum(int(d) * w for d, w in zip(digits, WEIGHTS[6:14], strict=True))


_SEQUENCE_PARTS = tuple(
    (f"{n:03d}", sum(int(d) * w for d, w in zip(f"{n:03d}", WEIGHTS[14:], strict=True)))
    for n in range(1000)
)


def id_number(region: str, birth: date, sequence: int, *, male: bool) -> str:
    """What ``idnumber.make(region, birth, sequence, male=male)`` returns (0 ≤ sequence ≤ 499)."""
    if not 0 <= sequence <= 499:
        raise ValueError("sequence must be 0..499 (the sex digit is chosen from it)")
    digits, birth_sum = _birth_part(birth)
    seq, seq_sum = _SEQUENCE_PARTS[sequence * 2 + (1 if male else 0)]
    return f"{region}{digits}{seq}{CHECK_CHARS[(_region_part(region) + birth_sum + seq_sum) % 11]}"
