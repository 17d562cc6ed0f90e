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


class _MovableClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
        self.pace = 1.0


def _schedule_runs(runner: WorkerRunner) -> int:
    return sum(trigger_of(e) == "schedule" for e in held_worker.events)


def test_schedules_fire_on_the_application_clock_once_per_rate_and_once_after_a_jump():
    clock = _MovableClock()
    runner = WorkerRunner([SPEC], clock=lambda: clock.at, pace=lambda: clock.pace, poll_seconds=0.01)
    held_worker.events.clear()
    held_worker.release.set()  # runs return at once
    try:
        runner.start_schedules()
        time.sleep(0.1)
        assert _schedule_runs(runner) == 0  # no simulated minute has passed

        clock.at += timedelta(seconds=60)
        _wait_for_runs(1)
        assert _schedule_runs(runner) == 1

        # an advance of a day has run its sweeps itself: the schedule fires once, not 1,440 times
        clock.at += timedelta(days=1)
        _wait_for_runs(2)
        assert _schedule_runs(runner) == 2
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

    assert _schedule_runs(runner) == 2
