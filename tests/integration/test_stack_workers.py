"""`optionflow workers ... --stack` against a deployed stack, in moto: EventBridge Scheduler schedules, the
fast-path rules on the app's bus, and asynchronous Lambda invokes of the schedules' targets."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from optionflow.cli import main
from optionflow.cli.stack_workers import StackWorkers, output_key, update_arguments
from optionflow.local.template import _CfnLoader
from optionflow.logic.runs import trigger_of
from optionflow.logic.worker_control import WORKERS
from optionflow.workers import BY_NAME

from tests.conftest import ROOT

REGION = "us-east-1"
STACK = "optionflow-test"
BUS = "optionflow-test"


def schedule_name(worker: str) -> str:
    return f"optionflow-test-{worker.replace('_', '-')}"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _declared(worker: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The worker's ScheduleV2 event and its fast-path rule's properties (None for a worker that runs on
    its schedule alone), from template.yaml."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    registered = BY_NAME[worker]
    events = template["Resources"][registered.function_id]["Properties"]["Events"].values()
    [sweep] = [e["Properties"] for e in events if e["Type"] == "ScheduleV2"]
    if not registered.events:
        return dict(sweep), None
    return dict(sweep), dict(template["Resources"][registered.fast_path_rule_id]["Properties"])


class Deployed:
    """What `sam deploy` leaves behind for the worker triggers, built with the same clients the CLI uses."""

    def __init__(self) -> None:
        self.cloudformation = boto3.client("cloudformation", region_name=REGION)
        self.scheduler = boto3.client("scheduler", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.lambda_client = boto3.client("lambda", region_name=REGION)
        self.invokes: list[dict[str, Any]] = []
        # Record each Invoke request as it leaves the client: what AWS would be sent.
        self.lambda_client.meta.events.register(
            "provide-client-params.lambda.Invoke", lambda params, **_: self.invokes.append(dict(params))
        )
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="optionflow-test-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="optionflow-test-triggers-dlq")["QueueUrl"]
        self.dlq_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.events.create_event_bus(Name=BUS)
        self.functions: dict[str, str] = {}
        for worker in WORKERS:
            arn = self.lambda_client.create_function(
                FunctionName=f"optionflow-test-{worker}",
                Runtime="python3.12",
                Role=role,
                Handler="handler.lambda_handler",
                Code={"ZipFile": _zip()},
            )["FunctionArn"]
            self.functions[worker] = arn
            # the schedule and the fast-path rule as template.yaml declares them
            sweep, rule = _declared(worker)
            self.scheduler.create_schedule(
                Name=schedule_name(worker),
                Description=sweep["Description"].replace("${Stage}", "test"),
                ScheduleExpression=sweep["ScheduleExpression"],
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow=sweep["FlexibleTimeWindow"],
                State="ENABLED",
                Target={
                    "Arn": arn,
                    "RoleArn": role,
                    "Input": sweep["Input"],
                    "RetryPolicy": sweep["RetryPolicy"],
                    "DeadLetterConfig": {"Arn": self.dlq_arn},
                },
            )
            if rule is None:
                continue
            assert rule["Name"].replace("${Stage}", "test") == schedule_name(worker)
            self.events.put_rule(
                Name=schedule_name(worker),
                EventBusName=BUS,
                EventPattern=json.dumps(rule["EventPattern"]),
                State="ENABLED",
            )
        self.create_stack(STACK)

    def create_stack(self, name: str, **extra_outputs: str) -> None:
        """A stack whose outputs name the schedules and the bus, as template.yaml's do."""
        outputs = {output_key(w): {"Value": schedule_name(w)} for w in WORKERS}
        outputs["EventBusName"] = {"Value": BUS}
        outputs.update({key: {"Value": value} for key, value in extra_outputs.items()})
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {}}},
            "Outputs": outputs,
        }
        self.cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))

    def workers(self) -> StackWorkers:
        return StackWorkers(STACK, self.cloudformation, self.scheduler, self.events, self.lambda_client)

    def schedule(self, worker: str) -> dict[str, Any]:
        return dict(self.scheduler.get_schedule(Name=schedule_name(worker)))

    def rule_state(self, worker: str) -> str:
        return str(self.events.describe_rule(Name=schedule_name(worker), EventBusName=BUS)["State"])


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Deployed()


