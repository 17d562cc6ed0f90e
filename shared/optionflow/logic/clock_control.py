"""Driving the simulated clock (OPTIONFLOW_CLOCK_START): show it, set it, advance it, change its pace.

The clock's state is one row (`optionflow.db.simulated_clock`), so the local stack's API and worker
processes, and any command beside them, agree on the time. Time only moves forward: the book has seen every
instant up to now, and a clock set back would re-price, fill and expire at instants already past.

`advance` is the one that does work. It steps through the time it passes over and, at every instant the
workers' schedules (template.yaml) would have fired, runs their sweeps in pipeline order through
`run_worker`, so each run is recorded and a paused worker stays paused. What a sweep publishes wakes the
stage its fast-path rule names, at the same instant, as on the stack. It returns once all of that is done,
so a script can step a trading day and read a book that no longer moves.

Inside a session it sweeps every minute. Outside one, once a sweep has moved nothing (no signal decided or
ordered, no order filled or expired, no exit order placed), it sweeps again only where something can
change: at the next New York midnight (a new trading date: days to expiry, the day's loss limit), at the
next close or open (DAY orders expire, expiries settle; entries fill), and at the last tick before it
lands. Nothing else moves the book there. No alert arrives during an advance: the local API serves one
request at a time, and the worker process waits for the clock's lock. A signal decided outside a session
is rejected, and no order fills and no exit order is placed while the market is closed. What the skipped
sweeps would have done is re-mark open positions, whose simulated underlying walks around the clock (issue
13 asks for the last close's mark outside a session, and then they change nothing; until then a skipped
overnight mark cannot raise a trailing stop's high), and show advice (max hold) that comes due between
those instants from the next sweep on. A weekend is four or five sweeps instead of 2,880.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from optionflow.calendar import trading_date
from optionflow.clock import STARTED_BY, ClockState, FrozenClock, SimulatedClock, wall_now
from optionflow.db import simulated_clock as store
from optionflow.events import names as events
from optionflow.local.template import WorkerSpec, next_tick
from optionflow.logic.runs import position_scope, run_worker
from optionflow.observability import logger
from optionflow.workers import BY_EVENT, BY_NAME
from optionflow.workers import NAMES as SWEEP

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

# What each fast-path event wakes, from the worker registry.
FAST_PATH = {event: worker.name for event, worker in BY_EVENT.items()}


def work_for(deps: Dependencies, worker: str, event: dict[str, Any]) -> Any:
    """What `worker`'s Lambda handler does with `event`: its stage, limited to the positions an event names."""
    stage, scope = BY_NAME[worker].stage(), position_scope(event)
    return lambda now: stage(deps, now, scope)


# One advance steps at most this far: a month of minute sweeps is about what a request should wait for.
MAX_ADVANCE = timedelta(days=31)
# OCC option symbols carry a two-digit year, so no contract can be listed from 2100 on: the clock stops short.
END_OF_TIME = datetime(2100, 1, 1, tzinfo=UTC)

# Counts a worker reports about the book as it stands, not about what its run did: summing them over an
# advance's runs would mean nothing.
_BOOK_COUNTS = frozenset({"open_positions"})
# What a run reports when it moved the book: signals decided or ordered, orders filled or expired, exit
# orders placed. Re-pricing and exit advice do not count (see the module's docstring).
_MOVES = frozenset({"processed", "opened", "closed", "expired", "exit_orders"})


class ClockNotSimulated(RuntimeError):
    """The process runs on the system clock; there is nothing to drive."""


