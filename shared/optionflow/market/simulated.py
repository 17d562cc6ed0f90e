"""Simulated market data: deterministic, continuous, and cheap to evaluate at any instant.

The underlying is `base × exp(σ · W(t) / √(minutes per year))`, where W is a random walk with one
Gaussian step per calendar minute, built so that any minute can be evaluated directly:

- Every 2**18 minutes (about half a year) there is an anchor A(b) ~ N(0, 2**18 / 2).
- Between two anchors, W is a Brownian bridge filled in by midpoint displacement (Lévy's construction):
  the value at a block's midpoint is the mean of its ends plus N(0, length / 4), and so on down to one
  minute. Reaching minute N takes 18 halvings, not N additions.
- Each normal draw comes from hashing (seed, ticker, node), never from a stateful generator, so every
  process (Lambda, local stack, replay) sees the same price for the same minute.
- Within a minute the price moves linearly to the next minute's value, so successive calls see small,
  continuous moves (a 1-minute SPY step has a standard deviation of about 0.02 %).

Anchor variance of half a block makes W's variance the same at every instant (the bridge adds what the
averaging of two anchors removes), so prices wander like a random walk over hours and weeks but stay
around their base over years instead of drifting off. The walk runs in calendar time, weekends included,
matching the 365-day year used for option time value; order placement is gated by the exchange calendar,
not by the data.

Options are American, priced by the Bjerksund-Stensland (2002) approximation at the ticker's flat
volatility and continuous dividend yield. Time value runs to the close of the expiry session (13:00 on
early-close days); from that instant the contract has expired and has no quote.

The chain lists what `pricing.listings` says a standard chain lists (weeklies, monthlies, LEAPS, dailies for
SPY and QQQ; strikes on the near-the-money grid around the last close), with open interest and volume
drawn from the same hashes: deterministic, highest at the money and in the near expiries. Bars are read off
the same price path, in the exchange's sessions.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.market.ports import (
    TIMEFRAMES,
    Bar,
    ContractExpired,
    ListedOption,
    OptionChain,
    OptionQuote,
)
from optionflow.pricing import american
from optionflow.pricing.expiry import expiry_close
from optionflow.pricing.listings import listed_expiries, listed_strikes
from optionflow.pricing.occ import occ_root, occ_symbol

__all__ = ["ContractExpired", "OptionQuote", "SimulatedMarketData"]

CENT = Decimal("0.01")
MAX_HALF_SPREAD = Decimal("0.50")
HALF_SPREAD_FRACTION = 0.015
SECONDS_PER_YEAR = 365.0 * 86400.0
MINUTES_PER_YEAR = 365.0 * 24 * 60
_LEVELS = 18
_BLOCK = 1 << _LEVELS  # minutes between anchors, about 182 days

BASE_PRICES = {
    "SPY": 600.0,
    "QQQ": 520.0,
    "IWM": 230.0,
    "DIA": 440.0,
    "AAPL": 230.0,
    "MSFT": 420.0,
    "NVDA": 140.0,
    "TSLA": 250.0,
    "AMZN": 200.0,
    "META": 580.0,
    "GOOGL": 170.0,
    "AMD": 150.0,
}
VOLATILITIES = {
    "SPY": 0.16,
    "QQQ": 0.20,
    "IWM": 0.22,
    "DIA": 0.15,
    "AAPL": 0.25,
    "MSFT": 0.24,
    "NVDA": 0.45,
    "TSLA": 0.55,
    "AMZN": 0.30,
    "META": 0.35,
    "GOOGL": 0.28,
    "AMD": 0.45,
}
DEFAULT_VOL = 0.30
# Continuous dividend yields, annual decimals: rough trailing yields of recent years, rounded (the funds'
# and companies' published distributions vary year to year). They matter for early exercise: a yield
# makes calls exercisable early and delays the exercise of puts.
DIVIDEND_YIELDS = {
    "SPY": 0.012,
    "QQQ": 0.006,
    "IWM": 0.012,
    "DIA": 0.016,
    "AAPL": 0.004,
    "MSFT": 0.007,
    "NVDA": 0.0,  # a token dividend (well under 0.1 %)
    "TSLA": 0.0,
    "AMZN": 0.0,
    "META": 0.003,
    "GOOGL": 0.004,
    "AMD": 0.0,
}
DEFAULT_DIVIDEND_YIELD = 0.0  # an unknown ticker is priced as a non-payer
# Open interest of an at-the-money near-term contract, contracts; it thins away from the money and in time.
AT_THE_MONEY_INTEREST = {"SPY": 40_000, "QQQ": 25_000, "IWM": 15_000}
DEFAULT_INTEREST = 4_000
SHARES_PER_MINUTE = {"SPY": 150_000, "QQQ": 90_000}
DEFAULT_SHARES_PER_MINUTE = 20_000


def _normal(seed: int, ticker: str, kind: str, index: int) -> float:
    """A standard normal number fixed by its key (Box-Muller on two hash-derived uniforms)."""
    digest = hashlib.blake2b(f"{seed}|{ticker}|{kind}|{index}".encode(), digest_size=16).digest()
    a, b = struct.unpack("<QQ", digest)
    u1 = (a + 1) / 2.0**64  # in (0, 1], so the log is finite
    u2 = b / 2.0**64
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _anchor(seed: int, ticker: str, block: int) -> float:
    return math.sqrt(_BLOCK / 2.0) * _normal(seed, ticker, "anchor", block)


@lru_cache(maxsize=8192)
def _walk(seed: int, ticker: str, minute: int) -> float:
    """W at a whole minute since the Unix epoch, in √minutes."""
    block, offset = divmod(minute, _BLOCK)
    lo, hi = 0, _BLOCK
    w_lo, w_hi = _anchor(seed, ticker, block), _anchor(seed, ticker, block + 1)
    while offset != lo:
        mid = (lo + hi) // 2
        # Each dyadic midpoint occurs at exactly one level, so (block, mid) names the draw uniquely.
        index = block * _BLOCK + mid
        w_mid = 0.5 * (w_lo + w_hi) + math.sqrt((hi - lo) / 4.0) * _normal(seed, ticker, "bridge", index)
        if offset < mid:
            hi, w_hi = mid, w_mid
        else:
            lo, w_lo = mid, w_mid
    return w_lo


@lru_cache(maxsize=4096)
def _american(
    option_type: str, spot: float, strike: float, years: float, rate: float, vol: float, dividend_yield: float
) -> tuple[float, Any]:
    """American price and Greeks, remembered: a book holding one contract many times (every SPY ATM call
    of a day) is priced once per instant, not once per position."""
    return (
        american.price(option_type, spot, strike, years, rate, vol, dividend_yield),
        american.greeks(option_type, spot, strike, years, rate, vol, dividend_yield),
    )


def _uniform(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by its key."""
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _cents_up(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_CEILING)


