"""Pausing a worker stops its scheduled and fast-path runs until resumed; a manual trigger still runs it."""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from optionflow.cli import main
from optionflow.composition import for_process
from optionflow.events.worker_invoker import CallbackInvoker, set_invoker
from optionflow.local.lambda_context import LocalContext
from optionflow.local.runner import WorkerRunner
from optionflow.local.template import worker_specs
from optionflow.logic import worker_control

from tests.api_events import call, request, token
from tests.conftest import ROOT, load_event
from tests.pipeline_support import WORKERS, alert, one, run, run_entry_chain


def handle(worker: str, event: dict[str, Any]) -> dict[str, Any]:
    handler = importlib.import_module(f"workers.{worker}").lambda_handler
    return dict(handler(event, LocalContext(worker)))


def status_of(db: Any, signal_id: str) -> str:
    return str(one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"])


@pytest.fixture
def in_process_workers() -> Any:
    """The API's worker invoker runs the worker's real handler here, as the worker process would."""
    runner = WorkerRunner(worker_specs(Path(ROOT) / "template.yaml"))
    invoked: list[tuple[str, dict[str, Any]]] = []

    def invoke(worker: str, event: dict[str, Any]) -> None:
        invoked.append((worker, event))
        runner.invoke(worker, event)

    set_invoker(CallbackInvoker(invoke))
    yield invoked
    set_invoker(None)


def test_pause_stops_scheduled_runs_until_resumed(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    worker_control.set_paused(for_process(), "signal_processor", True, by="ops", reason="broker maintenance")

    summary = run("signal_processor")

    assert summary == {"worker": "signal_processor", "trigger": "schedule", "paused": True, "result": None}
    assert status_of(db, signal_id) == "PENDING"
    assert one(db, "SELECT count(*) AS n FROM worker_runs")["n"] == 0  # a skipped run is not a run
    worker_control.set_paused(for_process(), "signal_processor", False, by="ops")
    assert run("signal_processor")["result"] == 1
    assert status_of(db, signal_id) == "ACCEPTED"


def test_a_paused_worker_ignores_its_fast_path_event(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    worker_control.set_paused(for_process(), "signal-processor", True, by="ops")
    event = load_event("workers/fast_path_signal_received.json")

    assert handle("signal_processor", event)["paused"] is True
    assert status_of(db, signal_id) == "PENDING"


def test_a_manual_trigger_runs_a_paused_worker(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    worker_control.set_paused(for_process(), "signal_processor", True, by="ops")
    event = {**load_event("workers/manual_trigger.json"), "worker": "signal_processor"}

    summary = handle("signal_processor", event)

    assert summary["trigger"] == "manual" and "paused" not in summary
    assert status_of(db, signal_id) == "ACCEPTED"


def test_the_schedule_input_with_a_manual_execution_id_counts_as_manual(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    worker_control.set_paused(for_process(), "signal_processor", True, by="ops")
    event = {**load_event("workers/signal_processor.json"), "execution_id": "manual-1234"}

    assert handle("signal_processor", event)["trigger"] == "manual"
    assert status_of(db, signal_id) == "ACCEPTED"


def test_paused_exit_monitor_leaves_a_stopped_out_position_open_until_resumed(db, market):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.4")  # through the 50 % stop
    run("position_refresher")
    worker_control.set_paused(for_process(), "exit_monitor", True, by="ops")

    run("exit_monitor")
    run("paper_executor")
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"

    worker_control.set_paused(for_process(), "exit_monitor", False, by="ops")
    run("exit_monitor")
    run("paper_executor")
    assert one(db, "SELECT status, exit_reason FROM positions") == {
        "status": "CLOSED",
        "exit_reason": "STOP_LOSS",
    }


def test_running_the_whole_chain_now_skips_a_paused_exit_monitor(db, market):
    # POST /paper-trading is "run everything now", not a trigger of this worker: a pause holds.
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.4")  # through the 50 % stop
    worker_control.set_paused(for_process(), "exit_monitor", True, by="ops", reason="earnings day")

    status, body = call(request("POST", "/paper-trading", scope="admin"))

    assert status == 200, body
    assert body["stages"]["exit_monitor"] == {"paused": True}
    assert one(db, "SELECT status FROM positions")["status"] == "OPEN"
    assert one(db, "SELECT count(*) AS n FROM orders WHERE purpose = 'EXIT'")["n"] == 0


def test_pausing_twice_says_so_and_keeps_who_paused_it_and_why(db, frozen_clock):
    first = worker_control.set_paused(for_process(), "exit_monitor", True, by="alice", reason="earnings")
    again = worker_control.set_paused(for_process(), "exit_monitor", True, by="bob", reason="other")

    assert first["changed"] is True and again["changed"] is False
    assert (again["changed_by"], again["reason"]) == ("alice", "earnings")
    resumed = worker_control.set_paused(for_process(), "exit_monitor", False, by="bob")
    assert (resumed["changed"], resumed["paused"], resumed["changed_by"], resumed["reason"]) == (
        True,
        False,
        "bob",
        None,
    )
    assert worker_control.set_paused(for_process(), "exit_monitor", False, by="bob")["changed"] is False


def test_two_operators_pausing_a_never_paused_worker_at_once_get_one_change_and_one_already(db, settings):
    import threading
    import time

    import psycopg2
    import psycopg2.extras
    from optionflow.db import worker_controls

    def connect() -> Any:
        return psycopg2.connect(settings.database_url, cursor_factory=psycopg2.extras.RealDictCursor)

    first, second = connect(), connect()
    try:
        now = one(db, "SELECT now() AS t")["t"]
        # alice's pause is written but not yet committed when bob's arrives (no row yet to lock)
        assert worker_controls.set_paused(first.cursor(), "exit_monitor", True, now, "alice", "earnings")[0]
        answer: list[Any] = []
        bob = threading.Thread(
            target=lambda: answer.append(
                worker_controls.set_paused(second.cursor(), "exit_monitor", True, now, "bob", "other")
            )
        )
        bob.start()
        time.sleep(0.3)  # bob now waits on alice's row
        first.commit()
        bob.join(10)
        second.commit()
    finally:
        first.close()
        second.close()

    [(changed, control)] = answer
    assert changed is False and (control.changed_by, control.reason) == ("alice", "earnings")
    assert one(db, "SELECT changed_by, reason FROM worker_controls") == {
        "changed_by": "alice",
        "reason": "earnings",
    }


def test_resuming_a_worker_never_paused_changes_nothing(db):
    assert worker_control.set_paused(for_process(), "order_creator", False, by="ops")["changed"] is False
    assert one(db, "SELECT count(*) AS n FROM worker_controls")["n"] == 0


# -- routes --------------------------------------------------------------------------------------


def test_get_workers_lists_every_worker_with_its_pause_last_run_and_schedule(db, market):
    run("signal_processor")
    call(request("POST", "/workers/exit_monitor/pause", body={"reason": "testing"}, scope="admin"))

    status, body = call(request("GET", "/workers", scope="admin"))

    assert status == 200
    assert [w["worker"] for w in body["items"]] == list(WORKERS)
    by_name = {w["worker"]: w for w in body["items"]}
    assert by_name["exit_monitor"]["paused"] is True
    assert by_name["exit_monitor"]["reason"] == "testing"
    assert by_name["exit_monitor"]["changed_by"] == "optionflow-user"  # the token's subject
    assert by_name["exit_monitor"]["schedule"] == "optionflow-dev-exit-monitor"
    assert by_name["signal_processor"]["paused"] is False
    last = by_name["signal_processor"]["last_run"]
    assert (last["trigger"], last["processed"], last["succeeded"], last["error"]) == (
        "schedule",
        0,
        True,
        None,
    )
    assert last["started_at"] and last["finished_at"]
    assert by_name["order_creator"]["last_run"] is None


def test_pause_and_resume_routes_are_idempotent(db):
    status, first = call(request("POST", "/workers/exit-monitor/pause", scope="admin"))
    assert (status, first["worker"], first["changed"], first["paused"]) == (200, "exit_monitor", True, True)
    _, again = call(request("POST", "/workers/exit_monitor/pause", scope="admin"))
    assert (again["changed"], again["paused"]) == (False, True)
    _, resumed = call(request("POST", "/workers/exit_monitor/resume", scope="admin"))
    assert (resumed["changed"], resumed["paused"]) == (True, False)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/workers"),
        ("POST", "/workers/exit_monitor/pause"),
        ("POST", "/workers/exit_monitor/resume"),
        ("POST", "/workers/exit_monitor/trigger"),
    ],
)
def test_worker_routes_need_an_admin_token(db, method, path):
    assert call(request(method, path))[0] == 401
    status, body = call(request(method, path, scope="read"))
    assert status == 403 and "admin" in body["detail"]
    assert one(db, "SELECT count(*) AS n FROM worker_controls")["n"] == 0


@pytest.mark.parametrize("verb", ["pause", "resume", "trigger"])
def test_an_unknown_worker_is_a_404_naming_the_known_ones(db, verb):
    status, body = call(request("POST", f"/workers/order_cancel/{verb}", scope="admin"))
    assert status == 404
    assert "order_cancel" in body["detail"] and all(w in body["detail"] for w in WORKERS)
    assert body["errors"][0]["field"] == "name"


def test_a_too_long_pause_reason_is_a_422_naming_the_field(db):
    status, body = call(
        request("POST", "/workers/exit_monitor/pause", body={"reason": "x" * 501}, scope="admin")
    )
    assert status == 422 and "reason" in body["detail"]
    assert one(db, "SELECT count(*) AS n FROM worker_controls")["n"] == 0


def test_a_pause_reason_with_a_nul_character_is_a_422_not_a_500(db):
    # Postgres text cannot hold NUL: unchecked, the driver raises and the pause is a bare 500.
    status, body = call(
        request("POST", "/workers/exit_monitor/pause", body={"reason": "nul \u0000 here"}, scope="admin")
    )
    assert status == 422 and [e["field"] for e in body["errors"]] == ["reason"]
    assert one(db, "SELECT count(*) AS n FROM worker_controls")["n"] == 0


def test_trigger_wakes_a_paused_worker_outside_the_request(db, market, in_process_workers):
    signal_id = alert("SPY", "BUY", "CALL")
    call(request("POST", "/workers/signal_processor/pause", scope="admin"))

    status, body = call(request("POST", "/workers/signal_processor/trigger", scope="admin"))

    assert status == 202
    assert (body["worker"], body["triggered"], body["paused"]) == ("signal_processor", True, True)
    [(worker, event)] = in_process_workers
    assert worker == "signal_processor" and event == body["event"]
    assert event["source"] == "optionflow.manual" and event["requested_by"] == "optionflow-user"
    assert status_of(db, signal_id) == "ACCEPTED"


def test_trigger_without_a_way_to_wake_workers_is_a_503_not_a_500(db):
    set_invoker(None)  # no worker functions configured in these settings
    status, body = call(request("POST", "/workers/exit_monitor/trigger", scope="admin"))
    assert status == 503 and "FUNCTION_NAME" in body["detail"]


# -- command line, against the API on a real port --------------------------------------------------


def test_cli_pauses_lists_and_resumes_a_worker_through_the_api(api_server, capsys):
    api = ["--api", api_server, "--token", token("admin")]

    assert main(["workers", "pause", "exit-monitor", "--reason", "earnings day", *api]) == 0
    assert main(["workers", "pause", "exit_monitor", *api]) == 0
    assert main(["workers", "list", *api]) == 0
    assert main(["workers", "resume", "exit_monitor", *api]) == 0
    assert main(["workers", "resume", "exit_monitor", *api]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "exit_monitor: paused (earnings day)"
    assert out[1].startswith("exit_monitor: already paused since ") and out[1].endswith(" by optionflow-user")
    table = {line.split()[0]: line for line in out[2:-2]}
    assert set(WORKERS) <= set(table)
    assert "PAUSED" in table["exit_monitor"] and "earnings day" in table["exit_monitor"]
    assert "running" in table["signal_processor"]
    assert out[-2:] == ["exit_monitor: resumed", "exit_monitor: already running"]


def test_cli_trigger_runs_a_paused_worker_and_says_it_is_paused(
    api_server, db, market, in_process_workers, capsys
):
    signal_id = alert("SPY", "BUY", "CALL")
    api = ["--api", api_server, "--token", token("admin")]
    main(["workers", "pause", "signal_processor", *api])

    assert main(["workers", "trigger", "signal-processor", *api]) == 0

    assert capsys.readouterr().out.splitlines()[-1] == (
        "signal_processor: triggered (it is paused: this run goes ahead, its schedule stays paused)"
    )
    assert status_of(db, signal_id) == "ACCEPTED"


def test_cli_with_a_read_token_is_a_one_line_error(api_server, capsys):
    assert main(["workers", "pause", "exit_monitor", "--api", api_server, "--token", token("read")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optionflow: POST /workers/exit_monitor/pause: 403") and len(err.splitlines()) == 1


def test_cli_unknown_worker_is_a_one_line_error(api_server, capsys):
    assert main(["workers", "trigger", "nope", "--api", api_server, "--token", token("admin")]) == 2
    assert "unknown worker 'nope'; known workers: signal_processor" in capsys.readouterr().err
