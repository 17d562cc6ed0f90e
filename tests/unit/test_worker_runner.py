"""The local runner coalesces wake-ups behind a running worker without losing an operator's trigger."""

from __future__ import annotations

import time

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