def _require_aware(at: datetime) -> None:
    # A naive time would be read in the host's zone, and two hosts would then disagree on the price.
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} is naive: pass an aware datetime")


class SimulatedMarketData:
    """Deterministic market data for paper trading and tests; implements the MarketData port."""

    def __init__(self, seed: int = 7, rate: float = 0.04, calendar: NyseCalendar | None = None) -> None:
        self.seed = seed
        self.rate = rate  # annual risk-free rate, decimal
        self.calendar = calendar or NyseCalendar()

    def volatility(self, ticker: str) -> float:
        """Annual volatility of the ticker, decimal (0.16 = 16 %)."""
        return VOLATILITIES.get(ticker, DEFAULT_VOL)

    def dividend_yield(self, ticker: str) -> float:
        """Continuous annual dividend yield of the ticker, decimal (0.012 = 1.2 %)."""
        return DIVIDEND_YIELDS.get(ticker, DEFAULT_DIVIDEND_YIELD)

    def base_price(self, ticker: str) -> float:
        """The level the ticker wanders around, dollars per share. Unknown tickers get a fixed price from
        $20 to $500 derived from the name, so a new ticker behaves the same on every run."""
        if ticker in BASE_PRICES:
            return BASE_PRICES[ticker]
        return 20.0 + (int(hashlib.sha256(ticker.encode()).hexdigest()[:8], 16) % 48000) / 100.0

    def _spot(self, ticker: str, at: datetime) -> float:
        _require_aware(at)
        minute, into = divmod(at.timestamp(), 60.0)
        left, right = _walk(self.seed, ticker, int(minute)), _walk(self.seed, ticker, int(minute) + 1)
        w = left + (right - left) * (into / 60.0)
        return self.base_price(ticker) * math.exp(self.volatility(ticker) * w / math.sqrt(MINUTES_PER_YEAR))

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        """Dollars per share at the aware instant `at`, to the cent."""
        return _money(self._spot(ticker, at))

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        """Bid, ask and mid in dollars per share (× 100 per contract), with IV and Greeks, at `at`.

        The mid is the American value (never below intrinsic value), with time value running to the close
        of the expiry session in years of 365 days; Greeks are as `pricing.american.greeks` documents. The
        half-spread is 1.5 % of the mid, at least 1 cent and at most 50 cents, as chains widen with price;
        the bid is never below 1 cent, nor more than a cent below intrinsic value (below it, buying and
        exercising would be free money). Raises ContractExpired at or after the expiry session's close.
        """
        _require_aware(at)
        expires = expiry_close(expiry, self.calendar)
        if at >= expires:
            raise ContractExpired(ticker, option_type, strike, expiry, expires)
        underlying = self.underlying_price(ticker, at)
        spot = float(underlying)  # price off the reported underlying so the quote is self-consistent
        # Subtract in UTC: two datetimes sharing a ZoneInfo subtract by wall clock, an hour off across DST.
        years = (expires.astimezone(UTC) - at.astimezone(UTC)).total_seconds() / SECONDS_PER_YEAR
        vol, q, k = self.volatility(ticker), self.dividend_yield(ticker), float(strike)
        intrinsic = max(Decimal(0), underlying - strike if option_type == "CALL" else strike - underlying)
        value, greeks = _american(option_type, spot, k, years, self.rate, vol, q)
        mid = max(CENT, _money(value), _cents_up(intrinsic))
        half = min(MAX_HALF_SPREAD, max(CENT, _money(float(mid) * HALF_SPREAD_FRACTION)))
        return OptionQuote(
            bid=max(CENT, mid - half, _cents_up(intrinsic - CENT)),
            ask=mid + half,
            mid=mid,
            underlying=underlying,
            iv=vol,
            greeks=greeks,
            as_of=at,
        )

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        """The expiries `pricing.listings` lists on `at`'s New York date, less any whose session has closed."""
        _require_aware(at)
        today = at.astimezone(NEW_YORK).date()
        return tuple(
            e for e in listed_expiries(ticker, today, self.calendar) if at < expiry_close(e, self.calendar)
        )

    def _reference(self, ticker: str, at: datetime) -> Decimal:
        """The underlying at the close of the last session before `at`'s day: strikes are listed around it."""
        day = at.astimezone(NEW_YORK).date()
        session = self.calendar.session(self.calendar.previous_trading_day(day))
        assert session is not None
        return self.underlying_price(ticker, session.close)

    def _interest(
        self, ticker: str, symbol: str, at: datetime, quote: OptionQuote, strike: Decimal, expiry: date
    ) -> tuple[int, int]:
        """(open interest, session volume) in contracts: fixed for the day (open interest) and growing
        through the session (volume), most at the money and near expiry."""
        day = at.astimezone(NEW_YORK).date()
        spot = float(quote.underlying)
        years = max((expiry - day).days, 1) / 365.0
        moneyness = math.log(float(strike) / spot) / (self.volatility(ticker) * math.sqrt(years))
        near = math.exp(-0.5 * moneyness * moneyness) / (1.0 + (expiry - day).days / 60.0)
        base = AT_THE_MONEY_INTEREST.get(ticker, DEFAULT_INTEREST)
        open_interest = int(base * near * (0.2 + 1.6 * _uniform(self.seed, f"oi|{symbol}|{day}")))
        session = self.calendar.session(day)
        elapsed = 0.0
        if session is not None:
            span = (session.close - session.open).total_seconds()
            elapsed = min(max((at - session.open).total_seconds() / span, 0.0), 1.0)
        volume = int(open_interest * 0.4 * elapsed * _uniform(self.seed, f"volume|{symbol}|{day}"))
        return open_interest, volume

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        """Every listed contract expiring from `first_expiry` to `last_expiry`, quoted as `option_quote`
        quotes it at `at`, with deterministic open interest and volume."""
        expiries = tuple(e for e in self.expirations(ticker, at) if first_expiry <= e <= last_expiry)
        strikes = listed_strikes(ticker, self._reference(ticker, at))
        root = occ_root(ticker)
        options = []
        for expiry in expiries:
            for option_type in ("CALL", "PUT"):
                for strike in strikes:
                    quote = self.option_quote(ticker, option_type, strike, expiry, at)
                    symbol = occ_symbol(root, expiry, option_type, strike)
                    open_interest, volume = self._interest(ticker, symbol, at, quote, strike, expiry)
                    options.append(
                        ListedOption(
                            symbol=symbol,
                            option_type=option_type,
                            strike=strike,
                            expiry=expiry,
                            bid=quote.bid,
                            ask=quote.ask,
                            mid=quote.mid,
                            iv=quote.iv,
                            greeks=quote.greeks,
                            open_interest=open_interest,
                            volume=volume,
                            as_of=at,
                        )
                    )
        return OptionChain(ticker, self.underlying_price(ticker, at), at, expiries, tuple(options))

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        """Bars of the price path in the exchange's sessions, opening in [start, end): intraday bars from
        each session's open (the last one cut at the close), daily bars from open to close. Open and close
        are the path at the bar's ends; high and low its extremes sampled each minute (every five for
        daily bars). Raises ValueError for an unknown timeframe or naive times."""
        if timeframe not in TIMEFRAMES:
            raise ValueError(f"timeframe {timeframe!r}: use one of {', '.join(TIMEFRAMES)}")
        _require_aware(start)
        _require_aware(end)
        seconds = TIMEFRAMES[timeframe]
        day, last = start.astimezone(NEW_YORK).date(), end.astimezone(NEW_YORK).date()
        bars: list[Bar] = []
        while day <= last:
            session = self.calendar.session(day)
            day += timedelta(days=1)
            if session is None:
                continue
            opens = session.open
            while opens < session.close:
                closes = (
                    session.close
                    if timeframe == "1d"
                    else min(opens + timedelta(seconds=seconds), session.close)
                )
                if start <= opens < end:
                    bars.append(self._bar(ticker, opens, closes, 5 if timeframe == "1d" else 1))
                opens = closes
        return tuple(bars)

    def _bar(self, ticker: str, opens: datetime, closes: datetime, every_minutes: int) -> Bar:
        minutes = int((closes - opens).total_seconds() // 60)
        path = [
            self._spot(ticker, opens + timedelta(minutes=m)) for m in range(0, minutes, every_minutes)
        ] + [self._spot(ticker, closes)]
        per_minute = SHARES_PER_MINUTE.get(ticker, DEFAULT_SHARES_PER_MINUTE)
        draw = _uniform(self.seed, f"bar|{ticker}|{opens.timestamp():.0f}|{minutes}")
        return Bar(
            start=opens,
            open=_money(path[0]),
            high=_money(max(path)),
            low=_money(min(path)),
            close=_money(path[-1]),
            volume=int(per_minute * minutes * (0.5 + draw)),
        )
