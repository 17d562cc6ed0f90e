"""Per-alert trade plans: a plan in the alert overrides the ticker's settings within the limits, and the
plan in force is stored with the position; a bad plan field is a 422 naming it, and nothing is written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET
from tests.pipeline_support import alert, one, run, run_entry_chain

ALERT = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "secret": WEBHOOK_SECRET}


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ({"stop_loss_pct": 150}, "plan.stop_loss_pct"),
        ({"stop_loss_pct": "{{plot_0}}"}, "plan.stop_loss_pct"),
        ({"dte": -1}, "plan.dte"),
        ({"dte": 1.5}, "plan.dte"),
        ({"quantity": True}, "plan.quantity"),
        ({"quantity": 10**40}, "plan.quantity"),
        ({"strike_delta": 1.2}, "plan.strike_delta"),
        ({"strike_delta": 0.3, "strike_steps": 1}, "plan.strike_delta"),
        ({"quantity": 1, "dollar_risk": 100}, "plan.dollar_risk"),
        ({"trailing_stop_pct": "1e999999"}, "plan.trailing_stop_pct"),
        ({"take_profit": 50}, "plan.take_profit"),
        ({"stop_loss_pct": [20]}, "plan.stop_loss_pct"),
        ("tight", "plan"),
    ],
)
def test_a_bad_plan_field_is_a_422_naming_it_and_nothing_is_written(db, plan, field):
    status, problem = call(request("POST", "/webhook", body={**ALERT, "plan": plan}))
    assert status == 422, problem
    assert problem["errors"][0]["field"] == field
    assert one(db, "SELECT count(*) AS n FROM signals")["n"] == 0


def test_a_plan_in_the_alert_overrides_the_tickers_defaults_and_is_stored_with_the_position(db, market):
    db.execute("UPDATE risk_limits SET risk_per_trade = 100000, max_daily_loss = 100000")
    db.execute(
        "INSERT INTO strategy_settings (name, sizing_method, fixed_contracts) VALUES ('SPY', 'FIXED', 3)"
    )
    plain = alert("SPY", "BUY", "CALL", alert_id="plain")
    planned = alert(
        "SPY",
        "BUY",
        "CALL",
        alert_id="planned",
        plan={"quantity": "2", "stop_loss_pct": 20, "strike_steps": 2, "dte": 7, "time_stop_minutes": 10},
    )
    run_entry_chain()

    default_order = one(db, "SELECT quantity, strike, expiry FROM orders WHERE signal_id = %s", plain)
    plan_order = one(db, "SELECT quantity, strike, expiry FROM orders WHERE signal_id = %s", planned)
    assert default_order["quantity"] == 3 and plan_order["quantity"] == 2
    assert plan_order["strike"] == default_order["strike"] + 2  # two $1 SPY strikes out of the money
    assert abs((plan_order["expiry"] - default_order["expiry"]).days) <= 7
    stored = one(
        db,
        """SELECT e.plan FROM positions p JOIN entry_plans e ON e.order_id = p.entry_order_id
           WHERE p.signal_id = %s""",
        planned,
    )["plan"]
    assert stored["stop_loss_pct"] == "20" and stored["time_stop_minutes"] == 10 and stored["quantity"] == 2
    assert stored["profit_target_pct"] == "50.00"  # from the exit rules: the alert left it out
    assert stored["from_alert"] == [
        "dte",
        "min_dte",
        "quantity",
        "stop_loss_pct",
        "strike_steps",
        "time_stop_minutes",
    ]
    assert stored["strike_steps"] == 2

    # a later, looser stop loss does not rewrite the planned trade's own 20 %
    db.execute("UPDATE exit_rules SET stop_loss_pct = 90")
    market.factor = Decimal("0.75")  # every mark 25 % down
    run("position_refresher")
    run("exit_monitor")
    planned_exit = one(
        db,
        """SELECT o.reason FROM orders o JOIN positions p ON p.id = o.position_id
           WHERE o.purpose = 'EXIT' AND p.signal_id = %s""",
        planned,
    )
    assert planned_exit["reason"] == "STOP_LOSS"
    assert one(db, "SELECT status FROM positions WHERE signal_id = %s", plain)["status"] == "OPEN"


def test_a_plan_is_bounded_by_the_configured_limits(db, market):
    over = alert(
        "SPY", "BUY", "CALL", alert_id="over", plan={"quantity": 11}
    )  # max_contracts_per_order is 10
    capped = alert("SPY", "BUY", "CALL", alert_id="capped", plan={"dollar_risk": 99999})
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", over)["status"] == "REJECTED"
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", over)["rejection_reasons"]
    assert any("limit is 10" in r for r in reasons)
    sizing = one(
        db, "SELECT inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'sizing'", capped
    )["inputs"]
    assert float(sizing["budget"]) == 500.0  # risk_per_trade, not the plan's $99,999


def test_a_plan_can_choose_the_strike_by_delta(db, market):
    planned = alert("SPY", "BUY", "CALL", alert_id="delta", plan={"strike_delta": "0.30"})
    run_entry_chain()
    sizing = one(
        db, "SELECT inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'sizing'", planned
    )
    stored = one(db, "SELECT plan, delta FROM entry_plans WHERE signal_id = %s", planned)
    assert float(stored["plan"]["strike_delta"]) == 0.3
    assert abs(stored["delta"] - 0.30) < 0.06  # the listed strike nearest 30-delta
    assert sizing["inputs"]["alert_plan"] == {"strike_delta": "0.30"}


def test_contract_fields_an_alert_plan_leaves_out_come_from_the_tickers_settings(db, market):
    reference = alert("SPY", "BUY", "CALL", alert_id="atm", plan={"strike_steps": 0})
    run_entry_chain()
    atm = one(db, "SELECT strike FROM orders WHERE signal_id = %s", reference)["strike"]
    db.execute("INSERT INTO strategy_settings (name, plan_strike_steps) VALUES ('SPY', 1)")
    ticker_default = alert("SPY", "BUY", "CALL", alert_id="ticker")
    own = alert("SPY", "BUY", "CALL", alert_id="own", plan={"strike_steps": -1})
    run_entry_chain()
    assert one(db, "SELECT strike FROM orders WHERE signal_id = %s", ticker_default)["strike"] == atm + 1
    assert one(db, "SELECT strike FROM orders WHERE signal_id = %s", own)["strike"] == atm - 1
    stored = one(db, "SELECT plan FROM entry_plans WHERE signal_id = %s", ticker_default)["plan"]
    assert stored["strike_steps"] == 1 and stored["from_alert"] == []


def test_no_entry_inside_the_window_its_own_plan_time_stop_would_close_it_in(db, market, frozen_clock):
    from datetime import datetime

    from optionflow.calendar import NEW_YORK

    frozen_clock.set(datetime(2026, 11, 23, 15, 40, tzinfo=NEW_YORK))
    late = alert("SPY", "BUY", "CALL", alert_id="late", plan={"time_stop_minutes": 30})
    plain = alert("SPY", "BUY", "CALL", alert_id="plain")
    run_entry_chain()
    window = one(
        db,
        "SELECT passed, detail FROM decision_lines WHERE signal_id = %s AND check_name = 'plan_entry_window'",
        late,
    )
    assert window["passed"] is False and "30-minute end-of-day window" in window["detail"]
    assert one(db, "SELECT status FROM signals WHERE id = %s", late)["status"] == "REJECTED"
    assert one(db, "SELECT status FROM signals WHERE id = %s", plain)["status"] == "EXECUTED"
