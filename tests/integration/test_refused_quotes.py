"""A stale or crossed quote is never used: the paper order waits and the mark is not updated (it shows
as stale), until a usable quote comes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.pipeline_support import alert, one, run

pytestmark = pytest.mark.usefixtures("db")


class DoctoredQuotes:
    """The simulated market, with its option quotes made older (`age`) or crossed on demand."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.age = timedelta(0)
        self.crossed = False

    def underlying_price(self, ticker: str, at: Any) -> Decimal:
        return Decimal(self.inner.underlying_price(ticker, at))

    def volatility(self, ticker: str) -> float:
        return float(self.inner.volatility(ticker))

    def option_quote(self, ticker: str, option_type: str, strike: Decimal, expiry: Any, at: Any) -> Any:
        quote = self.inner.option_quote(ticker, option_type, strike, expiry, at)
        quote = dataclasses.replace(quote, as_of=at - self.age)
        if self.crossed:
            quote = dataclasses.replace(quote, bid=quote.ask + Decimal("0.05"))
        return quote


@pytest.fixture
def doctored():
    from optionflow.market.provider import get_market_data, set_market_data

    set_market_data(None)
    market = DoctoredQuotes(get_market_data())
    set_market_data(market)
    yield market
    set_market_data(None)


def test_a_stale_quote_leaves_the_paper_order_working_until_a_fresh_one_fills_it(db, doctored):
    alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    doctored.age = timedelta(seconds=61)  # the default limit is 60 s
    result = run("paper_executor")["result"]
    assert result["opened"] == 0 and result["failed_quotes"] == 1
    assert one(db, "SELECT status FROM orders")["status"] == "PENDING"  # still working
    doctored.age = timedelta(seconds=59)
    assert run("paper_executor")["result"]["opened"] == 1


def test_a_crossed_quote_is_never_filled(db, doctored):
    alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    doctored.crossed = True
    assert run("paper_executor")["result"]["failed_quotes"] == 1
    assert one(db, "SELECT count(*) AS n FROM positions")["n"] == 0


def test_a_stale_quote_does_not_move_the_mark_and_flags_it_stale(db, doctored):
    alert("SPY", "BUY", "CALL")
    for worker in ("signal_processor", "order_creator", "paper_executor", "position_refresher"):
        run(worker)
    before = one(db, "SELECT mark, priced_at, price_stale FROM positions")
    assert before["price_stale"] is False
    doctored.age = timedelta(minutes=5)
    assert run("position_refresher")["result"]["stale"] == 1
    after = one(db, "SELECT mark, priced_at, price_stale FROM positions")
    assert after["price_stale"] is True and (after["mark"], after["priced_at"]) == (
        before["mark"],
        before["priced_at"],
    )
