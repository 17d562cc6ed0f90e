"""The fast path in AWS: events reach the app's EventBridge bus with the detail-types the rules match, and an
unreachable bus never holds up the webhook."""

from __future__ import annotations

import json
import socket
import time

import boto3
import pytest
import yaml
from moto import mock_aws
from optionflow.aws_clients import READ_TIMEOUT_SECONDS
from optionflow.events import bus, names
from optionflow.events.bus import SIGNAL_RECEIVED, SOURCE, EventBridgeBus
from optionflow.local.template import _CfnLoader
from optionflow.workers import WORKERS

from tests.api_events import call, request
from tests.conftest import ROOT, WEBHOOK_SECRET


@mock_aws
def test_published_event_matches_the_signal_processor_rule(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="optionflow-test")
    queue_url = sqs.create_queue(QueueName="fast-path")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # the same pattern template.yaml gives SignalProcessorFunction's FastPath rule
    events.put_rule(
        Name="signal-processor",
        EventBusName="optionflow-test",
        EventPattern=json.dumps({"source": [SOURCE], "detail-type": [SIGNAL_RECEIVED]}),
    )
    events.put_targets(
        Rule="signal-processor", EventBusName="optionflow-test", Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    EventBridgeBus("optionflow-test").publish(SIGNAL_RECEIVED, {"signal_id": "abc"})
    EventBridgeBus("optionflow-test").publish("order.created", {"count": 1})  # another stage's event

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    delivered = json.loads(messages[0]["Body"])
    assert delivered["detail-type"] == SIGNAL_RECEIVED
    assert delivered["detail"] == {"signal_id": "abc"}


def _fast_path_patterns() -> dict[str, dict[str, list[str]]]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    return {
        worker.name: template["Resources"][worker.fast_path_rule_id]["Properties"]["EventPattern"]
        for worker in WORKERS
        if worker.events  # the reconciler runs on its schedule only
    }


@mock_aws
def test_every_published_detail_type_reaches_exactly_the_workers_whose_deployed_rule_matches_it(monkeypatch):
    # Given the five fast-path rules as template.yaml deploys them, each delivering to a queue
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="optionflow-test")
    queues = {}
    for worker, pattern in _fast_path_patterns().items():
        url = sqs.create_queue(QueueName=f"fast-path-{worker}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=worker, EventBusName="optionflow-test", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=worker, EventBusName="optionflow-test", Targets=[{"Id": "q", "Arn": arn}])
        queues[worker] = url

    # When every stage publishes its event once
    published = [names.SIGNAL_RECEIVED, names.SIGNAL_ACCEPTED, names.ORDER_CREATED, names.POSITION_OPENED]
    published += [names.POSITIONS_REFRESHED, names.NOTICES_QUEUED]
    for detail_type in published:
        EventBridgeBus("optionflow-test").publish(detail_type, {"count": 1})

    # Then each worker is woken by exactly the detail-types its registry entry names (the reconciler by none)
    assert set(queues) == {worker.name for worker in WORKERS if worker.events}
    for worker in (w for w in WORKERS if w.events):
        messages = sqs.receive_message(QueueUrl=queues[worker.name], MaxNumberOfMessages=10).get(
            "Messages", []
        )
        received = sorted(json.loads(m["Body"])["detail-type"] for m in messages)
        assert received == sorted(worker.events), worker.name


ALERT = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "timeframe": "5", "secret": WEBHOOK_SECRET}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)


def _emf_values(printed: str, name: str) -> list[float]:
    values: list[float] = []
    for line in printed.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            if name in document:
                value = document[name]
                values += value if isinstance(value, list) else [value]
    return values


def test_the_webhook_answers_within_half_a_second_when_eventbridge_is_unreachable(
    db, aws_env, monkeypatch, capsys
):
    # Given the bus's endpoint is a local port nobody listens on
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", f"http://127.0.0.1:{_closed_port()}")
    bus.set_bus(EventBridgeBus("optionflow-test"))
    capsys.readouterr()

    # When TradingView posts two alerts: the first in a container also builds the boto3 client (about
    # 0.4 s of CPU here, no waiting), the second finds it built
    timings, answers = [], []
    for ticker in ("SPY", "QQQ"):
        started = time.perf_counter()
        answers.append(call(request("POST", "/webhook", body={**ALERT, "ticker": ticker})))
        timings.append(time.perf_counter() - started)

    # Then each is stored and answered at once; each failed publish is counted, and the sweep will take them
    assert [status for status, _ in answers] == [202, 202], answers
    assert timings[0] < 1.5 and timings[1] < 0.5, f"the webhooks took {timings} s"
    for _, body in answers:
        db.execute("SELECT status FROM signals WHERE id = %s", (body["signal_id"],))
        assert db.fetchone() == {"status": "PENDING"}
    assert _emf_values(capsys.readouterr().out, "EventPublishFailures") == [1.0, 1.0]


def test_a_silent_eventbridge_costs_a_publish_one_read_timeout_and_no_retry(aws_env, monkeypatch):
    # Given an endpoint that accepts the connection and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", f"http://127.0.0.1:{silent.getsockname()[1]}")

        # When a stage publishes
        started = time.perf_counter()
        bus.set_bus(EventBridgeBus("optionflow-test"))
        try:
            published = bus.publish(SIGNAL_RECEIVED, {"signal_id": "x"})
        finally:
            bus.set_bus(None)
        elapsed = time.perf_counter() - started

    # Then the publish gives up after one read timeout, well inside TradingView's 3 s
    assert published is False
    assert READ_TIMEOUT_SECONDS <= elapsed < READ_TIMEOUT_SECONDS + 0.5, elapsed
