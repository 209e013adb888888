"""The demo generator's fast draws (core/demo_draws.py) give what the general ones give, from the
same random stream — so a seed keeps giving the same township."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from govshare_desktop.core.demo_draws import DemoRandom, id_number, pick
from govshare_desktop.core.domain import idnumber


def test_demo_random_draws_the_same_numbers_as_random() -> None:
    fast, plain = DemoRandom(42), random.Random(42)
    items = ("a", "b", "c", "d", "e", "f", "g")
    for n in range(20_000):
        low = n % 37 - 10
        assert fast.randint(low, low + n % 500) == plain.randint(low, low + n % 500)
        assert fast.choice(items[: 1 + n % 7]) == plain.choice(items[: 1 + n % 7])
        assert fast.randrange(1 + n % 1000) == plain.randrange(1 + n % 1000)
        assert fast.randrange(5, 50, 5) == plain.randrange(5, 50, 5)  # the general path
        assert fast.random() == plain.random()
    assert DemoRandom("a seed string").random() == random.Random("a seed string").random()


def test_demo_random_refuses_what_random_refuses() -> None:
    rng = DemoRandom(1)
    with pytest.raises(ValueError):
        rng.randint(5, 4)
    with pytest.raises(IndexError):
        rng.choice(())
    with pytest.raises(ValueError):
        rng.randrange(0)


def test_pick_is_choices_with_cumulative_weights() -> None:
    fast, plain = random.Random(7), random.Random(7)
    items = ("x", "y", "z", "w")
    for cum in ((1, 2, 3, 4), (10, 10, 30, 100), (0, 0, 0, 5), (95, 96, 99, 100)):
        for _ in range(5_000):
            assert pick(fast, items, cum) == plain.choices(items, cum_weights=cum, k=1)[0]


def test_id_number_is_idnumber_make() -> None:
    rng = random.Random(3)
    regions = ("441900", "522422", "430521", "110101", "650102")
    for _ in range(20_000):
        region = rng.choice(regions)
        born = date(1900, 1, 1) + timedelta(days=rng.randrange(46_000))
        sequence, male = rng.randrange(500), rng.random() < 0.5
        number = id_number(region, born, sequence, male=male)
        assert number == idnumber.make(region, born, sequence, male=male)
        assert idnumber.is_valid(number)
    with pytest.raises(ValueError):
        id_number("441900", date(1980, 1, 1), 500, male=True)
