"""Entry filters in the decision step: an MTF rejection shows its indicator values; context filters
switched per ticker."""

from __future__ import annotations

from tests.pipeline_support import alert, one, run


def test_an_alert_against_the_higher_timeframe_trend_is_rejected_with_the_indicator_values(db, market):
    db.execute("""UPDATE strategy_settings SET mtf_on = true, mtf_timeframes = '{5m,15m}', mtf_ema_fast = 9,
                  mtf_ema_slow = 21 WHERE name = 'default'""")
    call = alert("SPY", "BUY", "CALL", alert_id="call")
    put = alert("SPY", "BUY", "PUT", alert_id="put")
    run("signal_processor")

    decided = {
        sid: one(
            db,
            "SELECT passed, detail, inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'mtf_alignment'",
            sid,
        )
        for sid in (call, put)
    }
    trends = {tf: decided[call]["inputs"][tf]["trend"] for tf in ("5m", "15m")}
    # the simulator's path is what it is: whichever way it trends, exactly the alerts against it are refused
    assert decided[call]["passed"] is (set(trends.values()) == {"UP"})
    assert decided[put]["passed"] is (set(trends.values()) == {"DOWN"})
    rejected = next(d for d in decided.values() if not d["passed"])
    for tf in ("5m", "15m"):
        values = rejected["inputs"][tf]
        assert {"ema_fast", "ema_slow", "rsi", "vwap", "close", "bars"} <= set(values)
        assert values["bars"] >= 21 and values["ema_fast"] is not None and values["ema_slow"] is not None
    assert "EMA(9)" in rejected["detail"] and "EMA(21)" in rejected["detail"]
    rejected_id = call if rejected is decided[call] else put
    assert one(db, "SELECT status FROM signals WHERE id = %s", rejected_id)["status"] == "REJECTED"


def test_market_context_filters_apply_to_the_ticker_that_switches_them_on(db, market):
    db.execute("""INSERT INTO strategy_settings (name, context_on, max_price_move_pct, min_minutes_to_close,
                  max_spread_pct) VALUES ('QQQ', true, 0.5, 30, 50)""")
    spy = alert("SPY", "BUY", "CALL", alert_id="spy", price="1.00")
    qqq = alert("QQQ", "BUY", "CALL", alert_id="qqq", price="1.00")
    run("signal_processor")

    assert one(db, "SELECT status FROM signals WHERE id = %s", spy)["status"] == "ACCEPTED"
    assert (
        one(
            db,
            "SELECT count(*) AS n FROM decision_lines WHERE signal_id = %s AND check_name = 'price_moved'",
            spy,
        )["n"]
        == 0
    )
    moved = one(
        db,
        "SELECT passed, detail, inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'price_moved'",
        qqq,
    )
    assert moved["passed"] is False and "from the alert's $1.00" in moved["detail"]
    assert float(moved["inputs"]["max_price_move_pct"]) == 0.5
    close = one(
        db, "SELECT passed FROM decision_lines WHERE signal_id = %s AND check_name = 'time_to_close'", qqq
    )
    assert close["passed"] is True  # 10:00, six hours to go
    spread = one(
        db, "SELECT passed, inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'spread'", qqq
    )
    assert spread["passed"] is True and float(spread["inputs"]["spread_pct"]) > 0
    assert one(db, "SELECT status FROM signals WHERE id = %s", qqq)["status"] == "REJECTED"
