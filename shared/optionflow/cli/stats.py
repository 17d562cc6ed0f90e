"""`optionflow stats`: win rate, P&L and drawdown from GET /stats, overall and broken down."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time
from typing import Any

from optionflow.cli.api_client import add_api_options, client_for

GROUPS = {"ticker": "by_ticker", "direction": "by_direction", "exit_rule": "by_exit_rule"}


def window_bound(option: str, text: str | None) -> str | None:
    """An ISO time for the API. A bare date is midnight in New York, the day the market trades on."""
    if text is None:
        return None
    from optionflow.calendar import NEW_YORK

    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=NEW_YORK).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time (2026-11-23T09:30-05:00)"
        ) from None


def _dollars(amount: float | None) -> str:
    if amount is None:
        return "-"
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def overall_lines(report: dict[str, Any]) -> list[str]:
    s = report["overall"]
    window = " ".join(
        part
        for part in (
            f"since {report['since']}" if report["since"] else "",
            f"until {report['until']}" if report["until"] else "",
        )
        if part
    )
    rows = [
        (
            "Closed trades",
            f"{s['closed_trades']} ({s['wins']} won, {s['losses']} lost, {s['breakeven']} breakeven)"
            + (f", {window}" if window else ""),
        ),
        ("Win rate", _percent(s["win_rate"])),
        ("Average win", _dollars(s["average_win"])),
        ("Average loss", _dollars(s["average_loss"])),
        ("Profit factor", "-" if s["profit_factor"] is None else f"{s['profit_factor']:.2f}"),
        ("Expectancy", _dollars(s["expectancy"]) + (" per trade" if s["expectancy"] is not None else "")),
        ("Max drawdown", _dollars(s["max_drawdown"])),
        ("Realized P&L", _dollars(s["realized_pnl"])),
        (
            "Unrealized P&L",
            f"{_dollars(s['unrealized_pnl'])} on {s['open_positions']} open "
            + ("position" if s["open_positions"] == 1 else "positions"),
        ),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"{label.ljust(width)}  {value}" for label, value in rows]


def breakdown_table(report: dict[str, Any], by: str) -> str:
    from optionflow.cli.table import render

    rows = [
        {
            "group": name,
            **s,
            "win_pct": None if s["win_rate"] is None else s["win_rate"] * 100,
        }
        for name, s in report[GROUPS[by]].items()
    ]
    columns = [
        ("group", by),
        ("closed_trades", "trades"),
        ("win_pct", "win %"),
        ("average_win", "avg win"),
        ("average_loss", "avg loss"),
        ("profit_factor", "p. factor"),
        ("expectancy", "expectancy"),
        ("max_drawdown", "max dd"),
        ("realized_pnl", "realized"),
    ]
    if by != "exit_rule":  # open positions have no exit rule yet
        columns += [("unrealized_pnl", "unrealized"), ("open_positions", "open")]
    if not rows:
        return f"no closed trades or open positions to break down by {by}"
    table = render(rows, [c for c, _ in columns], [h for _, h in columns])
    return f"By {by.replace('_', ' ')} (dollars):\n{table}"


def _cmd_stats(args: argparse.Namespace) -> int:
    since, until = window_bound("--since", args.since), window_bound("--until", args.until)
    report = client_for(args).get("/stats", since=since, until=until)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("\n".join(overall_lines(report)))
    print()
    print(breakdown_table(report, args.by))
    return 0


def register(commands: Any) -> None:
    stats = commands.add_parser(
        "stats", help="win rate, P&L, drawdown and their breakdown, from the API's GET /stats"
    )
    stats.add_argument(
        "--since", metavar="DATE", help="closed at or after (YYYY-MM-DD is midnight New York, or an ISO time)"
    )
    stats.add_argument("--until", metavar="DATE", help="closed before (exclusive; same forms as --since)")
    stats.add_argument("--by", choices=list(GROUPS), default="ticker", help="the breakdown table's groups")
    stats.add_argument("--json", action="store_true", help="print the API's JSON body instead")
    add_api_options(stats)
    stats.set_defaults(func=_cmd_stats)
