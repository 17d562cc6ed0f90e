"""The typed rows db/ hands to logic/ and the column lists their queries select stay one and the same."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from decimal import Decimal

import pytest
from optionflow.db import rows


def names(columns: str) -> list[str]:
    return [c.strip() for c in columns.split(",")]


@pytest.mark.parametrize(
    ("row_type", "columns"),
    [
        (rows.HeldPosition, rows.HELD_COLUMNS),
        (rows.PricedPosition, rows.PRICED_COLUMNS),
        (rows.RiskLimits, rows.RISK_LIMITS_COLUMNS),
        (rows.ExitRules, rows.EXIT_RULES_COLUMNS),
    ],
)
def test_each_row_type_has_exactly_the_columns_its_query_selects(row_type: type, columns: str) -> None:
    assert [f.name for f in fields(row_type)] == names(columns)


def test_a_working_order_is_the_order_columns_plus_its_signals_arrival_and_entry_signal() -> None:
    extra = ["signal_received_at", "entry_signal_id"]
    assert [f.name for f in fields(rows.WorkingOrder)] == names(rows.ORDER_COLUMNS) + extra


def test_rows_are_frozen() -> None:
    limits = rows.RiskLimits(10, Decimal(500), 3, 5, Decimal(250), False)
    with pytest.raises(FrozenInstanceError):
        limits.kill_switch = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("source", "stored", "table", "api_model", "patch", "cli_keys"),
    [
        ("RiskLimits", "StoredRiskLimits", "risk_limits", "RiskLimits", "RiskLimitsPatch", "_LIMITS"),
        ("ExitRules", "StoredExitRules", "exit_rules", "ExitRules", "ExitRulesPatch", "_RULES"),
    ],
)
def test_the_limits_and_rules_are_one_list_of_fields_everywhere(
    source: str, stored: str, table: str, api_model: str, patch: str, cli_keys: str
) -> None:
    """db/rows.py holds the fields; the editable columns and the select lists are derived from it, and the
    admin API's models (whose types and descriptions are the OpenAPI contract) and the command line's keys
    are held to it here."""
    from optionflow.cli import trading_settings as cli
    from optionflow.db.trading_settings import EDITABLE
    from optionflow.models import trading_settings as api

    names_ = [f.name for f in fields(getattr(rows, source))]
    assert list(EDITABLE[table]) == names_
    assert [f.name for f in fields(getattr(rows, stored))] == [*names_, "name", "updated_at"]
    assert list(getattr(api, api_model).model_fields) == ["name", *names_, "updated_at"]
    # every field may be named in a change (the kill switch is refused there, naming its own route)
    assert set(getattr(api, patch).model_fields) == {*names_, "reason"}
    assert sorted(getattr(cli, cli_keys)) == sorted(names_)
