"""`optionflow limits | rules | kill-switch | settings history`: read and change the risk limits, exit rules
and kill switch through the API (the local stack by default); the API validates and records every change."""

from __future__ import annotations

import argparse
import re
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from optionflow.cli.api_client import add_api_options, client_for
from optionflow.cli.table import render

_OFF = {"off", "none", "null"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_DOLLARS = {"max_daily_loss", "risk_per_trade"}
_PERCENT = {"profit_target_pct", "stop_loss_pct", "trailing_stop_pct"}
_LIMITS = (
    "max_open_positions",
    "max_positions_per_ticker",
    "max_contracts_per_order",
    "risk_per_trade",
    "max_daily_loss",
    "kill_switch",
)
_RULES = (
    "profit_target_pct",
    "stop_loss_pct",
    "trailing_stop_pct",
    "min_dte",
    "max_hold_days",
    "close_minutes_before_close",
)


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """`["stop_loss_pct=30", "trailing_stop_pct=off"]` -> `{"stop_loss_pct": 30, "trailing_stop_pct": None}`.

    Numbers go to the API as JSON numbers; `off` (or `none`) is null, which turns an exit rule off. Which
    keys exist and their bounds are the API's to say, so its answer names a wrong one.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise ValueError(f"{pair!r}: write KEY=VALUE, e.g. stop_loss_pct=30 (or trailing_stop_pct=off)")
        if key == "kill_switch":
            raise ValueError(
                "the kill switch needs a reason: optionflow kill-switch on --reason '...' (or off)"
            )
        if key in values:
            raise ValueError(f"{key} is given twice")
        values[key] = _value(key, text)
    if not values:
        raise ValueError("name at least one KEY=VALUE to change")
    return values


def _value(key: str, text: str) -> Any:
    if text.lower() in _OFF:
        return None
    if text.lower() in ("on", "true", "yes") and key.endswith("_on"):
        return True
    if text.lower() in ("false", "no") and key.endswith("_on"):
        return False
    if key == "mtf_timeframes":
        return [part.strip() for part in text.split(",") if part.strip()]
    if key in ("sizing_method", "vol_measure"):
        return text.upper()
    if _INTEGER.match(text):
        return int(text)
    try:
        number = Decimal(text.replace(",", "").removeprefix("$").removesuffix("%"))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValueError(f"{key}={text}: not a number (use off to turn a rule off)")
    # as a JSON number; the values the API accepts have at most 14 digits, which a float keeps exactly
    return int(number) if number == number.to_integral_value() and "." not in text else float(number)


def _shown(key: str, value: Any) -> str:
    if key == "kill_switch":
        return "ON" if value else "off"
    if value is None:
        return "off"
    if key in _DOLLARS:
        return f"${value:,.2f}"
    if key in _PERCENT:
        return f"{value:g}%"
    return str(value)


def _settings_table(body: dict[str, Any], keys: tuple[str, ...]) -> str:
    rows = [{"setting": key, "value": _shown(key, body[key])} for key in keys]
    if body.get("kill_switch"):
        rows[keys.index("kill_switch")]["value"] = "ON: no new entries (exits still run)"
    return render(rows, ["setting", "value"]) + f"\n(updated {_when(body['updated_at'])})"


def _when(value: Any) -> str:
    return str(value)[:19].replace("T", " ") + " UTC"


def _cmd_show(args: argparse.Namespace, *, path: str, keys: tuple[str, ...]) -> int:
    print(_settings_table(client_for(args).get(path), keys))
    return 0


def _cmd_set(args: argparse.Namespace, *, path: str, keys: tuple[str, ...]) -> int:
    body = {**parse_assignments(args.assignments), **({"reason": args.reason} if args.reason else {})}
    print(_settings_table(client_for(args).patch(path, body), keys))
    return 0


def _cmd_kill_switch(args: argparse.Namespace) -> int:
    client = client_for(args)
    if args.state == "status":
        on = client.get("/risk-limits")["kill_switch"]
    else:
        if args.state == "on" and not (args.reason or "").strip():
            raise ValueError("kill-switch on needs --reason '...': it is kept with the change")
        body = {"on": args.state == "on", **({"reason": args.reason} if args.reason else {})}
        on = client.post("/kill-switch", body)["kill_switch"]
    print("kill switch ON: no new entries; exits still run" if on else "kill switch off: new entries allowed")
    return 0


def _change_text(change: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} {_shown(key, change['before'].get(key))} -> {_shown(key, value)}"
        for key, value in change["after"].items()
    )


def _cmd_history(args: argparse.Namespace) -> int:
    what = {"limits": "risk_limits", "rules": "exit_rules", "strategy": "strategy_settings", None: None}[
        args.what
    ]
    items = client_for(args).get("/settings/changes", limit=args.limit, what=what)
    rows = [
        {
            "when": _when(item["changed_at"]),
            "by": item["actor"],
            "what": item["what"],
            "change": _change_text(item),
            "reason": item["reason"],
        }
        for item in items
    ]
    print(render(rows, ["when", "by", "what", "change", "reason"]) if rows else "no changes recorded yet")
    return 0


def _leaf(group: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text)
    # Also accepted after the group (`limits --api URL show`): without SUPPRESS the leaf's own default
    # would overwrite the group's value.
    parser.add_argument("--api", metavar="URL", default=argparse.SUPPRESS, help="as for the group")
    parser.add_argument("--token", default=argparse.SUPPRESS, help="as for the group")
    parser.set_defaults(func=func)
    return parser


def _settings_group(
    commands: Any, name: str, what: str, path: str, keys: tuple[str, ...], example: str
) -> None:
    show = partial(_cmd_show, path=path, keys=keys)
    group = commands.add_parser(name, help=f"{what}: show, or set KEY=VALUE ...")
    add_api_options(group)
    group.set_defaults(func=show)
    verbs = group.add_subparsers(dest=f"{name}_command")
    _leaf(verbs, "show", f"print the {what} (the default)", show)
    setter = _leaf(
        verbs,
        "set",
        f"change some, e.g. `optionflow {name} set {example}`",
        partial(_cmd_set, path=path, keys=keys),
    )
    setter.add_argument("assignments", nargs="+", metavar="KEY=VALUE", help="off (or none) turns a rule off")
    setter.add_argument("--reason", help="why; kept with the change")


def register(commands: Any) -> None:
    _settings_group(
        commands, "limits", "risk limits", "/risk-limits", _LIMITS, "max_open_positions=10 risk_per_trade=250"
    )
    _settings_group(
        commands, "rules", "exit rules", "/exit-rules", _RULES, "stop_loss_pct=30 trailing_stop_pct=off"
    )

    _strategy_group(commands)

    kill = commands.add_parser("kill-switch", help="stop new entries (exits still run): on --reason R | off")
    kill.add_argument("state", nargs="?", choices=["on", "off", "status"], default="status")
    kill.add_argument("--reason", help="why (required to turn it on); kept with the change")
    add_api_options(kill)
    kill.set_defaults(func=_cmd_kill_switch)

    settings = commands.add_parser("settings", help="settings history: every change, who made it and why")
    verbs = settings.add_subparsers(dest="settings_command", required=True)
    history = verbs.add_parser("history", help="changes to the limits and rules, newest first")
    history.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    history.add_argument("--what", choices=["limits", "rules", "strategy"], help="only changes to these")
    add_api_options(history)
    history.set_defaults(func=_cmd_history)


def _strategy_table(body: dict[str, Any]) -> str:
    rows = [
        {
            "setting": key,
            "value": "-" if value is None else ",".join(value) if isinstance(value, list) else str(value),
        }
        for key, value in body.items()
        if key not in ("name", "updated_at")
    ]
    return (
        f"strategy settings: {body['name']}\n"
        + render(rows, ["setting", "value"])
        + f"\n(updated {_when(body['updated_at'])})"
    )


def _cmd_strategy_show(args: argparse.Namespace) -> int:
    print(_strategy_table(client_for(args).get(f"/strategy-settings/{args.name}")))
    return 0


def _cmd_strategy_set(args: argparse.Namespace) -> int:
    body = {**parse_assignments(args.assignments), **({"reason": args.reason} if args.reason else {})}
    print(_strategy_table(client_for(args).patch(f"/strategy-settings/{args.name}", body)))
    return 0


def _strategy_group(commands: Any) -> None:
    group = commands.add_parser(
        "strategy", help="strategy settings (sizing, caps, Greeks exits, filters), global or per ticker"
    )
    add_api_options(group)
    group.set_defaults(func=_cmd_strategy_show, name="default")
    verbs = group.add_subparsers(dest="strategy_command")
    show = _leaf(
        verbs,
        "show",
        "print one row: default (the global settings) or a ticker's overrides",
        _cmd_strategy_show,
    )
    show.add_argument("name", nargs="?", default="default", help="default or a ticker (default: default)")
    setter = _leaf(
        verbs,
        "set",
        "change some, e.g. `optionflow strategy set SPY mtf_on=on mtf_timeframes=15m,1h max_heat_pct=off`",
        _cmd_strategy_set,
    )
    setter.add_argument("name", help="default or a ticker")
    setter.add_argument("assignments", nargs="+", metavar="KEY=VALUE", help="off (or none) clears a setting")
    setter.add_argument("--reason", help="why; kept with the change")
