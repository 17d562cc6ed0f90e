"""Replay's walk through time: the clock stepped through the window, each stored alert arriving at its
`received_at` through the webhook's own parsing and dedupe, the fast path as the event rules route it, and
between alerts the five workers' sweeps every `step` of each NYSE session.

The stages run are the workers' own (the worker registry's use cases), given the replay's own dependencies
(`optionflow.composition.for_replay`): its scratch book, its frozen clock and its bus (`Wakeups`). Nothing
global is swapped but the log level (`quiet_stages`).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.db.rows import StoredAlert
from optionflow.events import names as events
from optionflow.logic import intake
from optionflow.models.alert import AlertError
from optionflow.observability import logger
from optionflow.workers import BY_EVENT, BY_NAME, NAMES

if TYPE_CHECKING:
    from optionflow.clock import FrozenClock
    from optionflow.composition import Dependencies

# What each fast-path event wakes, and the schedules' sweep in pipeline order: the worker registry's.
FAST_PATH = {event: worker.name for event, worker in BY_EVENT.items() if worker.replayed}
SWEEP = tuple(name for name in NAMES if BY_NAME[name].replayed)


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
        if detail_type == events.POSITION_OPENED:
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

    def run(self, deps: Dependencies, now: datetime) -> None:
        while self.queue:
            stage, only = self.queue.popleft()
            BY_NAME[stage].stage()(deps, now, list(only) if only is not None else None)


def session_ticks(day: date, step: timedelta, calendar: NyseCalendar | None = None) -> list[datetime]:
    """When the schedules sweep on `day`: every `step` from the open through the close (none when closed).
    Outside sessions nothing can be entered or exited, so the replay does not sweep there."""
    session = (calendar or NyseCalendar()).session(day)
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
def quiet_stages() -> Iterator[None]:
    """The stages' info lines off for the walk (they describe a scratch book, and in the real logs would
    read as real trades); restored afterwards."""
    previous_level = logger.log_level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous_level)


def walk(
    deps: Dependencies,
    window: Window,
    alerts: list[StoredAlert],
    until: datetime,
    step: timedelta,
    clock: FrozenClock,
    wakeups: Wakeups,
    on_progress: Callable[[Progress], None] | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Step `clock` (the replay's, in `deps`) through the window, the stages publishing on `wakeups` (the
    bus in `deps`); returns ({real signal id: scratch signal id}, {real id: note})."""
    window_seconds = deps.settings.dedupe_window_seconds
    by_day: dict[date, list[StoredAlert]] = {}
    for alert in alerts:
        by_day.setdefault(alert.received_at.astimezone(NEW_YORK).date(), []).append(alert)
    stored: dict[str, str] = {}
    notes: dict[str, str] = {}
    replayed = 0
    days = window.days()
    for number, day in enumerate(days, 1):
        # at one instant the sweep runs before an alert arriving then; both see the same prices
        events: list[tuple[datetime, int, StoredAlert | None]] = [
            (tick, 0, None) for tick in session_ticks(day, step, deps.calendar) if tick <= until
        ]
        events += [(a.received_at, 1, a) for a in by_day.get(day, [])]
        events.sort(key=lambda e: (e[0], e[1]))
        for at, _, arriving in events:
            clock.set(at)
            if arriving is None:
                for stage in SWEEP:
                    wakeups.wake(stage)
            else:
                _arrive(deps, arriving, window_seconds, stored, notes)
                replayed += 1
            wakeups.run(deps, clock.now())
        if on_progress:
            on_progress(Progress(day, number, len(days), replayed, wakeups.positions_opened))
    # one last sweep at the end, so open positions carry the marks of the window's end
    clock.set(until)
    for stage in SWEEP:
        wakeups.wake(stage)
    wakeups.run(deps, clock.now())
    return stored, notes


def _arrive(
    deps: Dependencies,
    alert: StoredAlert,
    window_seconds: int,
    stored: dict[str, str],
    notes: dict[str, str],
) -> None:
    """Store one alert as the webhook would have (same parser, same dedupe) and wake the pipeline."""
    sid = str(alert.id)
    payload = alert.raw_payload
    try:
        parsed = intake.parse_alert(payload)
    except AlertError as exc:
        notes[sid] = f"not accepted by today's parser: {exc}"
        return
    # the original body is not kept (its secret is redacted), so the digest is of the payload as stored
    body = json.dumps(payload, sort_keys=True).encode()
    result = intake.store(
        deps.db, parsed, payload, body, received_at=alert.received_at, window_seconds=window_seconds
    )
    stored[sid] = str(result.signal_id)
    if result.created:
        deps.publish(events.SIGNAL_RECEIVED, {"signal_id": str(result.signal_id)})
    else:
        notes[sid] = "a duplicate of an earlier alert in the replay"
