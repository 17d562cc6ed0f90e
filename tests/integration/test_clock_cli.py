"""`optionflow clock` against a running API on a simulated clock: what a trader types, and reads."""

from __future__ import annotations

import json

from optionflow.cli import main

from tests.api_events import token
from tests.pipeline_support import alert, one


def cli(api_server: str, *args: str) -> list[str]:
    return ["clock", *args, "--api", api_server, "--token", token("admin")]


def printed(capsys) -> list[str]:
    """What the command printed; the in-process API's log and metric lines (one JSON object each) aside."""
    return [line for line in capsys.readouterr().out.splitlines() if not line.startswith('{"')]


def test_clock_shows_new_york_time_the_pace_and_the_market(api_server, simulated_clock, capsys):
    assert main(cli(api_server)) == 0

    assert printed(capsys) == [
        "clock    Mon 2026-11-23 10:00:00 New York (15:00:00 UTC)",
        "state    paused (runs at 1x when resumed)",
        "market   open",
        "changed  by test",
    ]


def test_set_takes_new_york_time_without_an_offset(api_server, simulated_clock, capsys):
    assert main(cli(api_server, "set", "2026-11-23T15:30")) == 0

    assert printed(capsys)[0] == "clock    Mon 2026-11-23 15:30:00 New York (20:30:00 UTC)"


def test_set_back_in_time_fails_with_the_reason(api_server, simulated_clock, capsys):
    assert main(cli(api_server, "set", "2026-11-23T09:00")) == 2

    err = capsys.readouterr().err
    assert "409" in err and "the book would go back in time" in err


def test_advance_prints_what_the_sweeps_did_and_returns_once_they_are_done(
    api_server, simulated_clock, db, market, capsys
):
    signal_id = alert("SPY", "BUY", "CALL", quantity=1)

    assert main(cli(api_server, "advance", "1m")) == 0

    out = printed(capsys)
    assert out[0] == (
        "advanced from Mon 2026-11-23 10:00:00 to Mon 2026-11-23 10:01:00 New York: "
        "1 schedule tick swept, 0 quiet ones outside a session skipped"
    )
    executor = next(line for line in out if line.startswith("paper_executor"))
    assert executor.split() == ["paper_executor", "1", "0", "opened", "1"]
    assert out[-4] == "clock    Mon 2026-11-23 10:01:00 New York (15:01:00 UTC)"
    assert one(db, "SELECT status FROM positions WHERE signal_id = %s", signal_id)["status"] == "OPEN"


def test_a_bad_duration_is_named(api_server, simulated_clock, capsys):
    assert main(cli(api_server, "advance", "2w")) == 2

    assert "'2w' is not a duration" in capsys.readouterr().err


def test_speed_pause_and_resume(api_server, simulated_clock, capsys):
    assert main(cli(api_server, "speed", "60")) == 0
    assert "state    paused (runs at 60x when resumed)" in printed(capsys)
    assert main(cli(api_server, "resume")) == 0
    assert "state    running at 60x" in printed(capsys)
    assert main(cli(api_server, "pause")) == 0
    assert "state    paused (runs at 60x when resumed)" in printed(capsys)


def test_json_prints_the_api_answer_for_scripts(api_server, simulated_clock, capsys):
    assert main(cli(api_server, "advance", "90s", "--json")) == 0

    answer = json.loads("\n".join(printed(capsys)))
    assert answer["now"] == "2026-11-23T15:01:30Z" and answer["advance"]["ticks"] == 1


def test_without_a_simulated_clock_the_command_says_there_is_none(api_server, capsys):
    # the test process may have served a simulated clock already; a deployed API answers 404 instead
    assert main(cli(api_server)) == 2

    err = capsys.readouterr().err
    assert "GET /clock:" in err and ("404" in err or "system clock" in err)
