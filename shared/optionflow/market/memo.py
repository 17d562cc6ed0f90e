"""One answer per question within a batch: a MarketData that asks the market it wraps once for each
(method, arguments) and gives the same answer to every later asker.

A batch of the order creator prices its entries at one instant; a burst is mostly the same few
contracts, so each entry asked the same quote, spot and chain again. Failures are not remembered: the
next asker asks again (and gets the error again from a market that still fails).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from optionflow.market.ports import Bar, MarketData, OptionChain, OptionQuote

T = TypeVar("T")


class AnswersOnce:
    """`inner`'s answers, each asked once; for one batch (at one instant), not to be kept."""

    def __init__(self, inner: MarketData) -> None:
        self.inner = inner
        self._answers: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], ask: Callable[[], T]) -> T:
        if key in self._answers:
            answer: T = self._answers[key]
            return answer
        answer = ask()
        self._answers[key] = answer
        return answer

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        return self._once(("spot", ticker, at), lambda: self.inner.underlying_price(ticker, at))

    def volatility(self, ticker: str) -> float:
        return self.inner.volatility(ticker)

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        return self._once(
            ("quote", ticker, option_type, strike, expiry, at),
            lambda: self.inner.option_quote(ticker, option_type, strike, expiry, at),
        )

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        return self._once(("expirations", ticker, at), lambda: self.inner.expirations(ticker, at))

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        return self._once(
            ("chain", ticker, at, first_expiry, last_expiry),
            lambda: self.inner.option_chain(ticker, at, first_expiry, last_expiry),
        )

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        return self._once(
            ("bars", ticker, timeframe, start, end), lambda: self.inner.bars(ticker, timeframe, start, end)
        )
