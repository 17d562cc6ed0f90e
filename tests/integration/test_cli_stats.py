"""`optionflow stats` prints the API's figures and breakdown, or its JSON, and explains bad input."""

from __future__ import annotations

import json
from datetime import timedelta

from optionflow.cli import main
from optionflow.cli.stats import window_bound

from tests.api_events import token
from tests.pipeline_support import alert, one, run_entry_chain


def _one_closed_and_one_open(frozen_clock, capsys) -> None:
    alert("SPY", "BUY", "CALL", alert_id="closed")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=30))
    alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()
    alert("QQQ", "BUY", "PUT", alert_id="open")
    run_entry_chain()
    capsys.readouterr()  # the pipeline's own output is not the command's


def test_stats_prints_the_overall_figures_then_a_table_by_ticker(
    api_server, db, market, frozen_clock, capsys
):
    _one_closed_and_one_open(frozen_clock, capsys)
    pnl = float(one(db, "SELECT realized_pnl FROM positions WHERE status = 'CLOSED'")["realized_pnl"])

    assert main(["stats", "--api", api_server, "--token", token("read")]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Closed trades")
    assert "1 (" in out[0]
    money = f"-${-pnl:,.2f}" if pnl < 0 else f"${pnl:,.2f}"
    assert any(line.startswith("Realized P&L") and line.endswith(money) for line in out)
    assert any(line.startswith("Unrealized P&L") and line.endswith("on 1 open position") for line in out)
    header = next(i for i, line in enumerate(out) if line.startswith("ticker"))
    table = {line.split()[0]: line.split() for line in out[header + 2 :]}
    assert set(table) == {"QQQ", "SPY"}
    assert table["SPY"][1] == "1" and table["QQQ"][1] == "0"  # closed trades per ticker
    assert table["QQQ"][-1] == "1"  # the open QQQ put


def test_stats_by_exit_rule_groups_by_the_rule_that_closed(api_server, db, market, frozen_clock, capsys):
    _one_closed_and_one_open(frozen_clock, capsys)
    assert main(["stats", "--by", "exit_rule", "--api", api_server, "--token", token("read")]) == 0
    out = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(out) if line.startswith("exit_rule"))
    assert [line.split()[0] for line in out[header + 2 :]] == ["CLOSE_ALERT"]


def test_stats_json_is_the_api_body(api_server, db, market, frozen_clock, capsys):
    _one_closed_and_one_open(frozen_clock, capsys)
    assert (
        main(["stats", "--json", "--since", "2026-11-23", "--api", api_server, "--token", token("read")]) == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert body["overall"]["closed_trades"] == 1
    assert body["since"] == "2026-11-23T05:00:00Z"  # midnight in New York
    assert set(body) == {
        "as_of",
        "since",
        "until",
        "overall",
        "by_ticker",
        "by_direction",
        "by_exit_rule",
        "equity_curve",
    }


def test_a_window_after_today_has_no_trades(api_server, db, market, frozen_clock, capsys):
    _one_closed_and_one_open(frozen_clock, capsys)
    assert main(["stats", "--since", "2026-11-24", "--api", api_server, "--token", token("read")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        " ".join(out[0].split()) == "Closed trades 0 (0 won, 0 lost, 0 breakeven), since 2026-11-24T05:00:00Z"
    )
    assert any(line.startswith("Win rate") and line.endswith("-") for line in out)


def test_a_bad_date_is_a_one_line_error(capsys):
    assert main(["stats", "--since", "last tuesday", "--api", "http://127.0.0.1:9", "--token", "t"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optionflow: --since 'last tuesday' is not a date")
    assert len(err.strip().splitlines()) == 1


def test_until_before_since_is_the_api_s_422_on_one_line(api_server, db, capsys):
    argv = ["stats", "--since", "2026-11-24", "--until", "2026-11-23"]
    assert main([*argv, "--api", api_server, "--token", token("read")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "optionflow: GET /stats: 422 until: must be later than since"


def test_a_date_is_midnight_in_new_york_and_a_time_is_kept_as_given():
    assert window_bound("--since", "2026-07-01") == "2026-07-01T00:00:00-04:00"
    assert window_bound("--since", "2026-11-23T09:30:00+00:00") == "2026-11-23T09:30:00+00:00"
    assert window_bound("--since", None) is None
