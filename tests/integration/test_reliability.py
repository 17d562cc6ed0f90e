"""Failures a trader's money must survive: floods of retries, a worker killed mid-batch, Postgres going away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest
from optionflow import config, observability
from optionflow.config import Settings
from optionflow.db import connection

from tests.api_events import call, request
from tests.conftest import JWT_SECRET, ROOT, WEBHOOK_SECRET
from tests.pipeline_support import alert, one, run, run_entry_chain

DELIVERIES = 1000 * int(os.environ.get("OPTIONFLOW_SOAK", "1"))  # `make soak` multiplies it
ALERT = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "secret": WEBHOOK_SECRET, "alert_id": "flood"}


def test_a_thousand_deliveries_from_sixteen_clients_make_one_signal_order_and_position(db, market):
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            for _ in range(DELIVERIES // 16 + 1):
                status, _ = call(request("POST", "/webhook", body=ALERT))
                with lock:
                    statuses.append(status)
        finally:
            connection.close_connection()

    threads = [threading.Thread(target=client) for _ in range(16)]
    # Sixteen invocations at once in one process is not Lambda's model (one at a time per instance), and
    # Powertools keeps one metric set per process: flushed by one thread while another adds to it, it raises.
    observability.keep_metrics(False)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        observability.keep_metrics(True)
    assert len(statuses) >= DELIVERIES
    assert statuses.count(202) == 1 and set(statuses) == {200, 202}
    run_entry_chain()
    run_entry_chain()
    assert one(db, "SELECT count(*) AS s FROM signals") == {"s": 1}
    assert one(db, "SELECT count(*) AS o FROM orders") == {"o": 1}
    assert one(db, "SELECT count(*) AS p FROM positions") == {"p": 1}


def test_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(db, market, settings):
    db.execute(
        "UPDATE risk_limits SET max_open_positions = 1000, max_positions_per_ticker = 1000, "
        "risk_per_trade = 100000, max_contracts_per_order = 1"
    )
    for i in range(60):
        alert("SPY", "BUY", "CALL", alert_id=f"k{i}")
    run("signal_processor")
    run("order_creator")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("shared", "functions", "."))}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.kill_target", settings.database_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "IN_BATCH"  # 20 fills done, transaction still open
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # Postgres rolled the killed batch back: nothing of it is visible
    assert one(db, "SELECT count(*) AS n FROM trades")["n"] == 0
    run("paper_executor")
    assert one(db, "SELECT count(*) AS n FROM orders WHERE status = 'FILLED'")["n"] == 60
    assert one(db, "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM trades") == {"n": 60, "d": 60}
    assert one(db, "SELECT count(*) AS n FROM positions")["n"] == 60


@pytest.fixture
def pg_dir() -> Any:
    from tests.e2e.local_stack_support import outside_basetemp

    with outside_basetemp("optionflow-reliability") as path:
        yield path


def test_postgres_stopped_answers_503_and_the_app_recovers_when_it_returns(
    pg_dir, frozen_clock, recording_bus
):
    from optionflow.db.connection import get_connection
    from optionflow.db.migrate import migrate
    from optionflow.local import embedded_postgres

    tmp_path = pg_dir
    url, server = embedded_postgres.start(tmp_path, database="optionflow")
    config.use_settings(Settings(database_url=url, jwt_secret=JWT_SECRET, webhook_secret=WEBHOOK_SECRET))
    connection.set_database_url(url)
    try:
        migrate(get_connection())

        def send(alert_id: str) -> int:
            return call(request("POST", "/webhook", body={**ALERT, "alert_id": alert_id}))[0]

        assert send("before") == 202
        server.cleanup()  # Postgres stops while the app keeps its (now dead) connection
        assert [send(f"down-{i}") for i in range(3)] == [503, 503, 503]
        url_again, server = embedded_postgres.start(tmp_path, database="optionflow")
        assert url_again == url
        assert send("after") == 202  # no restart of the app: the broken connection was replaced
        rows: Any = connection.run_in_transaction(
            lambda cur: (cur.execute("SELECT alert_id FROM signals ORDER BY seq"), cur.fetchall())[1]
        )
        assert [r["alert_id"] for r in rows] == ["before", "after"]
    finally:
        connection.close_connection()
        server.cleanup()
        config.reset_settings()
