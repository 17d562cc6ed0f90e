"""The market-data port: what the pipeline asks of any data source (simulated today, Polygon/Massive,
Alpaca or Tradier later). Adapters return the same value types, and raise the same errors, so logic never
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
