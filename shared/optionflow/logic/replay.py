"""Replay: the alerts OptionFlow really stored, run again through the real pipeline on a fresh paper book.

Nothing here decides, sizes, fills, marks or exits: the replay calls the same stages the workers call
(decide.process_pending, orders.create_pending, execution.execute_pending, marks.refresh_all,
exit_monitor.monitor), so it cannot disagree with production logic. What it adds is time and isolation:

- The book is a scratch database (`optionflow_replay_<hex>`, migrated like any other, dropped afterwards even
  on error or Ctrl-C) on the same server, so the real tables are never written. The real book is only read,
  on a read-only connection of its own.
- A frozen clock walks through the window. Each alert arrives at its original `received_at` and goes through
  the webhook's own parsing and dedupe (`intake.parse_alert`, `intake.store`) and then the fast path, exactly
  as the event rules of template.yaml route it; between alerts the clock steps every `step` through each NYSE
  session, running the five workers' sweeps, so stops, targets and time stops fire at the minute they would
  have. The simulated market is a function of time and seed, so a minute's marks are the live run's marks.
- Raw payloads are re-parsed rather than the parsed columns copied: the replay shows what today's code does
  with the alerts (a parser fix shows up), and an alert today's parser refuses is reported, not skipped.
"""

from __future__ import annotations

import json
import logging
import time as wall_time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

import psycopg2

from optionflow import clock as app_clock
from optionflow.config import get_settings
from optionflow.db import book as book_db
from optionflow.db import replay as replay_db
from optionflow.db import trading_settings as settings_db
from optionflow.db.connection import (
    Cursor,
    connect,
    run_in_transaction,
    url_with_database,
    using_database,
)
from optionflow.db.migrate import migrate_database
from optionflow.events import bus
from optionflow.logic import intake
from optionflow.logic.decide import process_pending
from optionflow.logic.execution import execute_pending
from optionflow.logic.exit_monitor import monitor
from optionflow.logic.marks import refresh_all
from optionflow.logic.orders import create_pending
from optionflow.logic.pipeline import FAST_PATH, SWEEP
from optionflow.market.calendar import NEW_YORK
from optionflow.market.provider import get_calendar
from optionflow.models.alert import AlertError
from optionflow.models.replay_rules import ReplayRules
from optionflow.observability import logger

_STAGES: dict[str, Callable[[datetime, list[str] | None], Any]] = {
    "signal_processor": lambda now, only: process_pending(now),
    "order_creator": lambda now, only: create_pending(now),
    "paper_executor": lambda now, only: execute_pending(now),
    "position_refresher": refresh_all,
    "exit_monitor": monitor,
}


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


