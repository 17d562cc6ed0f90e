"""The house rules of issue 18, read from the source so a regression fails here, not in review:

- a use case (anything under `logic/`) reaches no process global: no settings, clock, market, calendar, bus,
  invoker or connection getter, and no swap of the process database; it uses the `Dependencies` it is given;
- no status is spelled as a string outside `states.py` (SQL text may name them: the CHECKs are tested
  against the enums);
- nothing `db/` hands out is an untyped row: no public repository function returns `Any` or a
  `dict[str, Any]`;
- the worker names are spelled once, in `workers.py`.

Each rule has a test that it can fail: the same scan run on a snippet that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from optionflow.states import OrderStatus, PositionStatus, SignalStatus
from optionflow.workers import NAMES

from tests.conftest import ROOT

PACKAGE = ROOT / "shared" / "optionflow"
PRODUCTION = [PACKAGE, ROOT / "functions"]

# The process-wide providers and the calls that swap or use the process database. Entry points (handlers,
# routes, CLI, local stack) and `composition.for_process` may use them; a use case may not.
GLOBAL_GETTERS = frozenset(
    {
        "get_settings",
        "get_clock",
        "set_clock",
        "get_market_data",
        "set_market_data",
        "get_calendar",
        "get_bus",
        "set_bus",
        "get_invoker",
        "set_invoker",
        "get_connection",
        "set_database_url",
        "using_database",
        "PROCESS_DATABASE",
        "for_process",
    }
)
# db.connection's module functions run on the process database; a use case goes through `deps.db`.
# (`database_url` is a common parameter name, so only its import counts.)
PROCESS_DATABASE_FUNCTIONS = frozenset(
    {"transaction", "run_statement", "run_in_transaction", "connect", "database_url"}
)

STATUSES = frozenset(str(s) for enum in (SignalStatus, OrderStatus, PositionStatus) for s in enum)
# Strings that happen to equal a status but are something else, and say what.
NOT_STATUSES = {
    ("cloudformation.py", "FAILED"): "a CloudFormation custom resource's response status",
    ("logic/exit_monitor.py", "EXPIRED"): "the exit reason of an expiry settlement (the rule's name)",
}


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path.relative_to(ROOT))


def global_reaches(source: str) -> list[str]:
    """Every use of a process global in `source`: an imported or called getter, or a process-database call
    through optionflow.db.connection."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name in GLOBAL_GETTERS:
                    found.append(f"imports {alias.name} from {node.module}")
                if node.module == "optionflow.db.connection" and alias.name in PROCESS_DATABASE_FUNCTIONS:
                    found.append(f"imports {alias.name} from {node.module} (the process database)")
        elif isinstance(node, ast.Attribute) and node.attr in GLOBAL_GETTERS:
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in GLOBAL_GETTERS:
            found.append(f"uses {node.id}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "steady":
            found += [] if node.args else ["calls steady() on the process clock"]
    return found


def status_strings(source: str) -> list[str]:
    """String constants that are exactly a status (SQL mentioning one is a longer string, and allowed)."""
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in STATUSES
    ]


def untyped_returns(source: str) -> list[str]:
    """Public functions whose return annotation is or holds `Any`, or a dict row."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            returns = ast.unparse(node.returns) if node.returns else "None"
            if "Any" in returns or "RealDictRow" in returns:
                found.append(f"{node.name} -> {returns}")
    return found


def worker_names(source: str) -> list[str]:
    spelled = {name for name in NAMES} | {name.replace("_", "-") for name in NAMES}
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in spelled
    ]


# --- the scans can fail -----------------------------------------------------------------------------------


def test_the_scans_see_each_kind_of_breach() -> None:
    assert global_reaches("from optionflow.config import get_settings\n")
    assert global_reaches("from optionflow.db.connection import run_statement\n")
    assert global_reaches("import optionflow.clock as c\nc.get_clock().now()\n")
    assert global_reaches("with steady():\n    pass\n")
    assert not global_reaches("with steady(deps.clock):\n    pass\n")
    assert status_strings("if row.status == 'CLOSING': pass\n") == ["CLOSING"]
    assert not status_strings("cur.execute(\"SELECT 1 FROM positions WHERE status = 'CLOSING'\")\n")
    assert untyped_returns("def get(cur) -> dict[str, Any] | None: ...\n")
    assert untyped_returns("def when(cur) -> Any: ...\n")
    assert not untyped_returns("def _private(cur) -> Any: ...\ndef get(cur) -> Signal | None: ...\n")
    assert worker_names("x = 'exit-monitor'\n") == ["exit-monitor"]


# --- the rules --------------------------------------------------------------------------------------------

USE_CASES = sorted(python_files(PACKAGE / "logic"))


@pytest.mark.parametrize("path", USE_CASES, ids=relative)
def test_a_use_case_reaches_no_process_global(path: Path) -> None:
    assert global_reaches(path.read_text()) == []


@pytest.mark.parametrize("path", list(python_files(*PRODUCTION)), ids=relative)
def test_statuses_are_spelled_only_in_the_state_module(path: Path) -> None:
    if path == PACKAGE / "states.py":
        return
    allowed = {value for (file, value) in NOT_STATUSES if file == relative(path)}
    assert [s for s in status_strings(path.read_text()) if s not in allowed] == []


def test_every_string_excused_from_the_status_rule_is_still_there() -> None:
    for file, value in NOT_STATUSES:
        assert value in status_strings((PACKAGE / file).read_text()), (file, value)


# The modules of db/ that hand nothing to logic/ or the API: the connection source, migrations.
DB_PLUMBING = {"db/connection.py", "db/migrate.py"}
REPOSITORIES = [p for p in python_files(PACKAGE / "db") if relative(p) not in DB_PLUMBING]


@pytest.mark.parametrize("path", REPOSITORIES, ids=relative)
def test_db_hands_out_typed_rows_not_dicts(path: Path) -> None:
    assert untyped_returns(path.read_text()) == []


@pytest.mark.parametrize("path", list(python_files(*PRODUCTION)), ids=relative)
def test_worker_names_are_spelled_once_in_the_registry(path: Path) -> None:
    if path == PACKAGE / "workers.py":
        return
    assert worker_names(path.read_text()) == []
