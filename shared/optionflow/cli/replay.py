"""`optionflow replay`: the stored alerts of a window, run again on a fresh paper book, side by side with
what really happened (the engine is optionflow.logic.replay)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from optionflow.config import get_settings

SESSION_MINUTES = 390  # a regular NYSE session


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _database_url() -> str:
    """DATABASE_URL (or its secret), else the local stack's embedded Postgres."""
    from optionflow.local.embedded_postgres import url_for

    settings = get_settings()
    return url_for(settings.database_url, settings.data_dir)


class _ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, a line per day otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.written = False

    def __call__(self, p: Any) -> None:
        text = f"replay: {p.day} ({p.day_number}/{p.days} days), {p.alerts} alerts, {p.positions} positions"
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.written = True

    def done(self) -> None:
        if self.tty and self.written:
            self.stream.write("\n")
            self.stream.flush()


def _cmd_replay(args: argparse.Namespace) -> int:
    from optionflow.composition import for_process
    from optionflow.db.connection import DatabaseUnavailable
    from optionflow.logic.replay import Window, replay
    from optionflow.models.replay_rules import ReplayRules, load_rules

    if args.drop_leftovers:
        return _cmd_drop_leftovers(args)
    for option, value in (("--from", args.first), ("--to", args.last)):
        if value is None:
            raise ValueError(f"{option} DATE is required (or --drop-leftovers)")
    first, last = _day("--from", args.first), _day("--to", args.last)
    if last < first:
        raise ValueError(f"--to: {last} is before --from {first}")
    if last == date.max:  # the window ends at the midnight after --to, which no date can hold
        raise ValueError(f"--to: {last} is the last day a date can hold; choose an earlier one")
    step = "1" if args.step is None else args.step  # no default in the parser: --drop-leftovers refuses it
    # ASCII digits only (str.isdigit also takes "²"); a step longer than a session sweeps only at the open
    # and the close, and a huge one would step the clock past the year 9999
    if not (step.isascii() and step.isdigit()) or not 1 <= int(step) <= SESSION_MINUTES:
        raise ValueError(f"--step: {step!r} is not a whole number of minutes from 1 to {SESSION_MINUTES}")
    rules = load_rules(args.rules) if args.rules else ReplayRules()
    import psycopg2.errors

    # A kill from the terminal or a supervisor unwinds like Ctrl-C, so the scratch book is dropped.
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    progress = _ProgressLine(sys.stderr)
    try:
        report = replay(
            for_process(),
            database_url=_database_url(),
            window=Window(first, last),
            rules=rules,
            step=timedelta(minutes=int(step)),
            on_progress=progress,
        )
    except DatabaseUnavailable as exc:
        print(f"optionflow: {exc}", file=sys.stderr)
        return 2
    except psycopg2.errors.InsufficientPrivilege as exc:
        reason = " ".join(str(exc).split())
        print(
            f"optionflow: {reason} (replay reads the real book and creates a scratch database beside it, "
            "which needs CREATEDB)",
            file=sys.stderr,
        )
        return 2
    finally:
        progress.done()
        signal.signal(signal.SIGTERM, previous_handler)
    if args.json:
        print(json.dumps(_as_json(report), default=_json_value, indent=2))
    elif not report.alerts:
        print(f"no alerts were stored from {first} to {last} (New York time); nothing to replay")
    else:
        print(render_report(report, rules_source=str(args.rules) if args.rules else None, rules=rules))
    return 0


def _cmd_drop_leftovers(args: argparse.Namespace) -> int:
    from optionflow.db.connection import DatabaseUnavailable
    from optionflow.db.replay import SCRATCH_PREFIX
    from optionflow.logic.replay import drop_leftovers

    given = [
        option
        for option, value in (
            ("--from", args.first),
            ("--to", args.last),
            ("--rules", args.rules),
            ("--step", args.step),
            ("--json", args.json),
        )
        if value not in (None, False)
    ]
    if given:
        raise ValueError(f"--drop-leftovers takes no other options (got {', '.join(given)})")
    try:
        leftovers = drop_leftovers(_database_url())
    except DatabaseUnavailable as exc:
        print(f"optionflow: {exc}", file=sys.stderr)
        return 2
    if not leftovers:
        print(f"no leftover replay databases ({SCRATCH_PREFIX}*) without a connection; nothing dropped")
    for leftover in leftovers:
        print(
            f"dropped {leftover.name}"
            if leftover.dropped
            else f"kept {leftover.name}: {leftover.kept_because}"
        )
    return 0


def _json_value(value: Any) -> str:
    # times as ISO 8601 with their offset; money as exact decimal strings ("12.50"), never floats
    return value.isoformat() if isinstance(value, date) else str(value)


def _as_json(report: Any) -> dict[str, Any]:
    document = dataclasses.asdict(report)
    for row, alert in zip(document["alerts"], report.alerts, strict=True):
        row["same"] = alert.same
        row["actual"]["summary"] = alert.actual.describe()
        if alert.replay is not None:
            row["replay"]["summary"] = alert.replay.describe()
    return document


