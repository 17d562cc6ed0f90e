"""The market-data port: what the pipeline asks of any data source (simulated today, Polygon/Massive,
Alpaca or Tradier later). Adapters return the same value types so logic never knows which one it has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from optionflow.pricing.black_scholes import Greeks


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
        """The quote of the CALL or PUT at `strike` (dollars) expiring on `expiry`, as of `at`."""
        ...


class ContractExpired(ValueError):
    """The contract's expiry session has closed: it has no quote any more; it settles instead."""
