"""Which market-data adapter and calendar this process uses (simulated and deterministic by default)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from optionflow.calendar import NyseCalendar
from optionflow.market.ports import Bar, MarketData, OptionChain, OptionQuote

_market: MarketData | None = None
_calendar: NyseCalendar | None = None


def get_market_data() -> MarketData:
    global _market
    if _market is None:
        from optionflow.config import get_settings
        from optionflow.market.simulated import SimulatedMarketData

        _market = SimulatedMarketData(seed=get_settings().market_seed)
    return _market


def set_market_data(market: MarketData | None) -> None:
    global _market
    _market = market


class ProcessMarketData:
    """The process's market data, looked up at each call: the composition root hands this out, so a cold
    start that never prices (the webhook) never builds the adapter, and an installed adapter is seen."""

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        return get_market_data().underlying_price(ticker, at)

    def volatility(self, ticker: str) -> float:
        return get_market_data().volatility(ticker)

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        return get_market_data().option_quote(ticker, option_type, strike, expiry, at)

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        return get_market_data().expirations(ticker, at)

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        return get_market_data().option_chain(ticker, at, first_expiry, last_expiry)

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        return get_market_data().bars(ticker, timeframe, start, end)


def get_calendar() -> NyseCalendar:
    global _calendar
    if _calendar is None:
        _calendar = NyseCalendar()
    return _calendar
