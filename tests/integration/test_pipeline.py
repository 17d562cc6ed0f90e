"""The five workers, driven through their handlers, turn alerts into managed positions."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.api_events import call, request
from tests.pipeline_support import alert, one, rows, run, run_entry_chain

NY = ZoneInfo("America/New_York")


def test_buy_call_alert_becomes_a_filled_order_and_an_open_position(db, market, recording_bus):
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    signal = one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", signal_id)
    assert signal == {"status": "EXECUTED", "rejection_reasons": []}
    order = one(db, "SELECT * FROM orders WHERE signal_id = %s", signal_id)
    assert (order["status"], order["side"], order["order_type"], order["time_in_force"], order["mode"]) == (
        "FILLED",
        "BUY_TO_OPEN",
        "MARKET",
        "DAY",
        "PAPER",
    )
    assert order["option_symbol"].startswith("SPY") and "C" in order["option_symbol"][3:]
    position = one(db, "SELECT * FROM positions WHERE entry_order_id = %s", order["id"])
    assert position["status"] == "OPEN"
    assert position["entry_price"] == order["avg_fill_price"]
    assert position["cost_basis"] == position["entry_price"] * position["quantity"] * 100
    trade = one(db, "SELECT * FROM trades WHERE order_id = %s", order["id"])
    assert trade["price"] == order["avg_fill_price"] and trade["quantity"] == order["quantity"]
    checks = [
        r["check_name"]
        for r in rows(
            db, "SELECT check_name FROM decision_lines WHERE signal_id = %s ORDER BY place", signal_id
        )
    ]
    assert checks == [
        "market_open",
        "signal_valid",
        "contract_listed",
        "kill_switch",
        "max_open_positions",
        "max_positions_per_ticker",
        "max_daily_loss",
        "sizing",
    ]
    assert [kind for kind, _ in recording_bus.events] == [
        "signal.received",
        "signal.accepted",
        "order.created",
        "notifications.queued",  # the fill wrote its notification
        "position.opened",
    ]


def test_entry_expiry_is_a_weekly_after_the_dte_window_and_strike_is_atm(db, market, frozen_clock):
    signal_id = alert("SPY", "BUY", "PUT")
    run_entry_chain()
    order = one(db, "SELECT strike, expiry, option_type FROM orders WHERE signal_id = %s", signal_id)
    spot = market.underlying_price("SPY", frozen_clock.now())
    assert abs(order["strike"] - spot) <= Decimal("0.5")
    assert order["expiry"].weekday() in (3, 4)  # Friday, or Thursday in a holiday week
    assert (order["expiry"] - frozen_clock.now().astimezone(NY).date()).days > 1


def test_alert_strike_expiry_and_quantity_are_honoured(db, market):
    signal_id = alert("SPY", "BUY", "CALL", strike="650", expiry="2026-12-18", quantity=1)
    run_entry_chain()
    order = one(db, "SELECT option_symbol, quantity FROM orders WHERE signal_id = %s", signal_id)
    assert order == {"option_symbol": "SPY261218C00650000", "quantity": 1}


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 21, 11, 0, tzinfo=NY),
        datetime(2026, 11, 26, 11, 0, tzinfo=NY),
        datetime(2026, 11, 27, 13, 30, tzinfo=NY),
        datetime(2026, 11, 23, 9, 0, tzinfo=NY),
    ],
    ids=["saturday", "thanksgiving", "after-early-close", "before-open"],
)
def test_signal_outside_the_session_is_rejected_with_that_reason(db, market, frozen_clock, when):
    frozen_clock.set(when)
    signal_id = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    signal = one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", signal_id)
    assert signal["status"] == "REJECTED"
    assert any("market closed" in reason for reason in signal["rejection_reasons"])


def test_early_close_day_is_open_in_the_morning(db, market, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=NY))
    signal_id = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "ACCEPTED"


def test_max_open_positions_counts_entries_accepted_in_the_same_batch(db, market):
    db.execute("UPDATE risk_limits SET max_open_positions = 2")
    ids = [alert("SPY", "BUY", "CALL", alert_id=f"m{i}") for i in range(3)]
    run("signal_processor")
    statuses = [one(db, "SELECT status FROM signals WHERE id = %s", i)["status"] for i in ids]
    assert statuses == ["ACCEPTED", "ACCEPTED", "REJECTED"]
    detail = one(
        db,
        "SELECT detail FROM decision_lines WHERE signal_id = %s AND check_name = 'max_open_positions'",
        ids[2],
    )["detail"]
    assert "2 open or pending of max 2" in detail


def test_kill_switch_blocks_new_entries_but_never_exits(db, market):
    alert("SPY", "BUY", "CALL", alert_id="before")
    run_entry_chain()
    db.execute("UPDATE risk_limits SET kill_switch = true")
    blocked = alert("SPY", "BUY", "CALL", alert_id="after")
    close = alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", blocked)["status"] == "REJECTED"
    assert one(db, "SELECT status FROM signals WHERE id = %s", close)["status"] == "EXECUTED"
    assert one(db, "SELECT count(*) AS n FROM positions WHERE status = 'CLOSED'")["n"] == 1


def test_daily_loss_limit_blocks_entries_once_losses_reach_it(db, market):
    alert("SPY", "BUY", "CALL", alert_id="loser")
    run_entry_chain()
    # today's entry: day P&L counts it from entry to mark, here (−$10 per share) × 100 shares per contract
    db.execute("UPDATE positions SET mark = entry_price - 10.0 / quantity")
    blocked = alert("SPY", "BUY", "CALL", alert_id="next")
    run("signal_processor")
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", blocked)["rejection_reasons"]
    assert any("loss limit" in r for r in reasons)


def test_budget_too_small_for_one_contract_rejects_the_signal_with_the_price(db, market):
    db.execute("UPDATE risk_limits SET risk_per_trade = 1")
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    signal = one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", signal_id)
    assert signal["status"] == "REJECTED"
    assert "budget buys no contract" in signal["rejection_reasons"][0]
    assert one(db, "SELECT count(*) AS n FROM orders")["n"] == 0


def test_close_alert_closes_the_position_with_realized_pnl_in_dollars(db, market, frozen_clock):
    alert("SPY", "BUY", "CALL", alert_id="open")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=30))
    close_id = alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()
    position = one(db, "SELECT * FROM positions")
    assert position["status"] == "CLOSED"
    expected = ((position["exit_price"] - position["entry_price"]) * position["quantity"] * 100).quantize(
        Decimal("0.01")
    )
    assert position["realized_pnl"] == expected
    assert one(db, "SELECT status FROM signals WHERE id = %s", close_id)["status"] == "EXECUTED"
    assert one(db, "SELECT count(*) AS n FROM trades")["n"] == 2


def test_close_alert_with_nothing_open_is_rejected(db, market):
    signal_id = alert("SPY", "CLOSE", None)
    run_entry_chain()
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", signal_id)["rejection_reasons"]
    assert reasons == ["no open SPY CALL or PUT position to close"]


def test_position_refresher_marks_greeks_and_unrealized_pnl(db, market, frozen_clock):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    result = run("position_refresher")["result"]
    assert result["refreshed"] == 1
    p = one(db, "SELECT * FROM positions")
    assert p["priced_at"] == frozen_clock.now()
    assert 0 < p["delta"] < 1 and p["gamma"] > 0 and p["theta"] < 0 and p["vega"] > 0
    assert p["unrealized_pnl"] == ((p["mark"] - p["entry_price"]) * p["quantity"] * 100).quantize(
        Decimal("0.01")
    )
    assert p["price_stale"] is False


def test_failed_quote_flags_the_position_stale_instead_of_reusing_the_price(db, market):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.failing = frozenset({"SPY"})
    assert run("position_refresher")["result"]["stale"] == 1
    assert one(db, "SELECT price_stale FROM positions")["price_stale"] is True


def test_profit_target_hit_closes_the_position_without_any_alert(db, market, recording_bus):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal(2)  # the option doubles
    run("position_refresher")
    result = run("exit_monitor")["result"]
    assert result["exit_orders"] == 1
    run("paper_executor")
    position = one(db, "SELECT status, exit_reason, realized_pnl FROM positions")
    assert position["status"] == "CLOSED" and position["exit_reason"] == "PROFIT_TARGET"
    assert position["realized_pnl"] > 0


def test_stop_loss_closes_once_even_when_the_monitor_runs_again(db, market):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.4")
    run("position_refresher")
    run("exit_monitor")
    run("exit_monitor")
    assert one(db, "SELECT count(*) AS n FROM orders WHERE purpose = 'EXIT'")["n"] == 1
    status, body = call(request("GET", "/exit-signals", scope="read"))
    assert status == 200
    assert body["summary"]["critical_alerts"] == 1
    assert body["alerts"][0]["reason"] == "STOP_LOSS"
    run("paper_executor")
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "STOP_LOSS",
    }


def test_unfilled_day_order_expires_after_the_close(db, market, frozen_clock):
    signal_id = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    frozen_clock.set(datetime(2026, 11, 23, 16, 30, tzinfo=NY))
    assert run("paper_executor")["result"]["expired"] == 1
    assert one(db, "SELECT status FROM orders")["status"] == "EXPIRED"
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "FAILED"


def test_health_shows_the_last_run_of_each_worker(db, market):
    for worker in ("signal_processor", "exit_monitor"):
        run(worker)
    status, body = call(request("GET", "/health"))
    assert status == 200
    assert body["workers"]["signal_processor"]["last_trigger"] == "schedule"
    assert body["workers"]["exit_monitor"]["last_succeeded"] is True


def test_paper_trading_route_runs_the_chain_and_needs_admin(db, market):
    alert("SPY", "BUY", "CALL")
    assert call(request("POST", "/paper-trading", scope="read"))[0] == 403
    status, body = call(request("POST", "/paper-trading", scope="admin"))
    assert status == 200
    assert body["executed"] == 1 and body["success"] is True
    status, body = call(request("POST", "/refresh-positions", scope="admin"))
    assert status == 200 and body["refreshed"] == 1


def test_fast_path_refresh_prices_only_the_positions_its_event_names(
    db, market, frozen_clock, lambda_context
):
    import importlib

    from tests.conftest import load_event

    for i in range(2):
        alert("SPY", "BUY", "CALL", alert_id=f"scope{i}")
    run_entry_chain()
    first, second = (r["id"] for r in rows(db, "SELECT id FROM positions ORDER BY opened_at, id"))
    frozen_clock.advance(timedelta(minutes=1))
    event = load_event("workers/fast_path_signal_received.json")
    event.update({"detail-type": "position.opened", "detail": {"count": 1, "position_ids": [str(first)]}})
    handler = importlib.import_module("workers.position_refresher").lambda_handler
    result = handler(event, lambda_context)
    assert result["trigger"] == "event:position.opened"
    assert result["result"]["refreshed"] == 1
    priced = {r["id"]: r["priced_at"] for r in rows(db, "SELECT id, priced_at FROM positions")}
    assert priced[first] == frozen_clock.now()
    assert priced[second] < frozen_clock.now()
    # the book's totals read every open position: a scoped run leaves them to the sweep
    assert result["result"]["open_positions"] is None
    assert result["result"]["total_unrealized_pnl"] is None
    assert run("position_refresher")["result"]["open_positions"] == 2


def test_an_alert_whose_rule_stops_firing_is_resolved(db, market, frozen_clock):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    db.execute("UPDATE positions SET opened_at = opened_at - interval '6 days'")
    run("exit_monitor")
    status, body = call(request("GET", "/exit-signals", scope="read"))
    assert status == 200
    assert [a["reason"] for a in body["alerts"]] == ["MAX_HOLD"]
    db.execute("UPDATE exit_rules SET max_hold_days = 10")
    run("exit_monitor")
    _, body = call(request("GET", "/exit-signals", scope="read"))
    assert body["alerts"] == []
    assert one(db, "SELECT status FROM exit_signals") == {"status": "RESOLVED"}
