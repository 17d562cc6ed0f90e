"""The book under real sequences: each test is one failure seen when trading it, run through the real workers
on a frozen clock (issue: "A book a trader can trust"). Numbers in the names follow the issue's list."""

from __future__ import annotations

import threading
import time as wall
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from optionflow import config

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET
from tests.pipeline_support import alert, one, rows, run, run_entry_chain, sweep

NY = ZoneInfo("America/New_York")


def at(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=NY)


def status(db: Any, signal_id: str) -> str:
    return str(one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"])


def open_contracts(db: Any) -> int:
    return int(one(db, "SELECT coalesce(sum(quantity), 0) AS n FROM positions WHERE status <> 'CLOSED'")["n"])


# 1 ---------------------------------------------------------------------------------------------------------


def test_01_a_class_share_ticker_trades_under_its_occ_root(db: Any, market: Any) -> None:
    signal = alert("BRK.B", "BUY", "CALL")
    run_entry_chain()
    assert status(db, signal) == "EXECUTED"
    assert one(db, "SELECT option_symbol FROM positions")["option_symbol"].startswith("BRKB")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"strike": "100000"}, "strike 100000"),
        ({"expiry": "2100-01-15"}, "expiry 2100-01-15"),
        ({"expiry": "2026-11-28"}, "is a Saturday"),
        ({"expiry": "2026-11-26"}, "exchange holiday (Thanksgiving Day)"),
        ({"expiry": "2026-11-20"}, "has passed"),
        ({"strike": "600.37"}, "strike 600.370 is not listed"),
    ],
)
def test_01_an_alert_naming_no_listed_contract_is_rejected_at_decision(
    db: Any, market: Any, extra: dict[str, Any], reason: str
) -> None:
    signal = alert("SPY", "BUY", "CALL", **extra)
    run("signal_processor")
    assert status(db, signal) == "REJECTED"
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", signal)["rejection_reasons"]
    assert any(reason in r for r in reasons), reasons


def test_01_a_signal_that_raises_while_ordered_fails_alone_and_later_signals_go_on(
    db: Any, market: Any
) -> None:
    first = alert("SPY", "BUY", "CALL", alert_id="opens")
    run_entry_chain()
    market.failing = frozenset({"QQQ"})
    broken = alert("QQQ", "BUY", "CALL", alert_id="broken")
    later = alert("IWM", "BUY", "PUT", alert_id="later")
    close = alert("SPY", "CLOSE", None, alert_id="close")
    for _ in range(2):  # a second run must not find the broken signal again
        run_entry_chain()
    assert status(db, broken) == "FAILED"
    trail = one(db, "SELECT detail FROM decision_lines WHERE signal_id = %s AND check_name = 'order'", broken)
    assert "ConnectionError" in trail["detail"]
    assert [status(db, s) for s in (first, later, close)] == ["EXECUTED", "EXECUTED", "EXECUTED"]
    assert one(db, "SELECT count(*) AS n FROM positions WHERE ticker = 'SPY' AND status = 'CLOSED'")["n"] == 1


# 2 ---------------------------------------------------------------------------------------------------------


def test_02_one_failing_quote_does_not_block_the_other_fills(db: Any, market: Any) -> None:
    alert("SPY", "BUY", "CALL", alert_id="spy")
    alert("QQQ", "BUY", "CALL", alert_id="qqq")
    run_entry_chain()
    alert("SPY", "CLOSE", None, alert_id="close-spy")
    alert("QQQ", "CLOSE", None, alert_id="close-qqq")
    run("signal_processor")
    run("order_creator")
    market.failing = frozenset({"QQQ"})
    run("paper_executor")
    spy = one(db, "SELECT status FROM positions WHERE ticker = 'SPY'")
    qqq_exit = one(db, "SELECT status FROM orders WHERE ticker = 'QQQ' AND purpose = 'EXIT'")
    assert spy["status"] == "CLOSED" and qqq_exit["status"] == "PENDING"
    market.failing = frozenset()
    run("paper_executor")  # the failing one retries and fills once its quotes return
    assert one(db, "SELECT status FROM positions WHERE ticker = 'QQQ'")["status"] == "CLOSED"


# 3 ---------------------------------------------------------------------------------------------------------


