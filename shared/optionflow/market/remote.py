"""What every real market-data provider shares: the `MarketData` port on top of a handful of fetches, a
cache that lasts one run, and the provider's failures turned into the port's errors.

An adapter (`market/alpaca.py`, `market/tradier.py`, `market/massive.py`) says how to fetch the latest
underlying price, the listed expiries, a chain for a window of expiries and bars; this class answers the
port from them:

- **One fetch per run.** The composition root calls `for_run()` on each invocation, which shares the
  adapter's HTTP connections but starts an empty cache: within a run the chain of a ticker (for a window of
  expiries), its expiries and its price are fetched once, and `option_quote` answers from a chain already
  fetched when it covers the contract. The next run sees new quotes.
- **Now, not then.** A provider quotes the market as it is. `option_quote` and `underlying_price` for an
  instant more than `HISTORY_AFTER` before the wall clock are answered from bars (the underlying) or
  refused (an option: no provider here serves historical option quotes), never with today's price.
- **Errors.** `HttpError` becomes `MarketDataUnauthorized` (401/403) or `MarketDataUnavailable`
  (everything else: no answer, 429, 5xx, a body we cannot read), each naming the provider and what was
  asked, never a key; a contract the chain does not list is `NotListed`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.http_json import HttpError, JsonClient
from optionflow.market.ports import (
    TIMEFRAMES,
    Bar,
    ContractExpired,
    ListedOption,
    MarketDataError,
    MarketDataUnauthorized,
    MarketDataUnavailable,
    NotListed,
    OptionChain,
    OptionQuote,
)
from optionflow.pricing.black_scholes import Greeks
from optionflow.pricing.expiry import expiry_close

HISTORY_AFTER = timedelta(minutes=2)  # an instant further back than this is history, not the latest quote
NO_GREEKS = Greeks(0.0, 0.0, 0.0, 0.0, 0.0)


def greeks_from(raw: Any) -> Greeks | None:
    """Greeks from a provider's {"delta", "gamma", "theta", "vega", "rho"} object (Alpaca's snapshot,
    Massive's; a missing rho or other figure reads 0); None without a delta."""
    if not isinstance(raw, dict) or raw.get("delta") is None:
        return None
    return Greeks(
        delta=float(raw["delta"]),
        gamma=float(raw.get("gamma") or 0.0),
        theta_per_day=float(raw.get("theta") or 0.0),
        vega_per_point=float(raw.get("vega") or 0.0),
        rho_per_point=float(raw.get("rho") or 0.0),
    )


def wall_clock() -> datetime:
    return datetime.now(UTC)


