"""The local stack's handoff to the worker process: a wake-up for a worker that sweeps everything pending is
sent once until that worker's next run starts; events naming positions always go."""

from __future__ import annotations

from queue import Empty
from typing import Any

from optionflow.events import names as events
from optionflow.local.worker_process import Handoff


def _drain(handoff: Handoff) -> list[Any]:
    items = []
    while True:
        try:
            items.append(handoff.queue.get(timeout=0.5))
        except Empty:
            return items


def test_one_wake_up_is_on_its_way_until_the_run_it_starts():
    handoff = Handoff()
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "1"})
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "2"})  # the run the first starts reads it too
    assert _drain(handoff) == [("event", events.SIGNAL_RECEIVED, {"signal_id": "1"})]

    handoff.woken((events.SIGNAL_RECEIVED,))  # the signal processor's run starts
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "3"})
    assert _drain(handoff) == [("event", events.SIGNAL_RECEIVED, {"signal_id": "3"})]


def test_events_naming_positions_are_never_merged_and_manual_runs_always_go():
    handoff = Handoff()
    for ids in (["a"], ["b"]):
        handoff.dispatch(events.POSITION_OPENED, {"count": 1, "position_ids": ids})
    handoff.run("notifier", {"source": "optionflow.manual"})
    handoff.run("notifier", {"source": "optionflow.manual"})
    assert len(_drain(handoff)) == 4


def test_with_the_fast_path_off_nothing_is_sent_and_no_wake_up_is_left_pending():
    handoff = Handoff()
    handoff.fast_path.value = 0
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "1"})
    handoff.fast_path.value = 1
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "2"})
    assert _drain(handoff) == [("event", events.SIGNAL_RECEIVED, {"signal_id": "2"})]


def test_a_wake_up_lost_on_its_way_holds_the_fast_path_back_only_until_it_expires(monkeypatch):
    handoff = Handoff()
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "1"})
    _drain(handoff)  # received, say, by nobody: no run has started
    monkeypatch.setattr(Handoff, "WAKE_UP_EXPIRY", 0.0)
    handoff.dispatch(events.SIGNAL_RECEIVED, {"signal_id": "2"})
    assert _drain(handoff) == [("event", events.SIGNAL_RECEIVED, {"signal_id": "2"})]
