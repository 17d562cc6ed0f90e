"""Replay runs the strategy engine exactly as live: the real book's strategy settings (filters, sizing,
caps) are the scratch book's, alert plans ride in the stored alerts, and a rules file can try others."""

from __future__ import annotations

from typing import Any

from optionflow.models.replay_rules import parse_rules

from tests.integration.test_replay import _replay, _tight_exits, live_day


def test_replay_reproduces_a_day_traded_with_filters_sizing_and_caps_and_can_try_a_heat_cap(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    _tight_exits(db)
    db.execute("""UPDATE strategy_settings SET mtf_on = true, mtf_timeframes = '{15m}', sizing_method = 'VOLATILITY',
                  vol_measure = 'IV', vol_target_pct = 30, max_delta_shares = 150 WHERE name = 'default'""")
    db.execute("INSERT INTO strategy_settings (name, mtf_on) VALUES ('AMD', false)")
    live_day(frozen_clock, recording_bus)
    db.execute("SELECT count(*) AS n FROM decision_lines WHERE check_name = 'mtf_alignment' AND NOT passed")
    assert db.fetchone()["n"] >= 1  # the day exercised the filter

    same = _replay(settings)
    different = [
        (r.ticker, r.actual.describe(), r.replay and r.replay.describe()) for r in same.alerts if not r.same
    ]
    assert different == []

    rules = parse_rules(
        '{"strategy_settings": {"default": {"max_heat_pct": 0.01}}}', source="try", yaml_syntax=False
    )
    tried = _replay(settings, rules=rules)
    refused = [
        r
        for r in tried.alerts
        if r.replay is not None and any("premium at risk" in x for x in r.replay.reasons)
    ]
    assert refused  # every entry that got as far as sizing is over a 0.01 % heat cap
    assert all(r.actual.status != "REJECTED" for r in refused)
