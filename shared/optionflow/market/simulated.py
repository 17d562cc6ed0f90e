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

Options are priced by Black-Scholes-Merton (no dividends) at the ticker's flat volatility.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from optionflow.market.calendar import NEW_YORK
from optionflow.market.ports import OptionQuote
from optionflow.pricing.black_scholes import greeks, price

__all__ = ["OptionQuote", "SimulatedMarketData"]

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


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _require_aware(at: datetime) -> None:
    # A naive time would be read in the host's zone, and two hosts would then disagree on the price.
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} is naive: pass an aware datetime")


class SimulatedMarketData:
    """Deterministic market data for paper trading and tests; implements the MarketData port."""

    def __init__(self, seed: int = 7, rate: float = 0.04) -> None:
        self.seed = seed
        self.rate = rate  # annual risk-free rate, decimal

    def volatility(self, ticker: str) -> float:
        """Annual volatility of the ticker, decimal (0.16 = 16 %)."""
        return VOLATILITIES.get(ticker, DEFAULT_VOL)

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

        Time value runs to 16:00 New York time on the expiry date, in years of 365 days. The half-spread
        is 1.5 % of the mid, at least 1 cent and at most 50 cents, as chains widen with price; the bid is
        never below 1 cent.
        """
        underlying = self.underlying_price(ticker, at)
        spot = float(underlying)  # price off the reported underlying so the quote is self-consistent
        expires = datetime.combine(expiry, time(16, 0), NEW_YORK)
        # Subtract in UTC: two datetimes sharing a ZoneInfo subtract by wall clock, an hour off across DST.
        seconds = (expires.astimezone(UTC) - at.astimezone(UTC)).total_seconds()
        years = max(0.0, seconds / SECONDS_PER_YEAR)
        vol = self.volatility(ticker)
        k = float(strike)
        mid = max(CENT, _money(price(option_type, spot, k, years, self.rate, vol)))
        half = min(MAX_HALF_SPREAD, max(CENT, _money(float(mid) * HALF_SPREAD_FRACTION)))
        return OptionQuote(
            bid=max(CENT, mid - half),
            ask=mid + half,
            mid=mid,
            underlying=underlying,
            iv=vol,
            greeks=greeks(option_type, spot, k, years, self.rate, vol),
            as_of=at,
        )
