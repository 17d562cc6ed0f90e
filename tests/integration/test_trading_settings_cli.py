"""`optionflow limits | rules | kill-switch | settings history` against the API on a real port."""

from __future__ import annotations

from typing import Any

import pytest
from optionflow.cli import main
from optionflow.cli.trading_settings import parse_assignments

from tests.api_events import token
from tests.pipeline_support import one, rows


def run_cli(
    capsys: Any, api: str, *args: str, scope: str = "admin", subject: str = "cli-user"
) -> tuple[int, str, str]:
    code = main([*args, "--api", api, "--token", token(scope, subject=subject)])  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    return code, out, err


def test_limits_show_prints_every_limit_and_the_kill_switch(api_server, capsys):
    code, out, _ = run_cli(capsys, api_server, "limits", scope="read")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["setting", "value"]
    assert "max_open_positions        20" in out
    assert "risk_per_trade            $500.00" in out
    assert "kill_switch               off" in out


def test_limits_set_changes_them_and_records_the_reason_and_the_caller(api_server, db, capsys):
    code, out, _ = run_cli(
        capsys,
        api_server,
        "limits",
        "set",
        "max_open_positions=10",
        "risk_per_trade=250",
        "--reason",
        "smaller",
    )
    assert code == 0
    assert "max_open_positions        10" in out and "$250.00" in out
    limits = one(db, "SELECT max_open_positions, risk_per_trade FROM risk_limits")
    assert (limits["max_open_positions"], str(limits["risk_per_trade"])) == (10, "250.00")
    [change] = rows(db, "SELECT actor, reason, after FROM settings_changes")
    assert change == {
        "actor": "cli-user",
        "reason": "smaller",
        "after": {"max_open_positions": 10, "risk_per_trade": 250.0},
    }


def test_rules_set_off_turns_a_rule_off(api_server, db, capsys):
    code, out, _ = run_cli(capsys, api_server, "rules", "set", "stop_loss_pct=30", "trailing_stop_pct=12.5")
    assert code == 0
    code, out, _ = run_cli(capsys, api_server, "rules", "set", "trailing_stop_pct=off")
    assert code == 0
    assert "trailing_stop_pct           off" in out
    assert "stop_loss_pct               30%" in out
    assert one(db, "SELECT stop_loss_pct, trailing_stop_pct FROM exit_rules") == {
        "stop_loss_pct": 30,
        "trailing_stop_pct": None,
    }


def test_an_out_of_bounds_value_is_a_one_line_error_naming_the_field_and_exit_2(api_server, db, capsys):
    code, _, err = run_cli(capsys, api_server, "rules", "set", "stop_loss_pct=150")
    assert code == 2
    assert err.startswith("optionflow: PATCH /exit-rules: 422 stop_loss_pct")
    assert len(err.strip().splitlines()) == 1
    assert one(db, "SELECT stop_loss_pct FROM exit_rules")["stop_loss_pct"] == 50


def test_an_unknown_setting_is_named_by_the_api(api_server, capsys):
    code, _, err = run_cli(capsys, api_server, "limits", "set", "max_open=3")
    assert code == 2
    assert "max_open" in err and "Extra inputs" in err


def test_a_read_token_cannot_set_and_says_so(api_server, db, capsys):
    code, _, err = run_cli(capsys, api_server, "limits", "set", "max_open_positions=3", scope="read")
    assert (code, "403" in err, "admin" in err) == (2, True, True)
    assert one(db, "SELECT max_open_positions FROM risk_limits")["max_open_positions"] == 20


def test_kill_switch_on_needs_a_reason_then_stops_entries_and_off_resumes_them(api_server, db, capsys):
    code, _, err = run_cli(capsys, api_server, "kill-switch", "on")
    assert code == 2 and "--reason" in err
    code, out, _ = run_cli(capsys, api_server, "kill-switch", "on", "--reason", "CPI print")
    assert (code, out.strip()) == (0, "kill switch ON: no new entries; exits still run")
    assert one(db, "SELECT kill_switch FROM risk_limits")["kill_switch"] is True
    code, out, _ = run_cli(capsys, api_server, "kill-switch", scope="read")
    assert "ON" in out
    code, out, _ = run_cli(capsys, api_server, "kill-switch", "off")
    assert (code, out.strip()) == (0, "kill switch off: new entries allowed")


def test_settings_history_lists_changes_newest_first_with_who_and_why(api_server, capsys):
    run_cli(capsys, api_server, "rules", "set", "stop_loss_pct=30", subject="ana")
    run_cli(capsys, api_server, "kill-switch", "on", "--reason", "halt", subject="bo")
    code, out, _ = run_cli(capsys, api_server, "settings", "history", scope="read")
    assert code == 0
    header, _, newest, oldest = out.splitlines()
    assert header.split() == ["when", "by", "what", "change", "reason"]
    assert newest.split()[2] == "UTC"
    assert "bo" in newest and "kill_switch off -> ON" in newest and newest.endswith("halt")
    assert "ana" in oldest and "stop_loss_pct 50% -> 30%" in oldest
    code, out, _ = run_cli(capsys, api_server, "settings", "history", "--what", "rules", "--limit", "5")
    assert len(out.splitlines()) == 3


def test_the_group_accepts_api_options_before_the_verb(api_server, capsys):
    code = main(["limits", "--api", api_server, "--token", token("read"), "show"])
    assert code == 0
    assert "max_open_positions" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["stop_loss_pct=30"], {"stop_loss_pct": 30}),
        (["trailing_stop_pct=off", "min_dte=None"], {"trailing_stop_pct": None, "min_dte": None}),
        (["risk_per_trade=250.50"], {"risk_per_trade": 250.5}),
        (["max_daily_loss=$1,000"], {"max_daily_loss": 1000}),
        (["stop_loss_pct=30%"], {"stop_loss_pct": 30}),
    ],
)
def test_values_are_parsed_from_key_equals_value(pairs, expected):
    assert parse_assignments(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["stop_loss_pct"], "KEY=VALUE"),
        (["stop_loss_pct="], "KEY=VALUE"),
        (["stop_loss_pct=thirty"], "not a number"),
        (["stop_loss_pct=nan"], "not a number"),
        (["min_dte=1", "min_dte=2"], "twice"),
        (["kill_switch=true"], "kill-switch on --reason"),
    ],
)
def test_malformed_assignments_are_refused_before_calling_the_api(pairs, message):
    with pytest.raises(ValueError, match=message):
        parse_assignments(pairs)


def test_a_malformed_assignment_is_a_one_line_error_and_exit_2(capsys):
    assert main(["rules", "set", "stop_loss_pct=thirty", "--api", "http://127.0.0.1:9", "--token", "t"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "optionflow: stop_loss_pct=thirty: not a number (use off to turn a rule off)"
    )
