"""The application clock.

Market logic asks this clock, never `datetime.now()`, so a demo on a Saturday can run as if it were Monday
10:00 New York time (OPTIONFLOW_CLOCK_START) and tests can freeze time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from optionflow.db.connection import Database

# Who started a simulated clock that nobody has changed yet.
STARTED_BY = "OPTIONFLOW_CLOCK_START"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def wall_now() -> datetime:
    """The machine's time, which a simulated clock is anchored to."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClockState:
    """A simulated clock: it stood at `anchor_at` at the wall-clock instant `anchor_wall`, and moves on at
    `speed` simulated seconds per wall second, or not at all while paused. Schedule ticks up to `swept_to`
    need no sweep: an advance ran them, or a set jumped over them."""

    anchor_at: datetime
    anchor_wall: datetime
    speed: float
    paused: bool
    swept_to: datetime
    changed_by: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClockState:
        return cls(
            row["anchor_at"].astimezone(UTC),
            row["anchor_wall"].astimezone(UTC),
            float(row["speed"]),
            bool(row["paused"]),
            row["swept_to"].astimezone(UTC),
            str(row["changed_by"]),
        )

    def at(self, wall: datetime) -> datetime:
        """The simulated instant at the wall-clock instant `wall`."""
        if self.paused:
            return self.anchor_at
        return self.anchor_at + (wall - self.anchor_wall) * self.speed


class SimulatedClock:
    """OPTIONFLOW_CLOCK_START: a clock kept in the database (`optionflow.db.simulated_clock`), so every
    process of the book tells the same time, and `optionflow clock` can set, advance, speed up or pause it.

    The first process that asks starts it at `start` when the book has no clock yet. The state is read again
    at most every `max_age` seconds; a worker run reads it afresh under the clock's lock (`held`), so a
    change made by another process reaches every run at once.

    `db` is the book it is kept in (default: the process's database); `on` reads the same clock's row in
    another book.
    """

    def __init__(self, start: datetime, *, max_age: float = 1.0, db: Database | None = None) -> None:
        self.start = start.astimezone(UTC)
        self.max_age = max_age
        self._db = db
        self._state: ClockState | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()  # the worker process reads it from several threads

    def now(self) -> datetime:
        return self.state().at(wall_now())

    def on(self, db: Database) -> SimulatedClock:
        """This clock as kept in the book `db` (a replay reads the real book's clock, wherever the process's
        own database is)."""
        return SimulatedClock(self.start, max_age=self.max_age, db=db)

    @property
    def db(self) -> Database:
        if self._db is None:
            from optionflow.db.connection import PROCESS_DATABASE

            return PROCESS_DATABASE
        return self._db

    def state(self) -> ClockState:
        with self._lock:
            if self._state is None or time.monotonic() - self._read_at > self.max_age:
                self._state, self._read_at = self._load(), time.monotonic()
            return self._state

    def refresh(self) -> ClockState:
        """Read the state now, whatever the cache holds."""
        with self._lock:
            self._state, self._read_at = self._load(), time.monotonic()
            return self._state

    def adopt(self, state: ClockState) -> None:
        """Use `state`, just written by this process, without reading it back."""
        with self._lock:
            self._state, self._read_at = state, time.monotonic()

    def pace(self) -> float:
        """Simulated seconds per wall second: 0 while paused."""
        state = self.state()
        return 0.0 if state.paused else state.speed

    def swept_to(self) -> datetime:
        """Schedule ticks up to this instant need no sweep (see ClockState)."""
        return self.state().swept_to

    @contextmanager
    def held(self) -> Iterator[None]:
        """For one worker run: wait out a change to the clock under way, keep changes out until the run
        ends, and read the clock afresh, so the run works at an instant the clock has not moved past."""
        from optionflow.db import simulated_clock as store

        try:
            state = self.db.run_statement(store.hold_for_run_and_read)
        except BaseException:
            with suppress(Exception):  # the lock is the session's: do not leave it held
                self.db.run_statement(store.release_from_run)
            raise
        try:
            if state is None:
                self.refresh()  # a book without a clock yet: it starts now
            else:
                self.adopt(state)
            yield
        finally:
            self.db.run_statement(store.release_from_run)

    def _load(self) -> ClockState:
        from optionflow.db import simulated_clock as store

        return self.db.run_in_transaction(
            lambda cur: store.read(cur) or store.start(cur, self.start, wall_now(), STARTED_BY)
        )


class FrozenClock:
    """A clock that moves only when told to (tests, replay, the steps of an advance)."""

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
    """The process clock: simulated when OPTIONFLOW_CLOCK_START is set, else the system clock."""
    global _clock
    if _clock is None:
        from optionflow.config import get_settings

        start = get_settings().clock_start
        _clock = SimulatedClock(start) if start else SystemClock()
    return _clock


def set_clock(clock: Clock | None) -> None:
    """Install a clock for this process (None: derive it again from the settings)."""
    global _clock
    _clock = clock


def steady(clock: Clock | None = None) -> AbstractContextManager[None]:
    """Wrap one worker run on `clock` (default: the process clock): on the simulated clock, see
    `SimulatedClock.held`; other clocks need nothing."""
    clock = clock or get_clock()
    return clock.held() if isinstance(clock, SimulatedClock) else nullcontext()
