"""Use-case logic on fakes of the ports (tests/fakes.py): no Postgres, no simulated market, milliseconds.

The Postgres tests under tests/integration run the same use cases end to end; these pin the decisions
themselves — what an entry is sized at, which checks a signal passes — against prices the test chooses.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from optionflow.db.rows import RiskLimits
from optionflow.db.signals import ClaimedSignal
from optionflow.events import names as events
from optionflow.logic.decide import decide
from optionflow.logic.orders import plan_entry
from optionflow.logic.risk import Book

from tests.fakes import FakeBroker, FakeMarket, RecordingBus, fake_dependencies

NY = ZoneInfo("America/New_York")
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=NY)
SATURDAY_10AM = datetime(2026, 11, 28, 10, 0, tzinfo=NY)
LIMITS = RiskLimits(
    risk_per_trade=Decimal(500),
    max_contracts_per_order=10,
    max_open_positions=20,
    max_positions_per_ticker=5,
    max_daily_loss=Decimal(1000),
    kill_switch=False,
)
EMPTY_BOOK = Book(0, {}, Decimal(0), Decimal(0))


def signal(**fields: Any) -> ClaimedSignal:
    """A pending signal as the signal processor claims it: a BUY CALL on SPY naming no contract."""
    claimed = {
        "id": UUID("00000000-0000-0000-0000-000000000001"),
        "seq": 1,
        "ticker": "SPY",
        "action": "BUY",
        "direction": "CALL",
        "timeframe": "5",
        "price": None,
        "strike": None,
        "expiry": None,
        "quantity": None,
        "status": "PENDING",
        "received_at": MONDAY_10AM,
    }
    return ClaimedSignal(**(claimed | fields))


# --- sizing an entry (orders.plan_entry) ---------------------------------------------------------------


def test_an_entry_buys_as_many_contracts_as_the_budget_affords_at_the_brokers_worst_fill():
    market = FakeMarket(ask=Decimal("2.10"))
    deps = fake_dependencies(MONDAY_10AM, market=market, broker=FakeBroker(Decimal("0.65"), Decimal("0.10")))

    check, order = plan_entry(deps, signal(), MONDAY_10AM, LIMITS, 1, "PAPER")

    # $2.20 a share worst fill: $220 + $0.65 fees a contract, so $500 buys two
    assert check.passed and check.inputs["worst_fill"] == Decimal("2.20")
    assert order is not None and order["quantity"] == 2
    assert order["side"] == "BUY_TO_OPEN" and order["purpose"] == "ENTRY"


def test_an_entry_the_budget_cannot_afford_is_refused_with_the_reason_and_no_order():
    deps = fake_dependencies(MONDAY_10AM, market=FakeMarket(bid=Decimal("5.90"), ask=Decimal("6.00")))

    check, order = plan_entry(deps, signal(), MONDAY_10AM, LIMITS, 1, "PAPER")

    assert order is None
    assert not check.passed and "budget buys no contract" in check.detail


def test_an_entry_asking_for_more_contracts_than_the_budget_affords_is_refused_not_shrunk():
    deps = fake_dependencies(MONDAY_10AM)

    check, order = plan_entry(deps, signal(quantity=5), MONDAY_10AM, LIMITS, 1, "PAPER")

    assert order is None and "alert asks 5 contracts" in check.detail


def test_an_entry_without_a_strike_buys_the_strike_nearest_the_money_in_a_weekly_expiry():
    market = FakeMarket(spot=Decimal("500.40"))
    deps = fake_dependencies(MONDAY_10AM, market=market)

    _, order = plan_entry(deps, signal(), MONDAY_10AM, LIMITS, 1, "PAPER")

    assert order is not None and order["strike"] == Decimal(500)
    assert order["expiry"] > MONDAY_10AM.date() and order["expiry"].weekday() == 4  # a Friday
    assert market.quoted == [("SPY", "CALL", Decimal(500), order["expiry"])]


def test_an_entry_naming_its_contract_is_priced_and_ordered_as_named():
    market = FakeMarket()
    deps = fake_dependencies(MONDAY_10AM, market=market)
    expiry = date(2026, 12, 18)

    _, order = plan_entry(
        deps, signal(direction="PUT", strike=Decimal(480), expiry=expiry), MONDAY_10AM, LIMITS, 1, "PAPER"
    )

    assert market.quoted == [("SPY", "PUT", Decimal(480), expiry)]
    assert order is not None and order["option_symbol"] == "SPY261218P00480000"


# --- deciding a signal (decide.decide) -----------------------------------------------------------------


def decide_at(now: datetime, sig: ClaimedSignal, book: Book = EMPTY_BOOK, open_to_close: int = 0) -> Any:
    deps = fake_dependencies(now)
    return {
        c.name: c
        for c in decide(
            sig,
            now=now,
            calendar=deps.calendar,
            market=deps.market,
            book=book,
            limits=LIMITS,
            open_to_close=open_to_close,
        )
    }


def test_a_buy_within_every_limit_while_the_market_is_open_passes_every_check():
    checks = decide_at(MONDAY_10AM, signal())

    assert all(c.passed for c in checks.values()), [c.detail for c in checks.values() if not c.passed]
    assert {"market_open", "signal_valid", "contract_listed", "kill_switch", "max_open_positions"} <= set(
        checks
    )


def test_a_buy_on_a_weekend_fails_the_session_check_and_still_shows_every_other_check():
    checks = decide_at(SATURDAY_10AM, signal())

    assert not checks["market_open"].passed
    assert checks["max_daily_loss"].passed  # evaluated all the same: the trail shows every reason


def test_a_buy_with_the_book_at_its_open_positions_limit_is_refused_by_that_limit():
    full = Book(20, {"QQQ": 20}, Decimal(0), Decimal(0))

    checks = decide_at(MONDAY_10AM, signal(), book=full)

    assert not checks["max_open_positions"].passed
    assert checks["max_positions_per_ticker"].passed


def test_a_buy_after_the_days_loss_limit_is_refused():
    losing = Book(1, {"SPY": 1}, Decimal(-800), Decimal(-250))

    assert not decide_at(MONDAY_10AM, signal(), book=losing)["max_daily_loss"].passed


def test_a_close_with_nothing_open_to_close_is_refused_and_never_checked_against_entry_limits():
    checks = decide_at(MONDAY_10AM, signal(action="CLOSE"), book=Book(20, {}, Decimal(-5000), Decimal(0)))

    assert not checks["has_open_position"].passed
    assert "max_open_positions" not in checks and "max_daily_loss" not in checks


def test_an_expiry_in_the_past_names_no_listed_contract():
    checks = decide_at(MONDAY_10AM, signal(expiry=MONDAY_10AM.date() - timedelta(days=3)))

    assert not checks["contract_listed"].passed and "has passed" in checks["contract_listed"].detail


# --- the dependencies themselves ---------------------------------------------------------------------


class _BrokenBus:
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        raise ConnectionError("EventBridge unreachable")


def test_a_wake_up_the_bus_refuses_is_reported_and_never_raised_into_the_stage():
    deps = fake_dependencies(MONDAY_10AM, bus=_BrokenBus())

    assert deps.publish(events.ORDER_CREATED, {"count": 1}) is False


def test_a_wake_up_goes_to_the_bus_the_dependencies_carry():
    recorder = RecordingBus()
    deps = fake_dependencies(MONDAY_10AM, bus=recorder)

    assert deps.publish(events.ORDER_CREATED, {"count": 2}) is True
    assert recorder.of_type(events.ORDER_CREATED) == [{"count": 2}]


class _QuotedLongAgo(FakeMarket):
    """A FakeMarket whose quotes were taken two minutes before they are asked for."""

    def option_quote(self, ticker, option_type, strike, expiry, at):
        import dataclasses
        from datetime import timedelta

        quote = super().option_quote(ticker, option_type, strike, expiry, at)
        return dataclasses.replace(quote, as_of=at - timedelta(minutes=2))


def test_an_entry_is_never_sized_on_a_stale_or_crossed_quote():
    deps = fake_dependencies(MONDAY_10AM, market=_QuotedLongAgo())
    check, order = plan_entry(deps, signal(), MONDAY_10AM, LIMITS, 1, "PAPER")
    assert order is None and check.name == "quote" and not check.passed
    assert "stale quote" in check.detail and "120 s before" in check.detail and "60 s limit" in check.detail

    deps = fake_dependencies(MONDAY_10AM, market=FakeMarket(bid=Decimal("2.20"), ask=Decimal("2.10")))
    check, order = plan_entry(deps, signal(), MONDAY_10AM, LIMITS, 1, "PAPER")
    assert order is None and "crossed quote: bid 2.20 is above ask 2.10" in check.detail
