"""The worker registry is what template.yaml deploys: each worker's function, handler, schedule and fast-path
rule, and nothing the registry does not list."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from optionflow.events import names as events
from optionflow.events.bus import EventBridgeBus
from optionflow.local.template import _CfnLoader
from optionflow.workers import BY_EVENT, FAST_PATH, NAMES, WORKERS, Worker, canonical

from tests.conftest import ROOT

FAST_PATH_NAMES = [worker.name for worker in FAST_PATH]

ALL_EVENTS = (
    events.SIGNAL_RECEIVED,
    events.SIGNAL_ACCEPTED,
    events.ORDER_CREATED,
    events.POSITION_OPENED,
    events.POSITIONS_REFRESHED,
    events.NOTICES_QUEUED,
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader))  # noqa: S506


def _events_of(function: dict[str, Any], kind: str) -> dict[str, Any]:
    [event] = [e["Properties"] for e in function["Properties"]["Events"].values() if e["Type"] == kind]
    return dict(event)


def test_the_template_deploys_exactly_the_registry_workers_in_functions_named_after_them(template):
    handlers = {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource["Properties"]["Handler"].startswith("workers.")
    }
    assert handlers == {w.function_id: f"{w.handler_module}.lambda_handler" for w in WORKERS}
    for worker in WORKERS:
        description = template["Resources"][worker.function_id]["Properties"]["Description"]
        assert description == f"OptionFlow ${{Stage}} {worker.name}: {worker.summary}"


@pytest.mark.parametrize("worker", WORKERS, ids=NAMES)
def test_each_worker_sweeps_on_the_registry_schedule_with_the_registry_input(template, worker: Worker):
    schedule = _events_of(template["Resources"][worker.function_id], "ScheduleV2")
    assert schedule["Name"] == worker.schedule_name("${Stage}")
    assert schedule["ScheduleExpression"] == worker.schedule_expression
    assert schedule["Input"] == worker.schedule_input
    assert template["Outputs"][worker.schedule_output]["Value"] == worker.schedule_name("${Stage}")
    fixture = json.loads((ROOT / "events" / "workers" / f"{worker.name}.json").read_text())
    assert fixture["worker"] == worker.name and set(fixture) == set(json.loads(worker.schedule_input))


@pytest.mark.parametrize("worker", FAST_PATH, ids=FAST_PATH_NAMES)
def test_each_fast_path_rule_matches_exactly_the_registry_events_and_queues_them_for_its_worker(
    template, worker: Worker
):
    rule = template["Resources"][worker.fast_path_rule_id]
    assert rule["Type"] == "AWS::Events::Rule"
    props = rule["Properties"]
    assert props["Name"] == worker.schedule_name("${Stage}")  # the CLI pauses the rule by this name
    assert (props["EventBusName"], props["State"]) == ("EventBus", "WorkersScheduleState")
    assert props["EventPattern"] == {"source": [events.SOURCE], "detail-type": list(worker.events)}
    [target] = props["Targets"]
    assert target["Arn"] == f"{worker.fast_path_queue_id}.Arn"
    assert target["DeadLetterConfig"]["Arn"] == "TriggersDeadLetterQueue.Arn"


@pytest.mark.parametrize("worker", FAST_PATH, ids=FAST_PATH_NAMES)
def test_each_worker_reads_its_queue_in_registry_sized_batches_with_bounded_concurrency(
    template, worker: Worker
):
    source = _events_of(template["Resources"][worker.function_id], "SQS")
    assert source["Queue"] == f"{worker.fast_path_queue_id}.Arn"
    assert source["BatchSize"] == worker.batch_size
    assert source["MaximumBatchingWindowInSeconds"] == worker.batching_window_seconds
    assert source["ScalingConfig"] == {"MaximumConcurrency": "WorkerMaxConcurrency"}
    assert "FunctionResponseTypes" not in source  # one run per batch: it succeeds or fails whole

    queue = template["Resources"][worker.fast_path_queue_id]["Properties"]
    timeout = template["Resources"][worker.function_id]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout  # Lambda's advice for a queue it reads
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == "WorkersDeadLetterQueue.Arn"
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 3

    policy = template["Resources"][worker.fast_path_queue_policy_id]["Properties"]
    assert policy["Queues"] == [worker.fast_path_queue_id]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": f"{worker.fast_path_rule_id}.Arn"}}


def test_no_rule_or_queue_wakes_a_worker_outside_the_registry(template):
    resources = template["Resources"]
    rules = {k for k, v in resources.items() if v["Type"] == "AWS::Events::Rule"}
    queues = {k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
    assert rules == {w.fast_path_rule_id for w in FAST_PATH}
    assert queues == {w.fast_path_queue_id for w in FAST_PATH} | {
        "WorkersDeadLetterQueue",
        "TriggersDeadLetterQueue",
    }
    for name, function in resources.items():
        if function["Type"] == "AWS::Serverless::Function":
            kinds = {e["Type"] for e in function["Properties"].get("Events", {}).values()}
            assert "EventBridgeRule" not in kinds, name  # unbatched: one run, one connection per event


def test_the_connection_ceiling_is_stated_in_the_parameters_the_template_applies(template):
    params = template["Parameters"]
    assert params["WorkerMaxConcurrency"]["MinValue"] == 2  # Lambda's least for an SQS event source
    stated = " ".join(params["ApiReservedConcurrency"]["Description"].split())
    assert "this + (WorkerMaxConcurrency + 2) per worker + 1 (migrations)" in stated
    api = template["Resources"]["ApiFunction"]["Properties"]
    assert api["ReservedConcurrentExecutions"] == [
        "CapsApiConcurrency",
        "ApiReservedConcurrency",
        "AWS::NoValue",
    ]


@pytest.mark.parametrize("worker", [w for w in WORKERS if not w.events], ids=lambda w: w.name)
def test_a_worker_with_no_fast_path_events_runs_on_its_schedule_alone(template, worker: Worker):
    resources = template["Resources"]
    kinds = [e["Type"] for e in resources[worker.function_id]["Properties"]["Events"].values()]
    assert kinds == ["ScheduleV2"]
    assert worker.fast_path_rule_id not in resources and worker.fast_path_queue_id not in resources


@mock_aws
@pytest.mark.parametrize("worker", WORKERS, ids=NAMES)
def test_eventbridge_delivers_to_each_rule_only_its_workers_events(template, worker: Worker, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bus = boto3.client("events")
    sqs = boto3.client("sqs")
    if not worker.events:
        return  # no rule to deliver to
    bus.create_event_bus(Name="optionflow-test")
    queue_url = sqs.create_queue(QueueName="fast-path")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = template["Resources"][worker.fast_path_rule_id]["Properties"]["EventPattern"]
    bus.put_rule(Name=worker.name, EventBusName="optionflow-test", EventPattern=json.dumps(pattern))
    bus.put_targets(Rule=worker.name, EventBusName="optionflow-test", Targets=[{"Id": "q", "Arn": queue_arn}])

    for detail_type in ALL_EVENTS:
        EventBridgeBus("optionflow-test").publish(detail_type, {"count": 1})

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail-type"] for m in messages] == list(worker.events)


def test_every_event_a_stage_publishes_wakes_one_worker():
    assert set(BY_EVENT) == set(ALL_EVENTS)
    assert sum(len(w.events) for w in WORKERS) == len(ALL_EVENTS)


@pytest.mark.parametrize("worker", WORKERS, ids=NAMES)
def test_each_worker_names_a_use_case_and_a_handler_module_that_exist(worker: Worker):
    module, _, attribute = worker.use_case.partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    assert callable(importlib.import_module(worker.handler_module).lambda_handler)


def test_names_are_accepted_with_dashes_and_any_case_and_unknown_ones_are_listed():
    assert canonical("Exit-Monitor").name == "exit_monitor"
    with pytest.raises(ValueError, match="known workers: " + ", ".join(NAMES)):
        canonical("order_cancel")


def test_reading_the_registry_imports_no_pipeline_stage():
    code = (
        "import sys, optionflow.workers, optionflow.config; "
        "print(sorted(m for m in sys.modules if m.startswith('optionflow.logic') or m == 'psycopg2'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "shared")},
    ).stdout
    assert out.strip() == "[]"
