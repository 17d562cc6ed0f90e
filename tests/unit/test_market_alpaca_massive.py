"""Alpaca and Massive market data, against responses recorded from their documented examples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from optionflow.calendar import NEW_YORK
from optionflow.market import alpaca, massive

from tests.http_sink import Reply, ScriptedServer, recorded

NOW = datetime(2026, 12, 7, 15, 0, 5, tzinfo=UTC)
FRIDAY = date(2026, 12, 18)
QUOTED_AT = datetime(2026, 12, 7, 14, 59, 58, 123456, tzinfo=UTC)


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


def alpaca_market(server: ScriptedServer) -> alpaca.AlpacaMarketData:
    data = alpaca.data_client("AKID", "s3cret", server.url, backoff=0.01)
    trading = alpaca.trading_client("AKID", "s3cret", server.url + "/trading", backoff=0.01)
    return alpaca.AlpacaMarketData(data, trading, option_feed="opra", now=lambda: NOW)


def massive_market(server: ScriptedServer) -> massive.MassiveMarketData:
    return massive.MassiveMarketData(massive.client("mk3y", server.url, backoff=0.01), now=lambda: NOW)


def test_alpaca_chain_joins_snapshots_over_pages_with_open_interest_from_the_contracts(server):
    pages = iter([recorded("alpaca", "snapshots_spy_page1"), recorded("alpaca", "snapshots_spy_page2")])
    server.route("GET", "/v1beta1/options/snapshots/SPY", lambda r: Reply(200, next(pages)))
    server.script("GET", "/trading/v2/options/contracts", Reply(200, recorded("alpaca", "contracts_spy")))
    server.script("GET", "/v2/stocks/SPY/quotes/latest", Reply(200, recorded("alpaca", "quote_spy")))
    chain = alpaca_market(server).option_chain("SPY", NOW, FRIDAY, FRIDAY)
    assert chain.underlying == Decimal("600.45")
    assert chain.strikes(FRIDAY, "PUT") == tuple(Decimal(k) for k in range(590, 611))
    call = next(o for o in chain.listed(FRIDAY, "CALL") if o.strike == 600)
    assert (call.bid, call.ask, call.open_interest, call.volume) == (
        Decimal("6.63"),
        Decimal("6.77"),
        28359,
        9453,
    )
    assert call.iv == 0.15 and call.greeks is not None and call.greeks.theta_per_day == -0.2513
    assert call.as_of == QUOTED_AT
    first, second = server.calls("GET", "/v1beta1/options/snapshots/SPY")
    assert first.query["feed"] == ["opra"] and first.query["expiration_date_gte"] == ["2026-12-18"]
    assert second.query["page_token"] == ["U1BZMjYxMjE4QzAwNjAwMDAw"]
    assert first.headers["apca-api-key-id"] == "AKID" and first.headers["apca-api-secret-key"] == "s3cret"


def test_alpaca_expirations_come_from_the_listed_contracts(server):
    server.script("GET", "/trading/v2/options/contracts", Reply(200, recorded("alpaca", "contracts_spy")))
    assert alpaca_market(server).expirations("SPY", NOW) == (FRIDAY,)
    assert server.calls("GET", "/trading/v2/options/contracts")[0].query["expiration_date_gte"] == [
        "2026-12-07"
    ]


def test_alpaca_daily_bars_move_to_the_session_open(server):
    server.script("GET", "/v2/stocks/SPY/bars", Reply(200, recorded("alpaca", "bars_spy_1day")))
    bars = alpaca_market(server).bars("SPY", "1d", datetime(2026, 12, 1, tzinfo=NEW_YORK), NOW)
    assert [b.start for b in bars] == [datetime(2026, 12, d, 9, 30, tzinfo=NEW_YORK) for d in (3, 4)]
    assert bars[1].close == Decimal("599.25") and bars[1].volume == 49876543
    assert server.calls("GET", "/v2/stocks/SPY/bars")[0].query["timeframe"] == ["1Day"]


def test_massive_chain_follows_next_url_on_our_host_with_the_key_in_a_header(server):
    pages = iter([recorded("massive", "snapshot_spy_page1"), recorded("massive", "snapshot_spy_page2")])
    server.route("GET", "/v3/snapshot/options/SPY", lambda r: Reply(200, next(pages)))
    server.script("GET", "/v2/last/nbbo/SPY", Reply(200, recorded("massive", "nbbo_spy")))
    chain = massive_market(server).option_chain("SPY", NOW, FRIDAY, FRIDAY)
    assert len(chain.options) == 42
    put = next(o for o in chain.listed(FRIDAY, "PUT") if o.strike == 595)
    assert put.symbol == "SPY261218P00595000" and put.as_of == QUOTED_AT
    assert put.greeks is not None and put.greeks.rho_per_point == 0.0
    first, second = server.calls("GET", "/v3/snapshot/options/SPY")
    assert first.query["expiration_date.lte"] == ["2026-12-18"]
    assert second.query["cursor"][0].startswith("YWN0aXZl")
    assert all(
        r.headers["authorization"] == "Bearer mk3y" and "apiKey" not in r.query for r in (first, second)
    )


def test_massive_expirations_and_daily_aggregates(server):
    server.script("GET", "/v3/reference/options/contracts", Reply(200, recorded("massive", "contracts_spy")))
    market = massive_market(server)
    assert market.expirations("SPY", NOW)[:2] == (date(2026, 12, 7), date(2026, 12, 8))
    path = "/v2/aggs/ticker/SPY/range/1/day/1796187600000/1796655605000"
    server.script("GET", path, Reply(200, recorded("massive", "aggs_spy_1day")))
    bars = market.bars("SPY", "1d", datetime(2026, 12, 2, tzinfo=NEW_YORK), NOW)
    assert [b.start for b in bars] == [datetime(2026, 12, d, 9, 30, tzinfo=NEW_YORK) for d in (3, 4)]
