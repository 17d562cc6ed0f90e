"""Alpaca market data: option chain snapshots with Greeks and IV (`/v1beta1/options/snapshots/{underlying}`),
stock quotes and bars (`/v2/stocks/...`) on the data API, and the listed contracts with open interest
(`/v2/options/contracts`) on the trading API.

- Auth: the headers `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` (the same pair on both hosts).
- Hosts: data `https://data.alpaca.markets`; trading `https://paper-api.alpaca.markets` for a paper key,
  `https://api.alpaca.markets` for a live one.
- Feeds: stocks `iex` (free) or `sip` (paid); options `indicative` (free, delayed and derived) or `opra`
  (paid, real time).
- Rate limit: 200 requests a minute on the free plan (10,000 on Algo Trader Plus); a 429 is retried with
  0.5 s, 1 s, 2 s backoff, at most three times.
- Pages: `next_page_token`, passed back as `page_token`, until null.

Hour bars are Alpaca's (aligned to clock hours); daily bars, stamped at midnight New York, are moved to
their session's open.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from optionflow.calendar import NEW_YORK
from optionflow.http_json import JsonClient, Timeouts
from optionflow.market.ports import Bar, ListedOption
from optionflow.market.remote import RemoteMarketData, float_or_none, from_iso, greeks_from, mid_of, money
from optionflow.pricing.occ import parse_occ_symbol

DATA_URL = "https://data.alpaca.markets"
PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
REQUESTS_PER_MINUTE = 200
RETRIES = 3
BACKOFF_SECONDS = 0.5
MAX_PAGES = 20  # 20 000 contracts or bars: far beyond one underlying's window
_TIMEFRAMES = {"1m": "1Min", "5m": "5Min", "15m": "15Min", "1h": "1Hour", "1d": "1Day"}


def _client(
    name: str, key_id: str, secret: str, base_url: str, timeouts: Timeouts | None, backoff: float
) -> JsonClient:
    return JsonClient(
        name,
        base_url,
        {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret},
        timeouts=timeouts or Timeouts(),
        retries=RETRIES,
        backoff_factor=backoff,
    )


def data_client(
    key_id: str,
    secret: str,
    base_url: str = DATA_URL,
    timeouts: Timeouts | None = None,
    backoff: float = BACKOFF_SECONDS,
) -> JsonClient:
    return _client("alpaca", key_id, secret, base_url, timeouts, backoff)


def trading_client(
    key_id: str,
    secret: str,
    base_url: str = PAPER_TRADING_URL,
    timeouts: Timeouts | None = None,
    backoff: float = BACKOFF_SECONDS,
) -> JsonClient:
    return _client("alpaca", key_id, secret, base_url, timeouts, backoff)


def _pages(client: JsonClient, path: str, params: dict[str, Any], key: str) -> list[Any]:
    """Every page's `key` (a list, or a dict's items), following next_page_token."""
    found: list[Any] = []
    token = None
    for _ in range(MAX_PAGES):
        body = client.request("GET", path, params={**params, "page_token": token})
        page = body[key] or []
        found += list(page.items()) if isinstance(page, dict) else page
        token = body.get("next_page_token")
        if not token:
            return found
    raise ValueError(f"more than {MAX_PAGES} pages")


def listed_option(symbol: str, snapshot: dict[str, Any], open_interest: int) -> ListedOption:
    """One entry of a snapshots answer (its contract read from the OCC symbol)."""
    contract = parse_occ_symbol(symbol)
    quote = snapshot.get("latestQuote") or {}
    bid, ask = money(quote.get("bp"), "bp"), money(quote.get("ap"), "ap")
    bar = snapshot.get("dailyBar") or {}
    return ListedOption(
        symbol=symbol,
        option_type=contract.option_type,
        strike=contract.strike,
        expiry=contract.expiry,
        bid=bid,
        ask=ask,
        mid=mid_of(bid, ask),
        iv=float_or_none(snapshot.get("impliedVolatility")),
        greeks=greeks_from(snapshot.get("greeks")),
        open_interest=open_interest,
        volume=int(bar.get("v") or 0),
        # no quote time: the epoch, so the quote reads as stale rather than fresh
        as_of=from_iso(str(quote["t"])) if quote.get("t") else datetime.fromtimestamp(0, NEW_YORK),
    )


class AlpacaMarketData(RemoteMarketData):
    provider = "alpaca"

    def __init__(
        self,
        data: JsonClient,
        trading: JsonClient,
        *,
        stock_feed: str = "iex",
        option_feed: str = "indicative",
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.trading = trading
        self.stock_feed = stock_feed
        self.option_feed = option_feed

    def _fetch_spot(self, ticker: str) -> Decimal:
        body = self.client.request(
            "GET", f"/v2/stocks/{ticker}/quotes/latest", params={"feed": self.stock_feed}
        )
        quote = body["quote"]
        return mid_of(money(quote["bp"], "bp"), money(quote["ap"], "ap"))

    def _contracts(self, ticker: str, first: date | None, last: date | None) -> list[dict[str, Any]]:
        params = {
            "underlying_symbols": ticker,
            "status": "active",
            "expiration_date_gte": first.isoformat() if first else None,
            "expiration_date_lte": last.isoformat() if last else None,
            "limit": 10_000,
        }
        return _pages(self.trading, "/v2/options/contracts", params, "option_contracts")

    def _fetch_expirations(self, ticker: str) -> tuple[date, ...]:
        today = self.now().astimezone(NEW_YORK).date()
        contracts = self._contracts(ticker, today, None)
        return tuple(sorted({date.fromisoformat(str(c["expiration_date"])) for c in contracts}))

    def _fetch_chain(self, ticker: str, first_expiry: date, last_expiry: date) -> tuple[ListedOption, ...]:
        interest = {
            str(c["symbol"]): int(c.get("open_interest") or 0)
            for c in self._contracts(ticker, first_expiry, last_expiry)
        }
        params = {
            "feed": self.option_feed,
            "expiration_date_gte": first_expiry.isoformat(),
            "expiration_date_lte": last_expiry.isoformat(),
            "limit": 1000,
        }
        snapshots = _pages(self.client, f"/v1beta1/options/snapshots/{ticker}", params, "snapshots")
        return tuple(listed_option(symbol, snap, interest.get(symbol, 0)) for symbol, snap in snapshots)

    def _fetch_bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        params = {
            "timeframe": _TIMEFRAMES[timeframe],
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit": 10_000,
            "adjustment": "raw",
            "feed": self.stock_feed,
        }
        bars = []
        for row in _pages(self.client, f"/v2/stocks/{ticker}/bars", params, "bars"):
            opens = from_iso(str(row["t"]))
            bar = self._ohlcv_bar(row, opens, timeframe)
            if bar is not None:
                bars.append(bar)
        return tuple(bars)
