"""Logs, metrics and traces as an operator reads them: one signal id through every stage, EMF metrics per
invocation, X-Ray segments in Lambda."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from optionflow import config, observability
from optionflow.composition import for_process
from optionflow.logic.decide import process_pending

from tests.conftest import ROOT
from tests.pipeline_support import alert, run, run_entry_chain


def _documents(captured: str) -> list[dict[str, Any]]:
    out = []
    for line in captured.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _emf(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in documents if "_aws" in d]


def _metric_values(documents: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """Every value of metric `name` in the EMF documents whose dimensions include `dimensions`."""
    values: list[float] = []
    for doc in _emf(documents):
        if name not in doc or any(doc.get(k) != v for k, v in dimensions.items()):
            continue
        value = doc[name]
        values += value if isinstance(value, list) else [value]
    return values


def _log_lines(documents: list[dict[str, Any]], message: str) -> list[dict[str, Any]]:
    return [d for d in documents if d.get("message") == message]


class Output:
    """What an invocation wrote: EMF documents (printed to stdout) and JSON log lines (Powertools'
    formatter, as CloudWatch receives them)."""

    def __init__(self, capsys: Any, stream: io.StringIO) -> None:
        self._capsys = capsys
        self._stream = stream

    def read(self) -> list[dict[str, Any]]:
        printed = self._capsys.readouterr().out
        logged = self._stream.getvalue()
        self._stream.seek(0)
        self._stream.truncate()
        return _documents(printed) + _documents(logged)


@pytest.fixture
def output(capsys: Any) -> Any:
    """Everything logged, DEBUG included (the webhook logs arrivals at DEBUG)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger.registered_formatter)
    level = observability.logger.log_level
    observability.logger.addHandler(handler)
    observability.logger.setLevel("DEBUG")
    yield Output(capsys, stream)
    observability.logger.removeHandler(handler)
    observability.logger.setLevel(level)


def test_one_signal_id_correlates_the_webhook_and_every_stage_to_the_fill(db, market, output):
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    run("position_refresher")

    docs = output.read()
    for message in (
        "signal received",
        "signal decided",
        "entry order created",
        "entry filled, position opened",
    ):
        lines = _log_lines(docs, message)
        assert [line["correlation_id"] for line in lines] == [signal_id], message
    opened = _log_lines(docs, "entry filled, position opened")[0]
    assert opened["option_symbol"].startswith("SPY")
    decided = _log_lines(docs, "signal decided")[0]
    assert decided["status"] == "ACCEPTED"
    assert (decided["worker"], decided["trigger"]) == ("signal_processor", "schedule")


def test_each_invocation_flushes_its_pipeline_metrics_as_emf(db, market, output):
    alert("SPY", "BUY", "CALL")
    alert("QQQ", "BUY", "PUT")
    run_entry_chain()

    docs = output.read()
    assert _metric_values(docs, "SignalsReceived") == [1.0, 1.0]
    assert _metric_values(docs, "SignalsAccepted") == [2.0]
    assert _metric_values(docs, "OrdersCreated") == [2.0]
    assert _metric_values(docs, "OrdersFilled") == [2.0]
    latencies = _metric_values(docs, "AlertToFillLatency")
    # the frozen clock does not move between the alert and its fill
    assert latencies == [0.0, 0.0]
    namespaces = {ns["Namespace"] for d in _emf(docs) for ns in d["_aws"]["CloudWatchMetrics"]}
    assert namespaces == {"OptionFlow"}


def test_alert_to_fill_latency_is_the_time_from_arrival_to_entry_fill(db, market, frozen_clock, output):
    from datetime import timedelta

    alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    frozen_clock.advance(timedelta(milliseconds=1500))
    run("paper_executor")

    assert _metric_values(output.read(), "AlertToFillLatency") == [1500.0]


