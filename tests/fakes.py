"""Fakes of the ports, for use-case tests that need no Postgres and no simulated market.

`fake_dependencies()` is a whole `Dependencies` of them: a frozen clock, a market that quotes what the
test says, a broker that fills at the quote, a bus that records, an invoker that records and a database
that refuses to be used (so a test that reaches for Postgres fails loudly instead of needing one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from optionflow.calendar import NyseCalendar
from optionflow.clock import FrozenClock
from optionflow.composition import Dependencies
from optionflow.config import Settings
from optionflow.market.ports import OptionQuote
from optionflow.pricing.black_scholes import Greeks

CENT = Decimal("0.01")


@dataclass
class FakeMarket:
    """Every ticker trades at `spot`; every option quotes `bid`/`ask` (dollars per share). Tickers in
    `failing` raise ConnectionError, as a feed that lost its connection would. Records what was quoted."""

    spot: Decimal = Decimal("500")
    bid: Decimal = Decimal("2.00")
    ask: Decimal = Decimal("2.10")
    failing: frozenset[str] = frozenset()
    quoted: list[tuple[str, str, Decimal, date]] = field(default_factory=list)

    def underlying_price(self, ticker: str, at: datetime) -> Decimal:
        if ticker in self.failing:
            raise ConnectionError(f"no price for {ticker}")
        return self.spot

    def volatility(self, ticker: str) -> float:
        return 0.2

    def option_quote(
        self, ticker: str, option_type: str, strike: Decimal, expiry: date, at: datetime
    ) -> OptionQuote:
        if ticker in self.failing:
            raise ConnectionError(f"no quote for {ticker}")
        self.quoted.append((ticker, option_type, strike, expiry))
        mid = ((self.bid + self.ask) / 2).quantize(CENT)
        return OptionQuote(self.bid, self.ask, mid, self.spot, 0.2, Greeks(0.5, 0.01, -0.05, 0.1, 0.01), at)


@dataclass
class FakeBroker:
    """Fills at the quote's far side plus a fixed `markup` (dollars per share), `fee_per_contract` a fill."""

    fee_per_contract: Decimal = Decimal("0.65")
    markup: Decimal = Decimal(0)

    def fill_price(self, *, side: str, bid: Decimal, ask: Decimal) -> Decimal:
        return ask + self.markup if side == "BUY_TO_OPEN" else bid - self.markup

    def fees(self, quantity: int) -> Decimal:
        return self.fee_per_contract * quantity


class RecordingBus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, detail))

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [detail for kind, detail in self.events if kind == detail_type]


class RecordingInvoker:
    def __init__(self) -> None:
        self.invoked: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, worker: str, event: dict[str, Any]) -> None:
        self.invoked.append((worker, event))


class NoDatabase:
    """A connection source a unit test must not use."""

    url = None

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("this test runs without Postgres, but the code under test asked for it")

    transaction = run_statement = run_in_transaction = connection = _refuse


def fake_dependencies(now: datetime, **overrides: Any) -> Dependencies:
    """A `Dependencies` of fakes at `now`; pass `market=`, `broker=`, ... to swap one."""
    parts: dict[str, Any] = {
        "settings": Settings(),
        "clock": FrozenClock(now),
        "market": FakeMarket(),
        "calendar": NyseCalendar(),
        "broker": FakeBroker(),
        "bus": RecordingBus(),
        "invoker": RecordingInvoker(),
        "db": NoDatabase(),
    }
    return Dependencies(**(parts | overrides))
