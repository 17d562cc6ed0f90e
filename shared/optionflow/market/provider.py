"""Which market-data adapter and calendar this process uses (simulated and deterministic by default)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from optionflow.calendar import NyseCalendar
from optionflow.market.ports import Bar, MarketData, OptionChain, OptionQuote

if TYPE_CHECKING:
    from optionflow.config import Settings

_market: MarketData | None = None
_calendar: NyseCalendar | None = None


def build_market_data(settings: Settings) -> MarketData:
    """The adapter MARKET_DATA names, configured from `settings`; a real provider without its key is a
    ConfigurationError naming the variable. Nothing connects here: the first request does."""
    from optionflow.config import ConfigurationError

    name = settings.market_data
    if name == "simulated":
        from optionflow.market.simulated import SimulatedMarketData

        return SimulatedMarketData(seed=settings.market_seed)
    key = settings.require_market_data_key()
    from optionflow.clock import get_clock

    def now() -> datetime:  # the application's clock: the wall clock in production, frozen in tests
        return get_clock().now()

    if name == "tradier":
        from optionflow.market import tradier

        return tradier.TradierMarketData(
            tradier.client(key, settings.market_data_url or tradier.BASE_URL), now=now
        )
    if name == "massive":
        from optionflow.market import massive

        return massive.MassiveMarketData(
            massive.client(key, settings.market_data_url or massive.BASE_URL), now=now
        )
    if name == "alpaca":
        from optionflow.market import alpaca

        if not settings.market_data_key_id:
            raise ConfigurationError("MARKET_DATA=alpaca needs MARKET_DATA_KEY_ID (the Alpaca key id)")
        key_id = settings.market_data_key_id
        return alpaca.AlpacaMarketData(
            alpaca.data_client(key_id, key, settings.market_data_url or alpaca.DATA_URL),
            alpaca.trading_client(key_id, key, settings.alpaca_trading_url or alpaca.PAPER_TRADING_URL),
            stock_feed=settings.alpaca_stock_feed,
            option_feed=settings.alpaca_option_feed,
            now=now,
        )
    raise ConfigurationError(f"MARKET_DATA={name!r}: use simulated, alpaca, tradier or massive")


def get_market_data() -> MarketData:
    global _market
    if _market is None:
        from optionflow.config import get_settings

        _market = build_market_data(get_settings())
    return _market


def set_market_data(market: MarketData | None) -> None:
    global _market
    _market = market


class ProcessMarketData:
    """The process's market data, looked up at first use: the composition root hands one out per run, so a
    cold start that never prices (the webhook) never builds the adapter, and an installed adapter is seen.

    A real provider's adapter is used through `for_run()`: its connections are the process's, its cache
    (one chain fetch per ticker and window, one quote per ticker) this run's alone."""

    def __init__(self) -> None:
        self._source: MarketData | None = None
        self._run: MarketData | None = None

    def _market(self) -> MarketData:
        market = get_market_data()
        if self._run is None or self._source is not market:
            for_run = getattr(market, "for_run", None)
            self._source, self._run = market, (for_run() if for_run is not None else market)
        return self._run

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        return self._market().underlying_price(ticker, at)

    def volatility(self, ticker: str) -> float:
        return self._market().volatility(ticker)

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        return self._market().option_quote(ticker, option_type, strike, expiry, at)

    def expirations(self, ticker: str, at: datetime) -> tuple[date, ...]:
        return self._market().expirations(ticker, at)

    def option_chain(self, ticker: str, at: datetime, first_expiry: date, last_expiry: date) -> OptionChain:
        return self._market().option_chain(ticker, at, first_expiry, last_expiry)

    def bars(self, ticker: str, timeframe: str, start: datetime, end: datetime) -> tuple[Bar, ...]:
        return self._market().bars(ticker, timeframe, start, end)


def get_calendar() -> NyseCalendar:
    global _calendar
    if _calendar is None:
        _calendar = NyseCalendar()
    return _calendar
