"""With contracts chosen from the listed chain (CONTRACT_SOURCE=chain on the simulator), an entry is a
listed contract inside the DTE window, by ATM, delta or steps; a thin one is rejected with its numbers in
the decision trail. The default (grid) keeps today's choice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from optionflow import config
from optionflow.calendar import NEW_YORK
from optionflow.market.simulated import SimulatedMarketData

from tests.conftest import MARKET_OPEN
from tests.pipeline_support import alert, one, run

pytestmark = pytest.mark.usefixtures("db")
TODAY = MARKET_OPEN.astimezone(NEW_YORK).date()


@pytest.fixture
def chain_settings(settings):
    def use(**changes):
        config.use_settings(settings.model_copy(update={"contract_source": "chain", **changes}))

    yield use
    config.use_settings(settings)


def _enter(db, ticker: str = "SPY") -> dict:
    signal_id = alert(ticker, "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    return {"id": signal_id, **one(db, "SELECT status FROM signals WHERE id = %s", signal_id)}


def _order(db) -> dict:
    return one(db, "SELECT strike, expiry, option_symbol FROM orders")


def test_for_a_weekly_only_name_the_chain_and_the_grid_choose_the_same_contract(db, chain_settings):
    _enter(db, "AAPL")
    grid = _order(db)
    db.execute("TRUNCATE orders, signals, decisions CASCADE")
    chain_settings()
    _enter(db, "AAPL")
    assert _order(db) == grid


def test_for_spy_the_chain_takes_the_nearest_listed_daily_the_grid_cannot_see(db, chain_settings):
    chain_settings()
    _enter(db)
    assert _order(db)["expiry"] == date(2026, 11, 25)  # a Wednesday: 2 days out, past the 1-day time stop


def test_delta_choice_takes_the_listed_strike_nearest_the_target_delta(db, chain_settings):
    chain_settings(
        strike_selection="delta", target_delta=Decimal("0.30"), contract_min_dte=5, contract_max_dte=20
    )
    _enter(db)
    order = _order(db)
    chain = SimulatedMarketData().option_chain("SPY", MARKET_OPEN, order["expiry"], order["expiry"])
    calls = chain.listed(order["expiry"], "CALL")
    best = min(calls, key=lambda o: abs(abs(o.greeks.delta) - 0.30))
    assert order["strike"] == best.strike and 5 <= (order["expiry"] - TODAY).days <= 20


def test_steps_from_atm_and_0dte_where_listed(db, chain_settings, settings):
    chain_settings(strike_selection="steps", strike_steps=3, contract_min_dte=0)
    db.execute("UPDATE exit_rules SET min_dte = NULL")  # no DTE time stop: same-day expiries are allowed
    _enter(db)
    order = _order(db)
    spot = SimulatedMarketData().underlying_price("SPY", MARKET_OPEN)
    assert order["expiry"] == TODAY  # SPY lists a daily expiry
    assert order["strike"] == spot.quantize(Decimal(1)) + 3


def test_a_wide_spread_rejects_the_signal_with_the_numbers_in_the_trail(db, chain_settings):
    chain_settings(strike_selection="steps", strike_steps=40, max_spread_share=Decimal("0.10"))
    signal = _enter(db)
    assert signal["status"] == "REJECTED"
    decision = one(db, "SELECT passed, detail, inputs FROM decision_lines WHERE check_name = 'contract'")
    assert decision["passed"] is False
    assert "of mid" in decision["detail"] and "above the 10% limit" in decision["detail"]
    assert decision["inputs"]["max_spread_share"] == "0.10"


def test_thin_open_interest_rejects_and_a_window_with_no_expiry_says_what_is_listed(db, chain_settings):
    chain_settings(min_open_interest=10_000_000)
    _enter(db)
    detail = one(db, "SELECT detail FROM decision_lines WHERE check_name = 'contract'")["detail"]
    assert "is below the minimum of 10000000" in detail
    db.execute("TRUNCATE orders, signals, decisions CASCADE")
    chain_settings(contract_min_dte=3, contract_max_dte=3)  # Thursday: SPY's dailies cover it; AAPL has none
    alert("AAPL", "BUY", "PUT")
    run("signal_processor")
    run("order_creator")
    detail = one(db, "SELECT detail FROM decision_lines WHERE check_name = 'contract'")["detail"]
    assert detail.startswith("no AAPL expiry listed 3 to 3 days out (listed: ")


def test_an_alert_naming_an_unlisted_strike_is_rejected_with_the_nearest_listed(db, chain_settings):
    chain_settings()
    expiry = date(2026, 11, 27)
    # $600 is on the standard grid (so the signal is accepted) but far outside the strikes SPY lists today
    alert("SPY", "BUY", "CALL", strike=600, expiry=expiry.isoformat())
    run("signal_processor")
    run("order_creator")
    decision = one(db, "SELECT detail FROM decision_lines WHERE check_name = 'contract'")
    assert decision["detail"].startswith("strike 600 is not listed for SPY 2026-11-27 CALLs (nearest listed ")
