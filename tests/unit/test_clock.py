"""The simulated clock's arithmetic and the schedule ticks an advance sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from optionflow.clock import ClockState
from optionflow.logic.clock_control import schedule_ticks
from optionflow.workers import NAMES as SWEEP

WALL = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MONDAY_10 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def state(*, speed: float = 1.0, paused: bool = False) -> ClockState:
    return ClockState(
        anchor_at=MONDAY_10, anchor_wall=WALL, speed=speed, paused=paused, swept_to=MONDAY_10, changed_by="t"
    )


def test_a_running_clock_moves_on_at_its_speed_from_its_anchor():
    assert state().at(WALL + timedelta(seconds=90)) == MONDAY_10 + timedelta(seconds=90)
    assert state(speed=60).at(WALL + timedelta(seconds=10)) == MONDAY_10 + timedelta(minutes=10)
    assert state(speed=0.5).at(WALL + timedelta(seconds=10)) == MONDAY_10 + timedelta(seconds=5)


def test_a_paused_clock_stands_at_its_anchor_whatever_the_wall_clock_says():
    assert state(paused=True, speed=60).at(WALL + timedelta(hours=3)) == MONDAY_10


def test_ticks_fall_on_whole_minutes_after_the_start_up_to_and_including_the_end():
    every_minute = dict.fromkeys(SWEEP, 60)
    ticks = schedule_ticks(MONDAY_10 + timedelta(seconds=30), MONDAY_10 + timedelta(minutes=3), every_minute)

    assert [at for at, _ in ticks] == [MONDAY_10 + timedelta(minutes=m) for m in (1, 2, 3)]
    assert all(due == list(SWEEP) for _, due in ticks)


def test_the_start_instant_itself_is_not_swept_again_and_a_short_step_may_sweep_nothing():
    every_minute = dict.fromkeys(SWEEP, 60)
    assert [at for at, _ in schedule_ticks(MONDAY_10, MONDAY_10 + timedelta(minutes=1), every_minute)] == [
        MONDAY_10 + timedelta(minutes=1)
    ]
    assert schedule_ticks(MONDAY_10, MONDAY_10 + timedelta(seconds=59), every_minute) == []


def test_workers_on_different_rates_sweep_together_where_their_ticks_meet_in_pipeline_order():
    rates = {**dict.fromkeys(SWEEP, 120), "exit_monitor": 60, "signal_processor": 60}
    ticks = schedule_ticks(MONDAY_10, MONDAY_10 + timedelta(minutes=2), rates)

    assert ticks == [
        (MONDAY_10 + timedelta(minutes=1), ["signal_processor", "exit_monitor"]),
        (MONDAY_10 + timedelta(minutes=2), list(SWEEP)),
    ]