def decimal_or_none(value: Any) -> Decimal | None:
    """A provider's number as Decimal (through str, so 1.1 stays 1.1), or None for null/absent/non-numeric."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any, field: str) -> Decimal:
    """A required non-negative price; a missing one reads as 0 (no bid), a malformed one is an error."""
    number = decimal_or_none(value)
    if value is not None and number is None:
        raise ValueError(f"{field} {value!r} is not a number")
    if number is None:
        return Decimal(0)
    if number < 0:
        raise ValueError(f"{field} {value!r} is negative")
    return number


def float_or_none(value: Any) -> float | None:
    number = decimal_or_none(value)
    if number is None:
        return None
    result = float(number)
    return result if math.isfinite(result) else None


def mid_of(bid: Decimal, ask: Decimal) -> Decimal:
    """The midpoint, dollars per share, to the tenth of a cent (half a cent of spread stays visible)."""
    return ((bid + ask) / 2).quantize(Decimal("0.001")).normalize() if ask else bid


def from_epoch_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def from_epoch_ns(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1_000_000_000, UTC)


def from_iso(value: str) -> datetime:
    """An ISO-8601 instant; a naive one is New York time (the exchanges' clock)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=NEW_YORK)


class RemoteMarketData(ABC):
    """The `MarketData` port for a provider reached over HTTP; subclasses implement the `_fetch_*`."""

    provider = "remote"

    def __init__(
        self,
        client: JsonClient,
        *,
        calendar: NyseCalendar | None = None,
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.client = client
        self.calendar = calendar or NyseCalendar()
        self.now = now
        self._spots: dict[str, Decimal] = {}
        self._expiries: dict[str, tuple[date, ...]] = {}
        self._chains: dict[tuple[str, date, date], OptionChain] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.client!r})"

    def for_run(self) -> Self:
        """This adapter with an empty cache (the same connections): one per run."""
        run = type(self).__new__(type(self))
        run.__dict__.update(self.__dict__)
        run._spots, run._expiries, run._chains = {}, {}, {}
        return run

    # -- what a provider implements --------------------------------------------------------------

    @abstractmethod
    def _fetch_spot(self, ticker: str) -> Decimal:
        """The underlying's latest price, dollars per share."""

    @abstractmethod
    def _fetch_expirations(self, ticker: str) -> tuple[date, ...]:
        """Every listed expiry, ascending."""

    @abstractmethod
    def _fetch_chain(self, ticker: str, first_expiry: date, last_expiry: date) -> tuple[ListedOption, ...]:
        """Every listed contract expiring in [first_expiry, last_expiry], with its latest quote."""

    @abstractmethod
    def _fetch_bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        """Bars opening in [start, end), ascending."""

    # -- the port ---------------------------------------------------------------------------------

    def _ohlcv_bar(self, row: dict[str, Any], opens: datetime, timeframe: str) -> Bar | None:
        """A bar from a provider row keyed o/h/l/c/v (Alpaca's and Massive's shape) opening at `opens`; a
        daily bar opens at its session's open, and a day that was no session is dropped (None)."""
        if timeframe == "1d":
            session = self.calendar.session(opens.astimezone(NEW_YORK).date())
            if session is None:
                return None
            opens = session.open
        return Bar(
            start=opens,
            open=money(row["o"], "o"),
            high=money(row["h"], "h"),
            low=money(row["l"], "l"),
            close=money(row["c"], "c"),
            volume=int(row.get("v") or 0),
        )

    @contextmanager
    def _asking(self, what: str) -> Iterator[None]:
        """Turn whatever the provider or its answer does wrong into the port's errors, naming `what`."""
        try:
            yield
        except MarketDataError:
            raise
        except HttpError as exc:
            if exc.unauthorized:
                raise MarketDataUnauthorized(
                    self.provider, f"{what}: the provider refused the credentials (HTTP {exc.status})"
                ) from None
            if exc.status == 429:
                wait = f"; it asks to wait {exc.retry_after:g} s" if exc.retry_after is not None else ""
                raise MarketDataUnavailable(self.provider, f"{what}: rate limited (HTTP 429){wait}") from None
            raise MarketDataUnavailable(self.provider, f"{what}: {exc}") from None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise MarketDataUnavailable(
                self.provider, f"{what}: the answer has an unexpected shape ({type(exc).__name__}: {exc})"
            ) from None

    def _is_history(self, at: datetime) -> bool:
        if at.tzinfo is None:
            raise ValueError(f"{at.isoformat()} is naive: pass an aware datetime")
        return at < self.now() - HISTORY_AFTER

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        """The latest price, or for an instant in the past the close of the last minute bar before it."""
        if self._is_history(at):
            with self._asking(f"{ticker} price at {at.isoformat()}"):
                bars = self._fetch_bars(ticker, "1m", at - timedelta(hours=1), at)
                if not bars:
                    bars = self._fetch_bars(ticker, "1d", at - timedelta(days=7), at)
                if not bars:
                    raise NotListed(self.provider, f"{ticker}: no bars before {at.isoformat()}")
                return bars[-1].close
        if ticker not in self._spots:
            with self._asking(f"{ticker} quote"):
                self._spots[ticker] = self._fetch_spot(ticker)
        return self._spots[ticker]

    def volatility(self, ticker: str) -> float:
        """The implied volatility of the at-the-money call of the first expiry at least a week out."""
        now = self.now()
        expiries = [e for e in self.expirations(ticker, now) if (e - now.date()).days >= 7]
        if not expiries:
            raise NotListed(self.provider, f"{ticker}: no expiry a week or more out")
        chain = self.option_chain(ticker, now, expiries[0], expiries[0])
        calls = [o for o in chain.listed(expiries[0], "CALL") if o.iv]
        if not calls:
            raise NotListed(self.provider, f"{ticker}: no implied volatility in the {expiries[0]} chain")
        atm = min(calls, key=lambda o: abs(o.strike - chain.underlying))
        assert atm.iv is not None
        return atm.iv

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        if ticker not in self._expiries:
            with self._asking(f"{ticker} expirations"):
                self._expiries[ticker] = tuple(sorted(set(self._fetch_expirations(ticker))))
        return tuple(e for e in self._expiries[ticker] if at < expiry_close(e, self.calendar))

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        key = (ticker, first_expiry, last_expiry)
        if key not in self._chains:
            spot = self.underlying_price(ticker, at)
            window = f"{ticker} chain {first_expiry.isoformat()} to {last_expiry.isoformat()}"
            with self._asking(window):
                options = self._fetch_chain(ticker, first_expiry, last_expiry)
            expiries = tuple(sorted({o.expiry for o in options}))
            as_of = max((o.as_of for o in options), default=at)
            self._chains[key] = OptionChain(ticker, spot, as_of, expiries, options)
        return self._chains[key]

    def _cached_chain(self, ticker: str, expiry: date) -> OptionChain | None:
        for (name, first, last), chain in self._chains.items():
            if name == ticker and first <= expiry <= last:
                return chain
        return None

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        """The contract's latest quote from its expiry's chain (fetched once a run), with the time the
        provider took it: callers judge its age (`pricing.quote_checks`)."""
        expires = expiry_close(expiry, self.calendar)
        if at >= expires:
            raise ContractExpired(ticker, option_type, strike, expiry, expires)
        if self._is_history(at):
            raise MarketDataUnavailable(
                self.provider, f"{ticker} option quotes as of {at.isoformat()}: only the latest is served"
            )
        chain = self._cached_chain(ticker, expiry) or self.option_chain(ticker, at, expiry, expiry)
        for option in chain.listed(expiry, option_type):
            if option.strike == strike:
                return OptionQuote(
                    bid=option.bid,
                    ask=option.ask,
                    mid=option.mid,
                    underlying=chain.underlying,
                    iv=option.iv or 0.0,
                    greeks=option.greeks or NO_GREEKS,
                    as_of=option.as_of,
                )
        raise NotListed(
            self.provider, f"{ticker} {option_type} {strike} expiring {expiry.isoformat()} is not listed"
        )

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        if timeframe not in TIMEFRAMES:
            raise ValueError(f"timeframe {timeframe!r}: use one of {', '.join(TIMEFRAMES)}")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("bars need aware start and end times")
        with self._asking(f"{ticker} {timeframe} bars"):
            return tuple(b for b in self._fetch_bars(ticker, timeframe, start, end) if start <= b.start < end)
