"""The local runner coalesces wake-ups behind a running worker without losing an operator's trigger, and
fires its schedules on the application clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from optionflow.local.runner import WorkerRunner
from optionflow.local.template import WorkerSpec
from optionflow.logic.runs import trigger_of

from tests import held_worker

SPEC = WorkerSpec(
    name="held",
    logical_id="HeldFunction",
    module="tests.held_worker",
    rate_seconds=60,
    schedule_input='{"source":"optionflow.schedule","execution_id":"<aws.scheduler.execution-id>"}',
    detail_types=("thing.happened",),
    schedule_name="optionflow-local-held",
)


def _wait_for_runs(count: int) -> None:
    deadline = time.monotonic() + 5
    while len(held_worker.events) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # and no run beyond it


def test_a_queued_manual_trigger_is_not_replaced_by_a_later_schedule_or_event():
    runner = WorkerRunner([SPEC])
    held_worker.events.clear()
    held_worker.release.clear()
    held_worker.started.clear()
    try:
        runner.trigger("held")  # a scheduled run, held in progress
        assert held_worker.started.wait(5)
        runner.trigger("held", {"source": "optionflow.manual", "worker": "held"})
        runner.trigger("held")
        runner.dispatch("thing.happened", {})
        held_worker.release.set()
        _wait_for_runs(2)
    finally:
        runner.stop()

    assert [trigger_of(e) for e in held_worker.events] == ["schedule", "manual"]


def test_wake_ups_behind_a_running_worker_collapse_into_one_more_run():
    runner = WorkerRunner([SPEC])
    held_worker.events.clear()
    held_worker.release.clear()
    held_worker.started.clear()
    try:
        runner.trigger("held")
        assert held_worker.started.wait(5)
        runner.trigger("held")
        runner.dispatch("thing.happened", {})
        held_worker.release.set()
        _wait_for_runs(2)
    finally:
        runner.stop()

    assert [trigger_of(e) for e in held_worker.events] == ["schedule", "event:thing.happened"]


def test_a_worker_woken_while_it_ran_waits_a_moment_and_takes_what_else_arrived_in_that_one_run():
    runner = WorkerRunner([SPEC], burst_wait_seconds=1.0)
    held_worker.events.clear()
    held_worker.release.clear()
    held_worker.started.clear()
    try:
        runner.trigger("held")
        assert held_worker.started.wait(5)
        runner.dispatch("thing.happened", {"n": 1})
        held_worker.release.set()
        time.sleep(0.3)  # the first run has ended; the second waits out the burst
        assert len(held_worker.events) == 1
        runner.dispatch("thing.happened", {"n": 2})
        _wait_for_runs(2)
    finally:
        runner.stop()

    assert [e.get("detail") for e in held_worker.events] == [None, {"n": 2}]


def test_a_lone_wake_up_runs_at_once_without_the_burst_wait():
    runner = WorkerRunner([SPEC], burst_wait_seconds=30.0)
    held_worker.events.clear()
    held_worker.release.set()
    try:
        runner.dispatch("thing.happened", {})
        _wait_for_runs(1)
    finally:
        runner.stop()

    assert [trigger_of(e) for e in held_worker.events] == ["event:thing.happened"]


class _MovableClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
        self.swept_to = self.at

    def runner(self) -> WorkerRunner:
        return WorkerRunner(
            [SPEC], clock=lambda: self.at, pace=lambda: 1.0, swept_to=lambda: self.swept_to, poll_seconds=0.01
        )


def _schedule_runs() -> int:
    return sum(trigger_of(e) == "schedule" for e in held_worker.events)


def test_schedules_fire_on_whole_minutes_of_the_application_clock_and_once_after_a_stall():
    clock = _MovableClock()
    runner = clock.runner()
    held_worker.events.clear()
    held_worker.release.set()  # runs return at once
    try:
        runner.start_schedules()
        clock.at += timedelta(seconds=59)
        time.sleep(0.1)
        assert _schedule_runs() == 0  # 15:00:59: not yet

        clock.at += timedelta(seconds=1)
        _wait_for_runs(1)
        assert _schedule_runs() == 1  # 15:01:00

        clock.at += timedelta(hours=1)  # nothing swept the hour (a stalled machine): its ticks fire once
        _wait_for_runs(2)
        assert _schedule_runs() == 2
    finally:
        runner.stop()


def test_ticks_an_advance_swept_do_not_fire_again():
    clock = _MovableClock()
    runner = clock.runner()
    held_worker.events.clear()
    held_worker.release.set()
    try:
        runner.start_schedules()
        time.sleep(0.05)
        clock.at += timedelta(minutes=30, seconds=20)  # `clock advance 30m20s` swept 15:01 to 15:30 itself
        clock.swept_to = clock.at
        time.sleep(0.2)
        assert _schedule_runs() == 0

        clock.at += timedelta(seconds=40)  # 15:31:00, which nothing swept yet
        _wait_for_runs(1)
        assert _schedule_runs() == 1
    finally:
        runner.stop()


def test_a_clock_at_a_hundred_times_speed_sweeps_every_simulated_minute():
    started, base = time.monotonic(), datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    runner = WorkerRunner(
        [SPEC], clock=lambda: base + timedelta(seconds=(time.monotonic() - started) * 100), pace=lambda: 100.0
    )
    held_worker.events.clear()
    held_worker.release.set()
    try:
        runner.start_schedules()
        time.sleep(1.5)  # 150 simulated seconds
    finally:
        runner.stop()

    assert _schedule_runs() == 2


def test_each_run_is_announced_just_before_it_starts():
    announced: list[tuple[str, int]] = []
    runner = WorkerRunner([SPEC], before_run=lambda name: announced.append((name, len(held_worker.events))))
    held_worker.events.clear()
    held_worker.release.clear()
    held_worker.started.clear()
    try:
        runner.trigger("held")
        assert held_worker.started.wait(5)
        runner.dispatch("thing.happened", {})
        held_worker.release.set()
        _wait_for_runs(2)
    finally:
        runner.stop()

    assert announced == [("held", 0), ("held", 1)]  # before the first run, and before the one it woke
