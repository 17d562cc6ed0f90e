"""The market-data port: what the pipeline asks of any data source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from optionflow.pricing.black_scholes import Greeks


@dataclass(frozen=True)
class OptionQuote:
    bid: Decimal  # dollars per share
    ask: Decimal
    mid: Decimal
    underlying: Decimal
    iv: float  # annual, decimal
    greeks: Greeks
    as_of: datetime


class MarketData(Protocol):
    def underlying_price(self, ticker: str, at: datetime) -> Decimal: ...

    def volatility(self, ticker: str) -> float: ...

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote: ...
