"""The `optionflow` command line: one module per command group under `optionflow.cli`.

Each module exposes `register(commands)`, adding its subparsers with `set_defaults(func=...)`; a command
returns the process exit code. Commands import what they need when they run, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from optionflow.cli.api_client import ApiError
from optionflow.config import ConfigurationError

# The command groups, in the order `optionflow --help` lists them.
COMMAND_MODULES = ("local", "workers", "clock", "trading_settings", "notify", "stats", "replay")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optionflow", description="TradingView alerts to options trades.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"optionflow.cli.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigurationError, ValueError, ApiError) as exc:
        print(f"optionflow: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
