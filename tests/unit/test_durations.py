"""Durations an operator types: a positive whole number and one unit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from optionflow.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("2d", timedelta(days=2)),
        (" 2D ", timedelta(days=2)),
        ("15 m", timedelta(minutes=15)),
    ],
)
def test_a_whole_number_and_a_unit_is_a_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "10", "m", "0m", "-2d", "1.5h", "1h30m", "2w", "ten minutes", "9999999999d"]
)
def test_anything_else_is_refused_naming_the_text(text):
    with pytest.raises(ValueError, match="is not a duration") as refused:
        parse_duration(text)
    assert repr(text) in str(refused.value)