@dataclass(frozen=True)
class Outcome:
    """What became of one alert in one book. Money in dollars: P&L and cost basis for the whole position,
    entry and exit prices per share."""

    status: str
    reasons: list[str] = field(default_factory=list)
    position_status: str | None = None
    option_symbol: str | None = None
    quantity: int | None = None
    entry_price: Decimal | None = None
    exit_price: Decimal | None = None
    cost_basis: Decimal | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    exit_rule: str | None = None
    realized_pnl: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    closed_positions: int = 0
    # a position that was still open when the replay stopped and closed later, e.g. "STOP_LOSS -42.00"
    closed_later: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Outcome:
        return cls(
            status=row["status"],
            reasons=list(row["rejection_reasons"] or []),
            position_status=row["position_status"],
            option_symbol=row["option_symbol"],
            quantity=row["quantity"],
            entry_price=row["entry_price"],
            exit_price=row["exit_price"],
            cost_basis=row["cost_basis"],
            opened_at=row["opened_at"],
            closed_at=row["closed_at"],
            exit_rule=row["exit_reason"],
            realized_pnl=row["realized_pnl"],
            unrealized_pnl=row["unrealized_pnl"],
            closed_positions=int(row["closed_positions"] or 0),
        )

    def as_of(self, until: datetime) -> Outcome:
        """This outcome as the book stood at `until`, where the replay stops: a position the live run closed
        after that was still open then. Compared with its later close, the replay would seem to differ
        under the very same rules. Its unrealized P&L at `until` is not recorded, so it counts as 0."""
        if self.position_status != "CLOSED" or self.closed_at is None or self.closed_at <= until:
            return self
        return replace(
            self,
            position_status="OPEN",
            exit_price=None,
            closed_at=None,
            exit_rule=None,
            realized_pnl=None,
            unrealized_pnl=None,
            closed_later=self.describe(),
        )

    def describe(self) -> str:
        """One line for the table, e.g. `STOP_LOSS -42.00`, `open +12.50`, `rejected: kill switch is ON`."""
        if self.position_status == "CLOSED":
            return f"{self.exit_rule} {self.realized_pnl:+,.2f}"
        if self.closed_later:
            return f"open (closed after the window: {self.closed_later})"
        if self.position_status is not None:
            return f"open {self.unrealized_pnl or 0:+,.2f}"
        if self.status in ("REJECTED", "FAILED"):
            return f"{self.status.lower()}: {self.reasons[0] if self.reasons else 'no reason recorded'}"
        if self.status == "EXECUTED" and self.closed_positions:
            plural = "s" if self.closed_positions != 1 else ""
            return f"closed {self.closed_positions} position{plural}"
        return self.status.lower()

    def same_as(self, other: Outcome) -> bool:
        return (
            self.status == other.status
            and self.position_status == other.position_status
            and self.option_symbol == other.option_symbol
            and self.quantity == other.quantity
            and self.exit_rule == other.exit_rule
            and self.realized_pnl == other.realized_pnl
            and self.closed_positions == other.closed_positions
        )


@dataclass(frozen=True)
class AlertRow:
    signal_id: str
    received_at: datetime
    ticker: str
    action: str
    direction: str | None
    actual: Outcome
    replay: Outcome | None  # None when the replay did not store it (see `note`)
    note: str | None = None

    @property
    def same(self) -> bool:
        return self.replay is not None and self.actual.same_as(self.replay)


StoppedBy = Literal["end of window", "now", "last stored alert"]


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    replayed_until: datetime | None
    # why the replay stopped at replayed_until: at the window's end, at `clock_at` (the present, which the
    # window reaches into), or after the last stored alert, when the clock is behind it
    stopped_by: StoppedBy | None
    clock_at: datetime | None
    risk_limits: dict[str, Any]
    exit_rules: dict[str, Any]
    alerts: list[AlertRow]
    actual: dict[str, Any]  # stats.summarize() of the window's alerts in the real book
    replay: dict[str, Any]  # the same for the scratch book
    seconds: float


class _Wakeups:
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
            _STAGES[stage](now, list(only) if only is not None else None)


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


