"""Replay's walk through time: the clock stepped through the window, each stored alert arriving at its
`received_at` through the webhook's own parsing and dedupe, the fast path as the event rules route it, and
between alerts the five workers' sweeps every `step` of each NYSE session.

The stages run are the workers' own (the worker registry's use cases). For the walk's length the process
clock is frozen and the event bus is the replay's (`replay_time`), swapped in and restored afterwards.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from optionflow import clock as app_clock
from optionflow.config import get_settings
from optionflow.events import bus
from optionflow.logic import intake
from optionflow.market.calendar import NEW_YORK
from optionflow.market.provider import get_calendar
from optionflow.models.alert import AlertError
from optionflow.observability import logger
from optionflow.workers import BY_EVENT, BY_NAME, NAMES

# What each fast-path event wakes, and the schedules' sweep in pipeline order: the worker registry's.
FAST_PATH = {event: worker.name for event, worker in BY_EVENT.items()}
SWEEP = NAMES


@dataclass(frozen=True)
class Window:
    """Whole days in New York time, `last` included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the window ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), NEW_YORK)

    @property
    def end(self) -> datetime:
        """Midnight after `last`, exclusive."""
        return datetime.combine(self.last + timedelta(days=1), time(0), NEW_YORK)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Progress:
    day: date
    day_number: int
    days: int
    alerts: int  # replayed so far
    positions: int  # opened so far in the replay


class Wakeups:
    """The replay's event bus: a published event queues the stage its rule would invoke, and `run` works
    the queue at one instant, so the fast path happens in the order the rules chain it."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, tuple[str, ...] | None]] = deque()
        self.positions_opened = 0

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if detail_type == bus.POSITION_OPENED:
            self.positions_opened += int(detail.get("count", 0))
        stage = FAST_PATH.get(detail_type)
        if stage is not None:
            ids = detail.get("position_ids")
            self.wake(stage, [str(i) for i in ids] if isinstance(ids, list) else None)

    def wake(self, stage: str, only: list[str] | None = None) -> None:
        item = (stage, tuple(only) if only is not None else None)
        # a stage already waiting for the same work would find nothing more to do
        if item not in self.queue and (stage, None) not in self.queue:
            self.queue.append(item)

    def run(self, now: datetime) -> None:
        while self.queue:
            stage, only = self.queue.popleft()
            BY_NAME[stage].stage()(now, list(only) if only is not None else None)


def session_ticks(day: date, step: timedelta) -> list[datetime]:
    """When the schedules sweep on `day`: every `step` from the open through the close (none when closed).
    Outside sessions nothing can be entered or exited, so the replay does not sweep there."""
    session = get_calendar().session(day)
    if session is None:
        return []
    ticks, at = [], session.open
    while at <= session.close:
        ticks.append(at)
        at += step
    if ticks[-1] != session.close:
        ticks.append(session.close)
    return ticks


@contextmanager
def replay_time(window: Window) -> Iterator[tuple[app_clock.FrozenClock, Wakeups]]:
    """The process clock frozen at the window's start, the event bus replaced by the replay's own (a
    configured EventBridge bus must not wake the real workers) and the stages' info lines off (they describe
    a scratch book, and in the real logs would read as real trades); all restored afterwards."""
    previous_clock, previous_bus, previous_level = app_clock.get_clock(), bus.get_bus(), logger.log_level
    frozen, wakeups = app_clock.FrozenClock(window.start), Wakeups()
    app_clock.set_clock(frozen)
    bus.set_bus(wakeups)
    logger.setLevel(logging.WARNING)
    try:
        yield frozen, wakeups
    finally:
        app_clock.set_clock(previous_clock)
        bus.set_bus(previous_bus)
        logger.setLevel(previous_level)


def walk(
    window: Window,
    alerts: list[dict[str, Any]],
    until: datetime,
    step: timedelta,
    clock: app_clock.FrozenClock,
    wakeups: Wakeups,
    on_progress: Callable[[Progress], None] | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Step the clock through the window; returns ({real signal id: scratch signal id}, {real id: note})."""
    window_seconds = get_settings().dedupe_window_seconds
    by_day: dict[date, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_day.setdefault(alert["received_at"].astimezone(NEW_YORK).date(), []).append(alert)
    stored: dict[str, str] = {}
    notes: dict[str, str] = {}
    replayed = 0
    days = window.days()
    for number, day in enumerate(days, 1):
        # at one instant the sweep runs before an alert arriving then; both see the same prices
        events: list[tuple[datetime, int, dict[str, Any] | None]] = [
            (tick, 0, None) for tick in session_ticks(day, step) if tick <= until
        ]
        events += [(a["received_at"], 1, a) for a in by_day.get(day, [])]
        events.sort(key=lambda e: (e[0], e[1]))
        for at, _, arriving in events:
            clock.set(at)
            if arriving is None:
                for stage in SWEEP:
                    wakeups.wake(stage)
            else:
                _arrive(arriving, window_seconds, stored, notes)
                replayed += 1
            wakeups.run(clock.now())
        if on_progress:
            on_progress(Progress(day, number, len(days), replayed, wakeups.positions_opened))
    # one last sweep at the end, so open positions carry the marks of the window's end
    clock.set(until)
    for stage in SWEEP:
        wakeups.wake(stage)
    wakeups.run(clock.now())
    return stored, notes


def _arrive(
    alert: dict[str, Any], window_seconds: int, stored: dict[str, str], notes: dict[str, str]
) -> None:
    """Store one alert as the webhook would have (same parser, same dedupe) and wake the pipeline."""
    sid = str(alert["id"])
    payload = alert["raw_payload"]
    try:
        parsed = intake.parse_alert(payload)
    except AlertError as exc:
        notes[sid] = f"not accepted by today's parser: {exc}"
        return
    # the original body is not kept (its secret is redacted), so the digest is of the payload as stored
    body = json.dumps(payload, sort_keys=True).encode()
    result = intake.store(
        parsed, payload, body, received_at=alert["received_at"], window_seconds=window_seconds
    )
    stored[sid] = str(result.signal_id)
    if result.created:
        bus.publish(bus.SIGNAL_RECEIVED, {"signal_id": str(result.signal_id)})
    else:
        notes[sid] = "a duplicate of an earlier alert in the replay"