def test_pause_then_resume_keeps_every_field_of_the_schedule_but_its_state(deployed):
    before = deployed.schedule("exit_monitor")
    workers = deployed.workers()

    workers.set_state("exit_monitor", paused=True)
    paused = deployed.schedule("exit_monitor")
    workers.set_state("exit-monitor", paused=False)
    after = deployed.schedule("exit_monitor")

    assert paused["State"] == "DISABLED" and after["State"] == "ENABLED"
    target = after["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 120}
    assert target["DeadLetterConfig"] == {"Arn": deployed.dlq_arn}
    assert target["Input"] == before["Target"]["Input"]
    ignored = {"State", "LastModificationDate", "ResponseMetadata"}
    for snapshot in (paused, after):
        assert {k: v for k, v in snapshot.items() if k not in ignored} == {
            k: v for k, v in before.items() if k not in ignored
        }


def test_pause_disables_the_fast_path_rule_too_and_touches_no_other_worker(deployed):
    result = deployed.workers().set_state("exit_monitor", paused=True)

    assert result["changed"] == ["schedule", "fast-path rule"]
    assert deployed.rule_state("exit_monitor") == "DISABLED"
    others = [w for w in WORKERS if w != "exit_monitor" and BY_NAME[w].events]
    assert {deployed.schedule(w)["State"] for w in others} == {"ENABLED"}
    assert {deployed.rule_state(w) for w in others} == {"ENABLED"}


def test_pausing_a_paused_worker_changes_nothing_and_says_so(deployed, capsys):
    args = ["workers", "pause", "exit_monitor", "--stack", STACK, "--region", REGION]
    assert main(args) == 0
    modified = deployed.schedule("exit_monitor")["LastModificationDate"]
    assert main(args) == 0

    out = capsys.readouterr().out.splitlines()
    unrecorded = "exit_monitor: not recorded in the database (pass --token to record it through the API)"
    assert out == [
        "exit_monitor: paused (schedule and fast-path rule DISABLED)",
        unrecorded,
        "exit_monitor: already paused (schedule and fast-path rule DISABLED)",
        unrecorded,
    ]
    assert deployed.schedule("exit_monitor")["LastModificationDate"] == modified


def test_list_shows_each_schedule_state_expression_rule_and_function(deployed, capsys):
    deployed.workers().set_state("order_creator", paused=True)

    rows = {row["worker"]: row for row in deployed.workers().list()}

    assert list(rows) == list(WORKERS)
    assert rows["order_creator"] == {
        "worker": "order_creator",
        "schedule": "optionflow-test-order-creator",
        "state": "DISABLED",
        "expression": "rate(1 minute)",
        "fast_path": "DISABLED",
        "function": "optionflow-test-order_creator",
    }
    assert (rows["exit_monitor"]["state"], rows["exit_monitor"]["fast_path"]) == ("ENABLED", "ENABLED")
    assert main(["workers", "list", "--stack", STACK, "--region", REGION]) == 0
    table = capsys.readouterr().out
    assert "optionflow-test-order-creator" in table and "DISABLED" in table


def test_trigger_invokes_the_schedule_target_asynchronously_with_its_input(deployed):
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

    result = deployed.workers().trigger("position-refresher", now=now)

    [sent] = deployed.invokes
    assert sent["FunctionName"] == deployed.functions["position_refresher"]
    assert sent["InvocationType"] == "Event"
    event = json.loads(sent["Payload"])
    assert event == result["event"]
    assert (event["source"], event["worker"], event["scheduled_time"]) == (
        "optionflow.schedule",
        "position_refresher",
        "2026-11-23T15:00:00Z",
    )
    assert "<aws.scheduler" not in sent["Payload"].decode()
    assert trigger_of(event) == "manual"  # so it runs even while paused in the database
    assert result["status"] == 202


def test_a_stack_without_the_schedule_outputs_is_a_one_line_error(deployed, capsys):
    deployed.cloudformation.create_stack(
        StackName="older",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}),
    )
    assert main(["workers", "list", "--stack", "older", "--region", REGION]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optionflow: stack older has no output SignalProcessorScheduleName")
    assert len(err.splitlines()) == 1


def test_an_unknown_worker_is_a_one_line_error_naming_the_known_ones(deployed, capsys):
    assert main(["workers", "pause", "order_cancel", "--stack", STACK, "--region", REGION]) == 2
    err = capsys.readouterr().err
    assert "unknown worker 'order_cancel'" in err and "exit_monitor" in err


def test_a_start_date_already_past_is_not_sent_back_since_update_schedule_refuses_it(deployed):
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    schedule = {**deployed.schedule("exit_monitor"), "StartDate": now - timedelta(days=30)}
    assert "StartDate" not in update_arguments(deployed.scheduler, schedule, "DISABLED", now=now)
    soon = {**schedule, "StartDate": now + timedelta(hours=1)}
    assert update_arguments(deployed.scheduler, soon, "DISABLED", now=now)["StartDate"] == soon["StartDate"]


def test_the_api_in_aws_wakes_a_worker_by_an_asynchronous_invoke_of_its_function(
    deployed, db, settings, monkeypatch
):
    from optionflow import config
    from optionflow.events.worker_invoker import set_invoker

    from tests.api_events import call, request

    config.use_settings(
        settings.model_copy(
            update={"worker_function_names": {"exit_monitor": "optionflow-test-exit_monitor"}}
        )
    )
    set_invoker(None)  # built from the settings on first use, as in a cold Lambda
    sent: list[dict[str, Any]] = []
    boto3.setup_default_session(region_name=REGION)
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "provide-client-params.lambda.Invoke", lambda params, **_: sent.append(dict(params))
    )
    try:
        status, body = call(request("POST", "/workers/exit_monitor/trigger", scope="admin"))
    finally:
        set_invoker(None)
        boto3.DEFAULT_SESSION = None

    assert status == 202
    [invoke] = sent
    assert (invoke["FunctionName"], invoke["InvocationType"]) == ("optionflow-test-exit_monitor", "Event")
    assert json.loads(invoke["Payload"]) == body["event"]
    assert trigger_of(body["event"]) == "manual"
    status, body = call(request("POST", "/workers/order_creator/trigger", scope="admin"))
    assert status == 503 and "order_creator" in body["detail"]


