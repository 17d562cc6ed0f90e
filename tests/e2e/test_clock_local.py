"""`optionflow clock` on the local stack as `make run` starts it: the API process drives the clock, and the
worker process, which waits while an advance sweeps, then works at the clock's new time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from optionflow.cli import main

from tests.api_events import token
from tests.conftest import MARKET_OPEN, WEBHOOK_SECRET
from tests.e2e.local_stack_support import running_local_stack
from tests.e2e.test_local_stack import http, wait_for
from tests.e2e.test_worker_control_local import sql


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_local_stack("optionflow-clock") as running:
        yield running


def clock(stack: Any, capsys: Any, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["clock", *args, "--json", "--api", stack.url, "--token", token("admin")]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_an_advance_steps_the_book_and_the_worker_process_carries_on_at_the_new_time(stack, capsys):
    paused = clock(stack, capsys, "pause")
    start = datetime.fromisoformat(paused["now"])
    assert MARKET_OPEN <= start < MARKET_OPEN + timedelta(minutes=5)
    alert = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "alert_id": "clock-e2e"}
    assert http(stack, "POST", "/webhook", {**alert, "secret": WEBHOOK_SECRET})[0] == 202
    # the worker process fills it on the fast path, at the paused instant
    [opened] = wait_for(lambda: sql(stack, "SELECT id, opened_at FROM positions WHERE status = 'OPEN'"))
    assert opened["opened_at"] == start
    # and the fast path's last stage, which an advance would otherwise find still to run
    wait_for(
        lambda: sql(
            stack,
            "SELECT 1 FROM worker_runs WHERE worker = 'exit_monitor' AND trigger = 'event:positions.refreshed'",
        )
    )

    advanced = clock(stack, capsys, "advance", "30m")

    target = start + timedelta(minutes=30)
    assert datetime.fromisoformat(advanced["now"]) == target and advanced["paused"] is True
    assert advanced["advance"]["ticks"] == 30
    # marked at the advance's last minute; the worker process's schedules, on the paused clock, swept nothing
    time.sleep(1.5)
    last_tick = target.replace(second=0, microsecond=0)
    assert sql(stack, "SELECT priced_at FROM positions WHERE id = %s", opened["id"]) == [
        {"priced_at": last_tick}
    ]

    # the worker process reads the clock afresh for its run, though its cache held the old time
    assert (
        main(["workers", "trigger", "position_refresher", "--api", stack.url, "--token", token("admin")]) == 0
    )
    assert wait_for(
        lambda: sql(
            stack,
            "SELECT started_at FROM worker_runs WHERE worker = 'position_refresher' AND trigger = 'manual'",
        )
    ) == [{"started_at": target}]
    assert clock(stack, capsys)["now"] == advanced["now"]
