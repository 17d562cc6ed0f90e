"""Replay's pure parts: the rules file, the window, the sweep times, and its copy of the fast-path routes."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from optionflow.calendar import NEW_YORK
from optionflow.cli.replay import _ProgressLine
from optionflow.local.template import worker_specs
from optionflow.logic.replay import FAST_PATH, SWEEP, Outcome, Progress, Window, session_ticks
from optionflow.models.replay_rules import RulesFileError, load_rules, parse_rules
from optionflow.workers import BY_NAME

ROOT = Path(__file__).resolve().parents[2]


def test_replay_routes_fast_path_events_as_the_template_rules_do_and_never_runs_the_notifier() -> None:
    # the notifier and the reconciler are not replayed: a replay messages no one and has no broker
    specs = [spec for spec in worker_specs(ROOT / "template.yaml") if BY_NAME[spec.name].replayed]
    routes = {dt: spec.name for spec in specs for dt in spec.detail_types}
    assert routes == FAST_PATH
    assert set(SWEEP) == {spec.name for spec in specs}
    assert "notifier" not in SWEEP and "notifier" not in FAST_PATH.values()  # a replay messages no one
    assert "reconciler" not in SWEEP


def test_rules_file_sets_only_the_keys_it_names_and_null_switches_an_exit_rule_off() -> None:
    rules = parse_rules(
        '{"risk_limits": {"risk_per_trade": 250.5, "kill_switch": false},'
        ' "exit_rules": {"stop_loss_pct": 20, "trailing_stop_pct": null}}',
        source="r.json",
        yaml_syntax=False,
    )
    assert rules.risk_limit_changes() == {"risk_per_trade": Decimal("250.5"), "kill_switch": False}
    assert rules.exit_rule_changes() == {"stop_loss_pct": Decimal(20), "trailing_stop_pct": None}


def test_yaml_rules_file_reads_like_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("exit_rules:\n  close_minutes_before_close: 15\nrisk_limits:\n  max_open_positions: 3\n")
    rules = load_rules(path)
    assert rules.exit_rule_changes() == {"close_minutes_before_close": 15}
    assert rules.risk_limit_changes() == {"max_open_positions": 3}


def test_an_empty_rules_file_changes_nothing() -> None:
    rules = parse_rules("", source="r.yaml", yaml_syntax=True)
    assert rules.risk_limit_changes() == {} and rules.exit_rule_changes() == {}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            '{"exit_rules": {"stop_loss_pct": 150}}',
            "exit_rules.stop_loss_pct: Input should be less than or equal to 100",
        ),
        ('{"exit_rules": {"stop_loss": 5}}', "exit_rules.stop_loss: is not a known key"),
        ('{"risk_limits": {"max_open_positions": null}}', "risk_limits.max_open_positions"),
        ('{"risk_limits": {"risk_per_trade": 0}}', "risk_limits.risk_per_trade"),
        ('{"risk_limits": {"kill_switch": "yes"}}', "risk_limits.kill_switch"),
        ('{"kill_switch": true}', "kill_switch: is not a known key"),
        ('{"exit_rule": {}}', "exit_rule: is not a known key"),
        ('{"exit_rules": {"min_dte": 1.5}}', "exit_rules.min_dte"),
        ("[1, 2]", "must be a mapping"),
        ('{"exit_rules": ', "not valid JSON"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_key(text: str, named: str) -> None:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(text, source="rules.json", yaml_syntax=False)
    assert str(caught.value).startswith("rules.json: ")
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreadable_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match=r"missing\.yaml: cannot read it"):
        load_rules(tmp_path / "missing.yaml")


def test_window_covers_whole_new_york_days_with_the_last_included() -> None:
    window = Window(date(2026, 11, 23), date(2026, 11, 24))
    assert window.start == datetime(2026, 11, 23, 0, 0, tzinfo=NEW_YORK)
    assert window.end == datetime(2026, 11, 25, 0, 0, tzinfo=NEW_YORK)
    assert window.days() == [date(2026, 11, 23), date(2026, 11, 24)]
    with pytest.raises(ValueError, match="before it starts"):
        Window(date(2026, 11, 24), date(2026, 11, 23))


def test_sweeps_run_every_step_from_the_open_through_the_close_and_not_on_closed_days() -> None:
    ticks = session_ticks(date(2026, 11, 23), timedelta(minutes=1))
    assert ticks[0] == datetime(2026, 11, 23, 9, 30, tzinfo=NEW_YORK)
    assert ticks[-1] == datetime(2026, 11, 23, 16, 0, tzinfo=NEW_YORK)
    assert len(ticks) == 391
    early = session_ticks(date(2026, 11, 27), timedelta(minutes=7))  # the day after Thanksgiving closes 13:00
    assert early[-1] == datetime(2026, 11, 27, 13, 0, tzinfo=NEW_YORK)
    assert session_ticks(date(2026, 11, 26), timedelta(minutes=1)) == []  # Thanksgiving
    assert session_ticks(date(2026, 11, 28), timedelta(minutes=1)) == []  # Saturday


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_writes_a_line_per_day_elsewhere() -> None:
    days = [Progress(date(2026, 11, 23 + i), i + 1, 3, 40 * (i + 1), 12 * (i + 1)) for i in range(3)]
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        line = _ProgressLine(stream)
        for progress in days:
            line(progress)
        line.done()
    assert log.getvalue().splitlines() == [
        "replay: 2026-11-23 (1/3 days), 40 alerts, 12 positions",
        "replay: 2026-11-24 (2/3 days), 80 alerts, 24 positions",
        "replay: 2026-11-25 (3/3 days), 120 alerts, 36 positions",
    ]
    assert terminal.getvalue().count("\n") == 1 and terminal.getvalue().count("\r") == 3
    assert terminal.getvalue().endswith("replay: 2026-11-25 (3/3 days), 120 alerts, 36 positions\n")


OPEN = Outcome(
    status="EXECUTED",
    position_status="OPEN",
    option_symbol="SPY   261127C00600000",
    quantity=1,
    entry_price=Decimal("3.55"),
    cost_basis=Decimal("355.00"),
    unrealized_pnl=Decimal("-6.00"),
)


def test_open_positions_whose_pnl_the_table_shows_apart_are_not_the_same() -> None:
    replayed = dataclasses.replace(OPEN, unrealized_pnl=Decimal("-7.00"))
    assert (OPEN.describe(), replayed.describe()) == ("open -6.00", "open -7.00")
    assert not OPEN.same_as(replayed)
    assert OPEN.same_as(dataclasses.replace(OPEN))


def test_positions_filled_at_different_prices_are_not_the_same() -> None:
    refilled = dataclasses.replace(OPEN, entry_price=Decimal("3.60"), cost_basis=Decimal("360.00"))
    assert not OPEN.same_as(refilled)


def test_a_position_the_live_run_closed_after_the_window_is_the_same_as_one_still_open_in_the_replay() -> (
    None
):
    # its P&L where the replay stopped was never recorded, so there is no number to tell the two apart
    closed_later = dataclasses.replace(
        OPEN,
        position_status="CLOSED",
        closed_at=datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK),
        exit_rule="STOP_LOSS",
        realized_pnl=Decimal("-42.00"),
    ).as_of(datetime(2026, 11, 24, 0, 0, tzinfo=NEW_YORK))
    assert closed_later.describe() == "open (closed after the window: STOP_LOSS -42.00)"
    assert closed_later.same_as(dataclasses.replace(OPEN, unrealized_pnl=Decimal("12.00")))


def test_closed_positions_compare_by_exit_and_realized_pnl_not_by_their_last_mark() -> None:
    closed = dataclasses.replace(
        OPEN, position_status="CLOSED", exit_rule="TIME_STOP", realized_pnl=Decimal(5)
    )
    assert closed.same_as(dataclasses.replace(closed, unrealized_pnl=Decimal("1.00")))
    assert not closed.same_as(dataclasses.replace(closed, realized_pnl=Decimal(6)))
