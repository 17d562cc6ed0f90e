"""Read the workers' functions, schedules and fast-path rules from template.yaml; the tests hold the worker
registry (optionflow.workers), which the local stack runs, to what this reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class WorkerSpec:
    name: str  # signal_processor
    logical_id: str  # SignalProcessorFunction
    module: str  # workers.signal_processor
    rate_seconds: int
    schedule_input: str
    detail_types: tuple[str, ...]
    schedule_name: str  # optionflow-<stage>-signal-processor

    def schedule_event(self, at: datetime, execution_id: str) -> dict[str, Any]:
        """The Input its EventBridge schedule sends at `at`, placeholders filled."""
        text = self.schedule_input.replace(
            "<aws.scheduler.scheduled-time>", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ).replace("<aws.scheduler.execution-id>", execution_id)
        return dict(json.loads(text))


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (!Ref, !Sub, …) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def next_tick(after: datetime, rate_seconds: int) -> datetime:
    """When a schedule of `rate_seconds` fires next, strictly after `after`. Locally a schedule fires on the
    multiples of its rate since the epoch: whole minutes for rate(1 minute), on the live clock as in an
    advance."""
    second = int(after.timestamp()) // rate_seconds * rate_seconds + rate_seconds
    return datetime.fromtimestamp(second, UTC)


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r}; use rate(N minutes)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def worker_specs(template: Path, stage: str = "local") -> list[WorkerSpec]:
    document = yaml.load(template.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    # A fast path is a rule on the bus that targets the worker's function (an EventBridgeRule event) or,
    # as deployed, a queue the function reads (an SQS event): what the rule targets -> its detail-types.
    rule_targets: dict[str, list[str]] = {}
    for resource in document["Resources"].values():
        if resource.get("Type") == "AWS::Events::Rule":
            pattern = resource["Properties"].get("EventPattern", {})
            for target in resource["Properties"].get("Targets", []):
                rule_targets.setdefault(str(target["Arn"]), []).extend(pattern.get("detail-type", []))
    specs = []
    for logical_id, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        handler = str(props.get("Handler", ""))
        if resource.get("Type") != "AWS::Serverless::Function" or not handler.startswith("workers."):
            continue
        module = handler.rsplit(".", 1)[0]
        schedule: dict[str, Any] | None = None
        detail_types: list[str] = []
        for event in props.get("Events", {}).values():
            if event["Type"] == "ScheduleV2":
                schedule = event["Properties"]
            elif event["Type"] == "EventBridgeRule":
                detail_types += event["Properties"]["Pattern"].get("detail-type", [])
            elif event["Type"] == "SQS":
                detail_types += rule_targets.get(str(event["Properties"]["Queue"]), [])
        if schedule is None:
            continue
        specs.append(
            WorkerSpec(
                name=module.split(".", 1)[1],
                logical_id=logical_id,
                module=module,
                rate_seconds=rate_seconds(schedule["ScheduleExpression"]),
                schedule_input=schedule["Input"],
                detail_types=tuple(detail_types),
                schedule_name=str(schedule.get("Name", logical_id)).replace("${Stage}", stage),
            )
        )
    return specs
