"""The market-data port: what the pipeline asks of any data source (the simulator, Alpaca, Tradier,
Massive). Adapters return the same value types, and raise the same errors, so logic never
knows which one it has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from optionflow.pricing.black_scholes import Greeks


class ContractExpired(ValueError):
    """The contract's expiry session has closed: it has no quote any more.

    Settle it instead at `pricing.expiry.settlement_value` of the underlying's price at `expired_at` (the
    close of the expiry session, `pricing.expiry.expiry_close`).
    """

    def __init__(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, expired_at: datetime
    ) -> None:
        self.ticker = ticker
        self.option_type = option_type
        self.strike = strike
        self.expiry = expiry
        self.expired_at = expired_at  # aware
        super().__init__(
            f"{ticker} {option_type} {strike} expiring {expiry.isoformat()} expired at the "
            f"{expired_at:%Y-%m-%d %H:%M %Z} close and has no quote; settle it at its intrinsic value "
            "from the underlying's closing price"
        )

    def __reduce__(self) -> tuple[type[ContractExpired], tuple[str, str, Decimal, date, datetime]]:
        # keeps the exception picklable although __init__ takes more than the message
        return (type(self), (self.ticker, self.option_type, self.strike, self.expiry, self.expired_at))


class MarketDataError(RuntimeError):
    """A market-data provider could not answer. The message names the provider and what failed, never a
    key; `provider` is its configured name (alpaca, tradier, massive, simulated)."""

    def __init__(self, provider: str, what: str) -> None:
        self.provider = provider
        self.what = what
        super().__init__(f"market data ({provider}): {what}")


class MarketDataUnauthorized(MarketDataError):
    """The provider refused our credentials (HTTP 401/403): the key is missing, wrong or not entitled."""


class MarketDataUnavailable(MarketDataError):
    """The provider did not answer usefully now (timeout, 5xx, rate limited, a body we cannot read);
    a later run may succeed."""


class NotListed(MarketDataError):
    """The provider lists no such contract or expiry."""


class QuoteRefused(MarketDataError):
    """A quote came back but may not be used (crossed, no ask, stale): see `pricing.quote_checks`."""


def usable_quote(
    quote: OptionQuote, at: datetime, max_age_seconds: float, provider: str = "market"
) -> OptionQuote:
    """`quote` when it may be used at `at`; else QuoteRefused saying why, with its numbers."""
    from optionflow.pricing.quote_checks import quote_problem

    problem = quote_problem(quote.bid, quote.ask, quote.as_of, at, max_age_seconds)
    if problem:
        raise QuoteRefused(provider, problem)
    return quote


TIMEFRAMES: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}  # seconds


@dataclass(frozen=True)
class ListedOption:
    """One listed contract in a chain: its market in dollars per share (× the multiplier per contract).

    `iv` and `greeks` are None when the provider gave none (an illiquid contract often has no IV);
    `open_interest` and `volume` are contracts (open interest as of the previous day's settlement, volume
    of the current session)."""

    symbol: str  # the OCC symbol without padding, e.g. SPY261218C00600000
    option_type: str  # CALL or PUT
    strike: Decimal  # dollars per share
    expiry: date
    bid: Decimal
    ask: Decimal
    mid: Decimal
    iv: float | None
    greeks: Greeks | None
    open_interest: int
    volume: int
    as_of: datetime  # aware: when the quote was taken


@dataclass(frozen=True)
class OptionChain:
    """Listed contracts of one underlying, for the expiries asked for (`expiries`, ascending)."""

    ticker: str
    underlying: Decimal  # dollars per share, as of `as_of`
    as_of: datetime  # aware
    expiries: tuple[date, ...]
    options: tuple[ListedOption, ...]

    def listed(self, expiry: date, option_type: str) -> tuple[ListedOption, ...]:
        """The contracts of `option_type` expiring on `expiry`, by ascending strike."""
        return tuple(
            sorted(
                (o for o in self.options if o.expiry == expiry and o.option_type == option_type),
                key=lambda o: o.strike,
            )
        )

    def strikes(self, expiry: date, option_type: str) -> tuple[Decimal, ...]:
        """The listed strikes (dollars per share) of `option_type` expiring on `expiry`, ascending."""
        return tuple(o.strike for o in self.listed(expiry, option_type))


@dataclass(frozen=True)
class Bar:
    """One bar: prices in dollars per share, `volume` in shares, `start` the aware instant it opens."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


@dataclass(frozen=True)
class OptionQuote:
    """One option's market, all money in dollars per share (× the multiplier, usually 100, per contract)."""

    bid: Decimal
    ask: Decimal
    mid: Decimal
    underlying: Decimal  # the underlying's price the quote was taken against
    iv: float  # annual implied volatility, decimal (0.2 = 20 %)
    greeks: Greeks  # per share: theta per calendar day, vega and rho per point
    as_of: datetime  # aware


class MarketData(Protocol):
    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        """Dollars per share at the aware instant `at`."""
        ...

    def volatility(self, ticker: str) -> float:
        """Annual volatility used for the ticker, decimal."""
        ...

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        """The quote of the CALL or PUT at `strike` (dollars) expiring on `expiry`, as of `at`.

        Raises ContractExpired at or after the close of the expiry session.
        """
        ...

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        """The listed expiries of `ticker`'s options whose session has not closed at `at`, ascending."""
        ...

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        """The listed contracts (both types) expiring from `first_expiry` to `last_expiry` inclusive, with
        their quotes as of `at` (a real provider: its latest)."""
        ...

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        """The underlying's OHLCV bars of `timeframe` (a key of TIMEFRAMES) opening in [start, end),
        ascending; for 1d, one per session opening at the session's open."""
        ...
