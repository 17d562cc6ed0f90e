"""Tradier market data, against responses recorded from Tradier's documented examples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from optionflow.calendar import NEW_YORK
from optionflow.http_json import Timeouts
from optionflow.market import tradier
from optionflow.market.ports import ContractExpired, MarketDataUnavailable, NotListed

from tests.http_sink import FIXTURES, Reply, Request, ScriptedServer, recorded

NOW = datetime(2026, 12, 7, 15, 0, 5, tzinfo=UTC)  # 10:00:05 in New York
FRIDAY = date(2026, 12, 18)


def adapter(server: ScriptedServer, **kwargs) -> tradier.TradierMarketData:
    client = tradier.client("t0ken-xyz", server.url + "/v1", backoff=0.01, **kwargs)
    return tradier.TradierMarketData(client, now=lambda: NOW)


def chain_of_the_day(request: Request) -> Reply:
    """The recorded chain of the expiry asked for; Tradier answers `{"options": null}` for one it has none of."""
    name = f"chain_spy_{request.query['expiration'][0]}"
    if not (FIXTURES / "tradier" / f"{name}.json").exists():
        return Reply(200, {"options": None})
    return Reply(200, recorded("tradier", name))


@pytest.fixture
def server():
    with ScriptedServer() as running:
        running.script("GET", "/v1/markets/quotes", Reply(200, recorded("tradier", "quotes_spy")))
        running.script(
            "GET", "/v1/markets/options/expirations", Reply(200, recorded("tradier", "expirations_spy"))
        )
        running.route("GET", "/v1/markets/options/chains", chain_of_the_day)
        yield running


def test_the_chain_lists_tradiers_strikes_with_quotes_greeks_interest_and_quote_time(server):
    chain = adapter(server).option_chain("SPY", NOW, date(2026, 12, 11), FRIDAY)
    assert chain.expiries == (date(2026, 12, 11), FRIDAY)
    assert chain.underlying == Decimal("600.45")
    assert chain.strikes(FRIDAY, "CALL") == tuple(Decimal(k) for k in range(590, 611))
    call = next(o for o in chain.listed(FRIDAY, "CALL") if o.strike == 600)
    assert (call.symbol, call.bid, call.ask, call.mid) == (
        "SPY261218C00600000",
        Decimal("6.63"),
        Decimal("6.77"),
        Decimal("6.7"),
    )
    assert call.greeks is not None and call.greeks.delta == pytest.approx(0.51668)
    assert call.iv == 0.15 and call.open_interest == 28359 and call.volume == 9453
    assert call.as_of == datetime(2026, 12, 7, 14, 59, 58, tzinfo=UTC)
    request = server.calls("GET", "/v1/markets/options/chains")[0]
    assert request.query["greeks"] == ["true"]
    assert request.headers["authorization"] == "Bearer t0ken-xyz"
    assert request.headers["accept"] == "application/json"


def test_one_chain_fetch_per_expiry_per_run_and_a_new_run_fetches_again(server):
    market = adapter(server)
    market.option_chain("SPY", NOW, FRIDAY, FRIDAY)
    for strike in (595, 600, 605):
        market.option_quote("SPY", "PUT", Decimal(strike), FRIDAY, NOW)
    market.underlying_price("SPY", NOW)
    assert len(server.calls("GET", "/v1/markets/options/chains")) == 1
    assert len(server.calls("GET", "/v1/markets/quotes")) == 1
    market.for_run().option_quote("SPY", "PUT", Decimal(600), FRIDAY, NOW)
    assert len(server.calls("GET", "/v1/markets/options/chains")) == 2


def test_expirations_are_tradiers_list_without_the_ones_already_closed(server):
    at_close = datetime(2026, 12, 7, 16, 0, tzinfo=NEW_YORK)
    market = adapter(server)
    assert market.expirations("SPY", NOW)[0] == date(2026, 12, 7)
    assert market.expirations("SPY", at_close)[0] == date(2026, 12, 8)


def test_a_contract_tradier_does_not_list_is_not_listed(server):
    with pytest.raises(NotListed, match=r"tradier.*SPY CALL 600.5 expiring 2026-12-18 is not listed"):
        adapter(server).option_quote("SPY", "CALL", Decimal("600.5"), FRIDAY, NOW)


def test_an_expired_contract_raises_contract_expired_without_asking(server):
    with pytest.raises(ContractExpired):
        adapter(server).option_quote("SPY", "CALL", Decimal(600), date(2026, 12, 4), NOW)
    assert not server.calls("GET", "/v1/markets/options/chains")


def test_an_unknown_symbol_is_a_clear_error(server):
    server.script("GET", "/v1/markets/quotes", Reply(200, recorded("tradier", "quotes_unmatched")))
    with pytest.raises(MarketDataUnavailable, match=r"market data \(tradier\): NOPE quote"):
        adapter(server).underlying_price("NOPE", NOW)


def test_minute_bars_are_read_in_new_york_time_and_hours_are_built_from_quarters(server):
    server.script("GET", "/v1/markets/timesales", Reply(200, recorded("tradier", "timesales_spy_15min")))
    start, end = datetime(2026, 12, 7, 9, 30, tzinfo=NEW_YORK), datetime(2026, 12, 7, 12, tzinfo=NEW_YORK)
    quarters = adapter(server).bars("SPY", "15m", start, end)
    assert quarters[0].start == start and quarters[0].open == Decimal("600.0")
    assert server.calls("GET", "/v1/markets/timesales")[0].query["start"] == ["2026-12-07 09:30"]
    hours = adapter(server).bars("SPY", "1h", start, end)
    assert [h.start for h in hours] == [start, datetime(2026, 12, 7, 10, 30, tzinfo=NEW_YORK)]
    assert hours[0].volume == sum(q.volume for q in quarters[:4])
    assert hours[0].high == max(q.high for q in quarters[:4]) and hours[0].close == quarters[3].close


def test_daily_bars_open_at_the_session_open(server):
    server.script("GET", "/v1/markets/history", Reply(200, recorded("tradier", "history_spy_daily")))
    bars = adapter(server).bars("SPY", "1d", datetime(2026, 12, 1, tzinfo=NEW_YORK), NOW)
    assert [b.start for b in bars] == [
        datetime(2026, 12, 3, 9, 30, tzinfo=NEW_YORK),
        datetime(2026, 12, 4, 9, 30, tzinfo=NEW_YORK),
    ]
    assert bars[-1].close == Decimal("599.25")


def test_a_price_in_the_past_comes_from_bars_not_from_the_latest_quote(server):
    server.script("GET", "/v1/markets/timesales", Reply(200, {"series": None}))
    server.script("GET", "/v1/markets/history", Reply(200, recorded("tradier", "history_spy_daily")))
    friday_close = datetime(2026, 12, 4, 16, 0, tzinfo=NEW_YORK)
    assert adapter(server).underlying_price("SPY", friday_close) == Decimal("599.25")
    assert not server.calls("GET", "/v1/markets/quotes")


def test_a_slow_tradier_times_out_into_a_clear_error(server):
    server.script("GET", "/v1/markets/quotes", Reply(200, recorded("tradier", "quotes_spy"), delay=1.0))
    market = adapter(server, timeouts=Timeouts(connect=0.5, read=0.2))
    with pytest.raises(MarketDataUnavailable, match=r"tradier.*SPY quote.*no answer"):
        market.underlying_price("SPY", NOW)
