"""template.yaml deploys: transformed to plain CloudFormation offline (the SAM translator that `sam deploy`
runs, with no network), then created as a stack in moto's CloudFormation, in both database modes.

moto cannot create every resource type. Those are taken out before the deploy and listed by name below, so
a resource is never skipped silently: a new resource moto cannot create fails the test until it is listed
here, and one listed that moto can create (or that is gone) fails it too. References to a skipped resource
become placeholder strings.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto.cloudformation.parsing as moto_parsing
import pytest
import yaml
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.cloudformation.parsing import resource_class_from_type
from optionflow.events.bus import EventBridgeBus
from optionflow.local.template import _CfnLoader
from optionflow.workers import FAST_PATH, WORKERS, Worker

from tests.conftest import ROOT

REGION = "us-east-1"
STAGE = "test"
ARTIFACTS = "optionflow-artifacts"

GIVEN = {"DatabaseUrl": "postgresql://optionflow:pw@db.example.com:5432/optionflow?sslmode=require"}
GIVEN |= {"JwtSecret": "j" * 32, "WebhookSecret": "w" * 16}
CREATED = {"CreateDatabase": "true"}
CREATED |= {
    "JwtSecretParameter": "/optionflow/test/jwt",
    "WebhookSecretParameter": "/optionflow/test/webhook",
}
MODES = {"given": GIVEN, "created": CREATED}


def _camel(worker: Worker) -> str:
    return worker.function_id.removesuffix("Function")


def _api_routes() -> list[str]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    return list(template["Resources"]["ApiFunction"]["Properties"]["Events"])


# What moto 5.2.5 cannot create, by name. Each worker's schedule (AWS::Scheduler::Schedule), its function's
# EventInvokeConfig, its error alarm and its queue policy; the HTTP API and its stage; every alarm; the
# metric filter and the e-mail subscriptions (alarms, notifications); the trigger DLQ's policy; the API function's alias and the
# routes' permissions to invoke it; and the migrations custom resource (moto
# would invoke the migrate function in Docker, which these machines lack; tests/integration/
# test_migrate_function.py runs it against Postgres instead).
SKIPPED_IN_BOTH = (
    {f"{w.function_id}Sweep" for w in WORKERS}
    | {f"{w.function_id}EventInvokeConfig" for w in WORKERS}
    | {f"{_camel(w)}ErrorsAlarm" for w in WORKERS}
    | {w.fast_path_queue_policy_id for w in FAST_PATH}
    | {
        "HttpApi",
        "HttpApiApiGatewayDefaultStage",
        "ApiErrorsAlarm",
        "HttpApi5xxAlarm",
        "HttpApiLatencyAlarm",
        "LambdaThrottlesAlarm",
        "MigrationFailuresAlarm",
        "MigrationFailuresMetricFilter",
        "EventPublishFailuresAlarm",
        "FastPathBacklogAlarm",
        "StaleMarksAlarm",
        "ReconciliationDifferencesAlarm",
        "StalePipelineAlarm",
        "WorkersDeadLetterQueueAlarm",
        "TriggersDeadLetterQueueAlarm",
        "AlarmEmailSubscription",
        "NotificationEmailSubscription",
        "TriggersDeadLetterQueuePolicy",
        "DatabaseMigrations",
        # The API's alias (AutoPublishAlias), and each route's permission to invoke it.
        "ApiFunctionAliaslive",
    }
    | {f"ApiFunction{route}Permission" for route in _api_routes()}
)
# The Aurora cluster, its proxy and target group (no moto CloudFormation support), and the cluster's
# instance (moto's DBInstance cannot be an Aurora instance without its cluster). They exist only with
# CreateDatabase=true; in the other mode they would be absent by their condition anyway.
SKIPPED_AURORA = {"DatabaseCluster", "DatabaseProxy", "DatabaseProxyTargetGroup", "DatabaseInstance"}
# Resources whose condition is false in each mode (not created in AWS either).
FALSE_CONDITIONS = {
    "given": {"CreatesDatabase", "NeedsSsmEndpoint", "ReadsSecrets", "HasAlarmEmail"},
    "created": {"HasAlarmEmail"},
}


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only for a policy named without its ARN; this
    template names none, and a test must not reach IAM."""

    def load(self) -> dict[str, str]:
        raise AssertionError("the SAM translator asked for IAM's managed policies")


