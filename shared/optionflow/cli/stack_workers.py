"""The workers of a deployed stack: their EventBridge Scheduler schedules, fast-path rules and functions.

`optionflow workers ... --stack STACK` lands here. The stack's outputs name each worker's schedule
(`<Worker>ScheduleName`, default group) and the app's bus (`EventBusName`); each fast-path rule on that bus
has its schedule's name. Pausing disables both, so neither the minute sweep nor an event wakes the worker;
triggering invokes the schedule's own target asynchronously with the schedule's own Input.

Uses the caller's AWS credentials and region (profile, environment, or `--region`); boto3 is imported only
when such a command runs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from optionflow.cli.stack import StackError
from optionflow.logic.runs import MANUAL_EXECUTION_PREFIX
from optionflow.logic.worker_control import WORKERS, canonical
from optionflow.workers import BY_NAME

# UpdateSchedule refuses a StartDate more than five minutes old; one already past has done its work.
_START_DATE_SLACK = timedelta(minutes=4)


def output_key(worker: str) -> str:
    """`exit_monitor` -> `ExitMonitorScheduleName`, the stack output naming its schedule."""
    return BY_NAME[worker].schedule_output


def update_arguments(
    scheduler: Any, schedule: dict[str, Any], state: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The UpdateSchedule request that changes only `State`.

    UpdateSchedule replaces the whole schedule, and an omitted field goes back to its default (a target
    without its RetryPolicy, DeadLetterConfig or Input). So every field UpdateSchedule accepts is copied from
    GetSchedule's answer, as it is, Target included; the list comes from the API model, so a field AWS adds
    later is copied too.
    """
    accepted = scheduler.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    arguments = {name: schedule[name] for name in accepted if name in schedule and name != "ClientToken"}
    start = arguments.get("StartDate")
    if isinstance(start, datetime) and start < (now or datetime.now(UTC)) - _START_DATE_SLACK:
        del arguments["StartDate"]
    arguments["State"] = state
    return arguments


def scheduled_input(schedule: dict[str, Any], now: datetime) -> str:
    """The schedule's Target.Input with the placeholders Scheduler fills; the execution id marks the run as
    an operator's (the worker then runs even if paused in the database)."""
    text = str(schedule["Target"].get("Input") or "{}")
    return text.replace("<aws.scheduler.scheduled-time>", now.strftime("%Y-%m-%dT%H:%M:%SZ")).replace(
        "<aws.scheduler.execution-id>", f"{MANUAL_EXECUTION_PREFIX}{uuid.uuid4()}"
    )


@dataclass
class StackWorkers:
    stack: str
    cloudformation: Any
    scheduler: Any
    events: Any
    lambda_client: Any

    @classmethod
    def connect(cls, stack: str, region: str | None = None) -> StackWorkers:
        import boto3

        return cls(
            stack,
            boto3.client("cloudformation", region_name=region),
            boto3.client("scheduler", region_name=region),
            boto3.client("events", region_name=region),
            boto3.client("lambda", region_name=region),
        )

    # -- reading ---------------------------------------------------------------------------------
    @cached_property
    def _outputs(self) -> dict[str, str]:
        """Read once: a command asks for the schedule names and then the API's URL."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stacks = self.cloudformation.describe_stacks(StackName=self.stack)["Stacks"]
        except (ClientError, BotoCoreError) as exc:
            raise StackError(f"stack {self.stack}: {exc}") from None
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}

    def names(self) -> tuple[dict[str, str], str]:
        """(worker -> schedule name, the bus name) from the stack's outputs."""
        outputs = self._outputs
        missing = [output_key(w) for w in WORKERS if output_key(w) not in outputs]
        if missing or "EventBusName" not in outputs:
            absent = ", ".join(missing + ([] if "EventBusName" in outputs else ["EventBusName"]))
            raise StackError(
                f"stack {self.stack} has no output {absent}; deploy this version of the template"
            )
        return {w: outputs[output_key(w)] for w in WORKERS}, outputs["EventBusName"]

    def api_url(self) -> str | None:
        """The stack's HTTP API (output ApiUrl), where the pause is also recorded in its database."""
        return self._outputs.get("ApiUrl")

    def _schedule(self, name: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(self.scheduler.get_schedule(Name=name))
        except (ClientError, BotoCoreError) as exc:
            raise StackError(f"schedule {name}: {exc}") from None

    def _rule_state(self, name: str, bus: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(self.events.describe_rule(Name=name, EventBusName=bus)["State"])
        except (ClientError, BotoCoreError) as exc:
            raise StackError(f"fast-path rule {name} on {bus}: {exc}") from None

    def list(self) -> list[dict[str, Any]]:
        """Each worker: its schedule's name, State and expression, its fast-path rule's state, its function."""
        schedules, bus = self.names()
        rows = []
        for worker in WORKERS:
            schedule = self._schedule(schedules[worker])
            rows.append(
                {
                    "worker": worker,
                    "schedule": schedules[worker],
                    "state": schedule.get("State"),
                    "expression": schedule.get("ScheduleExpression"),
                    "fast_path": self._rule_state(schedules[worker], bus) if BY_NAME[worker].events else None,
                    "function": str(schedule["Target"]["Arn"]).rsplit(":", 1)[-1],
                }
            )
        return rows

    # -- changing --------------------------------------------------------------------------------
    def set_state(self, name: str, paused: bool) -> dict[str, Any]:
        """Disable (pause) or enable (resume) the worker's schedule and its fast-path rule.

        Each is changed only if it is not already in the asked-for state, so repeating a pause is harmless
        and `changed` says whether anything was done.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        worker = canonical(name)
        schedules, bus = self.names()
        schedule_name = schedules[worker]
        state = "DISABLED" if paused else "ENABLED"
        schedule = self._schedule(schedule_name)
        changed = []
        try:
            if schedule.get("State") != state:
                self.scheduler.update_schedule(**update_arguments(self.scheduler, schedule, state))
                changed.append("schedule")
            if BY_NAME[worker].events and self._rule_state(schedule_name, bus) != state:
                toggle = self.events.disable_rule if paused else self.events.enable_rule
                toggle(Name=schedule_name, EventBusName=bus)
                changed.append("fast-path rule")
        except (ClientError, BotoCoreError, StackError) as exc:
            # say what already changed: a schedule disabled but its rule still enabled is half a pause
            done = f" ({' and '.join(changed)} already {state.lower()}; run it again)" if changed else ""
            raise StackError(f"{schedule_name}: {exc}{done}") from None
        return {"worker": worker, "schedule": schedule_name, "state": state, "changed": changed}

    def trigger(self, name: str, *, now: datetime | None = None) -> dict[str, Any]:
        """Invoke the schedule's target asynchronously with the Input the schedule sends."""
        from botocore.exceptions import BotoCoreError, ClientError

        worker = canonical(name)
        schedules, _ = self.names()
        schedule = self._schedule(schedules[worker])
        target = str(schedule["Target"]["Arn"])
        if ":lambda:" not in target:
            raise StackError(f"schedule {schedules[worker]} targets {target}, not a Lambda function")
        payload = scheduled_input(schedule, now or datetime.now(UTC))
        try:
            response = self.lambda_client.invoke(
                FunctionName=target, InvocationType="Event", Payload=payload.encode()
            )
        except (ClientError, BotoCoreError) as exc:
            raise StackError(f"cannot invoke {target}: {exc}") from None
        return {
            "worker": worker,
            "function": target,
            "status": response.get("StatusCode"),
            "event": json.loads(payload),
        }
