"""template.yaml: bounded retries and dead-letter queues everywhere, alarms on them, secrets readable."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from optionflow.local.template import _CfnLoader
from optionflow.workers import FAST_PATH, WORKERS

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # !Ref X reads as "X" and !GetAtt X.Arn as "X.Arn": enough to follow references.
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader))  # noqa: S506


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _workers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in _of_type(template, "AWS::Serverless::Function").items()
        if str(v["Properties"]["Handler"]).startswith("workers.")
    }


def _queue(template: dict[str, Any], arn: str) -> str:
    name, _, attribute = arn.partition(".")
    assert attribute == "Arn" and template["Resources"][name]["Type"] == "AWS::SQS::Queue", arn
    return name


def test_every_worker_retries_a_failed_run_a_bounded_number_of_times_then_sends_it_to_a_queue(template):
    workers = _workers(template)
    assert len(workers) == len(WORKERS)
    for name, worker in workers.items():
        config = worker["Properties"]["EventInvokeConfig"]
        assert 0 < config["MaximumRetryAttempts"] <= 2, name
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 300, name
        failure = config["DestinationConfig"]["OnFailure"]
        assert failure["Type"] == "SQS", name
        _queue(template, failure["Destination"])


def _triggers(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, its properties) for each worker's schedule and each target of a rule on the bus."""
    schedules = [
        (f"{name}.{event_name}", event["Properties"])
        for name, worker in _workers(template).items()
        for event_name, event in worker["Properties"]["Events"].items()
        if event["Type"] == "ScheduleV2"
    ]
    targets = [
        (f"{name}.{target['Id']}", target)
        for name, rule in _of_type(template, "AWS::Events::Rule").items()
        for target in rule["Properties"]["Targets"]
    ]
    assert len(schedules) == len(_workers(template)) == len(WORKERS)
    assert len(targets) == len(FAST_PATH)  # a schedule-only worker (the reconciler) has no rule
    return schedules + targets


def test_every_schedule_and_fast_path_rule_has_a_bounded_retry_policy_and_a_dead_letter_queue(template):
    for where, props in _triggers(template):
        retry = props["RetryPolicy"]
        assert 0 < retry["MaximumRetryAttempts"] <= 3, where
        assert retry["MaximumEventAgeInSeconds"] <= 300, where
        _queue(template, props["DeadLetterConfig"]["Arn"])