def test_a_duplicate_alert_is_counted_apart_and_logged_under_the_original_id(db, market, output):
    first = alert("SPY", "BUY", "CALL", alert_id="dup-1")
    from tests.api_events import call, request
    from tests.conftest import WEBHOOK_SECRET

    status, body = call(
        request(
            "POST",
            "/webhook",
            body={
                "ticker": "SPY",
                "action": "BUY",
                "direction": "CALL",
                "alert_id": "dup-1",
                "secret": WEBHOOK_SECRET,
            },
        )
    )
    assert status == 200 and body["signal_id"] == first

    docs = output.read()
    assert _metric_values(docs, "SignalsDuplicate") == [1.0]
    duplicate = _log_lines(docs, "duplicate alert: answered with the stored signal")
    assert [line["correlation_id"] for line in duplicate] == [first]


def test_rejections_are_counted_by_the_check_that_failed(db, market, frozen_clock, output):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    frozen_clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("America/New_York")))  # a Sunday
    db.execute("UPDATE risk_limits SET kill_switch = true")
    alert("SPY", "BUY", "CALL")
    alert("QQQ", "BUY", "CALL")
    run("signal_processor")

    docs = output.read()
    assert _metric_values(docs, "SignalsRejected", Reason="market_open") == [2.0]
    assert _metric_values(docs, "SignalsRejected", Reason="kill_switch") == [2.0]
    assert _metric_values(docs, "SignalsAccepted") == []


def test_exits_are_counted_by_rule_and_logged_under_the_opening_signal(db, market, output):
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.factor = Decimal("0.4")
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")

    docs = output.read()
    assert _metric_values(docs, "Exits", Rule="STOP_LOSS") == [1.0]
    placed = _log_lines(docs, "exit rule fired, exit order placed")
    assert [(line["correlation_id"], line["rule"]) for line in placed] == [(signal_id, "STOP_LOSS")]
    closed = _log_lines(docs, "exit filled, position closed")
    assert [line["correlation_id"] for line in closed] == [signal_id]
    assert closed[0]["realized_pnl"] < 0


def test_a_backlog_batch_logs_one_line_listing_its_signals(db, market, output, monkeypatch):
    monkeypatch.setattr(observability, "PER_SIGNAL_LINES", 2)
    ids = [alert("SPY", "BUY", "CALL", alert_id=f"bulk-{i}") for i in range(3)]
    run("signal_processor")

    decided = _log_lines(output.read(), "signal decided")
    assert len(decided) == 1
    assert sorted(decided[0]["signal_ids"]) == sorted(ids) and decided[0]["signals"] == 3


def test_logic_run_outside_a_handler_records_no_metrics(db, market, frozen_clock, output):
    alert("SPY", "BUY", "CALL")
    output.read()

    assert process_pending(for_process(), frozen_clock.now()).decided == 1

    assert _emf(output.read()) == []
    assert observability.metrics.metric_set == {}


def test_tracing_is_on_only_inside_lambda_and_can_be_switched_off():
    assert config.tracing_enabled({}) is False
    assert config.tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task"}) is True
    assert (
        config.tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"})
        is False
    )
    assert config.tracing_enabled({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}) is False


def test_outside_lambda_the_xray_sdk_is_never_imported(db, settings):
    # In a fresh interpreter: this one may have imported the SDK for another test. (Powertools imports the
    # bare botocore package, a millisecond; the SDK would bring botocore's client machinery.)
    script = (
        "import sys; from optionflow.local.lambda_context import LocalContext; "
        "from workers.signal_processor import lambda_handler; "
        "from optionflow.observability import tracer; "
        "lambda_handler({'source': 'optionflow.schedule'}, LocalContext('SignalProcessorFunction')); "
        "print(tracer.get(), sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('aws_xray_sdk', 'boto3') or m.startswith('botocore.')))"
    )
    paths = os.pathsep.join(str(ROOT / part) for part in ("shared", "functions"))
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": paths, "DATABASE_URL": settings.database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[-1] == "None []"


