"""Greeks exits at, just under and just over each threshold; the plan's exit fields over the exit rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from optionflow.db.rows import EntryTerms, ExitRules, StrategySettings
from optionflow.logic.greek_exits import greek_exits, rules_in_force

D = Decimal
ON = StrategySettings(sizing_method="DOLLAR_RISK", greek_exits_on=True)


def terms(**kw: object) -> EntryTerms:
    base: dict[str, object] = {
        "position_id": uuid.uuid4(),
        "mark": D("2.00"),
        "delta": 0.5,
        "theta": -0.05,
        "iv": 0.25,
        "entry_iv": 0.25,
        "entry_delta": 0.5,
        "plan": {},
    }
    return EntryTerms(**(base | kw))  # type: ignore[arg-type]


def fired(t: EntryTerms, **settings: object) -> list[str]:
    return [
        a.rule
        for a in greek_exits(
            t, StrategySettings(**({"sizing_method": "DOLLAR_RISK", "greek_exits_on": True} | settings))
        )
    ]  # type: ignore[arg-type]


@pytest.mark.parametrize(("delta", "fires"), [(0.8499, False), (0.85, True), (0.8501, True), (-0.86, True)])
def test_deep_in_the_money_delta_takes_the_profit(delta, fires):
    assert fired(terms(delta=delta), exit_delta_itm=D("0.85")) == (["DELTA_ITM"] if fires else [])


@pytest.mark.parametrize(("delta", "fires"), [(0.1001, False), (0.10, True), (0.0999, True), (-0.05, True)])
def test_far_out_of_the_money_delta_is_cut(delta, fires):
    assert fired(terms(delta=delta), exit_delta_otm=D("0.10")) == (["DELTA_OTM"] if fires else [])


@pytest.mark.parametrize(("theta", "fires"), [(-0.0999, False), (-0.10, True), (-0.1001, True)])
def test_theta_decay_as_a_share_of_the_mark(theta, fires):
    # $0.10 a day on a $2.00 mark is 5 %
    assert fired(terms(theta=theta), exit_theta_pct=D("5")) == (["THETA_DECAY"] if fires else [])


@pytest.mark.parametrize(("iv", "fires"), [(0.2001, False), (0.20, True), (0.1999, True)])
def test_iv_crush_against_the_entry_iv(iv, fires):
    # 0.25 -> 0.20 is a 20 % drop
    alerts = greek_exits(
        terms(iv=iv), StrategySettings(sizing_method="X", greek_exits_on=True, exit_iv_crush_pct=D("20"))
    )
    assert [a.rule for a in alerts] == (["IV_CRUSH"] if fires else [])
    if fires:
        assert alerts[0].metrics["entry_iv"] == 0.25 and alerts[0].metrics["threshold_pct"] == D("20")
        assert "below its 25.0% at entry" in alerts[0].details


def test_each_alert_names_its_rule_priority_and_numbers():
    (alert,) = greek_exits(
        terms(delta=0.05), StrategySettings(sizing_method="X", greek_exits_on=True, exit_delta_otm=D("0.1"))
    )
    assert (alert.rule, alert.priority, alert.closes) == ("DELTA_OTM", "CRITICAL", True)
    assert alert.metrics == {"delta": 0.05, "entry_delta": 0.5, "threshold": D("0.1")}
    assert "0.050" in alert.details and "0.1" in alert.details


def test_greeks_exits_switched_off_never_fire():
    off = StrategySettings(sizing_method="X", exit_delta_itm=D("0.01"), exit_delta_otm=D("0.99"))
    assert greek_exits(terms(), off) == []


def test_a_position_without_greeks_fires_no_greeks_rule():
    assert (
        fired(
            terms(delta=None, theta=None, iv=None),
            exit_delta_itm=D("0.5"),
            exit_theta_pct=D("0.01"),
            exit_iv_crush_pct=D("1"),
        )
        == []
    )


RULES = ExitRules(D("50"), D("50"), None, 1, 5, None)


def test_the_exit_fields_an_alert_plan_set_stay_with_the_position():
    plan = {
        "stop_loss_pct": "20",
        "profit_target_pct": "50",
        "time_stop_minutes": 10,
        "from_alert": ["stop_loss_pct", "time_stop_minutes"],
    }
    held = rules_in_force(RULES, plan)
    assert held.stop_loss_pct == D("20") and held.close_minutes_before_close == 10
    # a field the alert left to the settings follows the current exit rules
    later = ExitRules(D("80"), D("30"), D("10"), 1, 5, None)
    assert rules_in_force(later, plan).profit_target_pct == D("80")
    assert rules_in_force(later, plan).stop_loss_pct == D("20")
    assert rules_in_force(RULES, None) is RULES
