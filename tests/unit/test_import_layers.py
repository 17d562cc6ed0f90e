"""The layers import one way: market data reads pricing (and the calendar); pricing never imports market,
and the rows db/ hands to logic/ never import the use cases. Each is checked in a fresh interpreter, where
nothing else has imported the other side already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def modules_loaded_by(module: str) -> set[str]:
    script = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=SHARED, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "module",
    [
        "optionflow.pricing",
        "optionflow.pricing.contracts",
        "optionflow.pricing.expiry",
        "optionflow.pricing.implied_vol",
        "optionflow.calendar",
    ],
)
def test_pricing_and_the_calendar_load_without_market(module: str) -> None:
    loaded = modules_loaded_by(module)
    assert not {m for m in loaded if m.startswith("optionflow.market")}


def test_market_data_loads_pricing_the_other_way_round() -> None:
    assert "optionflow.pricing.black_scholes" in modules_loaded_by("optionflow.market.simulated")


def test_the_rows_db_hands_to_logic_import_no_logic() -> None:
    assert not {m for m in modules_loaded_by("optionflow.db.rows") if m.startswith("optionflow.logic")}


def test_the_old_calendar_name_still_imports_the_same_calendar() -> None:
    from optionflow import calendar
    from optionflow.market import calendar as old

    assert old.NyseCalendar is calendar.NyseCalendar and old.NEW_YORK is calendar.NEW_YORK
