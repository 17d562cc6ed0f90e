"""The fast path as template.yaml deploys it, in moto: each worker's rule on the bus queues its events in the
worker's own SQS queue, Lambda hands a burst over as one batch, and one batch is one run."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from optionflow.events import bus
from optionflow.events.bus import EventBridgeBus
from optionflow.local.template import _CfnLoader
from optionflow.workers import FAST_PATH, POSITION_REFRESHER, SIGNAL_PROCESSOR, Worker

from tests.conftest import ROOT, load_event
from tests.pipeline_support import alert, rows, run_entry_chain

REGION = "us-east-1"
STAGE = "test"


def _resolve(value: Any, arns: dict[str, str]) -> Any:
    """A template value with `!Sub` stages and `!GetAtt X.Arn` of the queues made concrete."""
    if isinstance(value, str):
        return arns.get(value.removesuffix(".Arn"), value.replace("${Stage}", STAGE))
    if isinstance(value, dict):
        return {k: _resolve(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, arns) for v in value]
    return value


class DeployedFastPath:
    """The template's bus, dead-letter queues, fast-path queues and rules, created in moto as the template
    declares them (queue attributes and rule patterns read from it, not restated here)."""

    def __init__(self) -> None:
        template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
        resources = template["Resources"]
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.bus = f"optionflow-{STAGE}"
        self.events.create_event_bus(Name=self.bus)
        self.urls: dict[str, str] = {}
        arns: dict[str, str] = {}
        queues = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
        # dead-letter queues first: the fast-path queues' redrive policies name them
        for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):
            props = _resolve(queues[logical_id], arns)
            attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            url = self.sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
            self.urls[logical_id] = url
            arns[logical_id] = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        self.arns = arns
        for resource in resources.values():
            if resource["Type"] != "AWS::Events::Rule":
                continue
            props = _resolve(resource["Properties"], arns)
            self.events.put_rule(
                Name=props["Name"], EventBusName=self.bus, EventPattern=json.dumps(props["EventPattern"])
            )
            targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props["Targets"]]
            self.events.put_targets(Rule=props["Name"], EventBusName=self.bus, Targets=targets)
        self.source = {
            w.name: next(
                e["Properties"]
                for e in resources[w.function_id]["Properties"]["Events"].values()
                if e["Type"] == "SQS"
            )
            for w in FAST_PATH
        }

    def batch(self, worker: Worker) -> dict[str, Any]:
        """What Lambda's poller hands the worker's function: up to BatchSize messages of its queue (read 10
        at a time, as SQS allows), in the SQS event shape, deleted as a successful run deletes them."""
        queue = self.source[worker.name]["Queue"].removesuffix(".Arn")
        records: list[dict[str, Any]] = []
        while len(records) < self.source[worker.name]["BatchSize"]:
            received = self.sqs.receive_message(QueueUrl=self.urls[queue], MaxNumberOfMessages=10)
            messages = received.get("Messages", [])
            if not messages:
                break
            for message in messages:
                records.append(
                    {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": {},
                        "messageAttributes": {},
                        "md5OfBody": message["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": self.arns[queue],
                        "awsRegion": REGION,
                    }
                )
        return {"Records": records}

    def depth(self, logical_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def fast_path(db: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeployedFastPath]:
    """The deployed fast path, the process bus publishing to it (after `db` installed its recording bus)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        deployed = DeployedFastPath()
        bus.set_bus(EventBridgeBus(deployed.bus))
        try:
            yield deployed
        finally:
            bus.set_bus(None)


def _handler(worker: Worker) -> Any:
    return importlib.import_module(worker.handler_module).lambda_handler


def _runs(db: Any, worker: Worker) -> int:
    db.execute("SELECT runs_total FROM worker_runs WHERE worker = %s", (worker.name,))
    row = db.fetchone()
    return int(row["runs_total"]) if row else 0


def test_every_published_event_lands_only_in_the_queues_of_the_workers_its_rule_names(fast_path, db):
    for worker in FAST_PATH:
        for detail_type in worker.events:
            EventBridgeBus(fast_path.bus).publish(detail_type, {"count": 1})

    for worker in FAST_PATH:
        records = fast_path.batch(worker)["Records"]
        assert sorted(json.loads(r["body"])["detail-type"] for r in records) == sorted(worker.events)


def test_a_burst_of_alerts_is_one_batch_and_one_signal_processor_run_that_decides_them_all(
    fast_path, db, market, lambda_context
):
    # Given twenty alerts arrive at once, each publishing signal.received to the deployed bus
    for i in range(20):
        alert("SPY", "BUY", "CALL", alert_id=f"burst{i}")
    assert fast_path.depth(SIGNAL_PROCESSOR.fast_path_queue_id) == 20

    # When Lambda hands the signal processor its queue as one batch
    batch = fast_path.batch(SIGNAL_PROCESSOR)
    before = _runs(db, SIGNAL_PROCESSOR)
    result = _handler(SIGNAL_PROCESSOR)(batch, lambda_context)

    # Then one run decided every signal, and is recorded once with the event that woke it
    assert len(batch["Records"]) == 20
    assert result["trigger"] == "event:signal.received"
    assert _runs(db, SIGNAL_PROCESSOR) == before + 1
    assert rows(db, "SELECT count(*) AS n FROM signals WHERE status = 'PENDING'") == [{"n": 0}]


def test_a_batch_of_position_events_refreshes_the_positions_they_name_together_in_one_run(
    db, market, frozen_clock, lambda_context
):
    from datetime import timedelta

    for i in range(3):
        alert("SPY", "BUY", "CALL", alert_id=f"scoped{i}")
    run_entry_chain()
    ids = [str(r["id"]) for r in rows(db, "SELECT id FROM positions ORDER BY opened_at, id")]
    frozen_clock.advance(timedelta(minutes=1))
    batch = load_event("workers/fast_path_batch.json")
    for record, position in zip(batch["Records"], ids[:2], strict=False):
        body = json.loads(record["body"])
        body["detail"]["position_ids"] = [position]
        record["body"] = json.dumps(body)

    result = _handler(POSITION_REFRESHER)(batch, lambda_context)

    assert result["trigger"] == "event:position.opened"
    assert result["result"]["refreshed"] == 2
    priced = {str(r["id"]): r["priced_at"] for r in rows(db, "SELECT id, priced_at FROM positions")}
    assert [priced[i] == frozen_clock.now() for i in ids] == [True, True, False]


def test_a_batch_read_twice_without_success_moves_to_the_workers_dead_letter_queue(fast_path, db):
    EventBridgeBus(fast_path.bus).publish(SIGNAL_PROCESSOR.events[0], {"count": 1})
    queue = fast_path.urls[SIGNAL_PROCESSOR.fast_path_queue_id]

    for _ in range(2):  # two runs that failed: the message comes back when its visibility ends
        [message] = fast_path.sqs.receive_message(QueueUrl=queue)["Messages"]
        fast_path.sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    assert fast_path.sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
    assert fast_path.depth("WorkersDeadLetterQueue") == 1
