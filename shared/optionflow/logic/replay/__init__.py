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

The package: `walk` steps the clock and runs the stages, `report` compares and summarizes; the real book
and the scratch book are opened, made and dropped by `optionflow.db.scratch`.
"""

from __future__ import annotations

import time as wall_time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from optionflow.clock import FrozenClock
from optionflow.db import book as book_db
from optionflow.db import replay as replay_db
from optionflow.db import trading_settings as settings_db
from optionflow.db.rows import ExitRules, RiskLimits, SignalOutcome, StoredAlert, StoredStrategySettings
from optionflow.db.scratch import Leftover, drop_leftovers, read_only, scratch_book
from optionflow.logic.replay.report import AlertRow, Outcome, Report, StoppedBy, build_report
from optionflow.logic.replay.walk import (
    FAST_PATH,
    SWEEP,
    Progress,
    Wakeups,
    Window,
    quiet_stages,
    session_ticks,
    walk,
)
from optionflow.models.replay_rules import ReplayRules

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

__all__ = [
    "FAST_PATH",
    "SWEEP",
    "AlertRow",
    "Leftover",
    "Outcome",
    "Progress",
    "Report",
    "StoppedBy",
    "Window",
    "drop_leftovers",
    "replay",
    "session_ticks",
]


def replay(
    deps: Dependencies,
    *,
    database_url: str,
    window: Window,
    rules: ReplayRules | None = None,
    step: timedelta = timedelta(minutes=1),
    now: datetime | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Replay the alerts stored in `database_url` during `window` on a scratch book and compare.

    The stages run with the replay's own dependencies (`composition.for_replay`): `deps`' settings, market
    and broker, on the scratch book, with a frozen clock and the replay's bus.
    `now` (default: `deps`' clock) caps the replay: it never steps into the future. Raises
    DatabaseUnavailable when either database cannot be reached, and whatever a stage raises; the scratch
    book is dropped in every case.
    """
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    started = wall_time.monotonic()
    rules = rules or ReplayRules()
    alerts, actual_rows, live_limits, live_exits, live_strategy = _read_real_book(database_url, window)
    strategy = strategy_rows(live_strategy, rules.strategy_changes())
    # a scratch book gets exactly the settings an operator may change on the real one (the typed rows'
    # fields are those columns), with the rules file's changes
    risk_limits = asdict(live_limits) | rules.risk_limit_changes()
    exit_rules = asdict(live_exits) | rules.exit_rule_changes()
    actual = {sid: Outcome.from_row(row) for sid, row in actual_rows.items()}
    if not alerts:
        return build_report(window, risk_limits, exit_rules, [], started=started)

    if now is None:
        from optionflow.composition import on_book

        now = on_book(deps, database_url).clock.now()  # a simulated clock is the real book's, kept there
    stopped_by: StoppedBy = "end of window" if window.end <= now else "now"
    until = window.end if stopped_by == "end of window" else now
    if alerts[-1].received_at > until:
        # a clock behind the stored alerts (a demo's shifted clock) must not cut the replay short of them
        until, stopped_by = alerts[-1].received_at, "last stored alert"
    actual = {sid: outcome.as_of(until) for sid, outcome in actual.items()}
    # The stages reach the scratch book only through their dependencies: nothing global is pointed at it,
    # and the process's own database is never touched (tests hold it unreachable during a replay).
    with scratch_book(database_url) as scratch_url, quiet_stages():
        from optionflow.composition import for_replay

        clock, wakeups = FrozenClock(window.start), Wakeups()
        scratch = for_replay(deps, database_url=scratch_url, clock=clock, bus=wakeups)

        def give_settings(cur: Any) -> None:
            settings_db.update(cur, "risk_limits", risk_limits, at=clock.now())
            settings_db.update(cur, "exit_rules", exit_rules, at=clock.now())
            _copy_strategy(cur, strategy, clock.now())

        scratch.db.run_in_transaction(give_settings)
        stored, notes = walk(scratch, window, alerts, until, step, clock, wakeups, on_progress)
        replayed = scratch.db.run_in_transaction(
            lambda cur: replay_db.outcomes(cur, sorted(set(stored.values())))
        )

    rows = []
    for alert in alerts:
        sid = str(alert.id)
        replay_id = stored.get(sid)
        rows.append(
            AlertRow(
                signal_id=sid,
                received_at=alert.received_at,
                ticker=alert.ticker,
                action=alert.action,
                direction=alert.direction,
                actual=actual[sid],
                replay=Outcome.from_row(replayed[replay_id]) if replay_id and sid not in notes else None,
                note=notes.get(sid),
            )
        )
    return build_report(
        window,
        risk_limits,
        exit_rules,
        rows,
        started=started,
        until=until,
        stopped_by=stopped_by,
        clock_at=now,
    )


def strategy_rows(
    live: list[StoredStrategySettings], changes: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The strategy settings a scratch book is given: the real book's rows (default and per ticker), each
    with the rules file's changes over it; a ticker the file names that has no row gets one."""
    editable = settings_db.EDITABLE["strategy_settings"]
    rows = {row.name: {c: getattr(row, c) for c in editable} for row in live}
    for name, values in changes.items():
        rows[name] = rows.get(name, dict.fromkeys(editable)) | values
    return rows


def _copy_strategy(cur: Any, rows: dict[str, dict[str, Any]], at: datetime) -> None:
    for name, values in rows.items():
        if name != "default":
            settings_db.ensure_row(cur, "strategy_settings", name, at=at)
        settings_db.update(cur, "strategy_settings", values, at=at, name=name)


def _read_real_book(
    url: str, window: Window
) -> tuple[list[StoredAlert], dict[str, SignalOutcome], RiskLimits, ExitRules, list[StoredStrategySettings]]:
    # Read-only at the server: whatever happens later, this connection cannot write to the real book.
    with read_only(url) as cur:
        alerts = replay_db.alerts_received(cur, window.start, window.end)
        outcomes = replay_db.outcomes(cur, [str(a.id) for a in alerts])
        limits = book_db.risk_limits(cur)
        exits = book_db.exit_rules(cur)
        strategy = settings_db.strategy_rows(cur)
    return alerts, outcomes, limits, exits, strategy
