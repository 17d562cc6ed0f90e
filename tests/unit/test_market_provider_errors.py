"""Every real provider's failures become the port's errors: named provider and call, never the key."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from optionflow.market import alpaca, massive, tradier
from optionflow.market.ports import MarketDataUnauthorized, MarketDataUnavailable

from tests.http_sink import Reply, ScriptedServer

NOW = datetime(2026, 12, 7, 15, 0, 5, tzinfo=UTC)
KEY = "sup3r-s3cret-key"


def _tradier(url: str):
    return tradier.TradierMarketData(
        tradier.client(KEY, url, backoff=0.01), now=lambda: NOW
    ), "/markets/quotes"


def _alpaca(url: str):
    data = alpaca.data_client(KEY, KEY + "-secret", url, backoff=0.01)
    trading = alpaca.trading_client(KEY, KEY + "-secret", url, backoff=0.01)
    return alpaca.AlpacaMarketData(data, trading, now=lambda: NOW), "/v2/stocks/SPY/quotes/latest"


def _massive(url: str):
    return massive.MassiveMarketData(
        massive.client(KEY, url, backoff=0.01), now=lambda: NOW
    ), "/v2/last/nbbo/SPY"


PROVIDERS = {"tradier": _tradier, "alpaca": _alpaca, "massive": _massive}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request):
    with ScriptedServer() as server:
        market, spot_path = PROVIDERS[request.param](server.url)
        yield request.param, server, market, spot_path


def test_a_401_is_unauthorized_naming_the_provider_and_never_the_key(provider):
    name, server, market, path = provider
    server.script("GET", path, Reply(401, b"Invalid Access Token", {"Content-Type": "text/plain"}))
    with pytest.raises(MarketDataUnauthorized) as refused:
        market.underlying_price("SPY", NOW)
    assert f"market data ({name}): SPY quote: the provider refused the credentials (HTTP 401)" in str(
        refused.value
    )
    assert KEY not in str(refused.value) and KEY not in repr(market)


def test_a_429_with_retry_after_is_waited_out_and_retried(provider):
    name, server, market, path = provider
    replies = {
        "tradier": {"quotes": {"quote": {"symbol": "SPY", "last": 600.45}}},
        "alpaca": {"symbol": "SPY", "quote": {"ap": 600.46, "bp": 600.44, "t": "2026-12-07T14:59:58Z"}},
        "massive": {"status": "OK", "results": {"P": 600.46, "p": 600.44, "t": 1796655598000000000}},
    }
    server.script(
        "GET",
        path,
        Reply(429, {"message": "too many requests"}, {"Retry-After": "1"}),
        Reply(200, replies[name]),
    )
    started = time.monotonic()
    assert market.underlying_price("SPY", NOW) > 600
    assert len(server.calls("GET", path)) == 2
    assert time.monotonic() - started >= 0.9  # the provider's Retry-After, not our backoff


def test_a_429_that_persists_is_unavailable_with_the_wait_asked(provider):
    name, server, market, path = provider
    server.script("GET", path, Reply(429, {"message": "too many requests"}, {"Retry-After": "60"}))
    with pytest.raises(
        MarketDataUnavailable, match=rf"{name}\): SPY quote: rate limited \(HTTP 429\); it asks to wait 60 s"
    ):
        market.underlying_price("SPY", NOW)


def test_a_5xx_is_retried_then_unavailable(provider):
    name, server, market, path = provider
    server.script("GET", path, Reply(503, {"message": "maintenance"}))
    with pytest.raises(MarketDataUnavailable, match=rf"{name}\): SPY quote: .*HTTP 503"):
        market.underlying_price("SPY", NOW)
    assert len(server.calls("GET", path)) > 1


def test_a_malformed_body_is_unavailable_not_a_crash(provider):
    name, server, market, path = provider
    server.script("GET", path, Reply(200, b"<html>gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(MarketDataUnavailable, match=rf"{name}\): SPY quote: .*not JSON"):
        market.underlying_price("SPY", NOW)
    server.script("GET", path, Reply(200, {"unexpected": []}))
    with pytest.raises(
        MarketDataUnavailable, match=rf"{name}\): SPY quote: the answer has an unexpected shape"
    ):
        market.for_run().underlying_price("SPY", NOW)


def test_a_timeout_is_unavailable(provider):
    name, server, market, path = provider
    server.script("GET", path, Reply(200, {}, delay=1.0))
    market.client._timeouts = type(market.client._timeouts)(connect=0.5, read=0.2)
    with pytest.raises(MarketDataUnavailable, match=rf"{name}\): SPY quote: .*no answer"):
        market.underlying_price("SPY", NOW)