class ClockRefused(ValueError):
    """A change the clock cannot make; names the field, and says why."""

    def __init__(self, field: str, message: str, *, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


class AdvanceStopped(RuntimeError):
    """A sweep raised during an advance. The clock stays at the instant of that sweep: the runs before it
    ran, and the book has seen that instant."""

    def __init__(self, worker: str, at: datetime, error: Exception) -> None:
        super().__init__(
            f"{worker} failed at {at.isoformat()} ({type(error).__name__}: {error}); the clock stopped there"
        )
        self.worker = worker
        self.at = at


def _simulated(deps: Dependencies) -> SimulatedClock:
    clock = deps.clock
    if not isinstance(clock, SimulatedClock):
        raise ClockNotSimulated(
            "the clock is the system clock; start with OPTIONFLOW_CLOCK_START to drive it"
        )
    return clock


def _view(deps: Dependencies, state: ClockState, now: datetime) -> dict[str, Any]:
    return {
        "now": now,
        "paused": state.paused,
        "speed": state.speed,
        "changed_by": state.changed_by,
        "market_open": deps.calendar.is_open(now),
    }


def show(deps: Dependencies) -> dict[str, Any]:
    """The simulated time now, its pace, who changed it last, and whether the market is open."""
    state = _simulated(deps).refresh()
    return _view(deps, state, state.at(wall_now()))


@contextmanager
def _holding(deps: Dependencies) -> Iterator[SimulatedClock]:
    """Hold the clock for one change: runs under way end first and no run starts until it is done (see
    `optionflow.db.simulated_clock`)."""
    clock = _simulated(deps)
    deps.db.run_statement(store.hold_for_change)
    try:
        yield clock
    finally:
        deps.db.run_statement(store.release_from_change)


@contextmanager
def _changing(deps: Dependencies) -> Iterator[tuple[SimulatedClock, ClockState]]:
    """`_holding`, with the clock's state read afresh."""
    with _holding(deps) as clock:
        yield clock, clock.refresh()


def _save(deps: Dependencies, clock: SimulatedClock, state: ClockState) -> ClockState:
    saved = deps.db.run_in_transaction(
        lambda cur: store.save(
            cur,
            at=state.anchor_at,
            wall=state.anchor_wall,
            speed=state.speed,
            paused=state.paused,
            swept_to=state.swept_to,
            by=state.changed_by,
        )
    )
    clock.adopt(saved)
    return saved


def start(deps: Dependencies, at: datetime) -> tuple[ClockState, bool]:
    """Start the book's clock at `at` (OPTIONFLOW_CLOCK_START, as the local stack starts), running at real
    speed: a book with no clock yet, or one whose clock is behind `at`. A clock already past `at` carries
    on where it stands, pace and pause kept. Returns the clock and whether it started at `at`."""
    with _holding(deps) as clock:
        wall = wall_now()
        current = deps.db.run_in_transaction(store.read)
        if current is not None and current.at(wall) >= at:
            return current, False
        at = at.astimezone(UTC)
        return _save(deps, clock, ClockState(at, wall, 1.0, False, swept_to=at, changed_by=STARTED_BY)), True


def set_time(deps: Dependencies, at: datetime, *, by: str) -> dict[str, Any]:
    """Jump to `at` without running the sweeps in between, as if the stack had been stopped meanwhile: the
    schedules carry on from their first tick after `at`. ClockRefused (409) when `at` is before the clock,
    and (422) from 2100 on."""
    with _changing(deps) as (clock, state):
        wall = wall_now()
        now = state.at(wall)
        if at >= END_OF_TIME:
            raise ClockRefused("set", f"the simulated market lists no options from {END_OF_TIME:%Y} on")
        if at < now:
            raise ClockRefused(
                "set",
                f"{at.isoformat()} is before the clock ({now.isoformat()}): the book would go back in time",
                status=409,
            )
        at = at.astimezone(UTC)
        state = _save(deps, clock, replace(state, anchor_at=at, anchor_wall=wall, swept_to=at, changed_by=by))
    logger.info("clock set", extra={"at": state.anchor_at.isoformat(), "changed_by": by})
    return _view(deps, state, state.anchor_at)


def set_speed(deps: Dependencies, speed: float, *, by: str) -> dict[str, Any]:
    """Run at `speed` simulated seconds per wall second from now on (a paused clock stays paused)."""
    return _rebase(deps, by, speed=speed)


def set_paused(deps: Dependencies, paused: bool, *, by: str) -> dict[str, Any]:
    """Stop the clock where it stands, or let it run on from there at its speed."""
    return _rebase(deps, by, paused=paused)


def _rebase(deps: Dependencies, by: str, **change: Any) -> dict[str, Any]:
    """Re-anchor the clock where it stands now and apply `change` (its speed or its pause) from there."""
    with _changing(deps) as (clock, state):
        wall = wall_now()
        state = _save(
            deps, clock, replace(state, anchor_at=state.at(wall), anchor_wall=wall, changed_by=by, **change)
        )
    return _view(deps, state, state.anchor_at)


def schedule_ticks(
    after: datetime, until: datetime, rates: dict[str, int]
) -> list[tuple[datetime, list[str]]]:
    """When the schedules fire in (after, until], with the workers due at each instant in pipeline order.

    They fall where the local schedules fire (`optionflow.local.template.next_tick`): on whole minutes for
    rate(1 minute), whatever second the advance starts from."""
    due: dict[datetime, list[str]] = {}
    for worker in SWEEP:
        at = next_tick(after, rates[worker])
        while at <= until:
            due.setdefault(at, []).append(worker)
            at += timedelta(seconds=rates[worker])
    return sorted(due.items())


@lru_cache(maxsize=1)
def schedule_specs() -> dict[str, WorkerSpec]:
    """The workers' schedules as the local stack runs them: read from template.yaml, like its runner. A
    simulated clock only exists where the template is at hand."""
    from optionflow.local.runner import registry_specs

    return {spec.name: spec for spec in registry_specs()}


class _Steps:
    """The runs of one advance at one instant: the sweeps due, then whatever their events wake (this is
    the process's event bus while the advance steps, so the worker process is not woken for runs the
    advance makes itself)."""

    def __init__(self, specs: dict[str, WorkerSpec]) -> None:
        self.specs = specs
        self.queue: deque[tuple[str, tuple[str, ...] | None, dict[str, Any]]] = deque()
        self.at = datetime.min.replace(tzinfo=UTC)
        self.moved = False
        self.workers: dict[str, dict[str, Any]] = {
            worker: {"runs": 0, "paused": 0, "totals": {}} for worker in SWEEP
        }

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        worker = FAST_PATH.get(detail_type)
        if worker is not None:
            self._wake(
                worker,
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": detail_type,
                    "source": events.SOURCE,
                    "time": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "detail": detail,
                },
            )

    def _wake(self, worker: str, event: dict[str, Any]) -> None:
        ids = event.get("detail", {}).get("position_ids")
        scope = tuple(str(i) for i in ids) if isinstance(ids, list) else None
        # a run already waiting for the same work, or for the whole book, would find nothing more to do
        if any(w == worker and s in (None, scope) for w, s, _ in self.queue):
            return
        self.queue.append((worker, scope, event))

    def run(self, deps: Dependencies, at: datetime, due: list[str], clock: FrozenClock) -> bool:
        """Run the sweeps `due` at `at` and what they wake; whether any of them moved the book."""
        self.at, self.moved = at, False
        clock.set(at)
        for worker in due:
            self._wake(worker, self.specs[worker].schedule_event(at, f"advance-{uuid.uuid4()}"))
        while self.queue:
            worker, _, event = self.queue.popleft()
            try:
                summary = run_worker(deps, worker, event, work_for(deps, worker, event))
            except Exception as exc:  # recorded in worker_runs by run_worker; the advance stops here
                raise AdvanceStopped(worker, at, exc) from exc
            self._count(worker, summary)
        return self.moved

    def _count(self, worker: str, summary: dict[str, Any]) -> None:
        tally = self.workers[worker]
        if summary.get("paused"):
            tally["paused"] += 1
            return
        tally["runs"] += 1
        result = summary["result"]
        counts = {"processed": result} if isinstance(result, int) else result
        for key, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool) and key not in _BOOK_COUNTS:
                tally["totals"][key] = tally["totals"].get(key, 0) + value
                self.moved = self.moved or (key in _MOVES and value > 0)


