"""`optionflow workers list | pause NAME | resume NAME | trigger NAME`: the local stack (or any API), or a
deployed stack's schedules with `--stack`."""

from __future__ import annotations

import argparse
from typing import Any

from optionflow.cli.table import render
from optionflow.workers import NAMES

_NAMES = f"{', '.join(NAMES)} (or with dashes)"


def _when(value: Any) -> Any:
    return str(value)[:19].replace("T", " ") if value else None


def _api_list(args: argparse.Namespace) -> int:
    from optionflow.cli.api_client import client_for

    rows = []
    for item in client_for(args).get("/workers")["items"]:
        run = item["last_run"] or {}
        rows.append(
            {
                "worker": item["worker"],
                "state": "PAUSED" if item["paused"] else "running",
                "since": _when(item["changed_at"]) if item["paused"] else None,
                "by": item["changed_by"] if item["paused"] else None,
                "reason": item["reason"],
                "last_run": _when(run.get("finished_at") or run.get("started_at")),
                "trigger": run.get("trigger"),
                "processed": run.get("processed"),
                "result": None
                if not run
                else ("ok" if run.get("succeeded") else run.get("error") or "failed"),
            }
        )
    columns = ["worker", "state", "since", "by", "reason", "last_run", "trigger", "processed", "result"]
    headers = [
        "worker",
        "state",
        "since (UTC)",
        "by",
        "reason",
        "last run (UTC)",
        "trigger",
        "processed",
        "result",
    ]
    print(render(rows, columns, headers))
    return 0


def _stack_list(args: argparse.Namespace) -> int:
    from optionflow.cli.stack_workers import StackWorkers

    rows = StackWorkers.connect(args.stack, args.region).list()
    print(render(rows, ["worker", "schedule", "state", "expression", "fast_path", "function"]))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    return _stack_list(args) if args.stack else _api_list(args)


def _set_paused(args: argparse.Namespace, paused: bool) -> int:
    if args.stack:
        return _set_paused_in_stack(args, paused)
    from optionflow.cli.api_client import client_for

    _record_through_api(client_for(args), args, paused)
    return 0


def _set_paused_in_stack(args: argparse.Namespace, paused: bool) -> int:
    """Disable (or enable) the schedule and the fast-path rule, then record the pause in the stack's
    database through its API when a token is at hand, so a run already queued is skipped too."""
    from optionflow.cli.api_client import ApiClient
    from optionflow.cli.stack_workers import StackWorkers
    from optionflow.config import get_settings
    from optionflow.workers import BY_NAME

    verb = "paused" if paused else "resumed"
    stack = StackWorkers.connect(args.stack, args.region)
    result = stack.set_state(args.name, paused)
    if result["changed"]:
        print(f"{result['worker']}: {verb} ({' and '.join(result['changed'])} {result['state']})")
    else:
        triggers = "schedule and fast-path rule" if BY_NAME[result["worker"]].events else "schedule"
        print(f"{result['worker']}: already {verb} ({triggers} {result['state']})")
    token = args.token or get_settings().api_token
    url = args.api or stack.api_url()
    if token and url:
        _record_through_api(ApiClient(url, token), args, paused, where=" in the stack's database")
    else:
        if paused:
            print(
                f"{result['worker']}: not recorded in the database (pass --token to record it through the API)"
            )
        else:  # a pause recorded in the database still makes the worker skip its runs
            print(
                f"{result['worker']}: a pause also recorded in the database still holds there; "
                "pass --token to resume it there too"
            )
    return 0


def _record_through_api(client: Any, args: argparse.Namespace, paused: bool, where: str = "") -> None:
    from optionflow.logic.worker_control import canonical

    verb = "paused" if paused else "resumed"
    name = canonical(args.name)
    if paused:
        body = {"reason": args.reason} if args.reason else {}
        result = client.post(f"/workers/{name}/pause", body)
    else:
        result = client.post(f"/workers/{name}/resume")
    if result["changed"]:
        reason = f" ({result['reason']})" if result.get("reason") else ""
        print(f"{result['worker']}: {verb}{where}{reason}")
    else:
        since = f" since {_when(result['changed_at'])} by {result['changed_by']}" if paused else ""
        print(f"{result['worker']}: already {'paused' if paused else 'running'}{where}{since}")


def _cmd_pause(args: argparse.Namespace) -> int:
    return _set_paused(args, True)


def _cmd_resume(args: argparse.Namespace) -> int:
    return _set_paused(args, False)


def _cmd_trigger(args: argparse.Namespace) -> int:
    if args.stack:
        from optionflow.cli.stack_workers import StackWorkers

        result = StackWorkers.connect(args.stack, args.region).trigger(args.name)
        print(f"{result['worker']}: invoked {result['function']} asynchronously (status {result['status']})")
        return 0
    from optionflow.cli.api_client import client_for
    from optionflow.logic.worker_control import canonical

    result = client_for(args).post(f"/workers/{canonical(args.name)}/trigger")
    note = " (it is paused: this run goes ahead, its schedule stays paused)" if result["paused"] else ""
    print(f"{result['worker']}: triggered{note}")
    return 0


def register(commands: Any) -> None:
    from optionflow.cli.api_client import add_api_options

    workers = commands.add_parser(
        "workers",
        help="list, pause, resume or trigger the pipeline workers",
        description="Without --stack these go through the API (the local stack by default, or --api URL). "
        "With --stack they act on a deployed stack's EventBridge schedules and fast-path rules.",
    ).add_subparsers(dest="workers_command", required=True)

    def with_target(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        add_api_options(parser)
        parser.add_argument(
            "--stack", help="act on this deployed stack's schedules, rules and functions instead of the API"
        )
        parser.add_argument("--region", help="the stack's region (default: your AWS configuration)")
        return parser

    def for_worker(
        verb: str, func: Any, help_text: str, description: str | None = None
    ) -> argparse.ArgumentParser:
        parser = with_target(workers.add_parser(verb, help=help_text, description=description))
        parser.add_argument("name", help=_NAMES)
        parser.set_defaults(func=func)
        return parser

    listing = with_target(workers.add_parser("list", help="each worker: paused or running, its last run"))
    listing.set_defaults(func=_cmd_list)

    pause = for_worker(
        "pause",
        _cmd_pause,
        "stop a worker's scheduled and fast-path runs until resumed",
        "Pause a worker: its scheduled and fast-path runs do nothing until it is resumed "
        "(`trigger` still runs it). With --stack its schedule and fast-path rule are disabled.",
    )
    pause.add_argument("--reason", help="why, shown by `workers list` (recorded through the API)")

    for_worker("resume", _cmd_resume, "let a paused worker run on its triggers again")

    for_worker(
        "trigger",
        _cmd_trigger,
        "run a worker now, even while it is paused",
        "Wake a worker now, asynchronously, in its own process or function. A paused worker "
        "still runs: that is what trigger is for; its schedule stays paused. With --stack the schedule's "
        "target is invoked with the schedule's own Input.",
    )
