"""A setting changed through the admin API is the one the pipeline uses on its next run."""

from __future__ import annotations

from decimal import Decimal

from tests.api_events import call, request
from tests.pipeline_support import alert, one, run, run_entry_chain


def admin(method: str, path: str, body: dict) -> dict:
    status, answer = call(request(method, path, body=body, scope="admin"))
    assert status == 200, answer
    return dict(answer)


def test_kill_switch_on_rejects_the_next_buy_with_that_reason_but_a_close_still_closes(db, market):
    alert("SPY", "BUY", "CALL", alert_id="before")
    run_entry_chain()
    admin("POST", "/kill-switch", {"on": True, "reason": "news"})

    blocked = alert("SPY", "BUY", "CALL", alert_id="after")
    close = alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()

    signal = one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", blocked)
    assert signal == {"status": "REJECTED", "rejection_reasons": ["kill switch is ON: no new entries"]}
    check = one(
        db, "SELECT passed FROM decision_lines WHERE signal_id = %s AND check_name = 'kill_switch'", blocked
    )
    assert check["passed"] is False
    assert one(db, "SELECT count(*) AS n FROM orders WHERE signal_id = %s", blocked)["n"] == 0
    assert one(db, "SELECT status FROM signals WHERE id = %s", close)["status"] == "EXECUTED"
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "CLOSE alert",
    }


def test_kill_switch_on_stops_an_entry_accepted_before_it_but_not_yet_ordered(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    run("signal_processor")
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "ACCEPTED"
    admin("POST", "/kill-switch", {"on": True, "reason": "news"})
    run("order_creator")
    signal = one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", signal_id)
    assert signal == {"status": "REJECTED", "rejection_reasons": ["kill switch is ON: no new entries"]}
    assert one(db, "SELECT count(*) AS n FROM orders")["n"] == 0
    trail = one(
        db, "SELECT passed FROM decision_lines WHERE signal_id = %s AND check_name = 'kill_switch'", signal_id
    )
    assert trail["passed"] is False


def test_kill_switch_off_lets_the_next_buy_through(db, market):
    admin("POST", "/kill-switch", {"on": True, "reason": "news"})
    admin("POST", "/kill-switch", {"on": False})
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "EXECUTED"


def test_a_tighter_stop_loss_closes_a_position_the_old_one_left_open(db, market):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.7")  # the option loses about 30 %: inside the default 50 % stop
    run("position_refresher")
    assert run("exit_monitor")["result"]["exit_orders"] == 0
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"

    admin("PATCH", "/exit-rules", {"stop_loss_pct": 20})
    assert run("exit_monitor")["result"]["exit_orders"] == 1
    run("paper_executor")
    position = one(db, "SELECT status, exit_reason, realized_pnl FROM positions")
    assert (position["status"], position["exit_reason"]) == ("CLOSED", "STOP_LOSS")
    assert position["realized_pnl"] < 0


def test_a_stop_loss_turned_off_leaves_a_losing_position_open(db, market):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    admin("PATCH", "/exit-rules", {"stop_loss_pct": None})
    market.factor = Decimal("0.2")  # down about 80 %: far through the default stop
    run("position_refresher")
    assert run("exit_monitor")["result"]["exit_orders"] == 0
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"


def test_a_smaller_budget_sizes_the_next_entry_with_it(db, market):
    admin("PATCH", "/risk-limits", {"risk_per_trade": 1})
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", signal_id)["rejection_reasons"]
    assert "budget buys no contract" in reasons[0]
