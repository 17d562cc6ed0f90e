"""Simulated market data: deterministic, continuous, and cheap to evaluate at any instant.

The underlying follows base × exp(σ·X(t)), where X is a sum of smooth noise layers with knots every
month, week, day, hour, 5 minutes and minute. Each knot's value comes from hashing (seed, ticker, layer,
knot), so every process — Lambda, local stack, replay — sees the same price for the same instant without
replaying history, and a minute moves an index ETF by a few hundredths of a percent (not the seed's
±0.5 % per call, which tripped stops at random). Options are priced by Black-Scholes on that underlying.
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

CENT = Decimal("0.01")
YEAR_SECONDS = 365.0 * 86400.0
_LAYERS = (30 * 86400, 7 * 86400, 86400, 3600, 300, 60)  # knot spacing, seconds
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


def _normal(*key: object) -> float:
    """A standard normal number fixed by `key` (Box-Muller on two hash-derived uniforms)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
    a, b = struct.unpack("<QQ", digest)
    u1 = (a + 1) / 2.0**64
    u2 = b / 2.0**64
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


class SimulatedMarketData:
    def __init__(self, seed: int = 7, rate: float = 0.04) -> None:
        self.seed = seed
        self.rate = rate

    def volatility(self, ticker: str) -> float:
        return VOLATILITIES.get(ticker, DEFAULT_VOL)

    def _base(self, ticker: str) -> float:
        if ticker in BASE_PRICES:
            return BASE_PRICES[ticker]
        return 20.0 + (int(hashlib.sha256(ticker.encode()).hexdigest()[:8], 16) % 48000) / 100.0

    def _noise(self, ticker: str, t: float) -> float:
        """X(t): each layer interpolates between knots; its amplitude is the diffusion over one spacing."""
        total = 0.0
        for spacing in _LAYERS:
            k, frac = divmod(t / spacing, 1.0)
            left = _normal(self.seed, ticker, spacing, int(k))
            right = _normal(self.seed, ticker, spacing, int(k) + 1)
            total += math.sqrt(spacing / YEAR_SECONDS) * (left + (right - left) * frac)
        return total

    def underlying_float(self, ticker: str, at: datetime) -> float:
        return _underlying(self, ticker, int(at.timestamp()))

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        """Dollars per share, to the cent."""
        return _money(self.underlying_float(ticker, at))

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        spot = self.underlying_float(ticker, at)
        # equity options stop trading at 16:00 New York time on expiry day
        expires = datetime.combine(expiry, time(16, 0), NEW_YORK)
        years = max(0.0, (expires - at.astimezone(UTC)).total_seconds() / YEAR_SECONDS)
        vol = self.volatility(ticker)
        k = float(strike)
        value = price(option_type, spot, k, years, self.rate, vol)
        mid = max(CENT, _money(value))
        # spreads widen with price, as on a real chain: 1.5 % each side, between 1 and 50 cents
        half = min(Decimal("0.50"), max(CENT, _money(float(mid) * 0.015)))
        bid = max(CENT, mid - half)
        return OptionQuote(
            bid=bid,
            ask=mid + half,
            mid=mid,
            underlying=_money(spot),
            iv=vol,
            greeks=greeks(option_type, spot, k, years, self.rate, vol),
            as_of=at,
        )


@lru_cache(maxsize=4096)
def _underlying(market: SimulatedMarketData, ticker: str, second: int) -> float:
    vol = market.volatility(ticker)
    return market._base(ticker) * math.exp(vol * market._noise(ticker, float(second)))
