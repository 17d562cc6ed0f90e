"""Strategy settings through the admin API and the command line: per ticker over global, validated field by
field, refused without the admin scope, every change recorded; a ticker's change reaches the pipeline."""

from __future__ import annotations

from typing import Any

import pytest
from optionflow.cli import main

from tests.api_events import call, request, token
from tests.pipeline_support import alert, one, rows, run


def patch(path: str, body: dict[str, Any], scope: str = "admin") -> tuple[int, Any]:
    bearer = token(scope)  # type: ignore[arg-type]
    return call(request("PATCH", path, body=body, headers={"authorization": f"Bearer {bearer}"}))


def test_a_ticker_row_is_made_on_its_first_change_and_recorded_with_who_and_why(db):
    status, row = patch(
        "/strategy-settings/QQQ", {"mtf_on": True, "mtf_timeframes": ["15m", "1h"], "reason": "trend only"}
    )
    assert status == 200, row
    assert row["name"] == "QQQ" and row["mtf_on"] is True and row["mtf_timeframes"] == ["15m", "1h"]
    assert row["sizing_method"] is None  # as the default says
    change = one(db, "SELECT what, name, before, after, reason FROM settings_changes")
    assert change == {
        "what": "strategy_settings",
        "name": "QQQ",
        "before": {"mtf_on": None, "mtf_timeframes": None},
        "after": {"mtf_on": True, "mtf_timeframes": ["15m", "1h"]},
        "reason": "trend only",
    }
    status, listed = call(request("GET", "/strategy-settings", scope="read"))
    assert status == 200 and [r["name"] for r in listed] == ["default", "QQQ"]
    status, history = call(request("GET", "/settings/changes?what=strategy_settings", scope="read"))
    assert status == 200 and len(history) == 1


def test_bad_strategy_settings_get_a_422_naming_the_field_and_change_nothing(db):
    cases = [
        ("/strategy-settings/default", {"sizing_method": "KELLY"}, "sizing_method"),
        ("/strategy-settings/default", {"max_heat_pct": -1}, "max_heat_pct"),
        ("/strategy-settings/default", {"mtf_timeframes": ["2m"]}, "mtf_timeframes"),
        ("/strategy-settings/default", {"exit_delta_itm": 1.5}, "exit_delta_itm"),
        ("/strategy-settings/default", {"mtf_ema_fast": 30}, "mtf_ema_fast"),  # not below the slow 21
        ("/strategy-settings/default", {"sizing_method": None}, "sizing_method"),
        ("/strategy-settings/SPY", {"max_heat_pct": 5}, "max_heat_pct"),  # an overall cap
        ("/strategy-settings/spy!", {"mtf_on": True}, "name"),
        ("/strategy-settings/default", {"greek_exits_on": "yes"}, "greek_exits_on"),
    ]
    for path, body, field in cases:
        status, problem = patch(path, body)
        assert status == 422, (body, problem)
        assert field in str(problem), (body, problem)
    assert rows(db, "SELECT * FROM settings_changes") == []
    assert one(db, "SELECT count(*) AS n FROM strategy_settings")["n"] == 1


def test_strategy_settings_need_the_admin_scope_to_change(db):
    status, _ = patch("/strategy-settings/default", {"max_heat_pct": 5}, scope="read")
    assert status == 403
    assert (
        one(db, "SELECT max_heat_pct FROM strategy_settings WHERE name = 'default'")["max_heat_pct"] is None
    )


def test_a_missing_ticker_row_is_a_404_that_says_the_default_applies(db):
    status, problem = call(request("GET", "/strategy-settings/IWM", scope="read"))
    assert status == 404 and "uses the default" in str(problem)


def test_a_ticker_switched_to_fixed_sizing_through_the_api_buys_that_many(db, market):
    db.execute("UPDATE risk_limits SET risk_per_trade = 100000, max_daily_loss = 100000")
    assert patch("/strategy-settings/SPY", {"sizing_method": "FIXED", "fixed_contracts": 3})[0] == 200
    spy = alert("SPY", "BUY", "CALL", alert_id="spy")
    qqq = alert("QQQ", "BUY", "CALL", alert_id="qqq")
    run("signal_processor")
    run("order_creator")
    assert one(db, "SELECT quantity FROM orders WHERE signal_id = %s", spy)["quantity"] == 3
    sizing = one(db, "SELECT inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'sizing'", qqq)[
        "inputs"
    ]
    assert sizing["method"] == "DOLLAR_RISK"


def test_the_command_line_shows_and_sets_strategy_settings(api_server, capsys, db):
    code = main(
        [
            "strategy",
            "set",
            "SPY",
            "context_on=on",
            "max_spread_pct=12.5",
            "sizing_method=volatility",
            "--reason",
            "wide markets",
            "--api",
            api_server,
            "--token",
            token("admin"),
        ]
    )  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "strategy settings: SPY" in out and "max_spread_pct" in out and "12.5" in out
    assert one(db, "SELECT context_on, sizing_method FROM strategy_settings WHERE name = 'SPY'") == {
        "context_on": True,
        "sizing_method": "VOLATILITY",
    }
    code = main(["strategy", "show", "--api", api_server, "--token", token("read")])  # type: ignore[arg-type]
    out, _ = capsys.readouterr()
    assert code == 0 and "strategy settings: default" in out and "DOLLAR_RISK" in out


def test_volatility_sizing_by_atr_writes_the_atr_and_the_scaled_budget_to_the_trail(db, market):
    db.execute("UPDATE risk_limits SET risk_per_trade = 2000, max_daily_loss = 100000")
    assert (
        patch(
            "/strategy-settings/SPY",
            {"sizing_method": "VOLATILITY", "vol_measure": "ATR", "vol_target_pct": 1, "dollar_risk": 1000},
        )[0]
        == 200
    )
    spy = alert("SPY", "BUY", "CALL", alert_id="atr")
    run("signal_processor")
    run("order_creator")
    inputs = one(db, "SELECT inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'sizing'", spy)[
        "inputs"
    ]
    assert inputs["method"] == "VOLATILITY" and inputs["vol_measure"] == "ATR"
    assert inputs["atr_period"] == 14 and inputs["atr_bars"] >= 15 and inputs["atr"] > 0
    atr_pct = float(inputs["volatility_pct"])
    assert atr_pct == pytest.approx(inputs["atr"] / inputs["atr_close"] * 100, abs=1e-4)
    assert float(inputs["budget"]) == pytest.approx(min(1000 * 1 / atr_pct, 2000), abs=0.01)


def test_a_tickers_own_exit_rules_are_set_on_its_row_and_refused_on_the_default(db):
    status, problem = patch("/strategy-settings/default", {"stop_loss_pct": 20})
    assert status == 422 and "stop_loss_pct" in str(problem) and "/exit-rules" in str(problem)
    status, row = patch("/strategy-settings/TSLA", {"stop_loss_pct": 20, "time_stop_minutes": 30})
    assert status == 200 and row["stop_loss_pct"] == 20.0 and row["time_stop_minutes"] == 30
