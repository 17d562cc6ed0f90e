"""End to end, paper on real quotes: an alert goes through the real workers with MARKET_DATA=tradier
pointed at a local server serving Tradier's recorded chain, and fills on paper at the recorded ask plus
the configured slippage."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from optionflow import clock, config
from optionflow.market.provider import set_market_data

from tests.http_sink import FIXTURES, Reply, Request, ScriptedServer, recorded
from tests.pipeline_support import alert, one, run

NOW = datetime(2026, 12, 7, 15, 0, 5, tzinfo=UTC)  # Monday 10:00:05 in New York; quotes taken 7 s before


def chain_of_the_day(request: Request) -> Reply:
    name = f"chain_spy_{request.query['expiration'][0]}"
    if not (FIXTURES / "tradier" / f"{name}.json").exists():
        return Reply(200, {"options": None})
    return Reply(200, recorded("tradier", name))


@pytest.fixture
def tradier(db, settings):
    with ScriptedServer() as server:
        server.script("GET", "/v1/markets/quotes", Reply(200, recorded("tradier", "quotes_spy")))
        server.script(
            "GET", "/v1/markets/options/expirations", Reply(200, recorded("tradier", "expirations_spy"))
        )
        server.route("GET", "/v1/markets/options/chains", chain_of_the_day)
        config.use_settings(
            settings.model_copy(
                update={
                    "market_data": "tradier",
                    "market_data_key": "recorded-token",
                    "market_data_url": server.url + "/v1",
                    "contract_min_dte": 4,
                    "paper_slippage_bps": 100,
                }
            )
        )
        set_market_data(None)
        clock.set_clock(clock.FrozenClock(NOW))
        yield server
        set_market_data(None)
        config.use_settings(settings)


def test_an_alert_fills_on_paper_at_the_recorded_ask_plus_slippage(db, tradier):
    signal_id = alert("SPY", "BUY", "CALL")
    for worker in ("signal_processor", "order_creator", "paper_executor", "position_refresher"):
        run(worker)
    order = one(db, "SELECT option_symbol, strike, expiry, status, avg_fill_price FROM orders")
    # the recorded 2026-12-11 $600 call: bid 4.18, ask 4.26; 100 bps of slippage on the ask
    assert (order["option_symbol"], order["strike"], order["expiry"]) == (
        "SPY261211C00600000",
        Decimal(600),
        date(2026, 12, 11),
    )
    assert order["status"] == "FILLED" and order["avg_fill_price"] == Decimal("4.30")
    position = one(db, "SELECT entry_price, mark, bid, ask, underlying_price, price_stale FROM positions")
    assert position["entry_price"] == Decimal("4.30")
    assert (position["bid"], position["ask"], position["mark"]) == (
        Decimal("4.18"),
        Decimal("4.26"),
        Decimal("4.22"),
    )
    assert position["underlying_price"] == Decimal("600.45") and position["price_stale"] is False
    trail = one(
        db, "SELECT detail FROM decision_lines WHERE signal_id = %s AND check_name = 'sizing'", signal_id
    )
    assert trail["detail"]
    # the creator lists the expiries once; each run that priced (creator, executor, refresher) fetches
    # the chosen expiry's chain once
    assert len(tradier.calls("GET", "/v1/markets/options/expirations")) == 1
    assert len(tradier.calls("GET", "/v1/markets/options/chains")) == 3
    assert all(r.headers["authorization"] == "Bearer recorded-token" for r in tradier.requests)


def test_health_says_paper_on_real_quotes(db, tradier):
    from tests.api_events import call, request

    status, body = call(request("GET", "/health"))
    assert status == 200
    assert (body["trading_mode"], body["market_data"]) == ("paper-real-quotes", "tradier")