def test_03_a_close_waits_for_a_position_another_worker_holds_instead_of_dropping_it(
    db: Any, market: Any, settings: Any
) -> None:
    alert("SPY", "BUY", "CALL", alert_id="open")
    run_entry_chain()
    close = alert("SPY", "CLOSE", None, alert_id="close")
    run("signal_processor")
    holder = psycopg2.connect(settings.database_url)
    held = threading.Event()

    def hold() -> None:  # the refresher pricing the position for a moment
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM positions FOR UPDATE")
            held.set()
            wall.sleep(0.5)
        holder.commit()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    run("order_creator")
    thread.join()
    holder.close()
    assert status(db, close) == "ORDERED"
    run("paper_executor")
    assert one(db, "SELECT status FROM positions")["status"] == "CLOSED"


# 4 ---------------------------------------------------------------------------------------------------------


def test_04_buy_then_close_in_one_sweep_cancels_the_entry_and_opens_nothing(db: Any, market: Any) -> None:
    buy = alert("SPY", "BUY", "CALL", alert_id="buy")
    close = alert("SPY", "CLOSE", None, alert_id="close")
    sweep()
    assert status(db, buy) == "CANCELLED"
    assert status(db, close) == "EXECUTED"
    assert open_contracts(db) == 0
    assert one(db, "SELECT count(*) AS n FROM trades")["n"] == 0


def test_04_a_close_closes_what_filled_and_cancels_what_did_not(db: Any, market: Any) -> None:
    filled = alert("SPY", "BUY", "CALL", alert_id="filled")
    run_entry_chain()
    ordered = alert("SPY", "BUY", "CALL", alert_id="ordered")
    run("signal_processor")
    run("order_creator")  # an entry order working, not yet filled
    close = alert("SPY", "CLOSE", None, alert_id="close")
    later = alert("SPY", "BUY", "CALL", alert_id="after-the-close")
    sweep()
    assert [status(db, s) for s in (filled, ordered, close, later)] == [
        "EXECUTED",
        "CANCELLED",
        "EXECUTED",
        "EXECUTED",
    ]
    assert one(db, "SELECT status FROM orders WHERE signal_id = %s", ordered)["status"] == "CANCELLED"
    # the BUY after the CLOSE is a new trade, and the only one open
    assert rows(db, "SELECT signal_id::text AS s FROM positions WHERE status = 'OPEN'") == [{"s": later}]


def test_04_a_close_of_calls_leaves_puts_and_other_tickers_alone(db: Any, market: Any) -> None:
    alert("SPY", "BUY", "CALL", alert_id="call")
    put = alert("SPY", "BUY", "PUT", alert_id="put")
    qqq = alert("QQQ", "BUY", "CALL", alert_id="qqq")
    alert("SPY", "SELL", "CALL", alert_id="sell-calls")
    sweep()
    assert status(db, put) == "EXECUTED" and status(db, qqq) == "EXECUTED"
    held = rows(db, "SELECT ticker, option_type FROM positions WHERE status = 'OPEN' ORDER BY ticker")
    assert held == [{"ticker": "QQQ", "option_type": "CALL"}, {"ticker": "SPY", "option_type": "PUT"}]


# 5 ---------------------------------------------------------------------------------------------------------


def _raw(body: dict[str, Any]) -> tuple[int, Any]:
    return call(request("POST", "/webhook", body={**body, "secret": WEBHOOK_SECRET}))


def test_05_a_second_different_close_minutes_later_is_not_swallowed(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    sequence = [
        (at(2026, 11, 23, 9, 59, 50), "BUY"),
        (at(2026, 11, 23, 10, 0, 10), "CLOSE"),
        (at(2026, 11, 23, 10, 1, 5), "BUY"),
        (at(2026, 11, 23, 10, 3, 5), "CLOSE"),
    ]
    for when, action in sequence:
        frozen_clock.set(when)
        body = {"ticker": "SPY", "action": action, "timeframe": "5"}
        if action == "BUY":
            body["direction"] = "CALL"
        code, answer = _raw(body)
        assert (code, answer["duplicate"]) == (202, False), (when, answer)
        sweep()
    assert open_contracts(db) == 0
    assert one(db, "SELECT count(*) AS n FROM positions WHERE status = 'CLOSED'")["n"] == 2


def test_05_only_a_true_retry_is_a_duplicate(db: Any, frozen_clock: Any) -> None:
    body = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "time": "2026-11-23T15:00:00Z"}
    first = _raw(body)
    for _ in range(3):  # TradingView's resends: up to three, 5 s apart
        frozen_clock.advance(timedelta(seconds=5))
        assert _raw(body) == (200, {**first[1], "duplicate": True, "status": "DUPLICATE"})
    frozen_clock.advance(timedelta(minutes=1))
    assert _raw(body)[0] == 202  # identical, a minute later: a second alert
    assert _raw({**body, "time": "2026-11-23T15:00:01Z"})[0] == 202  # another time: another alert
    assert _raw({**body, "alert_id": "x"})[0] == 202
    frozen_clock.advance(timedelta(hours=1))
    assert _raw({**body, "alert_id": "x"})[0] == 200  # an alert id is the same alert whenever it comes