def replay(
    *,
    database_url: str,
    window: Window,
    rules: ReplayRules | None = None,
    step: timedelta = timedelta(minutes=1),
    now: datetime | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Replay the alerts stored in `database_url` during `window` on a scratch book and compare.

    `now` (default: the application clock) caps the replay: it never steps into the future. Raises
    DatabaseUnavailable when either database cannot be reached, and whatever a stage raises; the scratch
    book is dropped in every case.
    """
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    started = wall_time.monotonic()
    rules = rules or ReplayRules()
    alerts, actual_rows, live_limits, live_exits = _read_real_book(database_url, window)
    # a scratch book gets exactly the settings an operator may change on the real one
    risk_limits = {
        c: live_limits[c] for c in settings_db.EDITABLE["risk_limits"]
    } | rules.risk_limit_changes()
    exit_rules = {c: live_exits[c] for c in settings_db.EDITABLE["exit_rules"]} | rules.exit_rule_changes()
    actual = {sid: Outcome.from_row(row) for sid, row in actual_rows.items()}
    if not alerts:
        return _report(window, risk_limits, exit_rules, [], started=started)

    if now is None:
        with using_database(database_url):  # a simulated clock is the real book's, kept in its database
            now = app_clock.get_clock().now()
    stopped_by: StoppedBy = "end of window" if window.end <= now else "now"
    until = window.end if stopped_by == "end of window" else now
    if alerts[-1]["received_at"] > until:
        # a clock behind the stored alerts (a demo's shifted clock) must not cut the replay short of them
        until, stopped_by = alerts[-1]["received_at"], "last stored alert"
    actual = {sid: outcome.as_of(until) for sid, outcome in actual.items()}
    with (
        _scratch_book(database_url) as scratch_url,
        using_database(scratch_url),
        _replay_time(window) as moving,
    ):
        clock, wakeups = moving
        run_in_transaction(
            lambda cur: (
                settings_db.update(cur, "risk_limits", risk_limits, at=clock.now()),
                settings_db.update(cur, "exit_rules", exit_rules, at=clock.now()),
            )
        )
        stored, notes = _walk(window, alerts, until, step, clock, wakeups, on_progress)
        replayed = run_in_transaction(lambda cur: replay_db.outcomes(cur, sorted(set(stored.values()))))

    rows = []
    for alert in alerts:
        sid = str(alert["id"])
        replay_id = stored.get(sid)
        rows.append(
            AlertRow(
                signal_id=sid,
                received_at=alert["received_at"],
                ticker=alert["ticker"],
                action=alert["action"],
                direction=alert["direction"],
                actual=actual[sid],
                replay=Outcome.from_row(replayed[replay_id]) if replay_id and sid not in notes else None,
                note=notes.get(sid),
            )
        )
    return _report(
        window,
        risk_limits,
        exit_rules,
        rows,
        started=started,
        until=until,
        stopped_by=stopped_by,
        clock_at=now,
    )


def _report(
    window: Window,
    risk_limits: dict[str, Any],
    exit_rules: dict[str, Any],
    rows: list[AlertRow],
    *,
    started: float,
    until: datetime | None = None,
    stopped_by: StoppedBy | None = None,
    clock_at: datetime | None = None,
) -> Report:
    """The report of `rows`, both books summarized; `until`, `stopped_by` and `clock_at` are None when the
    window held no alerts and nothing was replayed."""
    return Report(
        first=window.first,
        last=window.last,
        replayed_until=until,
        stopped_by=stopped_by,
        clock_at=clock_at,
        risk_limits=risk_limits,
        exit_rules=exit_rules,
        alerts=rows,
        actual=_summary([(r.ticker, r.direction, r.actual) for r in rows]),
        replay=_summary([(r.ticker, r.direction, r.replay) for r in rows if r.replay is not None]),
        seconds=wall_time.monotonic() - started,
    )


def _read_real_book(
    url: str, window: Window
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    # Read-only at the server: whatever happens later, this connection cannot write to the real book.
    conn = connect(url)
    try:
        conn.set_session(readonly=True)
        with conn.cursor(cursor_factory=Cursor) as cur:
            alerts = replay_db.alerts_received(cur, window.start, window.end)
            outcomes = replay_db.outcomes(cur, [str(a["id"]) for a in alerts])
            limits = book_db.risk_limits(cur)
            exits = book_db.exit_rules(cur)
        conn.rollback()
    finally:
        conn.close()
    return alerts, outcomes, limits, exits


@contextmanager
def _scratch_book(url: str) -> Iterator[str]:
    """A new, migrated database beside the real one; dropped when the block ends, however it ends.

    Everything from CREATE DATABASE on runs inside the block that drops it: an error or Ctrl-C the moment the
    CREATE returns, or while the book is tuned or migrated, still drops it. Only a process killed outright
    leaves it, and `drop_leftovers` finds it then. The server connection that creates and drops the book is
    held open and claims it meanwhile, so `drop_leftovers` run beside a replay never drops its book, even
    while the replay has no connection to it."""
    name = f"{replay_db.SCRATCH_PREFIX}{uuid4().hex[:12]}"
    holder = _server_connection(url)  # CREATE/DROP DATABASE cannot run in a transaction
    refused = False
    try:
        with holder.cursor() as cur:
            replay_db.claim_database(cur, name)
            try:
                replay_db.create_database(cur, name)
            except psycopg2.Error as exc:
                # the server's answer to the CREATE: it made nothing, and a name already taken (one chance in
                # 2**48) would be another replay's book, not ours to drop
                refused = exc.pgcode is not None
                raise
            replay_db.tune_database(cur, name)
        scratch_url = url_with_database(url, name)
        migrate_database(scratch_url)
        yield scratch_url
    finally:
        try:
            if not refused:
                _drop_scratch_book(holder, url, name)
        finally:
            holder.close()


def _drop_scratch_book(holder: Any, url: str, name: str) -> None:
    try:
        with holder.cursor() as cur:
            replay_db.drop_database(cur, name)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        # the held connection broke during the replay (a server restart, say): drop over a new one
        fresh = _server_connection(url)
        try:
            with fresh.cursor() as cur:
                replay_db.drop_database(cur, name)
        finally:
            fresh.close()


def _server_connection(url: str) -> Any:
    conn = connect(url)
    try:
        conn.autocommit = True
    except BaseException:
        conn.close()
        raise
    return conn


@dataclass(frozen=True)
class Leftover:
    """A scratch book that `drop_leftovers` found: no session connected to it or claiming it."""

    name: str
    dropped: bool
    kept_because: str | None = None


def drop_leftovers(database_url: str) -> list[Leftover]:
    """Drop the scratch books left on `database_url`'s server by replays killed before they could drop them
    (SIGKILL, a lost machine): every `optionflow_replay_*` database that no session is connected to and no
    running replay claims. A book a session connects to meanwhile, or one this role does not own, is kept and
    says why. Raises DatabaseUnavailable when the server cannot be reached."""
    conn = _server_connection(database_url)
    try:
        with conn.cursor(cursor_factory=Cursor) as cur:
            found = replay_db.unused_scratch_databases(cur)
            results = []
            for book in found:
                if not book["droppable"]:
                    results.append(Leftover(book["name"], False, f"owned by {book['owner']}"))
                elif replay_db.drop_unused_database(cur, book["name"]):
                    results.append(Leftover(book["name"], True))
                else:
                    results.append(Leftover(book["name"], False, "a session connected to it meanwhile"))
    finally:
        conn.close()
    return results


@contextmanager
def _replay_time(window: Window) -> Iterator[tuple[app_clock.FrozenClock, _Wakeups]]:
    """The process clock frozen at the window's start, the event bus replaced by the replay's own (a
    configured EventBridge bus must not wake the real workers) and the stages' info lines off (they describe
    a scratch book, and in the real logs would read as real trades); all restored afterwards."""
    previous_clock, previous_bus, previous_level = app_clock.get_clock(), bus.get_bus(), logger.log_level
    frozen, wakeups = app_clock.FrozenClock(window.start), _Wakeups()
    app_clock.set_clock(frozen)
    bus.set_bus(wakeups)
    logger.setLevel(logging.WARNING)
    try:
        yield frozen, wakeups
    finally:
        app_clock.set_clock(previous_clock)
        bus.set_bus(previous_bus)
        logger.setLevel(previous_level)


def _walk(
    window: Window,
    alerts: list[dict[str, Any]],
    until: datetime,
    step: timedelta,
    clock: app_clock.FrozenClock,
    wakeups: _Wakeups,
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


def _summary(outcomes: list[tuple[str, str | None, Outcome]]) -> dict[str, Any]:
    """stats.summarize over the positions these alerts opened, plus how many alerts opened one."""
    from optionflow.logic.stats import ClosedTrade, exit_rule_of, summarize

    trades = [
        ClosedTrade(
            ticker=ticker,
            direction=direction or "",
            exit_rule=exit_rule_of(o.exit_rule),
            opened_at=o.opened_at,  # type: ignore[arg-type]  # a closed position has both times
            closed_at=o.closed_at,  # type: ignore[arg-type]
            realized_pnl=Decimal(o.realized_pnl or 0),
            cost_basis=Decimal(o.cost_basis or 0),
        )
        for ticker, direction, o in outcomes
        if o.position_status == "CLOSED"
    ]
    still_open = [o for _, _, o in outcomes if o.position_status in ("OPEN", "CLOSING")]
    summary = summarize(
        trades,
        unrealized_pnl=sum((Decimal(o.unrealized_pnl or 0) for o in still_open), Decimal(0)),
        open_positions=len(still_open),
    )
    return {
        "alerts": len(outcomes),
        "positions": sum(o.position_status is not None for _, _, o in outcomes),
        **summary,
    }