@pytest.fixture
def in_lambda(monkeypatch):
    """The process looks like a Lambda runtime with active tracing; X-Ray segments stay in memory."""
    pytest.importorskip("aws_xray_sdk")
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import xray_recorder

    global_sdk_config.set_sdk_enabled(True)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
    observability.tracer.reset()
    yield xray_recorder
    observability.tracer.reset()
    # The Tracer patched botocore for the rest of this process; outside a segment a later AWS call (moto, in
    # another test of this worker) would log "No segment found" into what that test reads from stderr.
    global_sdk_config.set_sdk_enabled(False)


def test_in_lambda_a_worker_run_is_an_xray_subsegment_annotated_with_worker_and_trigger(
    db, market, in_lambda
):
    from aws_xray_sdk.core.context import Context

    emitter = _RecordingEmitter()
    in_lambda.configure(context=Context(), sampling=False, emitter=emitter)
    in_lambda.begin_segment("optionflow-test")
    try:
        run("signal_processor")
    finally:
        in_lambda.end_segment()

    # Powertools streams each closed subsegment to the daemon at once; the emitter saw them all
    handler = next(e for e in emitter.sent if e.name == "## lambda_handler")
    assert handler.annotations["worker"] == "signal_processor"
    assert handler.annotations["trigger"] == "schedule"
    assert handler.annotations["Service"] == "optionflow"


class _RecordingEmitter:
    """Stands where X-Ray's UDP emitter would send segments to the daemon, and keeps them to inspect."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(entity)

    def set_daemon_address(self, address: Any) -> None:
        return None

    ip = "127.0.0.1"
    port = 2000


def test_the_local_stack_keeps_no_metrics_since_nothing_reads_emf_there(db, market, output):
    observability.keep_metrics(False)
    try:
        alert("SPY", "BUY", "CALL")
        run_entry_chain()
    finally:
        observability.keep_metrics(True)

    assert _emf(output.read()) == []
    assert observability.metrics.metric_set == {}


def test_every_signal_processor_run_reports_the_oldest_waiting_signal_for_the_stale_alarm(
    db, market, frozen_clock, output
):
    from datetime import timedelta

    run("signal_processor")  # idle: still reports, so a missing datapoint means the processor stopped
    alert("SPY", "BUY", "CALL")
    run("signal_processor")  # decided at once: nothing waits
    alert("QQQ", "BUY", "CALL", alert_id="stuck")
    db.execute(
        "UPDATE signals SET status = 'ACCEPTED' WHERE alert_id = 'stuck'"
    )  # an order creator that is down
    frozen_clock.advance(timedelta(minutes=7))
    run("signal_processor")

    docs = output.read()
    assert _metric_values(docs, "OldestPendingSignalAgeSeconds") == [0.0, 0.0, 420.0]
    units = {
        m["Unit"]
        for d in _emf(docs)
        for ns in d["_aws"]["CloudWatchMetrics"]
        for m in ns["Metrics"]
        if m["Name"] == "OldestPendingSignalAgeSeconds"
    }
    assert units == {"Seconds"}


def test_in_lambda_the_tracer_patches_postgres_and_http_at_once_and_aws_calls_with_the_first_client():
    # In a fresh interpreter that looks like Lambda: X-Ray's patch_all would import botocore's client
    # machinery at every cold start (about 0.3 s of CPU) to patch it
    script = (
        "import sys; from optionflow.observability import tracer; "
        "from aws_xray_sdk.core import patcher; "
        "tracer.get(); "
        "cold = ('botocore.client' in sys.modules, sorted(patcher._PATCHED_MODULES)); "
        "from optionflow.aws_clients import request_path_client; "
        "request_path_client('events', total_attempts=1); "
        "print(cold, sorted(patcher._PATCHED_MODULES))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "shared"),
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == (
        "(False, ['httplib', 'psycopg2']) ['botocore', 'httplib', 'psycopg2']"
    )
