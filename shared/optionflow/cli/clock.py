"""`optionflow clock [show | set TIME | advance DURATION | speed FACTOR | pause | resume]`: the simulated clock
(OPTIONFLOW_CLOCK_START) through the API, the local stack by default."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from optionflow.cli.api_client import add_api_options, client_for
from optionflow.cli.table import render

# An advance answers once every sweep on the way has run: a month of sessions takes minutes.
ADVANCE_TIMEOUT_SECONDS = 1800.0


def instant(text: str) -> str:
    """An ISO time for the API. Without an offset it is New York time, the market's; a bare date is
    midnight there."""
    from optionflow.calendar import NEW_YORK

    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date (2026-11-23) or an ISO 8601 time (2026-11-23T09:30, with or without an "
            "offset)"
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=NEW_YORK)).isoformat()


def _new_york(value: str) -> str:
    from optionflow.calendar import NEW_YORK

    return datetime.fromisoformat(value).astimezone(NEW_YORK).strftime("%a %Y-%m-%d %H:%M:%S")


def clock_lines(answer: dict[str, Any]) -> list[str]:
    """The clock as a trader reads it: New York time first."""
    utc = datetime.fromisoformat(answer["now"]).astimezone(UTC).strftime("%H:%M:%S UTC")
    speed = f"{answer['speed']:g}x"
    state = f"paused (runs at {speed} when resumed)" if answer["paused"] else f"running at {speed}"
    return [
        f"clock    {_new_york(answer['now'])} New York ({utc})",
        f"state    {state}",
        f"market   {'open' if answer['market_open'] else 'closed'}",
        f"changed  by {answer['changed_by']}",
    ]


def advance_lines(answer: dict[str, Any]) -> list[str]:
    report = answer["advance"]
    ticks = report["ticks"]
    header = (
        f"advanced from {_new_york(report['advanced_from'])} to {_new_york(answer['now'])} New York: "
        f"{ticks} schedule tick{'s' if ticks != 1 else ''} swept, {report['quiet_ticks']} quiet ones outside "
        "a session skipped"
    )
    rows = [
        {
            "worker": worker,
            "runs": sweeps["runs"],
            "paused": sweeps["paused"],
            "did": ", ".join(f"{key} {n}" for key, n in sweeps["totals"].items() if n) or None,
        }
        for worker, sweeps in report["workers"].items()
    ]
    return [
        header,
        render(rows, ["worker", "runs", "paused", "did"], ["worker", "runs", "skipped (paused)", "did"]),
    ]


def _print(answer: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    lines = clock_lines(answer)
    if answer.get("advance"):
        lines = [*advance_lines(answer), "", *lines]
    print("\n".join(lines))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    return _print(client_for(args).get("/clock"), args)


def _cmd_set(args: argparse.Namespace) -> int:
    return _print(client_for(args).post("/clock", {"set": instant(args.time)}), args)


def _cmd_advance(args: argparse.Namespace) -> int:
    client = client_for(args, timeout=ADVANCE_TIMEOUT_SECONDS)
    return _print(client.post("/clock", {"advance": args.duration}), args)


def _cmd_speed(args: argparse.Namespace) -> int:
    return _print(client_for(args).post("/clock", {"speed": args.factor}), args)


def _cmd_pause(args: argparse.Namespace) -> int:
    return _print(client_for(args).post("/clock", {"pause": True}), args)


def _cmd_resume(args: argparse.Namespace) -> int:
    return _print(client_for(args).post("/clock", {"pause": False}), args)


def register(commands: Any) -> None:
    def options(parser: argparse.ArgumentParser, default: Any = argparse.SUPPRESS) -> argparse.ArgumentParser:
        # on `clock` itself and on each verb, so both `clock --json` and `clock advance 1m --json` work
        add_api_options(parser, default=default)
        parser.add_argument(
            "--json",
            action="store_true",
            default=False if default is None else default,
            help="print the API's answer as JSON",
        )
        return parser

    clock = options(
        commands.add_parser(
            "clock",
            help="show, set, advance, speed up or pause the simulated clock",
            description="The simulated clock of a stack started with OPTIONFLOW_CLOCK_START; a deployed "
            "stack runs on real time and has none. Without a subcommand: show it.",
        ),
        default=None,
    )
    clock.set_defaults(func=_cmd_show)
    verbs = clock.add_subparsers(dest="clock_command")

    options(verbs.add_parser("show", help="the simulated time, its pace, and whether the market is open"))
    verbs.choices["show"].set_defaults(func=_cmd_show)

    jump = options(
        verbs.add_parser(
            "set",
            help="jump forward to TIME without running the sweeps in between",
            description="Jump forward to TIME, as if the stack had been stopped meanwhile: the sweeps in "
            "between do not run (use advance for that). The clock never goes back.",
        )
    )
    jump.add_argument(
        "time", help="2026-11-23T09:30 (New York time), or with an offset; a bare date is midnight"
    )
    jump.set_defaults(func=_cmd_set)

    step = options(
        verbs.add_parser(
            "advance",
            help="move on by DURATION, running every sweep the schedules would have run",
            description="Move the clock on by DURATION. Every sweep the workers' schedules would have run on "
            "the way runs, in pipeline order, before this returns (quiet minutes outside a session are "
            "skipped: nothing can change in them).",
        )
    )
    step.add_argument("duration", help="90s, 10m, 2h or 2d (at most 31d)")
    step.set_defaults(func=_cmd_advance)

    pace = options(verbs.add_parser("speed", help="simulated seconds per wall second from now on"))
    pace.add_argument("factor", type=float, help="e.g. 60: a simulated hour each wall minute (at most 100)")
    pace.set_defaults(func=_cmd_speed)

    options(verbs.add_parser("pause", help="stop the clock where it stands")).set_defaults(func=_cmd_pause)
    options(verbs.add_parser("resume", help="let a paused clock run on")).set_defaults(func=_cmd_resume)
