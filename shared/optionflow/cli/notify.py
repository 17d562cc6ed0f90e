"""`optionflow notify channels | set | test | list | retry`: notification channels and deliveries, through
the API (the local stack by default). Channel addresses and tokens are the notifier's configuration
(environment locally, SSM in AWS); which notifications each channel gets is set here and recorded."""

from __future__ import annotations

import argparse
import time
from typing import Any

from optionflow.cli.api_client import add_api_options, client_for
from optionflow.cli.table import render
from optionflow.states import DeliveryStatus

CHANNELS = ("sns", "slack", "discord", "telegram", "webhook", "console")


def _cmd_channels(args: argparse.Namespace) -> int:
    rows = [
        {"channel": c["channel"], "min_severity": c["min_severity"], "muted": ", ".join(c["muted"]) or "-"}
        for c in client_for(args).get("/notifications/channels")
    ]
    print(render(rows, ["channel", "min_severity", "muted"]))
    return 0


def _cmd_set(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {}
    if args.min_severity:
        body["min_severity"] = args.min_severity.upper()
    if args.mute:
        body["mute"] = [k.upper() for k in args.mute]
    if args.unmute:
        body["unmute"] = [k.upper() for k in args.unmute]
    if args.reason:
        body["reason"] = args.reason
    rule = client_for(args).patch(f"/notifications/channels/{args.channel}", body)
    print(f"{rule['channel']}: from {rule['min_severity']}; muted: {', '.join(rule['muted']) or 'none'}")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    client = client_for(args)
    queued = client.post("/notifications/test", {"channel": args.channel})
    nid = queued["notification_id"]
    print(f"test message {nid} queued for {args.channel}")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        found = [
            d
            for d in client.get("/notifications", status="SENT", limit=100)
            + client.get("/notifications", status="DEAD", limit=100)
            + client.get("/notifications", status=DeliveryStatus.PENDING, limit=100)
            if d["notification_id"] == nid
        ]
        if found and found[0]["status"] == "SENT":
            print(f"sent to {args.channel}")
            return 0
        if (
            found
            and found[0]["status"] in (DeliveryStatus.DEAD, DeliveryStatus.PENDING)
            and found[0]["attempts"]
        ):
            print(f"not sent: {found[0]['last_error']}")
            return 1
        time.sleep(0.5)
    if args.wait:
        print("not sent yet; is the notifier running? (optionflow workers list)")
        return 1
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    items = client_for(args).get("/notifications", status=args.status, limit=args.limit)
    rows = [
        {
            "id": d["notification_id"],
            "channel": d["channel"],
            "kind": d["kind"],
            "status": d["status"],
            "attempts": d["attempts"],
            "next_attempt": str(d["next_attempt_at"])[:19].replace("T", " ")
            if d["status"] != "SENT"
            else "-",
            "last_error": (d["last_error"] or "")[:80],
        }
        for d in items
    ]
    columns = ["id", "channel", "kind", "status", "attempts", "next_attempt", "last_error"]
    print(render(rows, columns) if rows else "no notifications waiting or dead")
    return 0


def _cmd_retry(args: argparse.Namespace) -> int:
    path = "/notifications/retry" + (f"?channel={args.channel}" if args.channel else "")
    retried = client_for(args).post(path)["retried"]
    print(f"{retried} dead notification(s) queued again")
    return 0


def register(commands: Any) -> None:
    notify = commands.add_parser("notify", help="notification channels: channels, set, test, list, retry")
    verbs = notify.add_subparsers(dest="notify_command", required=True)

    channels = verbs.add_parser("channels", help="which notifications each channel gets")
    add_api_options(channels)
    channels.set_defaults(func=_cmd_channels)

    setter = verbs.add_parser(
        "set", help="e.g. `notify set slack --min-severity warning --mute ENTRY_FILLED`"
    )
    setter.add_argument("channel", choices=CHANNELS)
    setter.add_argument(
        "--min-severity", choices=["info", "warning", "critical", "INFO", "WARNING", "CRITICAL"]
    )
    setter.add_argument("--mute", nargs="+", metavar="KIND", help="kinds to switch off (e.g. ENTRY_FILLED)")
    setter.add_argument("--unmute", nargs="+", metavar="KIND", help="kinds to switch on again")
    setter.add_argument("--reason", help="why; kept with the change")
    add_api_options(setter)
    setter.set_defaults(func=_cmd_set)

    test = verbs.add_parser("test", help="send a test message to one channel")
    test.add_argument("channel", choices=CHANNELS)
    test.add_argument(
        "--wait", type=float, default=20.0, help="seconds to wait for the outcome (0: do not wait)"
    )
    add_api_options(test)
    test.set_defaults(func=_cmd_test)

    listing = verbs.add_parser("list", help="notifications waiting or dead (or --status SENT ...)")
    listing.add_argument("--status", choices=[str(status) for status in DeliveryStatus])
    listing.add_argument("--limit", type=int, default=50)
    add_api_options(listing)
    listing.set_defaults(func=_cmd_list)

    retry = verbs.add_parser("retry", help="try every dead notification again")
    retry.add_argument("--channel", choices=CHANNELS)
    add_api_options(retry)
    retry.set_defaults(func=_cmd_retry)
