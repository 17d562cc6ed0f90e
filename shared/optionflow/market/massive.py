"""Massive (formerly Polygon.io) market data: the option chain snapshot
(`/v3/snapshot/options/{underlying}`, with Greeks, IV, open interest and the last quote), the listed
contracts (`/v3/reference/options/contracts`), aggregates (`/v2/aggs/ticker/...`) and the stock's last
NBBO quote (`/v2/last/nbbo/{ticker}`).

- Auth: `Authorization: Bearer <API key>` (the key never goes in the query string, where logs keep it).
- Host: `https://api.massive.com` (`https://api.polygon.io` still answers for older keys).
- Rate limit: 5 requests a minute on the free plan, which cannot serve a chain per run; paid plans are
  unlimited (Massive asks to stay under 100 a second). A 429 is retried once or twice with 1 s, 2 s backoff.
- Pages: `next_url` (a full URL carrying a cursor) until absent; the snapshot serves 250 contracts a page.
- Times: quote `last_updated` in nanoseconds, aggregate `t` in milliseconds, both since the epoch.

Hour bars are Massive's (aligned to clock hours); daily bars, stamped at midnight New York, are moved to
their session's open.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from optionflow.calendar import NEW_YORK
from optionflow.http_json import JsonClient, Timeouts
from optionflow.market.ports import Bar, ListedOption
from optionflow.market.remote import (
    RemoteMarketData,
    float_or_none,
    from_epoch_ms,
    from_epoch_ns,
    greeks_from,
    mid_of,
    money,
)

BASE_URL = "https://api.massive.com"
RETRIES = 2
BACKOFF_SECONDS = 1.0
MAX_PAGES = 40  # 10 000 contracts of a snapshot window
_TIMESPANS = {
    "1m": (1, "minute"),
    "5m": (5, "minute"),
    "15m": (15, "minute"),
    "1h": (1, "hour"),
    "1d": (1, "day"),
}


def client(
    key: str, base_url: str = BASE_URL, timeouts: Timeouts | None = None, backoff: float = BACKOFF_SECONDS
) -> JsonClient:
    return JsonClient(
        "massive",
        base_url,
        {"Authorization": f"Bearer {key}"},
        timeouts=timeouts or Timeouts(),
        retries=RETRIES,
        backoff_factor=backoff,
    )


def _pages(client: JsonClient, path: str, params: dict[str, Any]) -> list[Any]:
    """Every page's `results`, following `next_url` (its path and cursor, on our own base URL)."""
    found: list[Any] = []
    for _ in range(MAX_PAGES):
        body = client.request("GET", path, params=params)
        found += body["results"] or []
        following = body.get("next_url")
        if not following:
            return found
        parts = urlsplit(str(following))
        path, params = parts.path, dict(parse_qsl(parts.query))
    raise ValueError(f"more than {MAX_PAGES} pages")


def listed_option(raw: dict[str, Any]) -> ListedOption:
    """One result of the chain snapshot."""
    details = raw["details"]
    quote = raw.get("last_quote") or {}
    bid, ask = money(quote.get("bid"), "bid"), money(quote.get("ask"), "ask")
    option_type = str(details["contract_type"]).upper()
    if option_type not in ("CALL", "PUT"):
        raise ValueError(f"contract_type {details['contract_type']!r}")
    return ListedOption(
        symbol=str(details["ticker"]).removeprefix("O:"),
        option_type=option_type,
        strike=Decimal(str(details["strike_price"])),
        expiry=date.fromisoformat(str(details["expiration_date"])),
        bid=bid,
        ask=ask,
        mid=mid_of(bid, ask),
        iv=float_or_none(raw.get("implied_volatility")),
        greeks=greeks_from(raw.get("greeks")),
        open_interest=int(raw.get("open_interest") or 0),
        volume=int((raw.get("day") or {}).get("volume") or 0),
        as_of=from_epoch_ns(quote.get("last_updated") or 0),  # none: the epoch, so it reads as stale
    )


class MassiveMarketData(RemoteMarketData):
    provider = "massive"

    def _fetch_spot(self, ticker: str) -> Decimal:
        quote = self.client.request("GET", f"/v2/last/nbbo/{ticker}")["results"]
        return mid_of(money(quote["p"], "p"), money(quote["P"], "P"))

    def _fetch_expirations(self, ticker: str) -> tuple[date, ...]:
        today = self.now().astimezone(NEW_YORK).date()
        params = {
            "underlying_ticker": ticker,
            "expired": "false",
            "expiration_date.gte": today.isoformat(),
            "limit": 1000,
        }
        contracts = _pages(self.client, "/v3/reference/options/contracts", params)
        return tuple(sorted({date.fromisoformat(str(c["expiration_date"])) for c in contracts}))

    def _fetch_chain(self, ticker: str, first_expiry: date, last_expiry: date) -> tuple[ListedOption, ...]:
        params = {
            "expiration_date.gte": first_expiry.isoformat(),
            "expiration_date.lte": last_expiry.isoformat(),
            "limit": 250,
        }
        return tuple(
            listed_option(raw) for raw in _pages(self.client, f"/v3/snapshot/options/{ticker}", params)
        )

    def _fetch_bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        multiplier, span = _TIMESPANS[timeframe]
        first, last = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        path = f"/v2/aggs/ticker/{ticker}/range/{multiplier}/{span}/{first}/{last}"
        bars = []
        for row in _pages(self.client, path, {"adjusted": "true", "sort": "asc", "limit": 50_000}):
            opens = from_epoch_ms(row["t"])
            bar = self._ohlcv_bar(row, opens, timeframe)
            if bar is not None:
                bars.append(bar)
        return tuple(bars)
