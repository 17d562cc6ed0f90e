"""template.yaml: alarms and a dashboard on what users feel, logs kept for a bounded time, and deploys in which
new code never meets the old schema."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from optionflow.local.template import _CfnLoader

from tests.conftest import ROOT

PSEUDO_PARAMETERS = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader))  # noqa: S506


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _of_type(template, "AWS::Serverless::Function")


def _alarm(template: dict[str, Any], name: str) -> dict[str, Any]:
    alarm = template["Resources"][name]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    assert alarm["Properties"]["AlarmActions"] == ["AlarmTopic"], name
    return dict(alarm["Properties"])


def _metric_math_functions(alarm: dict[str, Any], metric_name: str) -> set[str]:
    return {
        metric["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        for metric in alarm["Metrics"]
        if "MetricStat" in metric and metric["MetricStat"]["Metric"]["MetricName"] == metric_name
    }


def test_every_function_logs_to_its_own_group_with_a_retention(template):
    groups = _of_type(template, "AWS::Logs::LogGroup")
    used = set()
    for name, function in _functions(template).items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]
        assert group in groups, name
        assert groups[group]["Properties"]["RetentionInDays"] == "LogRetentionDays", name
        used.add(group)
    assert len(used) == len(_functions(template))
    assert (
        template["Parameters"]["LogRetentionDays"]["Default"]
        in (template["Parameters"]["LogRetentionDays"]["AllowedValues"])
    )


def test_the_http_api_writes_access_logs_by_route_never_by_path_which_carries_webhook_tokens(template):
    settings = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    group = settings["DestinationArn"].removesuffix(".Arn")
    assert template["Resources"][group]["Properties"]["RetentionInDays"] == "LogRetentionDays"
    fields = json.loads(settings["Format"])
    assert {"requestId", "routeKey", "status", "responseLatency", "integrationError"} <= set(fields)
    assert "$context.path" not in settings["Format"]


def test_every_function_but_the_migrator_deploys_after_the_migrations(template):
    for name, function in _functions(template).items():
        if name == "MigrateFunction":
            assert "DependsOn" not in function  # the migrations run on it: it must come first
        else:
            assert function["DependsOn"] == "DatabaseMigrations", name


def test_api_errors_5xx_and_latency_near_tradingviews_give_up_are_alarmed(template):
    errors = _alarm(template, "ApiErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "ApiFunction"}]

    five_xx = _alarm(template, "HttpApi5xxAlarm")
    assert (five_xx["Namespace"], five_xx["MetricName"]) == ("AWS/ApiGateway", "5xx")
    latency = _alarm(template, "HttpApiLatencyAlarm")
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("Latency", "p99")
    assert latency["Threshold"] < 3000  # TradingView gives up on an alert after about 3 s
    for alarm in (five_xx, latency):
        assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": "HttpApi"}]


def test_throttles_of_every_function_are_alarmed(template):
    alarm = _alarm(template, "LambdaThrottlesAlarm")
    assert _metric_math_functions(alarm, "Throttles") == set(_functions(template))
    assert [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData")] == ['SUM(METRICS("fn"))']
    assert all(m["Id"].startswith("fn") for m in alarm["Metrics"] if "MetricStat" in m)


def test_a_failed_migration_is_alarmed_whether_answered_to_cloudformation_or_raised(template):
    alarm = _alarm(template, "MigrationFailuresAlarm")
    assert _metric_math_functions(alarm, "Errors") == {"MigrateFunction"}
    # only the migration's own metrics: another function's throttles would page as a failed migration
    assert {m["Id"] for m in alarm["Metrics"]} == {"failures", "logged", "errors"}
    metric_filter = template["Resources"]["MigrationFailuresMetricFilter"]["Properties"]
    assert (
        metric_filter["LogGroupName"]
        == template["Resources"]["MigrateFunction"]["Properties"]["LoggingConfig"]["LogGroup"]
    )
    transformed = metric_filter["MetricTransformations"][0]
    logged = next(m for m in alarm["Metrics"] if "MetricStat" in m and m["Id"] == "logged")
    assert logged["MetricStat"]["Metric"]["MetricName"] == transformed["MetricName"]
    assert logged["MetricStat"]["Metric"]["Namespace"] == transformed["MetricNamespace"]


def test_failed_webhook_publishes_are_alarmed_on_the_metric_the_bus_counts(template):
    alarm = _alarm(template, "EventPublishFailuresAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("OptionFlow", "EventPublishFailures")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "api"}]
    assert (
        template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"][
            "POWERTOOLS_SERVICE_NAME"
        ]
        == "api"
    )


def _dashboard(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    return body, json.loads(re.sub(r"\$\{[^}]+\}", "x", body))


def test_the_dashboard_is_json_whose_substitutions_name_resources_of_this_stack(template):
    body, _ = _dashboard(template)
    for reference in re.findall(r"\$\{([^}]+)\}", body):
        if reference in PSEUDO_PARAMETERS:
            continue
        resource = reference.split(".")[0]
        assert resource in template["Resources"], reference


def test_the_dashboard_shows_what_users_feel_and_every_alarm(template):
    body, dashboard = _dashboard(template)
    titles = " | ".join(w["properties"]["title"] for w in dashboard["widgets"])
    for shown in (
        "Webhook",
        "latency",
        "Alert-to-fill",
        "Signals by outcome",
        "Worker errors",
        "Dead-letter",
    ):
        assert shown in titles, shown
    for metric in (
        "SignalsReceived",
        "AlertToFillLatency",
        "SignalsAccepted",
        "SignalsRejected",
        "WorkerErrors",
    ):
        assert metric in body, metric
    for queue in _of_type(template, "AWS::SQS::Queue"):
        assert "${" + queue + ".QueueName}" in body, queue
    for alarm in _of_type(template, "AWS::CloudWatch::Alarm"):
        assert "${" + alarm + ".Arn}" in body, alarm


def test_every_function_runs_in_the_given_subnets_or_the_created_ones_and_else_outside_any_vpc(template):
    condition, given, (created_condition, created, outside) = template["Globals"]["Function"]["VpcConfig"]
    assert (condition, created_condition, outside) == ("InVpc", "CreatesDatabase", "AWS::NoValue")
    assert given == {"SubnetIds": "SubnetIds", "SecurityGroupIds": "SecurityGroupIds"}
    assert created == {
        "SubnetIds": ["PrivateSubnetA", "PrivateSubnetB"],
        "SecurityGroupIds": ["FunctionsSecurityGroup"],
    }
    assert template["Conditions"]["InVpc"] == [[["", "SubnetIds"], ""]]  # !Not [!Equals [!Join ...]]
    for name, function in _functions(template).items():
        assert "VpcConfig" not in function["Properties"], name  # none opts out of the Globals
    for parameter in ("SubnetIds", "SecurityGroupIds"):
        assert template["Parameters"][parameter]["Default"] == ""
        assert template["Parameters"][parameter]["Type"] == "CommaDelimitedList"
    assert "VpcIsComplete" in template["Rules"]


CREATED_DATABASE_TYPES = ("AWS::EC2::", "AWS::RDS::")


def test_every_resource_of_the_created_database_exists_only_with_create_database(template):
    created = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"].startswith(CREATED_DATABASE_TYPES) or name == "DatabaseProxyRole"
    }
    assert {"Vpc", "DatabaseCluster", "DatabaseInstance", "DatabaseProxy", "DatabaseProxyTargetGroup"} <= set(
        created
    )
    for name, resource in created.items():
        assert resource["Condition"] in ("CreatesDatabase", "NeedsSsmEndpoint"), name
    assert not _of_type(template, "AWS::EC2::NatGateway")  # endpoints instead of a NAT gateway


def test_the_created_database_can_pause_rotates_its_secret_and_is_reached_only_through_a_tls_proxy(template):
    cluster = template["Resources"]["DatabaseCluster"]
    assert cluster["DeletionPolicy"] == "Snapshot"
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert props["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    assert props["ManageMasterUserPassword"] is True  # an RDS-managed secret, rotated by RDS
    assert props["StorageEncrypted"] is True
    assert template["Resources"]["DatabaseInstance"]["Properties"]["DBInstanceClass"] == "db.serverless"

    proxy = template["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"][0]["SecretArn"] == "DatabaseCluster.MasterUserSecret.SecretArn"
    database_ingress = template["Resources"]["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [rule["SourceSecurityGroupId"] for rule in database_ingress] == ["ProxySecurityGroup"]

    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["DATABASE_SECRET_ARN"][:2] == ["CreatesDatabase", "DatabaseCluster.MasterUserSecret.SecretArn"]
    assert env["DATABASE_HOST"][:2] == ["CreatesDatabase", "DatabaseProxy.Endpoint"]


def test_the_created_vpc_has_endpoints_for_every_aws_call_the_functions_make(template):
    services = {
        resource["Properties"]["ServiceName"].rsplit(".", 1)[-1]
        for resource in _of_type(template, "AWS::EC2::VPCEndpoint").values()
    }
    assert {"secretsmanager", "events", "lambda", "ssm", "s3"} <= services
    # the first migration waits for the proxy's target and for the endpoints it needs
    waits_for = template["Resources"]["DatabaseMigrations"]["Properties"]["CreatedDatabase"]
    assert waits_for[0] == "CreatesDatabase"
    assert {"DatabaseProxyTargetGroup", "SecretsManagerEndpoint", "S3Endpoint"} <= set(waits_for[1][1])


def test_the_created_database_stands_alone(template):
    rule = template["Rules"]["CreatedDatabaseStandsAlone"]
    assert rule["RuleCondition"] == ["CreateDatabase", "true"]
    assert template["Parameters"]["CreateDatabase"]["Default"] == "false"
