"""The exit monitor closes a position past its delta threshold, and names the rule and its numbers."""

from __future__ import annotations

from decimal import Decimal

from tests.pipeline_support import alert, one, run, run_entry_chain


def open_position(db) -> dict:
    alert("SPY", "BUY", "CALL", alert_id="entry")
    run_entry_chain()
    run("position_refresher")
    return one(db, "SELECT id, delta, status FROM positions")


def test_a_position_past_its_delta_threshold_is_closed_by_the_exit_monitor(db, market):
    position = open_position(db)
    delta = position["delta"]
    threshold = (delta - Decimal("0.001")).quantize(Decimal("0.001"))  # just under: the position is past it
    db.execute(
        "UPDATE strategy_settings SET greek_exits_on = true, exit_delta_itm = %s WHERE name = 'default'",
        (threshold,),
    )

    run("exit_monitor")

    assert one(db, "SELECT status FROM positions")["status"] == "CLOSING"
    exit_order = one(db, "SELECT reason, side FROM orders WHERE purpose = 'EXIT'")
    assert exit_order == {"reason": "DELTA_ITM", "side": "SELL_TO_CLOSE"}
    signal = one(db, "SELECT rule, priority, details, metrics FROM exit_signals")
    assert signal["rule"] == "DELTA_ITM" and signal["priority"] == "HIGH"
    assert f"threshold {threshold}" in signal["details"]
    assert Decimal(str(signal["metrics"]["threshold"])) == threshold
    assert abs(Decimal(str(signal["metrics"]["delta"])) - delta) < Decimal("0.0001")
    run("paper_executor")
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "DELTA_ITM",
    }


def test_a_position_short_of_its_delta_threshold_stays_open(db, market):
    position = open_position(db)
    threshold = (position["delta"] + Decimal("0.001")).quantize(Decimal("0.001"))
    db.execute(
        "UPDATE strategy_settings SET greek_exits_on = true, exit_delta_itm = %s WHERE name = 'default'",
        (threshold,),
    )
    run("exit_monitor")
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    assert one(db, "SELECT count(*) AS n FROM exit_signals WHERE rule = 'DELTA_ITM'")["n"] == 0


def test_a_per_ticker_row_switches_greeks_exits_on_for_that_ticker_only(db, market):
    position = open_position(db)
    db.execute(
        """INSERT INTO strategy_settings (name, greek_exits_on, exit_delta_otm) VALUES ('QQQ', true, 0.99)"""
    )
    run("exit_monitor")
    assert one(db, "SELECT status FROM positions WHERE id = %s", position["id"])["status"] == "OPEN"
    db.execute(
        """INSERT INTO strategy_settings (name, greek_exits_on, exit_delta_otm) VALUES ('SPY', true, 0.99)"""
    )
    run("exit_monitor")
    assert one(db, "SELECT reason FROM orders WHERE purpose = 'EXIT'")["reason"] == "DELTA_OTM"


def test_a_tickers_own_stop_loss_closes_its_positions_and_the_global_one_still_holds_the_rest(db, market):
    alert("SPY", "BUY", "CALL", alert_id="spy")
    alert("QQQ", "BUY", "CALL", alert_id="qqq")
    run_entry_chain()
    db.execute("INSERT INTO strategy_settings (name, stop_loss_pct) VALUES ('QQQ', 20)")
    market.factor = Decimal("0.75")  # 25 % down: past QQQ's 20 %, short of the global 50 %
    run("position_refresher")
    run("exit_monitor")
    assert one(db, "SELECT status FROM positions WHERE ticker = 'QQQ'")["status"] == "CLOSING"
    assert one(db, "SELECT status FROM positions WHERE ticker = 'SPY'")["status"] == "OPEN"
    details = one(db, "SELECT details FROM exit_signals WHERE rule = 'STOP_LOSS'")["details"]
    assert "stop loss is 20" in details