def transformed(parameters: dict[str, str]) -> dict[str, Any]:
    """template.yaml as plain CloudFormation, code and layers at the S3 URIs `sam package` would write."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    document = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACTS}/functions.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://{ARTIFACTS}/layer.zip"
    return dict(transform(document, parameters, _NoManagedPolicies()))


def _skippable(resources: dict[str, Any]) -> set[str]:
    """The resources moto cannot create: no CloudFormation support for the type, a custom resource, or an
    Aurora instance of a cluster it cannot create."""
    skipped = {
        name
        for name, resource in resources.items()
        if resource["Type"].startswith("Custom::") or resource_class_from_type(resource["Type"]) is None
    }
    # what belongs to a skipped resource: an Aurora instance to its cluster, a permission to invoke an alias
    owner_of = {"AWS::RDS::DBInstance": "DBClusterIdentifier", "AWS::Lambda::Permission": "FunctionName"}
    for name, resource in resources.items():
        owner = resource.get("Properties", {}).get(owner_of.get(resource["Type"], ""))
        if isinstance(owner, dict) and owner.get("Ref") in skipped:
            skipped.add(name)
    return skipped


def _without(value: Any, skipped: set[str], buses: dict[str, Any]) -> Any:
    """`value` with references to skipped resources replaced by placeholders (ARN-shaped, since IAM checks
    policy resources), and `Ref` of an event bus replaced by its name: moto 5.2.5 resolves that Ref to its
    model object where AWS gives the name."""
    if isinstance(value, list):
        return [_without(v, skipped, buses) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in skipped:
        return f"skipped-{value['Ref']}"
    if set(value) == {"Ref"} and value["Ref"] in buses:
        return buses[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        name, attribute = (
            value["Fn::GetAtt"].split(".", 1) if isinstance(value["Fn::GetAtt"], str) else value["Fn::GetAtt"]
        )
        if name in skipped:
            return f"arn:aws:skipped:{REGION}:123456789012:{name}.{attribute}"
    if set(value) == {"Fn::Sub"}:

        def text(s: str) -> str:
            return re.sub(
                r"\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}",
                lambda m: f"skipped-{m.group(1)}" if m.group(1) in skipped else m.group(0),
                s,
            )

        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return {"Fn::Sub": text(sub)}
        return {"Fn::Sub": [text(sub[0]), _without(sub[1], skipped, buses)]}
    return {k: _without(v, skipped, buses) for k, v in value.items()}


def deployable(template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The template moto can create, and the names of the resources taken out."""
    resources = template["Resources"]
    skipped = _skippable(resources)
    buses = {k: r["Properties"]["Name"] for k, r in resources.items() if r["Type"] == "AWS::Events::EventBus"}
    kept: dict[str, Any] = {}
    for name, resource in resources.items():
        if name in skipped:
            continue
        resource = _without(resource, skipped, buses)
        depends = resource.get("DependsOn")
        if depends is not None:
            depends = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in skipped]
            if depends:
                resource["DependsOn"] = depends
            else:
                del resource["DependsOn"]
        kept[name] = resource
    document = {k: v for k, v in template.items() if k not in ("Resources", "Outputs", "Rules")}
    document["Resources"] = kept
    document["Outputs"] = _without(template.get("Outputs", {}), skipped, buses)
    return document, skipped


def _clean_json_dropping_no_value(resource_json: Any, resources_map: Any) -> Any:
    """CloudFormation drops an `AWS::NoValue` list item (a policy statement under a false Fn::If); moto
    5.2.5 keeps it as null, which IAM then refuses."""
    cleaned = _moto_clean_json(resource_json, resources_map)
    if isinstance(resource_json, list):
        return [item for item in cleaned if item is not None]
    return cleaned


_moto_clean_json = moto_parsing.clean_json


@dataclass
class Stack:
    mode: str
    template: dict[str, Any]
    skipped: set[str]
    created: dict[str, str]  # logical id -> physical id
    unnamed: int  # moto lists a resource whose condition is false as a summary without a name
    outputs: dict[str, str]
    batches: list[tuple[str, list[str]]]  # (function ARN, message bodies) that Lambda's poller handed over