_METRICS = (
    ("alerts", "alerts"),
    ("positions", "positions opened"),
    ("closed_trades", "closed trades"),
    ("wins", "wins"),
    ("losses", "losses"),
    ("win_rate", "win rate"),
    ("realized_pnl", "realized P&L ($)"),
    ("unrealized_pnl", "unrealized P&L ($)"),
    ("open_positions", "still open"),
    ("average_win", "average win ($)"),
    ("average_loss", "average loss ($)"),
    ("profit_factor", "profit factor"),
    ("expectancy", "expectancy ($)"),
    ("max_drawdown", "max drawdown ($)"),
)


def _metric(key: str, value: Any) -> Any:
    # win_rate is a fraction (0..1); a trader reads it as a percentage
    if key == "win_rate" and value is not None:
        return f"{value * 100:.1f} %"
    return value


def render_report(report: Any, *, rules_source: str | None, rules: Any) -> str:
    from optionflow.calendar import NEW_YORK
    from optionflow.cli.table import render

    changes = [f"risk_limits.{k}={v}" for k, v in rules.risk_limit_changes().items()]
    changes += [f"exit_rules.{k}={v}" for k, v in rules.exit_rule_changes().items()]
    changes += [
        f"strategy_settings.{name}.{k}={v}"
        for name, values in rules.strategy_changes().items()
        for k, v in values.items()
    ]
    until = report.replayed_until.astimezone(NEW_YORK)
    # the window's end is the midnight after --to; a replay stopped short of it, or pushed past the clock,
    # says where and why
    if report.stopped_by == "end of window":
        reached = f"through {report.last}"
    elif report.stopped_by == "last stored alert":
        clock_at = report.clock_at.astimezone(NEW_YORK)
        reached = (
            f"up to {until:%Y-%m-%d %H:%M:%S} ET, the last stored alert "
            f"(the clock, at {clock_at:%Y-%m-%d %H:%M} ET, is behind it)"
        )
    else:
        reached = f"up to {until:%Y-%m-%d %H:%M} ET (now)"
    lines = [
        f"Replay of {len(report.alerts)} alerts received {report.first} to {report.last} (New York time), "
        f"stepped {reached} in {report.seconds:.1f} s",
        f"Rules: {', '.join(changes)} (from {rules_source}); the rest as in the database"
        if changes
        else "Rules: as in the database",
    ]
    if report.risk_limits.get("kill_switch"):
        lines.append(
            "The kill switch is ON, so no alert opened a position in the replay; "
            "a rules file with risk_limits: {kill_switch: false} replays without it"
        )
    lines.append("")
    rows = [
        {
            "received": f"{a.received_at.astimezone(NEW_YORK):%m-%d %H:%M:%S}",
            "ticker": a.ticker,
            "alert": f"{a.action} {a.direction}" if a.direction else a.action,
            "actual": a.actual.describe(),
            "replay": a.replay.describe() if a.replay is not None else a.note,
            "same": "yes" if a.same else "no",
        }
        for a in report.alerts
    ]
    lines.append(
        render(
            rows,
            ["received", "ticker", "alert", "actual", "replay", "same"],
            ["received (ET)", "ticker", "alert", "ACTUAL", "REPLAY", "same"],
        )
    )
    lines.append("")
    summary = [
        {
            "metric": title,
            "actual": _metric(key, report.actual.get(key)),
            "replay": _metric(key, report.replay.get(key)),
        }
        for key, title in _METRICS
        if key in report.actual
    ]
    lines.append(render(summary, ["metric", "actual", "replay"], ["", "ACTUAL", "REPLAY"]))
    return "\n".join(lines)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="run the stored alerts of a window again on a fresh paper book (optionally other rules) and "
        "compare with what happened",
        description="Runs the alerts stored in the window through the real decision, sizing, fill, mark and "
        "exit logic on a scratch database beside the real one (dropped afterwards; the real book is only "
        "read), stepping a simulated clock every --step minutes through each NYSE session, and prints each "
        "alert's actual and replayed outcome with a summary of both. Uses DATABASE_URL, or the local "
        "stack's embedded Postgres (also while `make run` holds it). --drop-leftovers instead drops the "
        "scratch databases that killed replays left behind.",
    )
    # --from and --to are required for a replay; _cmd_replay says so, since --drop-leftovers takes neither
    parser.add_argument(
        "--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (New York); required to replay"
    )
    parser.add_argument("--to", dest="last", metavar="DATE", help="last day, included; required to replay")
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="FILE",
        help='JSON or YAML: {"risk_limits": {...}, "exit_rules": {...}}, columns of those tables; '
        "keys left out keep the database's values",
    )
    parser.add_argument(
        "--step",
        metavar="MINUTES",
        help=f"minutes between sweeps during sessions, 1 to {SESSION_MINUTES} (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--drop-leftovers",
        action="store_true",
        help="instead of replaying, drop the scratch databases (optionflow_replay_*) that replays killed "
        "before their cleanup left on the server: those no session is connected to or claims",
    )
    parser.set_defaults(func=_cmd_replay)
