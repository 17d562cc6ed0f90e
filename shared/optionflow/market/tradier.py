"""Tradier market data (brokerage API, `/v1/markets/...`): quotes, option expirations, chains with Greeks
(ORATS, hourly), time and sales and daily history.

- Auth: `Authorization: Bearer <access token>`; JSON with `Accept: application/json`.
- Base URL: `https://api.tradier.com/v1` (real-time for account holders), or the sandbox
  `https://sandbox.tradier.com/v1` (delayed 15 minutes).
- Rate limit: 120 market-data requests a minute per token (60 on the sandbox); a 429 is retried after
  the backoff below, at most twice, which keeps a run under the limit.
- Quirks read here: a list of one comes back as the object itself, and an empty list as null
  (`{"expirations": null}`); quote times are epoch milliseconds; time-and-sales times are New York
  wall-clock times without an offset.

One chain call per expiry (`/markets/options/chains?symbol=&expiration=&greeks=true`); hour bars are built
from 15-minute time and sales, as Tradier serves tick, 1, 5 and 15 minutes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from optionflow.calendar import NEW_YORK
from optionflow.http_json import JsonClient, Timeouts
from optionflow.market.ports import Bar, ListedOption
from optionflow.market.remote import (
    RemoteMarketData,
    decimal_or_none,
    float_or_none,
    from_epoch_ms,
    from_iso,
    mid_of,
    money,
)
from optionflow.pricing.black_scholes import Greeks

BASE_URL = "https://api.tradier.com/v1"
SANDBOX_URL = "https://sandbox.tradier.com/v1"
REQUESTS_PER_MINUTE = 120
RETRIES = 2
BACKOFF_SECONDS = 1.0  # 1 s then 2 s: a retried request stays well inside 120 a minute
_INTERVALS = {"1m": "1min", "5m": "5min", "15m": "15min"}


def client(
    token: str, base_url: str = BASE_URL, timeouts: Timeouts | None = None, backoff: float = BACKOFF_SECONDS
) -> JsonClient:
    return JsonClient(
        "tradier",
        base_url,
        {"Authorization": f"Bearer {token}"},
        timeouts=timeouts or Timeouts(),
        retries=RETRIES,
        backoff_factor=backoff,
    )


def _items(container: Any, key: str) -> list[Any]:
    """Tradier's list: `{key: [..]}`, `{key: {..}}` for one, null or "null" for none."""
    if not container or not isinstance(container, dict):
        return []
    value = container.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _greeks(raw: Any) -> tuple[float | None, Greeks | None]:
    if not isinstance(raw, dict) or raw.get("delta") is None:
        return None, None
    greeks = Greeks(
        delta=float(raw["delta"]),
        gamma=float(raw.get("gamma") or 0.0),
        theta_per_day=float(raw.get("theta") or 0.0),
        vega_per_point=float(raw.get("vega") or 0.0),
        rho_per_point=float(raw.get("rho") or 0.0),
    )
    return float_or_none(raw.get("mid_iv")) or float_or_none(raw.get("smv_vol")), greeks


def listed_option(raw: dict[str, Any]) -> ListedOption:
    """One element of a chains answer."""
    bid, ask = money(raw.get("bid"), "bid"), money(raw.get("ask"), "ask")
    iv, greeks = _greeks(raw.get("greeks"))
    stamps = [int(raw[k]) for k in ("bid_date", "ask_date") if raw.get(k)]
    option_type = str(raw["option_type"]).upper()
    if option_type not in ("CALL", "PUT"):
        raise ValueError(f"option_type {raw['option_type']!r}")
    return ListedOption(
        symbol=str(raw["symbol"]),
        option_type=option_type,
        strike=Decimal(str(raw["strike"])),
        expiry=date.fromisoformat(str(raw["expiration_date"])),
        bid=bid,
        ask=ask,
        mid=mid_of(bid, ask),
        iv=iv,
        greeks=greeks,
        open_interest=int(raw.get("open_interest") or 0),
        volume=int(raw.get("volume") or 0),
        # no quote time means we cannot tell how old it is: the epoch makes it stale, never fresh
        as_of=from_epoch_ms(max(stamps, default=0)),
    )