@pytest.fixture(params=sorted(MODES))
def stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(moto_parsing, "clean_json", _clean_json_dropping_no_value)
    batches: list[tuple[str, list[str]]] = []

    def poller_hands_over(backend: Any, function_arn: str, messages: Any, queue_arn: str) -> bool:
        # moto would run the function in Docker: record the batch instead, and report it processed
        batches.append((function_arn, [m.body for m in messages]))
        return True

    monkeypatch.setattr(LambdaBackend, "send_sqs_batch", poller_hands_over)
    mode = str(request.param)
    parameters = {"Stage": STAGE, **MODES[mode]}
    template = transformed(parameters)
    document, skipped = deployable(template)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ARTIFACTS)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("placeholder.py", "")
        for key in ("functions.zip", "layer.zip"):
            s3.put_object(Bucket=ARTIFACTS, Key=key, Body=code.getvalue())
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName=f"optionflow-{STAGE}",
            TemplateBody=json.dumps(document),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        [described] = cloudformation.describe_stacks(StackName=f"optionflow-{STAGE}")["Stacks"]
        assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
        summaries = cloudformation.list_stack_resources(StackName=f"optionflow-{STAGE}")[
            "StackResourceSummaries"
        ]
        assert {s["ResourceStatus"] for s in summaries} == {"CREATE_COMPLETE"}
        yield Stack(
            mode,
            template,
            skipped,
            {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries if s["LogicalResourceId"]},
            sum(1 for s in summaries if not s["LogicalResourceId"]),
            {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
            batches,
        )


def test_every_resource_is_created_skipped_by_name_or_absent_by_a_condition_false_in_this_mode(stack):
    resources = stack.template["Resources"]
    assert stack.skipped == SKIPPED_IN_BOTH | SKIPPED_AURORA
    if stack.mode == "given":
        assert {resources[name]["Condition"] for name in SKIPPED_AURORA} == {"CreatesDatabase"}
    absent = set(resources) - set(stack.created) - stack.skipped
    assert {resources[name].get("Condition") for name in absent} <= FALSE_CONDITIONS[stack.mode], absent
    assert stack.unnamed == len(absent)
    assert set(stack.created) <= set(resources) - stack.skipped


def test_each_worker_reads_its_queue_in_batches_with_the_maximum_concurrency(stack):
    lambda_client = boto3.client("lambda", region_name=REGION)
    mappings = {
        m["FunctionArn"].rsplit(":", 1)[-1]: m
        for m in lambda_client.list_event_source_mappings()["EventSourceMappings"]
    }
    assert len(mappings) == len(FAST_PATH)
    for worker in FAST_PATH:
        mapping = mappings[stack.created[worker.function_id]]
        assert mapping["EventSourceArn"].endswith(f":optionflow-{STAGE}-{worker.name.replace('_', '-')}")
        assert mapping["BatchSize"] == worker.batch_size
        assert mapping["MaximumBatchingWindowInSeconds"] == worker.batching_window_seconds
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}  # WorkerMaxConcurrency's default


def test_an_event_published_on_the_deployed_bus_reaches_exactly_its_worker_through_its_queue(stack):
    sqs = boto3.client("sqs", region_name=REGION)
    functions = {stack.created[w.function_id]: w for w in FAST_PATH}
    for worker in FAST_PATH:
        EventBridgeBus(stack.outputs["EventBusName"]).publish(worker.events[0], {"count": 1})

    handed = {functions[arn.rsplit(":", 1)[-1]].name: bodies for arn, bodies in stack.batches}
    assert sorted(handed) == sorted(w.name for w in FAST_PATH)
    for worker in FAST_PATH:
        assert [json.loads(body)["detail-type"] for body in handed[worker.name]] == [worker.events[0]]
        url = stack.created[worker.fast_path_queue_id]
        redrive = json.loads(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
                "RedrivePolicy"
            ]
        )
        assert redrive["deadLetterTargetArn"].endswith(f":optionflow-{STAGE}-workers-dlq")


def test_the_functions_run_in_the_created_subnets_or_outside_any_vpc_and_know_their_database(stack):
    lambda_client = boto3.client("lambda", region_name=REGION)
    for worker in WORKERS:
        config = lambda_client.get_function(FunctionName=stack.created[worker.function_id])["Configuration"]
        env = config["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == worker.name.replace("_", "-")
        assert env["EVENT_BUS_NAME"] == stack.outputs["EventBusName"]
        subnets = set(config.get("VpcConfig", {}).get("SubnetIds", []))
        if stack.mode == "created":
            assert subnets == {stack.created["PrivateSubnetA"], stack.created["PrivateSubnetB"]}
            assert (env["DATABASE_URL"], env["DATABASE_NAME"]) == ("", "optionflow")
            assert "DatabaseProxy" in env["DATABASE_HOST"]  # the proxy's endpoint (a placeholder here)
        else:
            assert subnets == set()
            assert env["DATABASE_URL"] == GIVEN["DatabaseUrl"]
    for worker in WORKERS:
        assert stack.outputs[worker.schedule_output] == worker.schedule_name(STAGE)
