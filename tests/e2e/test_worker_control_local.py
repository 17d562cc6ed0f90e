"""`optionflow workers pause exit_monitor` on the local stack stops exits until resumed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.extras
import pytest
from optionflow.cli import main

from tests.api_events import token
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.local_stack_support import running_local_stack
from tests.e2e.test_local_stack import http, wait_for


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_local_stack("optionflow-workers") as running:
        yield running


def sql(stack: Any, statement: str, *args: Any) -> list[dict[str, Any]]:
    conn = psycopg2.connect(stack.settings.database_url)
    conn.autocommit = True
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(statement, args)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def test_paused_exit_monitor_leaves_a_stopped_out_position_open_until_resumed(stack, capsys):
    cli = ["--api", stack.url, "--token", token("admin")]
    admin = {"Authorization": f"Bearer {token('admin')}"}
    assert main(["workers", "pause", "exit_monitor", "--reason", "e2e", *cli]) == 0
    status, _ = http(
        stack,
        "POST",
        "/webhook",
        {
            "ticker": "SPY",
            "action": "BUY",
            "direction": "CALL",
            "alert_id": "pause-e2e",
            "secret": WEBHOOK_SECRET,
        },
    )
    assert status == 202
    [position] = wait_for(lambda: sql(stack, "SELECT id FROM positions WHERE status = 'OPEN'"))
    # Marked far below its entry: a 50 % stop loss must close it as soon as the exit monitor looks.
    sql(stack, "UPDATE positions SET entry_price = entry_price * 4 WHERE id = %s", position["id"])

    # The refresh wakes the exit monitor on its fast path in the worker process, which must do nothing.
    assert http(stack, "POST", "/refresh-positions", headers=admin)[0] == 200
    time.sleep(2.0)
    assert sql(stack, "SELECT status FROM positions WHERE id = %s", position["id"]) == [{"status": "OPEN"}]
    assert sql(stack, "SELECT count(*) AS n FROM orders WHERE purpose = 'EXIT'") == [{"n": 0}]

    assert main(["workers", "resume", "exit-monitor", *cli]) == 0
    assert http(stack, "POST", "/refresh-positions", headers=admin)[0] == 200

    def closed() -> Any:
        rows = sql(stack, "SELECT status, exit_reason FROM positions WHERE id = %s", position["id"])
        return rows if rows[0]["status"] == "CLOSED" else None

    assert wait_for(closed) == [{"status": "CLOSED", "exit_reason": "STOP_LOSS"}]
    assert capsys.readouterr().out.splitlines()[-1] == "exit_monitor: resumed"