# 6 ---------------------------------------------------------------------------------------------------------


def test_06_a_close_with_a_quantity_closes_that_many_contracts_oldest_first(db: Any, market: Any) -> None:
    db.execute("UPDATE risk_limits SET risk_per_trade = 2000, max_daily_loss = 5000")
    db.execute("UPDATE exit_rules SET stop_loss_pct = NULL, profit_target_pct = NULL")
    first = alert("SPY", "BUY", "CALL", alert_id="first", quantity=2)
    second = alert("SPY", "BUY", "CALL", alert_id="second", quantity=2)
    run_entry_chain()
    alert("SPY", "CLOSE", None, alert_id="close-3", quantity=3)
    sweep()
    held = rows(db, "SELECT signal_id::text AS s, quantity FROM positions WHERE status = 'OPEN'")
    assert held == [{"s": second, "quantity": 1}]
    closed = rows(
        db, "SELECT signal_id::text AS s, quantity FROM positions WHERE status = 'CLOSED' ORDER BY 2"
    )
    assert closed == [{"s": second, "quantity": 1}, {"s": first, "quantity": 2}]


def test_06_an_entry_limit_never_blocks_an_exit(db: Any, market: Any) -> None:
    alert("SPY", "BUY", "CALL", alert_id="open")
    run_entry_chain()
    db.execute(
        "UPDATE risk_limits SET max_contracts_per_order = 1, kill_switch = true, max_open_positions = 0"
    )
    close = alert("SPY", "CLOSE", None, alert_id="close", quantity=50)
    sweep()
    assert status(db, close) == "EXECUTED"
    assert open_contracts(db) == 0


# 7, 8 ------------------------------------------------------------------------------------------------------


def _expiring(db: Any, frozen_clock: Any, when: datetime, expiry: date, strike: str, direction: str) -> str:
    db.execute("UPDATE exit_rules SET min_dte = NULL, profit_target_pct = NULL, stop_loss_pct = NULL")
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    frozen_clock.set(when)
    signal = alert("SPY", "BUY", direction, expiry=str(expiry), strike=strike)
    run_entry_chain()
    assert status(db, signal) == "EXECUTED"
    return signal


