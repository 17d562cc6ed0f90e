"""What a worker run makes of the event that woke it: a schedule, a manual run, one EventBridge event, or an
SQS batch of them (the deployed fast path)."""

from __future__ import annotations

import json
from typing import Any

from optionflow.logic.runs import position_scope, trigger_of

from tests.conftest import load_event


def _batch(*details: Any, detail_type: str = "position.opened") -> dict[str, Any]:
    records = []
    for detail in details:
        body = (
            detail if isinstance(detail, str) else json.dumps({"detail-type": detail_type, "detail": detail})
        )
        records.append({"eventSource": "aws:sqs", "body": body})
    return {"Records": records}


def test_a_batch_is_one_fast_path_run_scoped_to_every_position_its_events_name_once_each():
    batch = _batch({"position_ids": ["a", "b"]}, {"position_ids": ["b", "c"]})
    assert trigger_of(batch) == "event:position.opened"
    assert position_scope(batch) == ["a", "b", "c"]


def test_one_event_in_the_batch_that_names_no_positions_makes_the_run_cover_the_whole_book():
    assert position_scope(_batch({"position_ids": ["a"]}, {"count": 3})) is None


def test_an_unreadable_message_still_wakes_the_worker_for_the_whole_book():
    batch = _batch({"position_ids": ["a"]}, "not json")
    assert position_scope(batch) is None
    assert trigger_of(batch) == "event:position.opened,unknown"


def test_the_recorded_batch_fixture_names_its_two_positions():
    batch = load_event("workers/fast_path_batch.json")
    assert trigger_of(batch) == "event:position.opened"
    assert position_scope(batch) == [
        "00000000-0000-4000-8000-0000000000a1",
        "00000000-0000-4000-8000-0000000000a2",
    ]


def test_schedules_manual_runs_and_single_events_read_as_before():
    assert trigger_of(load_event("workers/exit_monitor.json")) == "schedule"
    assert position_scope(load_event("workers/exit_monitor.json")) is None
    assert trigger_of({"source": "optionflow.manual"}) == "manual"
    single = load_event("workers/fast_path_signal_received.json")
    assert trigger_of(single) == "event:signal.received"
    assert trigger_of({"Records": [{"eventSource": "aws:s3"}]}) == "manual"
