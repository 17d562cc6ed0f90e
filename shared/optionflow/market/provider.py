"""Which market-data adapter and calendar this process uses (simulated and deterministic by default)."""

from __future__ import annotations

from optionflow.market.calendar import NyseCalendar
from optionflow.market.ports import MarketData

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


def get_calendar() -> NyseCalendar:
    global _calendar
    if _calendar is None:
        _calendar = NyseCalendar()
    return _calendar