def test_07_an_open_contract_settles_at_intrinsic_value_at_its_expiry_close(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    from optionflow.market.provider import get_market_data

    friday = date(2026, 11, 20)
    spot = get_market_data().underlying_price("SPY", at(2026, 11, 20, 10, 0))
    strike = str(int(spot) - 5)  # in the money
    _expiring(db, frozen_clock, at(2026, 11, 20, 10, 0), friday, strike, "CALL")
    frozen_clock.set(at(2026, 11, 20, 15, 59))
    sweep()
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    frozen_clock.set(at(2026, 11, 20, 16, 0))
    sweep()
    close = get_market_data().underlying_price("SPY", at(2026, 11, 20, 16, 0))
    position = one(db, "SELECT * FROM positions")
    assert position["status"] == "CLOSED" and position["exit_reason"] == "EXPIRED"
    assert position["exit_price"] == close - Decimal(strike)
    expected = ((close - Decimal(strike)) - position["entry_price"]) * position["quantity"] * 100
    assert position["realized_pnl"] == expected.quantize(Decimal("0.01"))
    # days later nothing re-prices it
    frozen_clock.set(at(2026, 11, 23, 10, 0))
    sweep()
    assert one(db, "SELECT exit_price FROM positions")["exit_price"] == close - Decimal(strike)


def test_07_an_out_of_the_money_contract_expires_worthless(db: Any, market: Any, frozen_clock: Any) -> None:
    from optionflow.market.provider import get_market_data

    spot = get_market_data().underlying_price("SPY", at(2026, 11, 20, 10, 0))
    strike = str(int(spot) + 40)
    _expiring(db, frozen_clock, at(2026, 11, 20, 10, 0), date(2026, 11, 20), strike, "CALL")
    frozen_clock.set(at(2026, 11, 21, 12, 0))  # the Saturday after: the sweep catches up
    sweep()
    position = one(db, "SELECT * FROM positions")
    assert (position["status"], position["exit_price"]) == ("CLOSED", Decimal(0))
    assert position["realized_pnl"] == -position["cost_basis"]


def test_07_more_expiring_positions_than_a_page_all_settle_in_one_run(
    db: Any, market: Any, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from optionflow.logic import exit_monitor
    from optionflow.market.provider import get_market_data

    spot = int(get_market_data().underlying_price("SPY", at(2026, 11, 20, 10, 0)))
    for offset in range(5):
        _expiring(db, frozen_clock, at(2026, 11, 20, 10, 0), date(2026, 11, 20), str(spot - offset), "CALL")
    monkeypatch.setattr(exit_monitor, "PAGE", 2)
    frozen_clock.set(at(2026, 11, 20, 16, 0))
    sweep()
    assert [p["status"] for p in rows(db, "SELECT status FROM positions")] == ["CLOSED"] * 5
    assert {p["exit_reason"] for p in rows(db, "SELECT exit_reason FROM positions")} == {"EXPIRED"}


def test_08_an_expiry_on_an_early_close_day_settles_at_13_00(db: Any, market: Any, frozen_clock: Any) -> None:
    from optionflow.market.provider import get_market_data

    spot = get_market_data().underlying_price("SPY", at(2026, 11, 27, 10, 0))
    _expiring(db, frozen_clock, at(2026, 11, 27, 10, 0), date(2026, 11, 27), str(int(spot) - 3), "PUT")
    frozen_clock.set(at(2026, 11, 27, 13, 0))
    sweep()
    position = one(db, "SELECT status, closed_at FROM positions")
    assert position == {"status": "CLOSED", "closed_at": at(2026, 11, 27, 13, 0)}


# 10 --------------------------------------------------------------------------------------------------------


def test_10_no_entry_is_ordered_after_the_close(db: Any, market: Any, frozen_clock: Any) -> None:
    frozen_clock.set(at(2026, 11, 20, 15, 59, 59))
    signal = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    frozen_clock.set(at(2026, 11, 20, 16, 0, 1))
    run("order_creator")
    assert status(db, signal) == "REJECTED"
    assert one(db, "SELECT count(*) AS n FROM orders")["n"] == 0


def test_10_an_entry_unfilled_at_the_close_expires_and_never_fills_monday(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    frozen_clock.set(at(2026, 11, 20, 15, 59, 59))
    signal = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    frozen_clock.set(at(2026, 11, 23, 9, 30))
    run("paper_executor")
    assert status(db, signal) == "FAILED"
    assert one(db, "SELECT status FROM orders")["status"] == "EXPIRED"
    assert open_contracts(db) == 0


def test_10_the_kill_switch_cancels_entries_not_yet_filled(db: Any, market: Any) -> None:
    signal = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    db.execute("UPDATE risk_limits SET kill_switch = true")
    run("paper_executor")
    assert status(db, signal) == "CANCELLED"
    assert open_contracts(db) == 0


# 11, 12, 13 ------------------------------------------------------------------------------------------------


def test_11_the_trailing_stop_trails_from_the_entry_price(db: Any, market: Any) -> None:
    db.execute("UPDATE exit_rules SET stop_loss_pct = NULL, profit_target_pct = NULL, trailing_stop_pct = 50")
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.4")  # marks fall to 40 % of the entry and never rise above it
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "TRAILING_STOP",
    }


def test_12_outside_a_session_the_mark_stays_at_the_last_close(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    from optionflow.market.provider import get_market_data

    db.execute("UPDATE risk_limits SET risk_per_trade = 1000")
    frozen_clock.set(at(2026, 11, 20, 15, 0))
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.set(at(2026, 11, 20, 16, 0))
    run("position_refresher")
    friday = one(db, "SELECT mark, high_water_mark, strike, expiry FROM positions")
    for when in (at(2026, 11, 21, 3, 0), at(2026, 11, 22, 20, 0), at(2026, 11, 23, 9, 29)):
        frozen_clock.set(when)
        run("position_refresher")
        run("exit_monitor")
        now = one(db, "SELECT mark, high_water_mark, priced_at FROM positions")
        assert (now["mark"], now["high_water_mark"]) == (friday["mark"], friday["high_water_mark"])
        assert now["priced_at"] == at(2026, 11, 20, 16, 0)
    quote = get_market_data().option_quote(
        "SPY", "CALL", friday["strike"], friday["expiry"], at(2026, 11, 20, 16, 0)
    )
    assert friday["mark"] == quote.mid


def test_13_an_old_mark_is_stale_and_price_rules_wait(db: Any, market: Any, frozen_clock: Any) -> None:
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.failing = frozenset({"SPY"})
    market.factor = Decimal("0.1")  # the market fell 90 %, but the refresher cannot see it
    frozen_clock.advance(timedelta(hours=2))
    run("position_refresher")
    run("exit_monitor")
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    code, body = call(request("GET", "/exit-signals", scope="read"))
    assert code == 200
    assert [a["reason"] for a in body["alerts"]] == ["STALE_MARK"]
    assert call(request("GET", "/health"))[1]["stale_marks"] == 1
    market.failing = frozenset()
    run("position_refresher")
    run("exit_monitor")  # a fresh mark: the stop fires, and the stale alert resolves
    assert one(db, "SELECT status FROM positions")["status"] == "CLOSING"
    assert one(db, "SELECT status FROM exit_signals WHERE rule = 'STALE_MARK'")["status"] == "RESOLVED"


def test_13_a_mark_older_than_the_allowed_age_is_stale_even_without_an_error(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=6))  # the refresher did not run; the default allows 5 minutes
    run("exit_monitor")
    assert one(db, "SELECT rule FROM exit_signals WHERE status = 'ACTIVE'")["rule"] == "STALE_MARK"


# 14, 15, 16, 17 --------------------------------------------------------------------------------------------


def test_14_day_pnl_counts_carried_positions_from_the_previous_close(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    from optionflow.db import book
    from optionflow.market.provider import get_market_data

    frozen_clock.set(at(2026, 11, 20, 10, 0))
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.set(at(2026, 11, 23, 11, 0))
    run("position_refresher")
    p = one(db, "SELECT * FROM positions")
    previous = get_market_data().option_quote(
        "SPY", "CALL", p["strike"], p["expiry"], at(2026, 11, 20, 16, 0)
    )
    assert p["prev_close_mark"] == previous.mid
    pnl = book.day_pnl(db, at(2026, 11, 23, 0, 0))
    assert pnl.unrealized == ((p["mark"] - previous.mid) * p["quantity"] * 100).quantize(Decimal("0.01"))


def test_15_no_entry_inside_the_end_of_day_window(db: Any, market: Any, frozen_clock: Any) -> None:
    db.execute("UPDATE exit_rules SET close_minutes_before_close = 15")
    frozen_clock.set(at(2026, 11, 23, 15, 50))
    signal = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    assert status(db, signal) == "REJECTED"
    assert one(
        db, "SELECT passed FROM decision_lines WHERE signal_id = %s AND check_name = 'entry_window'", signal
    ) == {"passed": False}


def test_15_a_zero_minute_time_stop_closes_in_the_last_minute(
    db: Any, market: Any, frozen_clock: Any
) -> None:
    db.execute("UPDATE exit_rules SET close_minutes_before_close = 0")
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.set(at(2026, 11, 23, 15, 58, 30))
    run("position_refresher")
    run("exit_monitor")
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    frozen_clock.set(at(2026, 11, 23, 15, 59, 15))
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "TIME_STOP",
    }


@pytest.fixture
def costly(settings: Any) -> Any:
    """Slippage and fees a broker would charge."""
    config.use_settings(
        settings.model_copy(
            update={
                "paper_slippage_bps": 500,
                "commission_per_contract": Decimal("0.65"),
                "regulatory_fee_per_contract": Decimal("0.05"),
            }
        )
    )
    yield
    config.use_settings(settings)


def test_16_sizing_spends_the_budget_against_the_worst_fill_and_the_fees(
    db: Any, market: Any, costly: Any
) -> None:
    for n in range(12):
        alert(["SPY", "QQQ", "IWM", "AAPL"][n % 4], "BUY", ["CALL", "PUT"][n % 2], alert_id=f"a{n}")
    run_entry_chain()
    positions = rows(db, "SELECT cost_basis, fees FROM positions")
    assert positions
    for p in positions:
        assert p["cost_basis"] + p["fees"] <= Decimal(500), p


def test_17_fees_are_charged_on_every_fill_and_realized_pnl_is_net(db: Any, market: Any, costly: Any) -> None:
    alert("SPY", "BUY", "CALL", alert_id="open", quantity=1)
    run_entry_chain()
    alert("SPY", "CLOSE", None, alert_id="close")
    sweep()
    p = one(db, "SELECT * FROM positions")
    fees = [t["fees"] for t in rows(db, "SELECT fees FROM trades ORDER BY executed_at, side")]
    assert fees == [Decimal("0.70"), Decimal("0.70")]
    gross = (p["exit_price"] - p["entry_price"]) * 100
    assert p["realized_pnl"] == (gross - Decimal("1.40")).quantize(Decimal("0.01"))
    code, stats = call(request("GET", "/stats", scope="read"))
    assert code == 200
    assert stats["overall"]["fees"] == 1.4
    assert stats["overall"]["realized_pnl_gross"] == pytest.approx(float(gross))


# 18 --------------------------------------------------------------------------------------------------------


def test_18_entry_orders_name_their_position_and_closed_positions_show_their_exit_price(
    db: Any, market: Any
) -> None:
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    alert("SPY", "CLOSE", None, alert_id="close")
    sweep()
    entry = one(db, "SELECT position_id FROM orders WHERE purpose = 'ENTRY'")
    position = one(db, "SELECT id, mark, exit_price, bid, ask, delta FROM positions")
    assert entry["position_id"] == position["id"]
    assert position["mark"] == position["exit_price"]
    assert (position["bid"], position["ask"], position["delta"]) == (None, None, None)


def test_18_when_target_and_trailing_stop_fire_together_the_exit_names_both(db: Any, market: Any) -> None:
    db.execute("UPDATE exit_rules SET stop_loss_pct = NULL, profit_target_pct = 10, trailing_stop_pct = 10")
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("1.3")
    db.execute("UPDATE positions SET high_water_mark = entry_price * 2")
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    reason = one(db, "SELECT exit_reason FROM positions")["exit_reason"]
    assert reason == "PROFIT_TARGET+TRAILING_STOP"


def test_18_a_boolean_quantity_is_refused(db: Any) -> None:
    code, body = _raw({"ticker": "SPY", "action": "BUY", "direction": "CALL", "quantity": True})
    assert code == 422 and "quantity" in str(body)


# The week stepped with the drivable clock, as a trader would try rules on a quiet weekend ------------------


def test_a_week_stepped_with_the_clock_settles_the_friday_expiry_at_the_early_close(
    simulated_clock: Any, db: Any, market: Any
) -> None:
    from optionflow.market.provider import get_market_data

    from tests.pipeline_support import advance

    db.execute("UPDATE exit_rules SET min_dte = NULL, profit_target_pct = NULL, stop_loss_pct = NULL")
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    spot = get_market_data().underlying_price("SPY", at(2026, 11, 23, 10, 0))
    strike = int(spot) - 10  # in the money at entry
    signal = alert("SPY", "BUY", "CALL", expiry="2026-11-27", strike=str(strike))
    advance("1m")
    assert status(db, signal) == "EXECUTED"
    # jump to Friday morning (a set runs no sweeps on the way), then step through the 13:00 early close
    code, answer = call(request("POST", "/clock", body={"set": "2026-11-27T12:50:00-05:00"}, scope="admin"))
    assert code == 200, answer
    advance("9m")
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    advance("2m")
    p = one(db, "SELECT * FROM positions")
    close = get_market_data().underlying_price("SPY", at(2026, 11, 27, 13, 0))
    assert (p["status"], p["exit_reason"], p["closed_at"]) == ("CLOSED", "EXPIRED", at(2026, 11, 27, 13, 0))
    assert p["exit_price"] == max(close - strike, Decimal(0))


def _run_noting_errors(worker: str, errors: list[BaseException]) -> None:
    try:
        run(worker)
    except BaseException as exc:  # pragma: no cover - the test reports it
        errors.append(exc)


def test_03_a_close_and_the_executor_racing_for_the_same_entry_never_deadlock(db: Any, market: Any) -> None:
    db.execute("UPDATE risk_limits SET max_open_positions = 1000, max_positions_per_ticker = 1000")
    for n in range(25):
        entry = alert("SPY", "BUY", "CALL", alert_id=f"entry-{n}")
        run("signal_processor")
        run("order_creator")  # the entry order is working
        close = alert("SPY", "CLOSE", None, alert_id=f"close-{n}")
        run("signal_processor")
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_run_noting_errors, args=(w, errors))
            for w in ("paper_executor", "order_creator")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        sweep()
        # whichever won, the CLOSE took effect: the entry was cancelled, or it filled and was closed
        assert status(db, close) == "EXECUTED"
        assert status(db, entry) in ("CANCELLED", "EXECUTED")
        assert open_contracts(db) == 0