@contextmanager
def _stepping(deps: Dependencies, steps: _Steps, at: datetime) -> Iterator[tuple[Dependencies, FrozenClock]]:
    """The advance's own dependencies: a clock frozen at each step and its events routed to `steps` (the
    process's clock and bus are left as they are). The steps' commits do not wait for the disk (see
    `optionflow.db.simulated_clock.commit_without_waiting`)."""
    frozen = FrozenClock(at)
    deps.db.run_statement(store.commit_without_waiting)
    try:
        yield deps.replace(clock=frozen, bus=steps), frozen
    finally:
        deps.db.run_statement(store.commit_waiting)


def _phase(deps: Dependencies, at: datetime) -> tuple[date, bool]:
    """The New York date and whether the session is open: a quiet stretch ends where either changes."""
    return trading_date(at), deps.calendar.is_open(at)


def advance(
    deps: Dependencies, delta: timedelta, *, by: str, specs: dict[str, WorkerSpec] | None = None
) -> dict[str, Any]:
    """Move the clock on by `delta`, running the sweeps due at the schedule ticks on the way (see the
    module's docstring), and land at exactly the clock's time plus `delta`, however long the sweeps took.
    A running clock runs on from there; a paused one stays paused.

    Raises ClockRefused for a `delta` that is not positive or longer than MAX_ADVANCE, and AdvanceStopped
    when a sweep raises.
    """
    if delta <= timedelta(0):
        raise ClockRefused("advance", "the clock only moves forward: give a positive duration")
    if delta > MAX_ADVANCE:
        raise ClockRefused("advance", f"at most {MAX_ADVANCE.days} days at a time")
    specs = specs or schedule_specs()
    steps = _Steps(specs)
    with _changing(deps) as (clock, state):
        start = state.at(wall_now())
        target = start + delta
        if target >= END_OF_TIME:
            raise ClockRefused("advance", f"the simulated market lists no options from {END_OF_TIME:%Y} on")
        ticks = schedule_ticks(start, target, {name: spec.rate_seconds for name, spec in specs.items()})
        reached, swept, moved, phase = start, 0, True, None
        try:
            with _stepping(deps, steps, start) as (stepped, frozen):
                for number, (at, due) in enumerate(ticks, 1):
                    now_phase = _phase(deps, at)
                    if not moved and now_phase == phase and not now_phase[1] and number < len(ticks):
                        continue  # outside the session, quiet since the last sweep: nothing can change
                    # the clock first: whatever of this tick's work a crash leaves, the clock is not behind it
                    reached = at
                    _save(
                        deps,
                        clock,
                        replace(state, anchor_at=at, anchor_wall=wall_now(), swept_to=at, changed_by=by),
                    )
                    moved, phase = steps.run(stepped, at, due, frozen), now_phase
                    swept += 1
            reached = target
        finally:
            # where the book stands: the target, or the instant of the sweep that raised
            state = _save(
                deps,
                clock,
                replace(state, anchor_at=reached, anchor_wall=wall_now(), swept_to=reached, changed_by=by),
            )
    logger.info(
        "clock advanced",
        extra={"from": start.isoformat(), "to": target.isoformat(), "ticks": swept, "changed_by": by},
    )
    return {
        **_view(deps, state, target),
        "advance": {
            "advanced_from": start,
            "ticks": swept,
            "quiet_ticks": len(ticks) - swept,
            "workers": steps.workers,
        },
    }
