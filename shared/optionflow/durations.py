"""Durations as an operator types them: `90s`, `10m`, `2h`, `2d` (token lifetimes, clock advances)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Nine digits keep every value inside what a timedelta holds (999,999,999 days).
_DURATION = re.compile(r"(\d{1,9})\s*([smhd])")


def parse_duration(text: str) -> timedelta:
    """A positive whole number and one unit, s, m, h or d: '90s', '10m', '2h', '2d' -> timedelta.

    Raises ValueError naming the text otherwise ('1.5h', '10', '-2d', '0m', '1h30m').
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"{text!r} is not a duration: use a positive whole number and s, m, h or d, e.g. 90s, 10m, 2d"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