def test_a_fast_path_batch_that_keeps_failing_goes_to_the_workers_dead_letter_queue(template):
    for name, worker in _workers(template).items():
        sources = [e["Properties"] for e in worker["Properties"]["Events"].values() if e["Type"] == "SQS"]
        if name not in {w.function_id for w in FAST_PATH}:
            assert sources == [], name  # runs on its schedule alone
            continue
        [source] = sources
        queue = template["Resources"][_queue(template, source["Queue"])]["Properties"]
        redrive = queue["RedrivePolicy"]
        failure = worker["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert redrive["deadLetterTargetArn"] == failure["Destination"], name
        assert redrive["maxReceiveCount"] <= 3, name


def test_the_trigger_dead_letter_queue_lets_the_scheduler_and_the_bus_send_to_it(template):
    dead_letter_arns = {props["DeadLetterConfig"]["Arn"] for _, props in _triggers(template)}
    policies = _of_type(template, "AWS::SQS::QueuePolicy").values()
    for arn in dead_letter_arns:
        queue = _queue(template, arn)
        statements = [
            statement
            for policy in policies
            if queue in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        senders = {
            service
            for statement in statements
            if statement["Effect"] == "Allow" and statement["Action"] == "sqs:SendMessage"
            for service in statement["Principal"]["Service"]
        }
        assert {"scheduler.amazonaws.com", "events.amazonaws.com"} <= senders, queue


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _of_type(template, "AWS::CloudWatch::Alarm").items()}


def test_every_worker_and_the_api_has_an_alarm_on_any_error(template):
    watched = {
        alarm["Dimensions"][0]["Value"]
        for alarm in _alarms(template).values()
        if alarm.get("Namespace") == "AWS/Lambda"
        and alarm["MetricName"] == "Errors"
        and alarm["Threshold"] == 0
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert watched == {*_workers(template), "ApiFunction"}


def _fast_path_queues(template: dict[str, Any]) -> set[str]:
    return {
        target["Arn"].removesuffix(".Arn")
        for rule in _of_type(template, "AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
    }


def test_every_dead_letter_queue_has_an_alarm_on_any_message_waiting_in_it(template):
    watched = {
        alarm["Dimensions"][0]["Value"].removesuffix(".QueueName")
        for alarm in _alarms(template).values()
        if alarm.get("Namespace") == "AWS/SQS"
        and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Threshold"] == 0
    }
    assert watched == set(_of_type(template, "AWS::SQS::Queue")) - _fast_path_queues(template)


def test_a_fast_path_queue_nobody_reads_is_alarmed_on_its_oldest_message(template):
    backlog = _alarms(template)["FastPathBacklogAlarm"]
    watched = {
        metric["MetricStat"]["Metric"]["Dimensions"][0]["Value"].removesuffix(".QueueName")
        for metric in backlog["Metrics"]
        if "MetricStat" in metric
        and metric["MetricStat"]["Metric"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert watched == _fast_path_queues(template)
    assert [m["Expression"] for m in backlog["Metrics"] if m.get("ReturnData")] == ['MAX(METRICS("q"))']
    assert backlog["Threshold"] >= 60  # a sweep interval: younger events are merely batching


def test_a_stale_pipeline_alarms_and_so_does_a_signal_processor_that_stops_reporting(template):
    [stale] = [
        a for a in _alarms(template).values() if a.get("MetricName") == "OldestPendingSignalAgeSeconds"
    ]
    assert stale["Namespace"] == "OptionFlow"
    assert stale["Dimensions"] == [{"Name": "service", "Value": "signal-processor"}]
    assert stale["Threshold"] <= 300 and stale["ComparisonOperator"] == "GreaterThanThreshold"
    assert stale["TreatMissingData"] == "breaching"


def test_every_alarm_notifies_the_topic_and_an_email_subscribes_only_when_given(template):
    for name, alarm in _alarms(template).items():
        assert alarm["AlarmActions"] == ["AlarmTopic"], name
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == "AlarmTopic"
    listed = template["Outputs"]["AlarmNames"]["Value"][1]
    assert sorted(listed) == sorted(_alarms(template))


def test_every_function_is_traced_and_names_its_own_service(template):
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == (
        "OptionFlow"
    )
    services = {
        name: fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for name, fn in _of_type(template, "AWS::Serverless::Function").items()
    }
    assert services["SignalProcessorFunction"] == "signal-processor"  # the stale alarm's dimension
    assert services["ApiFunction"] == "api"
    assert len(set(services.values())) == len(services)


def test_every_function_role_may_read_the_configured_secrets(template):
    policy = template["Resources"]["SecretsReadPolicy"]
    assert policy["Condition"] == "ReadsSecrets"
    roles = set(policy["Properties"]["Roles"])
    assert roles == {f"{name}Role" for name in _of_type(template, "AWS::Serverless::Function")}


def test_migrations_run_on_deploy_through_the_migrate_function_with_a_bounded_wait(template):
    [resource] = [r for r in template["Resources"].values() if r["Type"] == "Custom::DatabaseMigrations"]
    props = resource["Properties"]
    assert props["ServiceToken"] == "MigrateFunction.Arn"
    assert props["DomainLayer"] == "DomainLayer"  # a new layer (new migrations) re-runs them
    migrate = template["Resources"]["MigrateFunction"]["Properties"]
    assert props["ServiceTimeout"] > migrate["Timeout"]
