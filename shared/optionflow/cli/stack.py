"""The command line's way into a deployed stack: find one of its functions and invoke it synchronously.

Uses the caller's AWS credentials and region (profile, environment, or `--region`); boto3 is imported only
when such a command runs.
"""

from __future__ import annotations

import json
from typing import Any

# The migrate function's own limit is 300 s; wait a little longer than that for its answer.
_INVOKE_READ_TIMEOUT_SECONDS = 320


class StackError(ValueError):
    """The stack, its function or the invocation failed; the message says which, in one line."""


def _clients(region: str | None) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=_INVOKE_READ_TIMEOUT_SECONDS, retries={"max_attempts": 1})
    return (
        boto3.client("cloudformation", region_name=region),
        boto3.client("lambda", region_name=region, config=config),
    )


def function_name(cloudformation: Any, stack: str, logical_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    except (ClientError, BotoCoreError) as exc:
        raise StackError(f"stack {stack}: cannot find {logical_id}: {exc}") from None
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def invoke(lambda_client: Any, name: str, payload: dict[str, Any]) -> Any:
    """Invoke `name` and wait for its result; a function error becomes a StackError with its message."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = lambda_client.invoke(
            FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
        )
    except (ClientError, BotoCoreError) as exc:
        raise StackError(f"cannot invoke {name}: {exc}") from None
    body = response["Payload"].read()
    result = json.loads(body) if body else None
    if response.get("FunctionError"):
        message = result.get("errorMessage") if isinstance(result, dict) else result
        kind = result.get("errorType", "error") if isinstance(result, dict) else "error"
        raise StackError(f"{name} failed: {kind}: {message}")
    return result


def migrate_stack(
    stack: str, *, region: str | None = None, cloudformation: Any = None, lambda_client: Any = None
) -> dict[str, Any]:
    """Run the stack's MigrateFunction against its database; returns {"applied": [...], "latest": "NNN"}."""
    if cloudformation is None or lambda_client is None:
        cloudformation, lambda_client = _clients(region)
    name = function_name(cloudformation, stack, "MigrateFunction")
    result = invoke(lambda_client, name, {"source": "optionflow.cli", "action": "migrate"})
    if not isinstance(result, dict) or "applied" not in result:
        raise StackError(f"{name} answered {result!r}, not a migration result")
    return result
