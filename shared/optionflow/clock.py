"""The application clock.

Market logic asks this clock, never `datetime.now()`, so a demo on a Saturday can run as if it were Monday
10:00 New York time (OPTIONFLOW_CLOCK_START) and tests can freeze time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Reads `start` at the wall-clock instant `origin` (default: now), then advances in real time.

    Processes given the same (start, origin) agree on the time, so the local stack's API and worker
    processes share one simulated clock.
    """

    def __init__(self, start: datetime, origin: float | None = None) -> None:
        self.start = start.astimezone(UTC)
        self.origin = time.time() if origin is None else origin

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.origin)


class FrozenClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


_clock: Clock | None = None


def get_clock() -> Clock:
    """The process clock: shifted when OPTIONFLOW_CLOCK_START is set, else the system clock."""
    global _clock
    if _clock is None:
        from optionflow.config import get_settings

        start = get_settings().clock_start
        _clock = ShiftedClock(start) if start else SystemClock()
    return _clock


def set_clock(clock: Clock | None) -> None:
    """Install a clock for this process (None: derive it again from the settings)."""
    global _clock
    _clock = clock