class TradierMarketData(RemoteMarketData):
    provider = "tradier"

    def _fetch_spot(self, ticker: str) -> Decimal:
        body = self.client.request("GET", "/markets/quotes", params={"symbols": ticker, "greeks": "false"})
        quotes = _items(body["quotes"], "quote")
        if not quotes or "unmatched_symbols" in (body["quotes"] or {}):
            raise ValueError(f"no quote for {ticker}")
        quote = quotes[0]
        last = decimal_or_none(quote.get("last"))
        if last is not None and last > 0:
            return last
        return mid_of(money(quote.get("bid"), "bid"), money(quote.get("ask"), "ask"))

    def _fetch_expirations(self, ticker: str) -> tuple[date, ...]:
        body = self.client.request(
            "GET", "/markets/options/expirations", params={"symbol": ticker, "includeAllRoots": "true"}
        )
        return tuple(date.fromisoformat(str(d)) for d in _items(body["expirations"], "date"))

    def _fetch_chain(self, ticker: str, first_expiry: date, last_expiry: date) -> tuple[ListedOption, ...]:
        # one expiry (a quote, a chosen contract) needs no list: Tradier answers null for an unlisted one
        expiries = (
            [first_expiry]
            if first_expiry == last_expiry
            else [e for e in self.expirations(ticker, self.now()) if first_expiry <= e <= last_expiry]
        )
        options: list[ListedOption] = []
        for expiry in expiries:
            body = self.client.request(
                "GET",
                "/markets/options/chains",
                params={"symbol": ticker, "expiration": expiry.isoformat(), "greeks": "true"},
            )
            options += [listed_option(raw) for raw in _items(body["options"], "option")]
        return tuple(options)

    def _fetch_bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        if timeframe == "1d":
            return self._daily(ticker, start, end)
        interval = _INTERVALS.get(timeframe, "15min")
        local = "%Y-%m-%d %H:%M"
        body = self.client.request(
            "GET",
            "/markets/timesales",
            params={
                "symbol": ticker,
                "interval": interval,
                "start": start.astimezone(NEW_YORK).strftime(local),
                "end": end.astimezone(NEW_YORK).strftime(local),
                "session_filter": "open",
            },
        )
        bars = [
            Bar(
                start=from_iso(str(row["time"])),
                open=money(row["open"], "open"),
                high=money(row["high"], "high"),
                low=money(row["low"], "low"),
                close=money(row["close"], "close"),
                volume=int(row.get("volume") or 0),
            )
            for row in _items(body["series"], "data")
        ]
        return tuple(bars) if timeframe != "1h" else self._hours(bars)

    def _hours(self, quarters: list[Bar]) -> tuple[Bar, ...]:
        """Hour bars from the session open (09:30, 10:30, ...) out of 15-minute bars."""
        groups: dict[datetime, list[Bar]] = {}
        for bar in quarters:
            session = self.calendar.session(bar.start.astimezone(NEW_YORK).date())
            if session is None:
                continue
            hours = int((bar.start - session.open).total_seconds() // 3600)
            groups.setdefault(session.open + timedelta(hours=hours), []).append(bar)
        return tuple(
            Bar(
                start=opens,
                open=group[0].open,
                high=max(b.high for b in group),
                low=min(b.low for b in group),
                close=group[-1].close,
                volume=sum(b.volume for b in group),
            )
            for opens, group in sorted(groups.items())
        )

    def _daily(self, ticker: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        body = self.client.request(
            "GET",
            "/markets/history",
            params={
                "symbol": ticker,
                "interval": "daily",
                "start": start.astimezone(NEW_YORK).date().isoformat(),
                "end": end.astimezone(NEW_YORK).date().isoformat(),
            },
        )
        bars = []
        for row in _items(body["history"], "day"):
            session = self.calendar.session(date.fromisoformat(str(row["date"])))
            if session is None:
                continue
            bars.append(
                Bar(
                    start=session.open,
                    open=money(row["open"], "open"),
                    high=money(row["high"], "high"),
                    low=money(row["low"], "low"),
                    close=money(row["close"], "close"),
                    volume=int(row.get("volume") or 0),
                )
            )
        return tuple(bars)
