"""A crossed, ask-less or stale quote is refused with its numbers; a usable one passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from optionflow.pricing.quote_checks import quote_problem

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
D = Decimal


@pytest.mark.parametrize(
    ("bid", "ask", "age", "problem"),
    [
        ("2.30", "2.40", 0, None),
        ("2.40", "2.40", 0, None),  # locked, not crossed
        ("2.41", "2.40", 0, "crossed quote: bid 2.41 is above ask 2.40"),
        ("0", "0", 0, "no ask (ask 0, bid 0)"),
        ("0", "0.05", 0, None),  # no bid is still a market to buy at
        ("2.30", "2.40", 60, None),  # at the limit
        ("2.30", "2.40", 61, "stale quote: taken at 2026-12-07T14:58:59+00:00, 61 s before"),
        ("2.30", "2.40", -4, None),  # a provider clock slightly ahead
        ("2.30", "2.40", -30, "is 30 s after"),
    ],
)
def test_quote_problems_at_under_and_over_each_limit(bid, ask, age, problem):
    found = quote_problem(D(bid), D(ask), AT - timedelta(seconds=age), AT, 60)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