def test_with_a_token_the_pause_is_also_recorded_in_the_stack_database_through_its_api(
    deployed, api_server, db, capsys
):
    from tests.api_events import token

    deployed.create_stack("with-api", ApiUrl=api_server)
    stack = ["--stack", "with-api", "--region", REGION, "--token", token("admin")]

    assert main(["workers", "pause", "exit_monitor", "--reason", "earnings", *stack]) == 0
    assert deployed.schedule("exit_monitor")["State"] == "DISABLED"
    db.execute("SELECT paused, reason FROM worker_controls WHERE worker = 'exit_monitor'")
    assert db.fetchone() == {"paused": True, "reason": "earnings"}
    assert main(["workers", "resume", "exit_monitor", *stack]) == 0
    db.execute("SELECT paused FROM worker_controls WHERE worker = 'exit_monitor'")
    assert db.fetchone() == {"paused": False}

    assert capsys.readouterr().out.splitlines() == [
        "exit_monitor: paused (schedule and fast-path rule DISABLED)",
        "exit_monitor: paused in the stack's database (earnings)",
        "exit_monitor: resumed (schedule and fast-path rule ENABLED)",
        "exit_monitor: resumed in the stack's database",
    ]


def test_a_pause_that_fails_halfway_says_what_already_changed(deployed):
    from optionflow.cli.stack import StackError

    deployed.events.delete_rule(Name=schedule_name("exit_monitor"), EventBusName=BUS)  # drifted by hand

    with pytest.raises(StackError) as failed:
        deployed.workers().set_state("exit_monitor", paused=True)

    assert "schedule already disabled; run it again" in str(failed.value)
    assert deployed.schedule("exit_monitor")["State"] == "DISABLED"


def test_resuming_in_aws_without_a_token_warns_that_a_database_pause_still_holds(deployed, capsys):
    assert main(["workers", "pause", "exit_monitor", "--stack", STACK, "--region", REGION]) == 0
    capsys.readouterr()

    assert main(["workers", "resume", "exit_monitor", "--stack", STACK, "--region", REGION]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "exit_monitor: resumed (schedule and fast-path rule ENABLED)",
        "exit_monitor: a pause also recorded in the database still holds there; pass --token to resume it there too",
    ]
