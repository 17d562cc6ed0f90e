"""The simulated clock lives in the database: every process tells the same time, a stack start never moves
it back, and a worker run never works at an instant a change to the clock has moved past."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from typing import Any

import psycopg2
import psycopg2.extras
from optionflow import clock
from optionflow.composition import for_process
from optionflow.db import simulated_clock as store
from optionflow.logic import clock_control
from optionflow.logic.runs import run_worker

from tests.conftest import MARKET_OPEN
from tests.pipeline_support import one

LATER = MARKET_OPEN + timedelta(hours=1)


@contextmanager
def another_process(settings: Any) -> Iterator[Any]:
    """A session of another process of the stack (the worker process, say); closing it drops its locks."""
    conn = psycopg2.connect(settings.database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    conn.autocommit = True
    try:
        yield conn.cursor()
    finally:
        conn.close()


def test_a_book_without_a_clock_starts_it_where_the_settings_say_running_in_real_time(db):
    simulated = clock.SimulatedClock(MARKET_OPEN)
    clock.set_clock(simulated)

    state, started = clock_control.start(for_process(), MARKET_OPEN)

    assert started and state.anchor_at == MARKET_OPEN and not state.paused and state.speed == 1.0
    assert state.changed_by == clock.STARTED_BY
    assert MARKET_OPEN <= simulated.now() < MARKET_OPEN + timedelta(seconds=5)


def test_a_later_start_moves_the_clock_there_and_an_earlier_one_leaves_it_where_it_stands(simulated_clock):
    _, started = clock_control.start(for_process(), LATER)
    assert started and simulated_clock.now() >= LATER

    state, started = clock_control.start(
        for_process(), MARKET_OPEN
    )  # the same stack started again with its old setting

    assert not started and state.anchor_at == LATER  # the book has seen 11:00; it does not go back to 10:00
    assert simulated_clock.now() >= LATER


def test_two_processes_tell_the_same_time_and_a_run_reads_a_change_made_elsewhere_at_once(
    simulated_clock, settings
):
    # another process's clock that has just read the state, and would trust it for a minute
    elsewhere = clock.SimulatedClock(MARKET_OPEN, max_age=60)
    assert elsewhere.now() == simulated_clock.now() == MARKET_OPEN

    clock_control.set_time(for_process(), LATER, by="ops")

    assert elsewhere.now() == MARKET_OPEN  # its cache, until it reads again
    clock.set_clock(elsewhere)
    summary = run_worker(
        for_process(), "signal_processor", {"source": "optionflow.schedule"}, lambda now: now.isoformat()
    )
    assert summary["result"] == LATER.astimezone(UTC).isoformat()


def test_a_run_elsewhere_waits_for_a_change_under_way_then_works_at_the_new_time(simulated_clock, settings):
    seen: list[Any] = []
    with another_process(settings) as changer:
        store.hold_for_change(changer)  # a change (an advance, say) under way in another process
        worker = threading.Thread(
            target=lambda: seen.append(
                run_worker(
                    for_process(),
                    "order_creator",
                    {"source": "optionflow.schedule"},
                    lambda now: now.isoformat(),
                )["result"]
            )
        )
        worker.start()
        time.sleep(0.3)
        assert seen == []  # the run waits

        store.save(
            changer, at=LATER, wall=clock.wall_now(), speed=1.0, paused=True, swept_to=LATER, by="advance"
        )
        store.release_from_change(changer)
        worker.join(5)

    assert seen == [LATER.astimezone(UTC).isoformat()]


def test_a_change_waits_for_a_run_under_way_elsewhere(simulated_clock, settings, db):
    done = threading.Event()
    with another_process(settings) as running:
        store.hold_for_run(running)  # a worker run in progress in another process
        changer = threading.Thread(
            target=lambda: (clock_control.set_time(for_process(), LATER, by="ops"), done.set())
        )
        changer.start()
        assert not done.wait(0.3)
        assert one(db, "SELECT anchor_at FROM simulated_clock")["anchor_at"] == MARKET_OPEN

        store.release_from_run(running)
        assert done.wait(5)
        changer.join(5)

    assert one(db, "SELECT anchor_at FROM simulated_clock")["anchor_at"] == LATER


def test_a_replay_from_the_command_line_reads_the_real_books_clock_from_its_database(
    simulated_clock, settings, market
):
    from optionflow import config
    from optionflow.config import Settings
    from optionflow.db import connection
    from optionflow.logic.replay import Window, replay

    from tests.pipeline_support import alert

    alert("SPY", "BUY", "CALL", quantity=1)  # received at 10:00
    clock_control.set_time(for_process(), MARKET_OPEN + timedelta(minutes=20), by="ops")
    # a command-line process: OPTIONFLOW_CLOCK_START, and the book's URL only in hand, not in its settings
    config.use_settings(Settings(clock_start=MARKET_OPEN))
    connection.set_database_url(None)
    clock.set_clock(clock.SimulatedClock(MARKET_OPEN))

    report = replay(
        for_process(),
        database_url=settings.database_url,
        window=Window(MARKET_OPEN.date(), MARKET_OPEN.date()),
    )

    assert report.clock_at == MARKET_OPEN + timedelta(minutes=20)
    assert report.stopped_by == "now"
